/* rtmp://host[:port]/app/stream[?query] URLs, as relays and pulls take
 * them: the first path segment is the application, the rest the stream
 * name (as nginx-rtmp and ffmpeg split it), the port 1935 by default,
 * and the query stays with the stream name (a key goes there).
 * rtmps:// is the same through TLS, port 443 by default. Pure. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char *host;
  guint16 port;
  gboolean tls;      /* rtmps:// */
  char *app;
  char *stream;      /* with its ?query, if any */
  char *tc_url;      /* rtmp[s]://host:port/app, what connect announces */
  char *public_url;  /* the URL without its query, for logs and events */
} RhRtmpUrl;

/* FALSE with error when url is not of that form. */
gboolean rh_rtmp_url_parse (const char *url, RhRtmpUrl *parsed, GError **error);
void rh_rtmp_url_clear (RhRtmpUrl *parsed);

G_END_DECLS
