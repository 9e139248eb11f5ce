#include "config.h"

#include "test-http.h"

#include <libsoup/soup.h>
#include <string.h>

#include "testutil.h"

struct _RhTestHttp {
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  SoupServer *server;
  guint16 port;
  GMutex lock;
  GCond ready;
  gboolean started;
  GPtrArray *requests;   /* RhTestRequest* */
  guint flaky_seen;
  GPtrArray *paused;     /* SoupServerMessage*: /hang requests, never answered */
  GTlsCertificate *certificate;  /* NULL: plain HTTP */
};

static void
request_free (gpointer data)
{
  RhTestRequest *request = data;
  g_free (request->path);
  g_free (request->body);
  g_hash_table_unref (request->headers);
  g_free (request);
}

/* /slow: 200 and then one byte of body a second, 30 in all. */
typedef struct {
  SoupServerMessage *message;
  GSource *timer;
  gulong finished_id;
  guint sent;
} Dribble;

static void
dribble_free (gpointer data)
{
  Dribble *dribble = data;
  g_signal_handler_disconnect (dribble->message, dribble->finished_id);
  g_object_unref (dribble->message);
  g_free (dribble);
}

static gboolean
dribble_byte (gpointer data)
{
  Dribble *dribble = data;
  SoupMessageBody *body = soup_server_message_get_response_body (dribble->message);
  soup_message_body_append (body, SOUP_MEMORY_STATIC, "x", 1);
  if (++dribble->sent == 30)
    soup_message_body_complete (body);
  soup_server_message_unpause (dribble->message);
  return dribble->sent < 30 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* The client gave up (its timeout): no more bytes. */
static void
on_dribble_finished (SoupServerMessage *message, gpointer data)
{
  Dribble *dribble = data;
  g_source_destroy (dribble->timer);
}

static void
start_dribble (RhTestHttp *http, SoupServerMessage *message)
{
  Dribble *dribble = g_new0 (Dribble, 1);
  dribble->message = g_object_ref (message);
  dribble->finished_id = g_signal_connect (message, "finished", G_CALLBACK (on_dribble_finished), dribble);
  soup_server_message_set_status (message, 200, NULL);
  soup_message_headers_set_encoding (soup_server_message_get_response_headers (message), SOUP_ENCODING_CHUNKED);
  soup_server_message_pause (message);
  dribble->timer = g_timeout_source_new (1000);
  g_source_set_callback (dribble->timer, dribble_byte, dribble, dribble_free);
  g_source_attach (dribble->timer, http->context);
  g_source_unref (dribble->timer);
}

/* /endless: 200 and a chunked body that never ends, 64 KiB a chunk as
 * fast as the client reads, up to 1 GiB (the test stays bounded). */
#define ENDLESS_CHUNK (64 * 1024)
#define ENDLESS_LIMIT (1024u * 1024 * 1024)

typedef struct {
  guint64 sent;
} Endless;

static void
endless_next (SoupServerMessage *message, gpointer data)
{
  Endless *endless = data;
  static const char chunk[ENDLESS_CHUNK] = { 0 };
  SoupMessageBody *body = soup_server_message_get_response_body (message);
  if (endless->sent >= ENDLESS_LIMIT)
    {
      soup_message_body_complete (body);
      return;
    }
  soup_message_body_append (body, SOUP_MEMORY_STATIC, chunk, sizeof chunk);
  endless->sent += sizeof chunk;
}

static void
start_endless (SoupServerMessage *message)
{
  Endless *endless = g_new0 (Endless, 1);
  soup_server_message_set_status (message, 200, NULL);
  soup_message_headers_set_encoding (soup_server_message_get_response_headers (message), SOUP_ENCODING_CHUNKED);
  g_signal_connect (message, "wrote-chunk", G_CALLBACK (endless_next), endless);
  g_object_set_data_full (G_OBJECT (message), "endless", endless, g_free);
  endless_next (message, endless);
}

static void
on_http_request (SoupServer *server, SoupServerMessage *message, const char *path,
                 GHashTable *query, gpointer user_data)
{
  RhTestHttp *http = user_data;
  RhTestRequest *request = g_new0 (RhTestRequest, 1);
  SoupMessageBody *body = soup_server_message_get_request_body (message);
  g_autoptr (GBytes) flat = soup_message_body_flatten (body);
  SoupMessageHeadersIter iter;
  const char *name, *value;
  guint status;

  request->path = g_strdup (path);
  GSocketAddress *remote = soup_server_message_get_remote_address (message);
  if (G_IS_INET_SOCKET_ADDRESS (remote))
    request->client_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (remote));
  request->body = g_strndup (g_bytes_get_data (flat, NULL), g_bytes_get_size (flat));
  request->headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  soup_message_headers_iter_init (&iter, soup_server_message_get_request_headers (message));
  while (soup_message_headers_iter_next (&iter, &name, &value))
    g_hash_table_insert (request->headers, g_ascii_strdown (name, -1), g_strdup (value));

  const char *answer = "done";
  g_mutex_lock (&http->lock);
  g_ptr_array_add (http->requests, request);
  if (strcmp (path, "/slow") == 0)
    {
      g_mutex_unlock (&http->lock);
      start_dribble (http, message);
      return;
    }
  if (strcmp (path, "/hang") == 0)
    {
      g_ptr_array_add (http->paused, g_object_ref (message));
      g_mutex_unlock (&http->lock);
      soup_server_message_pause (message);
      return;
    }
  if (strcmp (path, "/endless") == 0)
    {
      g_mutex_unlock (&http->lock);
      start_endless (message);
      return;
    }
  if (strcmp (path, "/redirect") == 0)
    {
      g_mutex_unlock (&http->lock);
      soup_server_message_set_redirect (message, 302, "/ok");
      return;
    }
  if (strcmp (path, "/deny") == 0)
    status = 403, answer = "{\"reason\": \"no such key\"}";
  else if (strcmp (path, "/rename") == 0)
    status = 200, answer = "{\"stream_name\": \"renamed\"}";
  else if (strcmp (path, "/rename-nul") == 0)
    status = 200, answer = "{\"stream_name\": \"a\\u0000b\"}";
  else if (strcmp (path, "/ok") == 0)
    status = 200;
  else if (strcmp (path, "/bad") == 0)
    status = 400;
  else if (strcmp (path, "/flaky") == 0)
    status = http->flaky_seen++ == 0 ? 500 : 200;
  else
    status = 404;
  g_mutex_unlock (&http->lock);
  soup_server_message_set_status (message, status, NULL);
  soup_server_message_set_response (message, "text/plain", SOUP_MEMORY_STATIC, answer, strlen (answer));
}

