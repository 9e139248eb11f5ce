/* Decision checks end to end: the real daemon, ffmpeg publishing and
 * playing, real check scripts, a real HTTP server answering webhook
 * checks. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "test-player.h"
#include "testutil.h"

/* ffmpeg publishing url for a second; its exit status. */
static int
publish_briefly (const char *url)
{
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 1, "160x90", NULL, NULL);
  return rh_test_wait (publisher, 20000);
}

static int
play_briefly (const char *url)
{
  const char *const argv[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-i", url, "-t", "0.5",
                               "-f", "null", "-", NULL };
  g_autoptr (GSubprocess) player = rh_test_spawn (argv, NULL);
  return rh_test_wait (player, 20000);
}

static const char *
data_string (JsonNode *event, const char *field)
{
  return json_object_get_string_member (json_object_get_object_member (json_node_get_object (event), "data"),
                                        field);
}

/* Exec checks: a key check that allows and denies (with a reason), one
 * that renames, a play check; what the check saw; the counters. */
static void
test_exec_checks (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *key_body = g_strdup_printf (
    "#!/bin/sh\n"
    "cat > %s/seen-$RTMP_STREAM_NAME.json\n"
    "[ \"$RTMP_QUERY\" = key=good ] && exit 0\n"
    "echo '{\"reason\": \"bad key\"}'\n"
    "exit 1\n", dir);
  g_autofree char *key = rh_test_write_script (dir, "key.sh", key_body);
  g_autofree char *rename = rh_test_write_script (dir, "rename.sh",
                                                  "#!/bin/sh\necho '{\"stream_name\": \"renamed\"}'\n");
  guint16 http_port = rh_test_free_port ();
  g_autofree char *config = g_strdup_printf (
    "hooks = { stdio = \"jsonl\"; };\n"
    "http = { listen = \"127.0.0.1:%u\"; };\n"
    "checks = (\n"
    "  { name = \"keys\"; on = [ \"publish\" ]; where = { stream_name = \"cam*\"; };\n"
    "    exec = { command = [ \"%s\" ]; timeout = \"5s\"; }; },\n"
    "  { name = \"rename\"; on = [ \"publish\" ]; where = { stream_name = \"old\"; };\n"
    "    exec = { command = [ \"%s\" ]; }; },\n"
    "  { name = \"tickets\"; on = [ \"play\" ]; where = { query = \"!ticket=*\"; };\n"
    "    exec = { command = [ \"/bin/false\" ]; }; }\n"
    ");\n", http_port, key, rename);
  RhTestDaemon *daemon = rh_test_daemon_start (config, NULL);

  /* Allowed: publishes, and a player with a ticket plays. */
  g_autofree char *good = rh_test_daemon_url (daemon, "live/cam1?key=good");
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (good, 4, "160x90", NULL, NULL);
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish_start live/cam1", 15000));
  g_autofree char *ticket = rh_test_daemon_url (daemon, "live/cam1?ticket=1");
  g_assert_cmpint (play_briefly (ticket), ==, 0);
  /* Denied: a player without one. */
  g_autofree char *no_ticket = rh_test_daemon_url (daemon, "live/cam1");
  g_assert_cmpint (play_briefly (no_ticket), !=, 0);
  g_assert_true (rh_test_daemon_wait_log (daemon, "play of live/cam1 denied by check \"tickets\"", 5000));
  g_assert_cmpint (rh_test_wait (publisher, 20000), ==, 0);

  /* Denied with a reason: ffmpeg fails, no publish_start, reason rejected. */
  g_autofree char *bad = rh_test_daemon_url (daemon, "live/cam2?key=bad");
  g_assert_cmpint (publish_briefly (bad), !=, 0);
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish of live/cam2 denied by check \"keys\": bad key", 5000));

  /* Renamed: the stream lives under the check's name. */
  g_autofree char *old = rh_test_daemon_url (daemon, "live/old");
  g_assert_cmpint (publish_briefly (old), ==, 0);
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish live/old renamed to renamed by check \"rename\"", 5000));
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish_stop live/renamed", 10000));

  /* What the check saw: the would-be event. */
  g_autofree char *seen_path = g_build_filename (dir, "seen-cam2.json", NULL);
  g_autofree char *seen = NULL;
  g_assert_true (g_file_get_contents (seen_path, &seen, NULL, NULL));
  g_autoptr (JsonNode) request = json_from_string (seen, NULL);
  JsonObject *request_object = json_node_get_object (request);
  g_assert_cmpstr (json_object_get_string_member (request_object, "type"), ==, "publish");
  g_assert_cmpstr (json_object_get_string_member (request_object, "stream_key"), ==, "live/cam2");
  g_assert_cmpstr (data_string (request, "query"), ==, "key=bad");
  g_assert_cmpstr (data_string (request, "publish_type"), ==, "live");
  g_assert_cmpstr (data_string (request, "client_ip"), ==, "127.0.0.1");

  g_autofree char *metrics = rh_test_http_get (http_port, "/metrics");
  g_assert_nonnull (strstr (metrics, "rtmphooks_check_runs_total{check=\"keys\",result=\"allowed\"} 1\n"));
  g_assert_nonnull (strstr (metrics, "rtmphooks_check_runs_total{check=\"keys\",result=\"denied\"} 1\n"));
  g_assert_nonnull (strstr (metrics, "rtmphooks_check_runs_total{check=\"tickets\",result=\"denied\"} 1\n"));
  g_assert_nonnull (strstr (metrics, "rtmphooks_check_runs_total{check=\"rename\",result=\"allowed\"} 1\n"));
  g_assert_nonnull (strstr (metrics, "rtmphooks_check_duration_seconds_count{check=\"keys\"} 2\n"));

  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);
  g_autoptr (GPtrArray) starts = rh_test_daemon_events (daemon, "publish_start");
  g_assert_cmpuint (starts->len, ==, 2);
  g_assert_cmpstr (data_string (g_ptr_array_index (starts, 0), "stream_name"), ==, "cam1");
  g_assert_cmpstr (data_string (g_ptr_array_index (starts, 1), "stream_name"), ==, "renamed");
  g_autoptr (GPtrArray) plays = rh_test_daemon_events (daemon, "play_start");
  g_assert_cmpuint (plays->len, ==, 1);
  g_autoptr (GPtrArray) closes = rh_test_daemon_events (daemon, "connection_close");
  guint rejected = 0;
  for (guint i = 0; i < closes->len; i++)
    rejected += g_strcmp0 (data_string (g_ptr_array_index (closes, i), "reason"), "rejected") == 0;
  g_assert_cmpuint (rejected, ==, 2);
  rh_test_daemon_free (daemon);
  rh_test_remove_tree (dir);
}

