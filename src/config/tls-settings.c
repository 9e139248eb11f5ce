#include "config.h"

#include "tls-settings.h"

#include <glib/gi18n.h>
#include <string.h>
#include <sys/socket.h>

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

static gpointer
serve_handshake (gpointer tls)
{
  return GINT_TO_POINTER (g_tls_connection_handshake (tls, NULL, NULL));
}

static gboolean
accept_any (GTlsConnection *tls, GTlsCertificate *peer, GTlsCertificateFlags errors, gpointer user_data)
{
  return TRUE;
}

static GSocketConnection *
socket_end (int fd)
{
  g_autoptr (GSocket) socket = g_socket_new_from_fd (fd, NULL);
  if (socket == NULL)
    return NULL;
  /* Never hang a reload: a handshake of our own takes milliseconds. */
  g_socket_set_timeout (socket, 5);
  return g_socket_connection_factory_create_connection (socket);
}

/* GIO loads a certificate and a key that do not belong together without
 * a word, and every client's handshake would then fail. One handshake
 * with ourselves over a socket pair proves the key signs for the
 * certificate. */
static gboolean
key_matches (GTlsCertificate *certificate, GError **error)
{
  int fds[2];
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    return TRUE;  /* out of descriptors: the clients will tell */
  g_autoptr (GSocketConnection) server_end = socket_end (fds[0]);
  g_autoptr (GSocketConnection) client_end = socket_end (fds[1]);
  if (server_end == NULL || client_end == NULL)
    return TRUE;
  g_autoptr (GIOStream) server = g_tls_server_connection_new (G_IO_STREAM (server_end), certificate, NULL);
  g_autoptr (GIOStream) client = g_tls_client_connection_new (G_IO_STREAM (client_end), NULL, NULL);
  if (server == NULL || client == NULL)
    return TRUE;
  g_signal_connect (client, "accept-certificate", G_CALLBACK (accept_any), NULL);
  GThread *thread = g_thread_new ("tls-key-check", serve_handshake, server);
  g_autoptr (GError) client_error = NULL;
  gboolean client_ok = g_tls_connection_handshake (G_TLS_CONNECTION (client), NULL, &client_error);
  if (!client_ok)
    g_io_stream_close (G_IO_STREAM (client_end), NULL, NULL);
  gboolean server_ok = GPOINTER_TO_INT (g_thread_join (thread));
  if (client_ok && server_ok)
    return TRUE;
  g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
               _("the key does not belong to the certificate (a test handshake failed: %s)"),
               client_error != NULL ? client_error->message : _("refused by the server side"));
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
  if (tls->loaded != NULL && !key_matches (tls->loaded, &error))
    g_clear_object (&tls->loaded);
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
  return g_tls_file_database_new (path, error);
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
