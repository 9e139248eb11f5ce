/* End to end, the HTTP API: the real daemon with a live ffmpeg publisher
 * and real hooks, asked over HTTP by libsoup; /metrics checked by
 * Prometheus's own promtool. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "testutil.h"

#define TOKEN "t0k-abc"

typedef struct {
  guint status;
  char *body;
} Reply;

static void
reply_clear (Reply *reply)
{
  g_free (reply->body);
}

static Reply
request (guint16 port, const char *method, const char *path, const char *token)
{
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u%s", port, path);
  g_autoptr (SoupMessage) message = soup_message_new (method, url);
  if (token != NULL)
    {
      g_autofree char *value = g_strconcat ("Bearer ", token, NULL);
      soup_message_headers_replace (soup_message_get_request_headers (message), "Authorization", value);
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = soup_session_send_and_read (session, message, NULL, &error);
  g_assert_no_error (error);
  Reply reply = { soup_message_get_status (message), g_strndup (g_bytes_get_data (body, NULL),
                                                                 g_bytes_get_size (body)) };
  return reply;
}

static gboolean
promtool_accepts (const char *text, char **output)
{
  const char *const argv[] = { "promtool", "check", "metrics", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDIN_PIPE
                                                       | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                                       | G_SUBPROCESS_FLAGS_STDERR_MERGE, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (process, text, NULL, output, NULL, &error));
  g_assert_no_error (error);
  return g_subprocess_get_if_exited (process) && g_subprocess_get_exit_status (process) == 0;
}

static JsonObject *
find_stream (JsonNode *root, const char *key)
{
  JsonArray *streams = json_object_get_array_member (json_node_get_object (root), "streams");
  for (guint i = 0; i < json_array_get_length (streams); i++)
    {
      JsonObject *stream = json_array_get_object_element (streams, i);
      if (strcmp (json_object_get_string_member (stream, "key"), key) == 0)
        return stream;
    }
  return NULL;
}

static void
test_api (void)
{
  guint16 http_port = rh_test_free_port ();
  g_autofree char *config = g_strdup_printf (
    "http = { listen = [ \"127.0.0.1:%u\" ]; token = \"${env.RH_API_TOKEN}\"; };\n"
    "rules = (\n"
    "  { name = \"fine\"; on = [ \"publish_start\" ]; exec = { command = [ \"/bin/true\" ]; }; },\n"
    "  { name = \"broken\"; on = [ \"publish_start\" ]; exec = { command = [ \"/bin/false\" ]; }; }\n"
    ");\n", http_port);
  const char *const env[] = { "RH_API_TOKEN=" TOKEN, NULL };
  RhTestDaemon *daemon = rh_test_daemon_start_full (config, NULL, env, FALSE);
  g_autofree char *listening = g_strdup_printf ("HTTP API listening on 127.0.0.1:%u", http_port);
  g_assert_true (rh_test_daemon_wait_log (daemon, listening, 10000));

  /* /healthz answers anyone; everything else wants the token. */
  Reply health = request (http_port, "GET", "/healthz", NULL);
  g_assert_cmpuint (health.status, ==, 200);
  g_assert_cmpstr (health.body, ==, "ok\n");
  reply_clear (&health);
  Reply anonymous = request (http_port, "GET", "/metrics", NULL);
  g_assert_cmpuint (anonymous.status, ==, 401);
  reply_clear (&anonymous);
  Reply wrong = request (http_port, "GET", "/api/v1/streams", "t0k-abd");
  g_assert_cmpuint (wrong.status, ==, 401);
  reply_clear (&wrong);

  g_autofree char *url = rh_test_daemon_url (daemon, "live/api");
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 60, "320x180", NULL, NULL);
  g_assert_true (rh_test_daemon_wait_log (daemon, "codec_detected live/api track=audio", 20000));
  g_assert_true (rh_test_daemon_wait_log (daemon, "codec_detected live/api track=video", 20000));
  g_assert_true (rh_test_daemon_wait_log (daemon, "hook \"fine\" for publish_start exited with status 0", 10000));
  g_assert_true (rh_test_daemon_wait_log (daemon, "hook \"broken\" for publish_start failed with status 1", 10000));
  GSocketConnection *player = rh_test_connect (daemon->port);  /* one more connection counted */
  g_assert_nonnull (player);

  Reply streams = request (http_port, "GET", "/api/v1/streams", TOKEN);
  g_assert_cmpuint (streams.status, ==, 200);
  g_autoptr (JsonNode) streams_json = json_from_string (streams.body, NULL);
  g_assert_nonnull (streams_json);
  JsonObject *stream = find_stream (streams_json, "live/api");
  g_assert_nonnull (stream);
  g_assert_cmpstr (json_object_get_string_member (stream, "app"), ==, "live");
  g_assert_cmpstr (json_object_get_string_member (stream, "name"), ==, "api");
  JsonObject *publisher_json = json_object_get_object_member (stream, "publisher");
  g_assert_cmpstr (json_object_get_string_member (publisher_json, "client_ip"), ==, "127.0.0.1");
  gint64 publisher_bytes = json_object_get_int_member (publisher_json, "bytes_received");
  g_assert_cmpint (publisher_bytes, >, 0);
  JsonObject *codecs = json_object_get_object_member (stream, "codecs");
  g_assert_cmpstr (json_object_get_string_member (codecs, "video"), ==, "h264");
  g_assert_cmpstr (json_object_get_string_member (codecs, "audio"), ==, "aac");
  g_assert_cmpint (json_object_get_int_member (stream, "players"), ==, 0);
  reply_clear (&streams);

  Reply metrics = request (http_port, "GET", "/metrics", TOKEN);
  g_assert_cmpuint (metrics.status, ==, 200);
  g_autofree char *promtool_output = NULL;
  if (!promtool_accepts (metrics.body, &promtool_output))
    g_error ("promtool check metrics refused:\n%s\n%s", promtool_output, metrics.body);
  g_assert_cmpfloat (rh_test_metric (metrics.body, "rtmphooks_publishers"), ==, 1);
  g_assert_cmpfloat (rh_test_metric (metrics.body, "rtmphooks_streams"), ==, 1);
  g_assert_cmpfloat (rh_test_metric (metrics.body, "rtmphooks_connections"), ==, 2);
  /* Every byte of the publisher's media, and its handshake and commands. */
  g_assert_cmpfloat (rh_test_metric (metrics.body, "rtmphooks_received_bytes_total"), >, (double) publisher_bytes + 3073);
  g_assert_cmpfloat (rh_test_metric (metrics.body, "rtmphooks_hook_runs_total{rule=\"fine\",result=\"ok\"}"), ==, 1);
  g_assert_cmpfloat (rh_test_metric (metrics.body, "rtmphooks_hook_runs_total{rule=\"broken\",result=\"failed\"}"), ==, 1);
  g_assert_cmpfloat (rh_test_metric (metrics.body, "rtmphooks_hook_duration_seconds_count{rule=\"fine\"}"), ==, 1);
  g_assert_cmpfloat (rh_test_metric (metrics.body, "rtmphooks_hook_duration_seconds_bucket{rule=\"fine\",le=\"+Inf\"}"), ==, 1);
  g_assert_cmpfloat (rh_test_metric (metrics.body, "rtmphooks_events_total"), >=, 5);
  reply_clear (&metrics);

  Reply hooks = request (http_port, "GET", "/api/v1/hooks", TOKEN);
  g_assert_cmpuint (hooks.status, ==, 200);
  g_autoptr (JsonNode) hooks_json = json_from_string (hooks.body, NULL);
  JsonArray *rules = json_object_get_array_member (json_node_get_object (hooks_json), "rules");
  g_assert_cmpuint (json_array_get_length (rules), ==, 2);
  JsonObject *broken = json_array_get_object_element (rules, 0);  /* name order */
  g_assert_cmpstr (json_object_get_string_member (broken, "name"), ==, "broken");
  g_assert_cmpstr (json_object_get_string_member (broken, "last_error"), ==, "exit status 1");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (broken, "runs"), "failed"), ==, 1);
  reply_clear (&hooks);

  /* Drop: the publisher is closed with reason rejected. */
  Reply missing = request (http_port, "POST", "/api/v1/streams/live/nosuch/drop", TOKEN);
  g_assert_cmpuint (missing.status, ==, 404);
  reply_clear (&missing);
  Reply unauthorized = request (http_port, "POST", "/api/v1/streams/live/api/drop", NULL);
  g_assert_cmpuint (unauthorized.status, ==, 401);
  reply_clear (&unauthorized);
  Reply dropped = request (http_port, "POST", "/api/v1/streams/live/api/drop", TOKEN);
  g_assert_cmpuint (dropped.status, ==, 200);
  reply_clear (&dropped);
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish_stop live/api reason=rejected", 10000));
  g_assert_cmpint (rh_test_wait (publisher, 20000), !=, 0);
  g_assert_true (rh_test_daemon_wait_log (daemon, "stream live/api deleted", 10000));
  Reply after = request (http_port, "GET", "/api/v1/streams", TOKEN);
  g_autoptr (JsonNode) after_json = json_from_string (after.body, NULL);
  g_assert_null (find_stream (after_json, "live/api"));
  reply_clear (&after);

  /* A reload is counted; a failed one too, and the old token stays. */
  rh_test_daemon_reload (daemon, config);
  g_assert_true (rh_test_daemon_wait_log (daemon, "configuration reloaded", 10000));
  rh_test_daemon_reload (daemon, "http = { nonsense = 1; };");
  g_assert_true (rh_test_daemon_wait_log (daemon, "reload failed", 10000));
  Reply reloads = request (http_port, "GET", "/metrics", TOKEN);
  g_assert_cmpuint (reloads.status, ==, 200);
  g_assert_cmpfloat (rh_test_metric (reloads.body, "rtmphooks_config_reloads_total{result=\"ok\"}"), ==, 1);
  g_assert_cmpfloat (rh_test_metric (reloads.body, "rtmphooks_config_reloads_total{result=\"failed\"}"), ==, 1);
  reply_clear (&reloads);

  g_io_stream_close (G_IO_STREAM (player), NULL, NULL);
  g_object_unref (player);
  rh_test_daemon_finish (daemon);
}