/* A connect check that hangs: on_error = "deny" refuses after the
 * timeout, "allow" lets the client in; meanwhile another stream flows on
 * undisturbed. */
static void
test_hanging_checks (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *hang = rh_test_write_script (dir, "hang.sh", "#!/bin/sh\nexec sleep 60\n");
  g_autofree char *config = g_strdup_printf (
    "checks = (\n"
    "  { name = \"strict\"; on = [ \"connect\" ]; where = { app = \"strict\"; };\n"
    "    exec = { command = [ \"%1$s\" ]; timeout = 1.5; }; on_error = \"deny\"; },\n"
    "  { name = \"lenient\"; on = [ \"connect\" ]; where = { app = \"lenient\"; };\n"
    "    exec = { command = [ \"%1$s\" ]; timeout = 1.5; }; on_error = \"allow\"; }\n"
    ");\n", hang);
  RhTestDaemon *daemon = rh_test_daemon_start (config, NULL);
  g_autofree char *free_url = rh_test_daemon_url (daemon, "live/free");
  g_autoptr (GSubprocess) flowing = rh_test_publish_ffmpeg (free_url, 8, "160x90", NULL, NULL);
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish_start live/free", 15000));
  RhTestPlayer *player = rh_test_player_new (daemon->port, "live", "free", 0, NULL);

  gint64 from = g_get_monotonic_time ();
  g_autofree char *strict = rh_test_daemon_url (daemon, "strict/s1");
  g_autoptr (GSubprocess) denied = rh_test_publish_ffmpeg (strict, 1, "160x90", NULL, NULL);
  g_assert_true (rh_test_iterate_until_log (daemon, "connect to strict denied by check \"strict\": check failed", 1, 10000));
  gint64 to = g_get_monotonic_time ();
  g_assert_cmpint (rh_test_wait (denied, 10000), !=, 0);
  g_assert_true (rh_test_daemon_wait_log (daemon, "check \"strict\" for connect failed (timeout)", 1000));
  /* The check took its full timeout; the other stream never paused. */
  g_assert_cmpint (to - from, >=, 1500 * 1000);
  g_assert_cmpuint (rh_test_player_video_messages (player), >, 0);
  g_assert_cmpint (rh_test_player_largest_gap (player, from, to), <, 500 * 1000);

  g_autofree char *lenient = rh_test_daemon_url (daemon, "lenient/s1");
  g_autoptr (GSubprocess) allowed = rh_test_publish_ffmpeg (lenient, 1, "160x90", NULL, NULL);
  g_assert_true (rh_test_iterate_until_log (daemon, "publish_start lenient/s1", 1, 15000));
  g_assert_cmpint (rh_test_wait (allowed, 15000), ==, 0);
  g_assert_true (rh_test_daemon_wait_log (daemon, "on_error = allow", 1000));

  rh_test_player_free (player);
  g_assert_cmpint (rh_test_wait (flowing, 20000), ==, 0);
  rh_test_daemon_finish (daemon);
  rh_test_remove_tree (dir);
}

