/* Relay push end to end: the daemon publishes what ffmpeg sends it to a
 * second rtmphooksd and to nginx-rtmp (Debian's libnginx-mod-rtmp), and
 * comes back when the target is restarted. */
#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "test-player.h"
#include "testutil.h"

#define NGINX_RTMP_MODULE "/usr/lib/nginx/modules/ngx_rtmp_module.so"

/* A daemon on a given port (a restarted target keeps its address). */
static RhTestDaemon *
start_target (guint16 port)
{
  char *dir = rh_test_make_dir ();
  g_autofree char *config = g_build_filename (dir, "rtmphooks.conf", NULL);
  g_assert_true (g_file_set_contents (config, "", -1, NULL));
  g_autofree char *listen = g_strdup_printf ("127.0.0.1:%u", port);
  const char *const argv[] = { rh_test_env ("RH_DAEMON"), "-c", config, "--listen", listen, "--log-level", "info",
                               "--hook-stdio-format", "jsonl", NULL };
  return rh_test_daemon_spawn (argv, dir, NULL, NULL, port);
}

/* ffmpeg copies two seconds of rtmp://127.0.0.1:port/app/name into a
 * file: the stream is there under that name, H.264 at width and AAC. */
static void
assert_plays (guint16 port, const char *app, const char *name, guint width)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *copy = g_build_filename (dir, "copy.flv", NULL);
  g_autofree char *source = g_strdup_printf ("rtmp://127.0.0.1:%u/%s/%s", port, app, name);
  const char *const play[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-i", source, "-t", "2", "-c", "copy",
                               "-y", copy, NULL };
  g_autoptr (GSubprocess) player = rh_test_spawn (play, NULL);
  g_assert_cmpint (rh_test_wait (player, 30000), ==, 0);
  RhTestProbe probe;
  g_assert_true (rh_test_probe (copy, &probe));
  g_assert_cmpstr (probe.video_codec, ==, "h264");
  g_assert_cmpstr (probe.audio_codec, ==, "aac");
  g_assert_cmpuint (probe.width, ==, width);
  g_assert_cmpuint (probe.video_frames, >=, 30);
  rh_test_probe_clear (&probe);
  rh_test_remove_tree (dir);
}

/* To a second rtmphooksd: a player there gets the stream from its first
 * keyframe, and the relay's events say where and how much. */
static void
test_to_rtmphooksd (void)
{
  RhTestDaemon *target = start_target (rh_test_free_port ());
  g_autofree char *relay = g_strdup_printf ("rtmp://127.0.0.1:%u/edge/${stream_name}", target->port);
  const char *const args[] = { "--hook-stdio-format", "jsonl", "--relay", relay, NULL };
  RhTestDaemon *origin = rh_test_daemon_start (NULL, args);
  RhTestPlayer *player = rh_test_player_new (target->port, "edge", "cam", 0, NULL);
  g_assert_true (rh_test_daemon_wait_log (target, "play_start edge/cam", 10000));

  g_autofree char *url = rh_test_daemon_url (origin, "live/cam");
  /* Longer than the relay's connect timeout (10 s), which must not stay
   * on its socket: the target sends almost nothing back. */
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 12, "320x240", NULL, NULL);
  g_assert_cmpint (rh_test_wait (publisher, 30000), ==, 0);
  g_assert_true (rh_test_daemon_wait_log (origin, "relay_stop live/cam", 10000));
  g_autofree char *origin_log = rh_test_daemon_log (origin);
  g_assert_null (strstr (origin_log, "trying again"));
  /* The relay unpublishes as an encoder does: the player sees the end. */
  g_assert_true (rh_test_player_wait_ended (player, 10000));
  g_assert_cmpint (rh_test_daemon_stop (origin), ==, 0);
  g_assert_cmpint (rh_test_daemon_stop (target), ==, 0);

  g_autoptr (GPtrArray) starts = NULL, stops = NULL, publish_stops = NULL, target_codecs = NULL;
  JsonObject *start = rh_test_daemon_only_event (origin, "relay_start", &starts);
  JsonObject *stop = rh_test_daemon_only_event (origin, "relay_stop", &stops);
  JsonObject *published = rh_test_daemon_only_event (origin, "publish_stop", &publish_stops);
  g_autofree char *expected_url = g_strdup_printf ("rtmp://127.0.0.1:%u/edge/cam", target->port);
  g_assert_cmpstr (json_object_get_string_member (start, "url"), ==, expected_url);
  g_assert_cmpstr (json_object_get_string_member (start, "stream_name"), ==, "cam");
  g_assert_cmpstr (json_object_get_string_member (stop, "url"), ==, expected_url);
  g_assert_cmpstr (json_object_get_string_member (stop, "reason"), ==, "publish_stop");
  g_assert_cmpint (json_object_get_int_member (stop, "bytes_sent"), >,
                   json_object_get_int_member (published, "bytes_received") * 9 / 10);
  target_codecs = rh_test_daemon_events (target, "codec_detected");
  g_assert_cmpuint (target_codecs->len, ==, 2);

  /* The relay started before the first frame, or replayed the cached
   * GOP: the player misses nothing. */
  guint sent = (guint) json_object_get_int_member (published, "video_packets");
  g_test_message ("published %u video messages, the target's player got %u", sent,
                  rh_test_player_video_messages (player));
  g_assert_cmpuint (rh_test_player_video_messages (player), ==, sent);
  rh_test_player_free (player);
  rh_test_daemon_free (origin);
  rh_test_daemon_free (target);
}

