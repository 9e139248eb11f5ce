/* A real HTTP server for the webhook tests. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A real HTTP server on 127.0.0.1, in its own thread, that records every
 * request. Paths: /ok answers 200, /bad 400, /flaky 500 the first time and
 * 200 after, /deny 403 with {"reason": "no such key"}, /rename 200 with
 * {"stream_name": "renamed"}, /hang never answers, /slow answers 200 and
 * then a byte of body a second (30 s in all), /endless answers 200 with
 * a chunked body as long as the client reads (up to 1 GiB), /redirect
 * 302 to /ok, /rename-nul 200 with {"stream_name": "a\u0000b"};
 * anything else 404. */
typedef struct {
  char *path;
  char *body;
  GHashTable *headers;   /* lower-case name -> value */
  guint16 client_port;   /* which connection it came on */
} RhTestRequest;

typedef struct _RhTestHttp RhTestHttp;

RhTestHttp *rh_test_http_start (void);
/* The same over TLS with the given certificate and key (PEM files). */
RhTestHttp *rh_test_http_start_tls (const char *cert_path, const char *key_path);
void rh_test_http_stop (RhTestHttp *http);
guint16 rh_test_http_port (RhTestHttp *http);
/* Requests received so far on path (a copy; free with g_ptr_array_unref). */
GPtrArray *rh_test_http_requests (RhTestHttp *http, const char *path);
gboolean rh_test_http_wait (RhTestHttp *http, const char *path, guint count, guint timeout_ms);

/* The body of GET http://127.0.0.1:port/path (the daemon's HTTP API). */
char *rh_test_http_get (guint16 port, const char *path);
/* "Basic " and base64 of credentials ("user:password"), as a browser
 * sends them. */
char *rh_test_basic_authorization (const char *credentials);
/* The same with an Authorization header (NULL: none); also the status,
 * the WWW-Authenticate and Content-Type headers (each may be NULL). */
char *rh_test_http_get_auth (guint16 port, const char *path, const char *authorization, guint *status,
                             char **challenge, char **content_type);

G_END_DECLS
