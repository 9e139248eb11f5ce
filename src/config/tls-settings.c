#include "config.h"

#include "tls-settings.h"

#include <glib/gi18n.h>
#include <string.h>

#include "config/reader.h"

/* An absolute path: the daemon's working directory is not the config's. */
static char *
read_path (const config_setting_t *setting, const char *what, GPtrArray *errors)
{
  const char *text = rh_config_get_string (setting);
  if (text == NULL || text[0] != '/')
    {
      rh_config_error (errors, setting, _("%s must be an absolute path"), what);
      return NULL;
    }
  return g_strdup (text);
}

static gboolean
tls_available (const config_setting_t *group, GPtrArray *errors)
{
  if (g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    return TRUE;
  rh_config_error (errors, group, _("TLS is not available: GIO has no TLS backend (install glib-networking)"));
  return FALSE;
}

void
rh_tls_config_load (const config_setting_t *group, RhTlsConfig *tls, GPtrArray *errors, GPtrArray *warnings)
{
  if (!config_setting_is_group (group))
    {
      rh_config_error (errors, group, _("server.tls must be a group: tls = { certificate = \"...\"; key = \"...\"; };"));
      return;
    }
  for (int i = 0; i < config_setting_length (group); i++)
    {
      const config_setting_t *setting = config_setting_get_elem (group, (unsigned) i);
      const char *name = config_setting_name (setting);
      if (strcmp (name, "certificate") == 0)
        tls->certificate = read_path (setting, "server.tls.certificate", errors);
      else if (strcmp (name, "key") == 0)
        tls->key = read_path (setting, "server.tls.key", errors);
      else
        rh_config_error (errors, setting, _("unknown setting server.tls.%s (certificate, key)"), name);
    }
  if (config_setting_get_member (group, "certificate") == NULL || config_setting_get_member (group, "key") == NULL)
    {
      rh_config_error (errors, group, _("server.tls needs both certificate and key"));
      return;
    }
  if (tls->certificate == NULL || tls->key == NULL || !tls_available (group, errors))
    return;

  g_autoptr (GError) error = NULL;
  tls->loaded = g_tls_certificate_new_from_files (tls->certificate, tls->key, &error);
  if (tls->loaded == NULL)
    {
      rh_config_error (errors, group, _("server.tls: cannot use certificate %s with key %s: %s"), tls->certificate,
                       tls->key, error->message);
      return;
    }
  g_autoptr (GDateTime) not_after = g_tls_certificate_get_not_valid_after (tls->loaded);
  tls->not_after = not_after != NULL ? g_date_time_to_unix (not_after) : 0;
  if (not_after != NULL && tls->not_after < g_get_real_time () / G_USEC_PER_SEC)
    {
      g_autofree char *when = g_date_time_format_iso8601 (not_after);
      rh_config_error (warnings, group, _("warning: server.tls: certificate %s expired on %s"), tls->certificate,
                       when);
    }
}

void
rh_tls_config_clear (RhTlsConfig *tls)
{
  g_clear_pointer (&tls->certificate, g_free);
  g_clear_pointer (&tls->key, g_free);
  g_clear_object (&tls->loaded);
}

void
rh_relay_tls_config_init (RhRelayTlsConfig *relay_tls)
{
  relay_tls->verify = TRUE;
}

GTlsDatabase *
rh_tls_load_ca_file (const char *path, GError **error)
{
  GTlsDatabase *database = g_tls_file_database_new (path, error);
  if (database == NULL)
    return NULL;
  /* An empty or non-PEM file loads as a database that trusts nothing. */
  g_autolist (GTlsCertificate) anchors = g_tls_certificate_list_new_from_file (path, NULL);
  if (anchors == NULL)
    {
      g_object_unref (database);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("%s holds no PEM certificate"), path);
      return NULL;
    }
  return database;
}

void
rh_relay_tls_config_load (const config_setting_t *group, RhRelayTlsConfig *relay_tls, GPtrArray *errors)
{
  if (!config_setting_is_group (group))
    {
      rh_config_error (errors, group, _("server.relay_tls must be a group: relay_tls = { ca_file = \"...\"; };"));
      return;
    }
  for (int i = 0; i < config_setting_length (group); i++)
    {
      const config_setting_t *setting = config_setting_get_elem (group, (unsigned) i);
      const char *name = config_setting_name (setting);
      if (strcmp (name, "ca_file") == 0)
        {
          relay_tls->ca_file = read_path (setting, "server.relay_tls.ca_file", errors);
          g_autoptr (GError) error = NULL;
          if (relay_tls->ca_file != NULL && tls_available (setting, errors)
              && (relay_tls->database = rh_tls_load_ca_file (relay_tls->ca_file, &error)) == NULL)
            rh_config_error (errors, setting, _("server.relay_tls.ca_file: %s"), error->message);
        }
      else if (strcmp (name, "verify") == 0)
        {
          if (config_setting_type (setting) != CONFIG_TYPE_BOOL)
            rh_config_error (errors, setting, _("verify must be true or false"));
          else
            relay_tls->verify = config_setting_get_bool (setting) ? TRUE : FALSE;
        }
      else
        rh_config_error (errors, setting, _("unknown setting server.relay_tls.%s (ca_file, verify)"), name);
    }
}

void
rh_relay_tls_config_clear (RhRelayTlsConfig *relay_tls)
{
  g_clear_pointer (&relay_tls->ca_file, g_free);
  g_clear_object (&relay_tls->database);
}