static gpointer
http_thread (gpointer user_data)
{
  RhTestHttp *http = user_data;
  g_autoptr (GError) error = NULL;

  g_main_context_push_thread_default (http->context);
  http->server = soup_server_new ("tls-certificate", http->certificate, NULL);
  soup_server_add_handler (http->server, NULL, on_http_request, http, NULL);
  g_assert_true (soup_server_listen_local (http->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY
                                           | (http->certificate != NULL ? SOUP_SERVER_LISTEN_HTTPS : 0),
                                           &error));
  GSList *uris = soup_server_get_uris (http->server);
  http->port = (guint16) g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_mutex_lock (&http->lock);
  http->started = TRUE;
  g_cond_signal (&http->ready);
  g_mutex_unlock (&http->lock);

  g_main_loop_run (http->loop);
  g_ptr_array_set_size (http->paused, 0);
  soup_server_disconnect (http->server);
  g_clear_object (&http->server);
  g_main_context_pop_thread_default (http->context);
  return NULL;
}

static RhTestHttp *
http_start (GTlsCertificate *certificate)
{
  RhTestHttp *http = g_new0 (RhTestHttp, 1);
  http->certificate = certificate;
  g_mutex_init (&http->lock);
  g_cond_init (&http->ready);
  http->requests = g_ptr_array_new_with_free_func (request_free);
  http->paused = g_ptr_array_new_with_free_func (g_object_unref);
  http->context = g_main_context_new ();
  http->loop = g_main_loop_new (http->context, FALSE);
  http->thread = g_thread_new ("http", http_thread, http);
  g_mutex_lock (&http->lock);
  while (!http->started)
    g_cond_wait (&http->ready, &http->lock);
  g_mutex_unlock (&http->lock);
  return http;
}