typedef struct {
  GSubprocess *process;
  char *dir;
  guint16 port;
} Nginx;

static void
nginx_start (Nginx *nginx)
{
  nginx->dir = rh_test_make_dir ();
  nginx->port = rh_test_free_port ();
  g_autofree char *logs = g_build_filename (nginx->dir, "logs", NULL);
  g_assert_cmpint (g_mkdir (logs, 0700), ==, 0);
  g_autofree char *conf_path = g_build_filename (nginx->dir, "nginx.conf", NULL);
  g_autofree char *conf = g_strdup_printf (
    "load_module " NGINX_RTMP_MODULE ";\n"
    "daemon off;\nmaster_process off;\nworker_processes 1;\n"
    "error_log %s/error.log;\npid %s/nginx.pid;\n"
    "events { worker_connections 256; }\n"
    "rtmp { server { listen 127.0.0.1:%u; application edge { live on; } } }\n",
    logs, nginx->dir, nginx->port);
  g_assert_true (g_file_set_contents (conf_path, conf, -1, NULL));
  const char *const argv[] = { "nginx", "-p", nginx->dir, "-c", conf_path, NULL };
  g_autofree char *log = g_build_filename (logs, "stderr.log", NULL);
  nginx->process = rh_test_spawn (argv, log);
  g_assert_true (rh_test_wait_port (nginx->port, 10000));
}

static void
nginx_stop (Nginx *nginx)
{
  g_subprocess_force_exit (nginx->process);
  rh_test_wait (nginx->process, 10000);
  g_clear_object (&nginx->process);
  rh_test_remove_tree (nginx->dir);
  g_clear_pointer (&nginx->dir, g_free);
}

/* To nginx-rtmp, from a rule: ffmpeg plays the stream from nginx. A key
 * in the URL's query never shows in events or logs. */
