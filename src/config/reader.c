#include "config.h"

#include "reader.h"

#include "util/duration.h"

#include <glib/gi18n.h>
#include <stdarg.h>

void
rh_config_error (GPtrArray *errors, const config_setting_t *setting, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *message = g_strdup_vprintf (format, ap);
  va_end (ap);
  const char *file = setting != NULL ? config_setting_source_file (setting) : NULL;
  guint line = setting != NULL ? config_setting_source_line (setting) : 0;
  g_ptr_array_add (errors, g_strdup_printf ("%s:%u: %s", file != NULL ? file : "(config)",
                                            line, message));
}

gboolean
rh_config_get_number (const config_setting_t *setting, double *out)
{
  switch (config_setting_type (setting))
    {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
      *out = (double) config_setting_get_int64 (setting);
      return TRUE;
    case CONFIG_TYPE_FLOAT:
      *out = config_setting_get_float (setting);
      return TRUE;
    default:
      return FALSE;
    }
}

const char *
rh_config_get_string (const config_setting_t *setting)
{
  return config_setting_type (setting) == CONFIG_TYPE_STRING ? config_setting_get_string (setting) : NULL;
}

gboolean
rh_config_is_list (const config_setting_t *setting)
{
  return config_setting_is_array (setting) || config_setting_is_list (setting);
}

gboolean
rh_config_get_seconds (const config_setting_t *setting, double *out)
{
  if (config_setting_type (setting) == CONFIG_TYPE_STRING)
    return rh_duration_parse (config_setting_get_string (setting), out);
  return rh_config_get_number (setting, out);
}

gboolean
rh_config_read_seconds (const config_setting_t *setting, double min, double max, double *out,
                        GPtrArray *errors)
{
  double value;
  if (!rh_config_get_seconds (setting, &value))
    {
      rh_config_error (errors, setting, _("%s must be a number of seconds or a duration such as \"1m30s\""), config_setting_name (setting));
      return FALSE;
    }
  if (value < min || value > max)
    {
      rh_config_error (errors, setting, _("%s = %g is out of range [%g, %g]"),
                       config_setting_name (setting), value, min, max);
      return FALSE;
    }
  *out = value;
  return TRUE;
}

gboolean
rh_config_read_int (const config_setting_t *setting, int min, int max, gint *out, GPtrArray *errors)
{
  int type = config_setting_type (setting);
  if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
    {
      rh_config_error (errors, setting, _("%s must be an integer"), config_setting_name (setting));
      return FALSE;
    }
  long long value = config_setting_get_int64 (setting);
  if (value < min || value > max)
    {
      rh_config_error (errors, setting, _("%s = %lld is out of range [%d, %d]"),
                       config_setting_name (setting), value, min, max);
      return FALSE;
    }
  *out = (gint) value;
  return TRUE;
}

GStrv
rh_config_read_strings (const config_setting_t *setting, const char *what, GPtrArray *errors)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  if (rh_config_get_string (setting) != NULL)
    {
      g_strv_builder_add (builder, rh_config_get_string (setting));
      return g_strv_builder_end (builder);
    }
  if (!rh_config_is_list (setting))
    {
      rh_config_error (errors, setting, _("%s must be a string or a list of strings"), what);
      return NULL;
    }
  for (int i = 0; i < config_setting_length (setting); i++)
    {
      const config_setting_t *item = config_setting_get_elem (setting, (unsigned) i);
      if (rh_config_get_string (item) == NULL)
        {
          rh_config_error (errors, item, _("%s must be a string or a list of strings"), what);
          return NULL;
        }
      g_strv_builder_add (builder, rh_config_get_string (item));
    }
  return g_strv_builder_end (builder);
}

gboolean
rh_config_check_utf8 (const config_setting_t *setting, GPtrArray *errors)
{
  gboolean ok = TRUE;
  if (config_setting_type (setting) == CONFIG_TYPE_STRING)
    {
      if (!g_utf8_validate (config_setting_get_string (setting), -1, NULL))
        {
          rh_config_error (errors, setting, _("%s: the string is not valid UTF-8"),
                           config_setting_name (setting) != NULL ? config_setting_name (setting)
                                                                 : "list item");
          ok = FALSE;
        }
      return ok;
    }
  if (config_setting_is_aggregate (setting))
    for (int i = 0; i < config_setting_length (setting); i++)
      ok = rh_config_check_utf8 (config_setting_get_elem (setting, (unsigned) i), errors) && ok;
  return ok;
}