RhTestHttp *
rh_test_http_start (void)
{
  return http_start (NULL);
}

RhTestHttp *
rh_test_http_start_tls (const char *cert_path, const char *key_path)
{
  g_autoptr (GError) error = NULL;
  GTlsCertificate *certificate = g_tls_certificate_new_from_files (cert_path, key_path, &error);
  g_assert_no_error (error);
  return http_start (certificate);
}

static gboolean
quit_loop (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

void
rh_test_http_stop (RhTestHttp *http)
{
  g_main_context_invoke (http->context, quit_loop, http->loop);
  g_thread_join (http->thread);
  g_main_loop_unref (http->loop);
  g_main_context_unref (http->context);
  g_ptr_array_unref (http->requests);
  g_ptr_array_unref (http->paused);
  g_clear_object (&http->certificate);
  g_mutex_clear (&http->lock);
  g_cond_clear (&http->ready);
  g_free (http);
}

guint16
rh_test_http_port (RhTestHttp *http)
{
  return http->port;
}

static RhTestRequest *
request_copy (const RhTestRequest *request)
{
  RhTestRequest *copy = g_new0 (RhTestRequest, 1);
  GHashTableIter iter;
  gpointer key, value;
  copy->path = g_strdup (request->path);
  copy->client_port = request->client_port;
  copy->body = g_strdup (request->body);
  copy->headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_iter_init (&iter, request->headers);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (copy->headers, g_strdup (key), g_strdup (value));
  return copy;
}

GPtrArray *
rh_test_http_requests (RhTestHttp *http, const char *path)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (request_free);
  g_mutex_lock (&http->lock);
  for (guint i = 0; i < http->requests->len; i++)
    {
      RhTestRequest *request = g_ptr_array_index (http->requests, i);
      if (strcmp (request->path, path) == 0)
        g_ptr_array_add (out, request_copy (request));
    }
  g_mutex_unlock (&http->lock);
  return out;
}

typedef struct {
  RhTestHttp *http;
  const char *path;
  guint count;
} HttpWait;

static gboolean
has_requests (gpointer data)
{
  HttpWait *wait = data;
  g_autoptr (GPtrArray) requests = rh_test_http_requests (wait->http, wait->path);
  return requests->len >= wait->count;
}

gboolean
rh_test_http_wait (RhTestHttp *http, const char *path, guint count, guint timeout_ms)
{
  HttpWait wait = { http, path, count };
  return rh_test_poll_until (has_requests, &wait, timeout_ms);
}

char *
rh_test_http_get (guint16 port, const char *path)
{
  return rh_test_http_get_auth (port, path, NULL, NULL, NULL, NULL);
}

char *
rh_test_basic_authorization (const char *credentials)
{
  g_autofree char *encoded = g_base64_encode ((const guchar *) credentials, strlen (credentials));
  return g_strconcat ("Basic ", encoded, NULL);
}

char *
rh_test_http_get_auth (guint16 port, const char *path, const char *authorization, guint *status, char **challenge,
                       char **content_type)
{
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u%s", port, path);
  g_autoptr (SoupMessage) message = soup_message_new ("GET", url);
  SoupMessageHeaders *request = soup_message_get_request_headers (message);
  if (authorization != NULL)
    soup_message_headers_replace (request, "Authorization", authorization);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = soup_session_send_and_read (session, message, NULL, &error);
  if (body == NULL)
    g_error ("GET %s: %s", url, error->message);
  SoupMessageHeaders *response = soup_message_get_response_headers (message);
  if (status != NULL)
    *status = soup_message_get_status (message);
  if (challenge != NULL)
    *challenge = g_strdup (soup_message_headers_get_one (response, "WWW-Authenticate"));
  if (content_type != NULL)
    *content_type = g_strdup (soup_message_headers_get_one (response, "Content-Type"));
  return g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
}