static void
test_to_nginx (void)
{
  Nginx nginx = { 0 };
  nginx_start (&nginx);
  g_autofree char *config = g_strdup_printf (
    "rules = ( { name = \"push\"; on = [ \"publish_start\" ];\n"
    "            relay = { url = \"rtmp://127.0.0.1:%u/edge/${stream_name}?key=s3cret\"; }; } );\n", nginx.port);
  const char *const args[] = { "--hook-stdio-format", "jsonl", NULL };
  RhTestDaemon *origin = rh_test_daemon_start (config, args);
  g_autofree char *url = rh_test_daemon_url (origin, "live/cam");
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 8, "320x240", NULL, NULL);
  g_assert_true (rh_test_daemon_wait_log (origin, "relay of live/cam publishing to", 10000));

  assert_plays (nginx.port, "edge", "cam", 320);

  g_assert_cmpint (rh_test_wait (publisher, 30000), ==, 0);
  g_assert_true (rh_test_daemon_wait_log (origin, "relay_stop live/cam", 10000));
  g_assert_cmpint (rh_test_daemon_stop (origin), ==, 0);
  g_autoptr (GPtrArray) starts = NULL;
  JsonObject *start = rh_test_daemon_only_event (origin, "relay_start", &starts);
  g_autofree char *expected_url = g_strdup_printf ("rtmp://127.0.0.1:%u/edge/cam", nginx.port);
  g_assert_cmpstr (json_object_get_string_member (start, "url"), ==, expected_url);
  g_autofree char *log = rh_test_daemon_log (origin);
  g_autofree char *out = rh_test_daemon_stdout (origin);
  g_assert_null (strstr (log, "s3cret"));
  g_assert_null (strstr (out, "s3cret"));
  rh_test_daemon_free (origin);
  nginx_stop (&nginx);
}

/* The target goes away mid-stream and comes back on the same port: the
 * relay reconnects (one relay_start, one relay_stop in all), and a player
 * on the new target gets the stream. */
static void
test_target_restart (void)
{
  guint16 port = rh_test_free_port ();
  RhTestDaemon *target = start_target (port);
  g_autofree char *relay = g_strdup_printf ("rtmp://127.0.0.1:%u/edge/${stream_name}", port);
  const char *const args[] = { "--hook-stdio-format", "jsonl", "--relay", relay, NULL };
  RhTestDaemon *origin = rh_test_daemon_start (NULL, args);
  g_autofree char *url = rh_test_daemon_url (origin, "live/cam");
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 60, "320x240", NULL, NULL);
  g_assert_true (rh_test_daemon_wait_log (origin, "relay of live/cam publishing to", 10000));
  g_assert_true (rh_test_daemon_wait_log (target, "publish_start edge/cam", 10000));

  rh_test_daemon_finish (target);
  g_assert_true (rh_test_daemon_wait_log (origin, "trying again in", 10000));
  RhTestDaemon *again = start_target (port);
  g_autofree char *again_line = g_strdup_printf ("publishing to rtmp://127.0.0.1:%u/edge/cam again", port);
  g_assert_true (rh_test_daemon_wait_log (origin, again_line, 20000));
  RhTestPlayer *player = rh_test_player_new (port, "edge", "cam", 0, NULL);
  g_assert_true (rh_test_player_wait_video (player, 60, 20000));

  g_subprocess_send_signal (publisher, SIGINT);
  rh_test_wait (publisher, 10000);
  g_assert_true (rh_test_daemon_wait_log (origin, "relay_stop live/cam", 10000));
  g_assert_cmpint (rh_test_daemon_stop (origin), ==, 0);
  g_assert_cmpint (rh_test_daemon_stop (again), ==, 0);
  g_autoptr (GPtrArray) starts = rh_test_daemon_events (origin, "relay_start");
  g_autoptr (GPtrArray) stops = rh_test_daemon_events (origin, "relay_stop");
  g_assert_cmpuint (starts->len, ==, 1);
  g_assert_cmpuint (stops->len, ==, 1);
  rh_test_player_free (player);
  rh_test_daemon_free (again);
  rh_test_daemon_free (origin);
}

/* Something that is not an RTMP server: every connection it accepts gets
 * an HTTP error at once, on a thread of its own. */
typedef struct {
  GSocketListener *listener;
  GCancellable *cancellable;
  GThread *thread;
  guint16 port;
} NotRtmp;

static gpointer
answer_http (gpointer data)
{
  NotRtmp *server = data;
  for (;;)
    {
      g_autoptr (GSocketConnection) connection = g_socket_listener_accept (server->listener, NULL,
                                                                           server->cancellable, NULL);
      if (connection == NULL)
        return NULL;
      static const char reply[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
      g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)), reply, sizeof reply - 1,
                                 NULL, NULL, NULL);
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
    }
}