/* Webhook checks: 403 denies (with the body's reason), a 200 body
 * renames, an endpoint that never answers follows on_error. */
static void
test_webhook_checks (void)
{
  RhTestHttp *http = rh_test_http_start ();
  guint16 port = rh_test_http_port (http);
  g_autofree char *config = g_strdup_printf (
    "hooks = { stdio = \"jsonl\"; };\n"
    "checks = (\n"
    "  { name = \"deny\"; on = [ \"publish\" ]; where = { stream_name = \"w403\"; };\n"
    "    webhook = { url = \"http://127.0.0.1:%1$u/deny\"; }; },\n"
    "  { name = \"rename\"; on = [ \"publish\" ]; where = { stream_name = \"wren\"; };\n"
    "    webhook = { url = \"http://127.0.0.1:%1$u/rename\"; }; },\n"
    "  { name = \"hang\"; on = [ \"play\" ]; where = { stream_name = \"whang\"; };\n"
    "    webhook = { url = \"http://127.0.0.1:%1$u/hang\"; timeout = 1.0; }; on_error = \"deny\"; }\n"
    ");\n", port);
  RhTestDaemon *daemon = rh_test_daemon_start (config, NULL);

  g_autofree char *w403 = rh_test_daemon_url (daemon, "live/w403?key=k");
  g_assert_cmpint (publish_briefly (w403), !=, 0);
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish of live/w403 denied by check \"deny\": no such key", 5000));
  g_autoptr (GPtrArray) posts = rh_test_http_requests (http, "/deny");
  g_assert_cmpuint (posts->len, ==, 1);
  const RhTestRequest *post = g_ptr_array_index (posts, 0);
  g_autoptr (JsonNode) body = json_from_string (post->body, NULL);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (body), "type"), ==, "publish");
  g_assert_cmpstr (data_string (body, "query"), ==, "key=k");
  g_assert_cmpstr (g_hash_table_lookup (post->headers, "webhook-id"), ==,
                   json_object_get_string_member (json_node_get_object (body), "id"));

  g_autofree char *wren = rh_test_daemon_url (daemon, "live/wren");
  g_assert_cmpint (publish_briefly (wren), ==, 0);
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish_stop live/renamed", 10000));

  g_autofree char *whang = rh_test_daemon_url (daemon, "live/whang");
  gint64 from = g_get_monotonic_time ();
  g_assert_cmpint (play_briefly (whang), !=, 0);
  g_assert_true (rh_test_daemon_wait_log (daemon, "play of live/whang denied by check \"hang\": check failed", 5000));
  g_assert_cmpint (g_get_monotonic_time () - from, >=, 1000 * 1000);
  g_assert_true (rh_test_http_wait (http, "/hang", 1, 1000));

  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);
  g_autoptr (GPtrArray) starts = rh_test_daemon_events (daemon, "publish_start");
  g_assert_cmpuint (starts->len, ==, 1);
  g_assert_cmpstr (data_string (g_ptr_array_index (starts, 0), "stream_name"), ==, "renamed");
  g_autoptr (GPtrArray) plays = rh_test_daemon_events (daemon, "play_start");
  g_assert_cmpuint (plays->len, ==, 0);
  rh_test_daemon_free (daemon);
  rh_test_http_stop (http);
}

/* A client that goes away while its check runs: no event, nothing
 * answered, the daemon carries on. Also --hook-check from the command
 * line. */
static void
test_disconnect_during_check (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *body = g_strdup_printf ("#!/bin/sh\n"
                                           "touch %s/started\n"
                                           "sleep 1\n", dir);
  g_autofree char *slow = rh_test_write_script (dir, "slow.sh", body);
  g_autofree char *option = g_strdup_printf ("publish=%s", slow);
  const char *const args[] = { "--hook-check", option, "--hook-stdio-format", "jsonl", NULL };
  RhTestDaemon *daemon = rh_test_daemon_start (NULL, args);

  g_autofree char *url = rh_test_daemon_url (daemon, "live/gone");
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 5, "160x90", NULL, NULL);
  g_autofree char *started = g_build_filename (dir, "started", NULL);
  g_assert_true (rh_test_wait_file (started, 15000));
  g_subprocess_force_exit (publisher);
  g_assert_true (rh_test_daemon_wait_log (daemon, "c000001 closed", 5000));
  /* The check ends unobserved; a later client is checked and allowed. */
  g_autofree char *again = rh_test_daemon_url (daemon, "live/again");
  g_assert_cmpint (publish_briefly (again), ==, 0);
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish_stop live/again", 10000));
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);

  g_autofree char *log = rh_test_daemon_log (daemon);
  g_assert_null (strstr (log, "live/gone denied"));
  g_assert_null (strstr (log, "publish_start live/gone"));
  g_autoptr (GPtrArray) starts = rh_test_daemon_events (daemon, "publish_start");
  g_assert_cmpuint (starts->len, ==, 1);
  g_assert_cmpstr (data_string (g_ptr_array_index (starts, 0), "stream_name"), ==, "again");
  rh_test_daemon_free (daemon);
  rh_test_remove_tree (dir);
}

