#include "config.h"

#include "rtmp-url.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>

gboolean
rh_rtmp_url_parse (const char *url, RhRtmpUrl *parsed, GError **error)
{
  memset (parsed, 0, sizeof *parsed);
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, NULL);
  const char *path = uri != NULL ? g_uri_get_path (uri) : NULL;
  gboolean tls = uri != NULL && g_ascii_strcasecmp (g_uri_get_scheme (uri), "rtmps") == 0;
  if (uri == NULL || (g_ascii_strcasecmp (g_uri_get_scheme (uri), "rtmp") != 0 && !tls) || g_uri_get_host (uri) == NULL
      || *g_uri_get_host (uri) == '\0' || path == NULL || path[0] != '/')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("\"%s\" is not rtmp[s]://host[:port]/app/stream"),
                   url);
      return FALSE;
    }
  const char *slash = strchr (path + 1, '/');
  if (slash == NULL || slash == path + 1 || slash[1] == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("\"%s\" has no stream name (rtmp://host[:port]/app/stream)"), url);
      return FALSE;
    }
  gint uri_port = g_uri_get_port (uri);
  if (uri_port == 0 || uri_port > 65535)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("\"%s\" has a bad port"), url);
      return FALSE;
    }
  g_autofree char *encoded_app = g_strndup (path + 1, (gsize) (slash - path - 1));
  g_autofree char *decoded_app = g_uri_unescape_string (encoded_app, NULL);
  g_autofree char *decoded_stream = g_uri_unescape_string (slash + 1, NULL);
  if (decoded_app == NULL || decoded_stream == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("\"%s\" has a bad escape"), url);
      return FALSE;
    }
  const char *query = g_uri_get_query (uri);
  parsed->host = g_strdup (g_uri_get_host (uri));
  parsed->tls = tls;
  parsed->port = uri_port > 0 ? (guint16) uri_port : tls ? 443 : 1935;
  parsed->app = g_steal_pointer (&decoded_app);
  parsed->stream = query != NULL ? g_strconcat (decoded_stream, "?", query, NULL) : g_steal_pointer (&decoded_stream);
  gboolean ipv6 = strchr (parsed->host, ':') != NULL;
  parsed->tc_url = g_strdup_printf ("%s://%s%s%s:%u/%s", tls ? "rtmps" : "rtmp", ipv6 ? "[" : "", parsed->host, ipv6 ? "]" : "", parsed->port,
                                    parsed->app);
  const char *query_mark = strchr (url, '?');
  parsed->public_url = query_mark != NULL ? g_strndup (url, (gsize) (query_mark - url)) : g_strdup (url);
  return TRUE;
}

void
rh_rtmp_url_clear (RhRtmpUrl *parsed)
{
  g_clear_pointer (&parsed->host, g_free);
  g_clear_pointer (&parsed->app, g_free);
  g_clear_pointer (&parsed->stream, g_free);
  g_clear_pointer (&parsed->tc_url, g_free);
  g_clear_pointer (&parsed->public_url, g_free);
}