static void
not_rtmp_start (NotRtmp *server)
{
  server->listener = g_socket_listener_new ();
  server->cancellable = g_cancellable_new ();
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_assert_true (g_socket_listener_add_address (server->listener, address, G_SOCKET_TYPE_STREAM,
                                                G_SOCKET_PROTOCOL_TCP, NULL, &bound, NULL));
  server->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  server->thread = g_thread_new ("not-rtmp", answer_http, server);
}

static void
not_rtmp_stop (NotRtmp *server)
{
  g_cancellable_cancel (server->cancellable);
  g_thread_join (server->thread);
  g_socket_listener_close (server->listener);
  g_object_unref (server->listener);
  g_object_unref (server->cancellable);
}

/* Targets that refuse: a key already published there (Publish.BadName),
 * an HTTP server, a URL that expands to no stream name, and a recording
 * directory that cannot be made; each is logged and counted, the relays
 * keep trying while the stream goes on. */
static void
test_refusals (void)
{
  RhTestDaemon *target = start_target (rh_test_free_port ());
  g_autofree char *taken_url = rh_test_daemon_url (target, "edge/cam");
  g_autoptr (GSubprocess) squatter = rh_test_publish_ffmpeg (taken_url, 60, "160x120", NULL, NULL);
  g_assert_true (rh_test_daemon_wait_log (target, "publish_start edge/cam", 10000));
  NotRtmp web = { 0 };
  not_rtmp_start (&web);
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *not_a_dir = g_build_filename (dir, "file", NULL);
  g_assert_true (g_file_set_contents (not_a_dir, "", -1, NULL));
  guint16 http_port = rh_test_free_port ();
  g_autofree char *config = g_strdup_printf (
    "server = { record = { dir = \"%s\"; }; };\n"
    "http = { listen = [ \"127.0.0.1:%u\" ]; };\n"
    "rules = (\n"
    "  { name = \"taken\"; on = [ \"publish_start\" ];\n"
    "    relay = { url = \"rtmp://127.0.0.1:%u/edge/${stream_name}\"; }; },\n"
    "  { name = \"web\"; on = [ \"publish_start\" ];\n"
    "    relay = { url = \"rtmp://127.0.0.1:%u/edge/${stream_name}\"; }; },\n"
    "  { name = \"empty\"; on = [ \"publish_start\" ];\n"
    "    relay = { url = \"rtmp://127.0.0.1:%u/edge/${query|raw}\"; }; },\n"
    "  { name = \"nowhere\"; on = [ \"publish_start\" ]; record = { path = \"x/${stream_name}.flv\"; }; }\n"
    ");\n", not_a_dir, http_port, target->port, web.port, target->port);
  const char *const args[] = { "--hook-stdio-format", "jsonl", NULL };
  RhTestDaemon *origin = rh_test_daemon_start (config, args);
  g_autofree char *url = rh_test_daemon_url (origin, "live/cam");
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 60, "160x120", NULL, NULL);
  g_assert_true (rh_test_daemon_wait_log (origin, "the target refused (NetStream.Publish.BadName); trying again", 10000));
  g_assert_true (rh_test_daemon_wait_log (origin, "the target is not an RTMP server (bad handshake); trying again",
                                          10000));
  g_assert_true (rh_test_daemon_wait_log (origin, "rule \"empty\": not relaying live/cam:", 10000));
  g_assert_true (rh_test_daemon_wait_log (origin, "recording of live/cam failed: cannot create", 10000));
  /* Both keep trying: a second round of each. */
  g_assert_true (rh_test_daemon_wait_log_count (origin, "BadName); trying again in 2.0 s", 1, 10000));
  g_assert_true (rh_test_daemon_wait_log_count (origin, "(bad handshake); trying again in 2.0 s", 1, 10000));
  g_autofree char *metrics = rh_test_http_get (http_port, "/metrics");
  g_assert_nonnull (strstr (metrics, "\nrtmphooks_relays_failed_total 1\n"));
  g_assert_nonnull (strstr (metrics, "\nrtmphooks_recordings_failed_total 1\n"));
  g_assert_nonnull (strstr (metrics, "\nrtmphooks_relays 2\n"));

  g_subprocess_send_signal (publisher, SIGINT);
  rh_test_wait (publisher, 10000);
  g_assert_true (rh_test_daemon_wait_log (origin, "publish_stop live/cam", 10000));
  g_assert_cmpint (rh_test_daemon_stop (origin), ==, 0);
  /* Never published: no relay_start, so no relay_stop; no file, no record_*. */
  g_autoptr (GPtrArray) relay_events = rh_test_daemon_events (origin, "relay_start");
  g_autoptr (GPtrArray) record_events = rh_test_daemon_events (origin, "record_start");
  g_assert_cmpuint (relay_events->len, ==, 0);
  g_assert_cmpuint (record_events->len, ==, 0);
  g_autofree char *never_published = g_strdup_printf ("relay of live/cam to rtmp://127.0.0.1:%u/edge/cam ended before "
                                                      "it ever published (publish_stop)", target->port);
  g_assert_true (rh_test_daemon_log_has (origin, never_published));
  g_assert_false (rh_test_daemon_log_has (origin, "relay_stop live/cam"));
  g_subprocess_force_exit (squatter);
  rh_test_wait (squatter, 10000);
  g_assert_cmpint (rh_test_daemon_stop (target), ==, 0);
  not_rtmp_stop (&web);
  rh_test_daemon_free (origin);
  rh_test_daemon_free (target);
  rh_test_remove_tree (dir);
}

