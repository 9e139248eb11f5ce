#include "config.h"

#include "log.h"

#include <stdio.h>
#include <unistd.h>

/* The most verbose level printed: lower enum values are more severe. */
static GLogLevelFlags max_level = G_LOG_LEVEL_MESSAGE;
static gboolean to_journal;

static const struct {
  const char *name;
  GLogLevelFlags level;
} level_names[] = {
  { "error", G_LOG_LEVEL_CRITICAL },
  { "warning", G_LOG_LEVEL_WARNING },
  { "notice", G_LOG_LEVEL_MESSAGE },
  { "info", G_LOG_LEVEL_INFO },
  { "debug", G_LOG_LEVEL_DEBUG },
};

gboolean
rh_log_level_parse (const char *name, GLogLevelFlags *level)
{
  for (gsize i = 0; i < G_N_ELEMENTS (level_names); i++)
    if (g_ascii_strcasecmp (name, level_names[i].name) == 0)
      {
        *level = level_names[i].level;
        return TRUE;
      }
  return FALSE;
}

static const char *
level_label (GLogLevelFlags level)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    return "error";
  if (level & G_LOG_LEVEL_WARNING)
    return "warning";
  if (level & G_LOG_LEVEL_MESSAGE)
    return "notice";
  if (level & G_LOG_LEVEL_INFO)
    return "info";
  return "debug";
}

gboolean
rh_log_enabled (GLogLevelFlags level)
{
  return (level & G_LOG_LEVEL_MASK) <= max_level;
}

static GLogWriterOutput
write_log (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  if (!rh_log_enabled (level & G_LOG_LEVEL_MASK) && !(level & G_LOG_LEVEL_ERROR))
    return G_LOG_WRITER_HANDLED;
  if (to_journal)
    return g_log_writer_journald (level, fields, n_fields, user_data);

  const char *message = NULL;
  const char *domain = NULL;
  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
        message = fields[i].value;
      else if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0)
        domain = fields[i].value;
    }
  /* Only our own domain below notice; GLib's own debug chatter stays out. */
  if (domain != NULL && g_strcmp0 (domain, G_LOG_DOMAIN) != 0 && !(level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)))
    return G_LOG_WRITER_HANDLED;

  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S.%f");
  stamp[23] = '\0';  /* milliseconds are enough */
  fprintf (stderr, "%s rtmphooksd[%d] %s: %s\n", stamp, (int) getpid (), level_label (level),
           message != NULL ? message : "");
  fflush (stderr);
  return G_LOG_WRITER_HANDLED;
}

void
rh_log_init (GLogLevelFlags level)
{
  max_level = level;
  to_journal = g_log_writer_is_journald (fileno (stderr));
  g_log_set_writer_func (write_log, NULL, NULL);
}