/* server.applications: a key check on "live" protects every app the
 * daemon serves, because a connect to any other app is refused before
 * the check would be asked; globs match; the refusals are logged and
 * counted, and a reload applies a new list to new connects. */
static void
test_applications_allowlist (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *key = rh_test_write_script (dir, "key.sh", "#!/bin/sh\n[ \"$RTMP_QUERY\" = key=good ]\n");
  guint16 http_port = rh_test_free_port ();
  g_autofree char *config = g_strdup_printf (
    "hooks = { stdio = \"jsonl\"; };\n"
    "server = { applications = [ \"live\", \"studio-*\" ]; };\n"
    "http = { listen = \"127.0.0.1:%u\"; };\n"
    "checks = ( { name = \"keys\"; on = [ \"publish\" ]; where = { app = [ \"live\", \"studio-*\" ]; };\n"
    "             exec = { command = [ \"%s\" ]; }; } );\n", http_port, key);
  RhTestDaemon *daemon = rh_test_daemon_start (config, NULL);

  g_autofree char *elsewhere = rh_test_daemon_url (daemon, "whatever/anykey");
  g_assert_cmpint (publish_briefly (elsewhere), !=, 0);
  g_assert_true (rh_test_daemon_wait_log (daemon, "connect to application \"whatever\", which server.applications "
                                                  "does not list", 5000));
  g_autofree char *no_key = rh_test_daemon_url (daemon, "studio-a/cam");
  g_assert_cmpint (publish_briefly (no_key), !=, 0);
  g_autofree char *with_key = rh_test_daemon_url (daemon, "studio-a/cam?key=good");
  g_assert_cmpint (publish_briefly (with_key), ==, 0);
  g_autofree char *live = rh_test_daemon_url (daemon, "live/cam?key=good");
  g_assert_cmpint (publish_briefly (live), ==, 0);
  g_autofree char *metrics = rh_test_http_get (http_port, "/metrics");
  g_assert_nonnull (strstr (metrics, "\nrtmphooks_connections_closed_total{reason=\"rejected\"} 2\n"));
  g_autoptr (GPtrArray) connects = rh_test_daemon_events (daemon, "connect");
  for (guint i = 0; i < connects->len; i++)
    g_assert_cmpstr (data_string (g_ptr_array_index (connects, i), "app"), !=, "whatever");
  g_autoptr (GPtrArray) starts = rh_test_daemon_events (daemon, "publish_start");
  g_assert_cmpuint (starts->len, ==, 2);

  /* Without the list, any app is served again (and -t warns). */
  g_autofree char *open_config = g_strdup_printf ("http = { listen = \"127.0.0.1:%u\"; };\n", http_port);
  rh_test_daemon_reload (daemon, open_config);
  g_assert_true (rh_test_daemon_wait_log (daemon, "warning: server.applications is not set", 10000));
  g_assert_true (rh_test_daemon_wait_log (daemon, "configuration reloaded", 10000));
  g_assert_cmpint (publish_briefly (elsewhere), ==, 0);
  g_autofree char *output = NULL;
  g_assert_cmpint (rh_test_check_config_file (daemon->config_path, &output), ==, 0);
  g_autofree char *warning = g_strdup_printf ("%s: warning: server.applications is not set: a connect to any "
                                              "application is accepted", daemon->config_path);
  g_assert_nonnull (strstr (output, warning));
  rh_test_daemon_finish (daemon);
  rh_test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/checks-e2e/exec", test_exec_checks);
  g_test_add_func ("/checks-e2e/hanging", test_hanging_checks);
  g_test_add_func ("/checks-e2e/webhook", test_webhook_checks);
  g_test_add_func ("/checks-e2e/disconnect-during-check", test_disconnect_during_check);
  g_test_add_func ("/checks-e2e/applications-allowlist", test_applications_allowlist);
  return g_test_run ();
}