/* A target that takes the TCP connection and never answers the
 * handshake: the kernel completes the connect into a listen backlog that
 * nothing accepts from. The relay gives up after 10 s, closes its socket
 * and tries again, while players of the source stream are undisturbed. */
static void
test_silent_target (void)
{
  g_autoptr (GSocket) silent = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_assert_true (g_socket_bind (silent, any_port, TRUE, NULL));
  g_socket_set_listen_backlog (silent, 8);
  g_assert_true (g_socket_listen (silent, NULL));
  g_autoptr (GSocketAddress) bound = g_socket_get_local_address (silent, NULL);
  guint16 silent_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));

  g_autofree char *relay = g_strdup_printf ("rtmp://127.0.0.1:%u/edge/${stream_name}", silent_port);
  const char *const args[] = { "--relay", relay, NULL };
  RhTestDaemon *origin = rh_test_daemon_start (NULL, args);
  g_autofree char *url = rh_test_daemon_url (origin, "live/cam");
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 60, "160x120", NULL, NULL);
  g_assert_true (rh_test_daemon_wait_log (origin, "publish_start live/cam", 10000));
  gint64 published_at = g_get_monotonic_time ();
  RhTestPlayer *player = rh_test_player_new (origin->port, "live", "cam", 0, NULL);
  g_assert_true (rh_test_player_wait_video (player, 10, 10000));

  g_assert_true (rh_test_daemon_wait_log (origin, "no publish accepted within 10 s; trying again in 1.0 s", 20000));
  gint64 waited = g_get_monotonic_time () - published_at;
  g_test_message ("the relay gave up after %.1f s", (double) waited / G_USEC_PER_SEC);
  g_assert_cmpint (waited, >=, 9 * G_USEC_PER_SEC);
  /* The first attempt's connection got C0+C1 and was then closed. */
  g_autoptr (GSocket) first = g_socket_accept (silent, NULL, NULL);
  g_assert_nonnull (first);
  g_socket_set_timeout (first, 10);
  gsize received = 0;
  char buffer[4096];
  gssize n;
  while ((n = g_socket_receive (first, buffer, sizeof buffer, NULL, NULL)) > 0)
    received += (gsize) n;
  g_assert_cmpint (n, ==, 0);
  g_assert_cmpuint (received, ==, 1 + 1536);
  /* It tries again, and the stream played on throughout. */
  g_assert_true (rh_test_daemon_wait_log (origin, "no publish accepted within 10 s; trying again in 2.0 s", 20000));
  guint frames = rh_test_player_video_messages (player);
  g_assert_cmpint (rh_test_player_largest_gap (player, published_at, G_MAXINT64), <, 1 * G_USEC_PER_SEC);
  g_assert_true (rh_test_player_wait_video (player, frames + 10, 10000));

  g_subprocess_send_signal (publisher, SIGINT);
  rh_test_wait (publisher, 10000);
  g_assert_true (rh_test_daemon_wait_log (origin, "publish_stop live/cam", 10000));
  g_assert_cmpint (rh_test_daemon_stop (origin), ==, 0);
  rh_test_player_free (player);
  rh_test_daemon_free (origin);
}