/* Without a token the API answers on loopback without asking, but will
 * not drop a stream. */
static void
test_api_without_token (void)
{
  guint16 http_port = rh_test_free_port ();
  g_autofree char *config = g_strdup_printf ("http = { listen = [ \"127.0.0.1:%u\" ]; };\n", http_port);
  RhTestDaemon *daemon = rh_test_daemon_start (config, NULL);
  g_autofree char *listening = g_strdup_printf ("HTTP API listening on 127.0.0.1:%u", http_port);
  g_assert_true (rh_test_daemon_wait_log (daemon, listening, 10000));
  Reply metrics = request (http_port, "GET", "/metrics", NULL);
  g_assert_cmpuint (metrics.status, ==, 200);
  reply_clear (&metrics);
  Reply drop = request (http_port, "POST", "/api/v1/streams/live/any/drop", NULL);
  g_assert_cmpuint (drop.status, ==, 403);
  g_assert_nonnull (strstr (drop.body, "needs http.token"));
  reply_clear (&drop);
  Reply unknown = request (http_port, "GET", "/api/v2/nothing", NULL);
  g_assert_cmpuint (unknown.status, ==, 404);
  reply_clear (&unknown);
  rh_test_daemon_finish (daemon);
}

/* Without a token the API listens on loopback only; -t says so. */
static void
test_api_needs_token_off_loopback (void)
{
  rh_test_assert_config_error ("\nhttp = { listen = [ \":8080\" ]; };\n", 2,
                               "http.listen \":8080\" is not a loopback address: set http.token");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/e2e/api/endpoints", test_api);
  g_test_add_func ("/e2e/api/token-off-loopback", test_api_needs_token_off_loopback);
  g_test_add_func ("/e2e/api/without-token", test_api_without_token);
  return g_test_run ();
}