/* rtmp://host:port/app, with no stream part, pushes each stream under
 * its own name, as nginx-rtmp's push does: server.relay to nginx-rtmp,
 * --relay to a second rtmphooksd, two streams at once. */
static void
test_app_only_url (void)
{
  Nginx nginx = { 0 };
  nginx_start (&nginx);
  RhTestDaemon *target = start_target (rh_test_free_port ());
  g_autofree char *config = g_strdup_printf ("server = { relay = \"rtmp://127.0.0.1:%u/edge\"; };\n", nginx.port);
  g_autofree char *relay = g_strdup_printf ("rtmp://127.0.0.1:%u/edge/", target->port);
  const char *const args[] = { "--hook-stdio-format", "jsonl", "--relay", relay, NULL };
  RhTestDaemon *origin = rh_test_daemon_start (config, args);
  g_autofree char *first_url = rh_test_daemon_url (origin, "live/first");
  g_autofree char *second_url = rh_test_daemon_url (origin, "live/second");
  g_autoptr (GSubprocess) first = rh_test_publish_ffmpeg (first_url, 60, "320x240", NULL, NULL);
  g_autoptr (GSubprocess) second = rh_test_publish_ffmpeg (second_url, 60, "320x240", NULL, NULL);
  g_assert_true (rh_test_daemon_wait_log_count (origin, "relay of live/first publishing to", 2, 10000));
  g_assert_true (rh_test_daemon_wait_log_count (origin, "relay of live/second publishing to", 2, 10000));
  assert_plays (nginx.port, "edge", "first", 320);
  assert_plays (nginx.port, "edge", "second", 320);
  assert_plays (target->port, "edge", "first", 320);
  assert_plays (target->port, "edge", "second", 320);

  g_subprocess_send_signal (first, SIGINT);
  g_subprocess_send_signal (second, SIGINT);
  rh_test_wait (first, 10000);
  rh_test_wait (second, 10000);
  g_assert_true (rh_test_daemon_wait_log_count (origin, "publish_stop live/", 2, 10000));
  g_assert_cmpint (rh_test_daemon_stop (origin), ==, 0);
  g_autoptr (GPtrArray) starts = rh_test_daemon_events (origin, "relay_start");
  g_assert_cmpuint (starts->len, ==, 4);
  g_autofree char *to_nginx = g_strdup_printf ("rtmp://127.0.0.1:%u/edge/second", nginx.port);
  g_autofree char *to_target = g_strdup_printf ("rtmp://127.0.0.1:%u/edge/second", target->port);
  guint seen = 0;
  for (guint i = 0; i < starts->len; i++)
    {
      JsonObject *event = json_node_get_object (g_ptr_array_index (starts, i));
      const char *url = json_object_get_string_member (json_object_get_object_member (event, "data"), "url");
      seen += g_str_equal (url, to_nginx) || g_str_equal (url, to_target);
    }
  g_assert_cmpuint (seen, ==, 2);
  rh_test_daemon_free (origin);
  rh_test_daemon_finish (target);
  nginx_stop (&nginx);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/relay/to-rtmphooksd", test_to_rtmphooksd);
  g_test_add_func ("/relay/to-nginx", test_to_nginx);
  g_test_add_func ("/relay/target-restart", test_target_restart);
  g_test_add_func ("/relay/refusals", test_refusals);
  g_test_add_func ("/relay/app-only-url", test_app_only_url);
  g_test_add_func ("/relay/silent-target", test_silent_target);
  return g_test_run ();
}
