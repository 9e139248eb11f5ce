/* Recording end to end: ffmpeg publishes, the daemon writes FLV files,
 * ffprobe reads them (while they grow, and when they are closed). */
#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "test-player.h"
#include "testutil.h"

/* The data of the one event of type the daemon printed (jsonl). */
static guint64
file_size (const char *path)
{
  GStatBuf st;
  return g_stat (path, &st) == 0 ? (guint64) st.st_size : 0;
}

static gboolean
has_record_start (gpointer data)
{
  g_autoptr (GPtrArray) events = rh_test_daemon_events (data, "record_start");
  return events->len > 0;
}

/* Every stream recorded (server.record.all): the file is read while it
 * grows, and once closed it holds every frame from the first keyframe
 * on, with the duration in its onMetaData. */
static void
test_record_all (void)
{
  g_autofree char *recordings = rh_test_make_dir ();
  guint16 http_port = rh_test_free_port ();
  g_autofree char *config = g_strdup_printf ("server = { record = { all = true; dir = \"%s\"; "
                                             "path = \"${app}/${stream_name}.flv\"; }; };\n"
                                             "http = { listen = [ \"127.0.0.1:%u\" ]; };\n", recordings, http_port);
  const char *const args[] = { "--hook-stdio-format", "jsonl", NULL };
  RhTestDaemon *daemon = rh_test_daemon_start (config, args);
  g_autofree char *url = rh_test_daemon_url (daemon, "live/cam");
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 5, "320x240", NULL, NULL);

  g_autofree char *file = g_build_filename (recordings, "live", "cam.flv", NULL);
  g_assert_true (rh_test_daemon_wait_log (daemon, "recording live/cam to", 10000));
  /* Playable while it grows: a second and more of it. */
  g_assert_true (rh_test_wait_file_size (file, 60000, 10000));
  RhTestProbe growing;
  g_assert_true (rh_test_probe (file, &growing));
  g_assert_cmpstr (growing.video_codec, ==, "h264");
  g_assert_cmpuint (growing.video_frames, >, 15);
  g_assert_true (growing.first_video_is_key);
  rh_test_probe_clear (&growing);
  /* The HTTP API shows it with the stream, and counts it. */
  g_autofree char *streams = rh_test_http_get (http_port, "/api/v1/streams");
  g_autoptr (JsonNode) root = json_from_string (streams, NULL);
  JsonObject *stream = json_array_get_object_element (
    json_object_get_array_member (json_node_get_object (root), "streams"), 0);
  JsonArray *listed = json_object_get_array_member (stream, "recordings");
  g_assert_cmpuint (json_array_get_length (listed), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (listed, 0), "path"), ==, file);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (listed, 0), "state"), ==,
                   "recording");
  /* Bytes are counted as they are written, not at the end. */
  gint64 listed_bytes = json_object_get_int_member (json_array_get_object_element (listed, 0), "bytes");
  g_assert_cmpint (listed_bytes, >=, 60000);
  g_autofree char *metrics = rh_test_http_get (http_port, "/metrics");
  const char *counted = strstr (metrics, "\nrtmphooks_recording_bytes_total ");
  g_assert_nonnull (counted);
  g_assert_cmpint (g_ascii_strtoll (counted + strlen ("\nrtmphooks_recording_bytes_total "), NULL, 10), >=, 60000);
  g_assert_nonnull (strstr (metrics, "\nrtmphooks_recordings 1\n"));
  g_assert_nonnull (strstr (metrics, "\nrtmphooks_recordings_started_total 1\n"));

  g_assert_cmpint (rh_test_wait (publisher, 30000), ==, 0);
  g_assert_true (rh_test_daemon_wait_log (daemon, "record_stop live/cam", 10000));
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);

  g_autoptr (GPtrArray) starts = NULL, stops = NULL, publish_stops = NULL;
  JsonObject *start = rh_test_daemon_only_event (daemon, "record_start", &starts);
  JsonObject *stop = rh_test_daemon_only_event (daemon, "record_stop", &stops);
  JsonObject *publish_stop = rh_test_daemon_only_event (daemon, "publish_stop", &publish_stops);
  g_assert_cmpstr (json_object_get_string_member (start, "path"), ==, file);
  g_assert_cmpstr (json_object_get_string_member (start, "stream_name"), ==, "cam");
  g_assert_cmpstr (json_object_get_string_member (stop, "path"), ==, file);
  g_assert_cmpstr (json_object_get_string_member (stop, "reason"), ==, "publish_stop");
  g_assert_cmpint (json_object_get_int_member (stop, "bytes"), ==, (gint64) file_size (file));
  g_assert_cmpint (json_object_get_int_member (stop, "duration_seconds"), >=, 4);

  RhTestProbe probe;
  g_assert_true (rh_test_probe (file, &probe));
  g_test_message ("recorded: %u video, %u audio frames, %.3f s; published %" G_GINT64_FORMAT " video messages",
                  probe.video_frames, probe.audio_frames, probe.duration,
                  json_object_get_int_member (publish_stop, "video_packets"));
  g_assert_cmpstr (probe.video_codec, ==, "h264");
  g_assert_cmpstr (probe.audio_codec, ==, "aac");
  g_assert_cmpuint (probe.width, ==, 320);
  g_assert_true (probe.first_video_is_key);
  g_assert_cmpfloat (probe.first_video_pts, ==, 0);
  /* Every video message but the sequence header and ffmpeg's closing
   * end-of-sequence is a frame in the file: the recording began before
   * the first one. */
  g_assert_cmpint (probe.video_frames, ==, json_object_get_int_member (publish_stop, "video_packets") - 2);
  g_assert_cmpfloat_with_epsilon (probe.duration, probe.video_frames / 30.0, 0.5);
  rh_test_probe_clear (&probe);
  rh_test_daemon_free (daemon);
  rh_test_remove_tree (recordings);
}

/* Two recordings of one key with a path that does not change: the
 * second gets "-1" rather than overwriting the first. */
static void
test_no_overwrite (void)
{
  g_autofree char *recordings = rh_test_make_dir ();
  g_autofree char *config = g_strdup_printf (
    "server = { record = { dir = \"%s\"; }; };\n"
    "rules = ( { name = \"keep\"; on = [ \"publish_start\" ]; record = { path = \"${app}/${stream_name}.flv\"; }; } );\n",
    recordings);
  const char *const args[] = { "--hook-stdio-format", "jsonl", NULL };
  RhTestDaemon *daemon = rh_test_daemon_start (config, args);
  g_autofree char *url = rh_test_daemon_url (daemon, "live/twice");
  for (guint i = 1; i <= 2; i++)
    {
      g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 2, "160x120", NULL, NULL);
      g_assert_cmpint (rh_test_wait (publisher, 30000), ==, 0);
      g_assert_true (rh_test_daemon_wait_log_count (daemon, "record_stop live/twice", i, 10000));
    }
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);
  g_autoptr (GPtrArray) starts = rh_test_daemon_events (daemon, "record_start");
  g_assert_cmpuint (starts->len, ==, 2);
  const char *const expected[] = { "live/twice.flv", "live/twice-1.flv" };
  for (guint i = 0; i < 2; i++)
    {
      JsonObject *data = json_object_get_object_member (json_node_get_object (g_ptr_array_index (starts, i)), "data");
      g_autofree char *file = g_build_filename (recordings, expected[i], NULL);
      g_assert_cmpstr (json_object_get_string_member (data, "path"), ==, file);
      RhTestProbe probe;
      g_assert_true (rh_test_probe (file, &probe));
      g_assert_cmpuint (probe.video_frames, >=, 50);
      g_assert_true (probe.first_video_is_key);
      rh_test_probe_clear (&probe);
    }
  rh_test_daemon_free (daemon);
  rh_test_remove_tree (recordings);
}

/* A client's query in a path: percent-encoded, it stays one file name
 * inside the directory; taken raw (|raw) it would leave it, so that
 * recording is refused, logged, and the stream goes on. */
static void
test_hostile_name (void)
{
  g_autofree char *root = rh_test_make_dir ();
  g_autofree char *recordings = g_build_filename (root, "rec", NULL);
  g_autofree char *config = g_strdup_printf (
    "server = { record = { dir = \"%s\"; }; };\n"
    "rules = (\n"
    "  { name = \"encoded\"; on = [ \"publish_start\" ]; record = { path = \"${app}/${query}.flv\"; }; },\n"
    "  { name = \"raw\"; on = [ \"publish_start\" ]; record = { path = \"${app}/${query|raw}.flv\"; }; }\n"
    ");\n", recordings);
  const char *const args[] = { "--hook-stdio-format", "jsonl", NULL };
  RhTestDaemon *daemon = rh_test_daemon_start (config, args);
  g_autofree char *url = rh_test_daemon_url (daemon, "live/cam");
  /* ffmpeg would take the slashes of a query in the URL for the path. */
  const char *const playpath[] = { "-rtmp_app", "live", "-rtmp_playpath", "cam?x=/../../escaped", NULL };
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 2, "160x120", playpath, NULL);
  g_assert_cmpint (rh_test_wait (publisher, 30000), ==, 0);
  g_assert_true (rh_test_daemon_wait_log (daemon, "record_stop live/cam", 10000));
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);

  g_autofree char *log = rh_test_daemon_log (daemon);
  g_assert_nonnull (strstr (log, "rule \"raw\": not recording live/cam: the path \"live/x=/../../escaped.flv\" would "
                                 "leave the recording directory"));
  g_autoptr (GPtrArray) starts = NULL;
  JsonObject *start = rh_test_daemon_only_event (daemon, "record_start", &starts);
  g_autofree char *file = g_build_filename (recordings, "live", "x%3D%2F..%2F..%2Fescaped.flv", NULL);
  g_assert_cmpstr (json_object_get_string_member (start, "path"), ==, file);
  g_assert_cmpuint (file_size (file), >, 10000);
  /* Nothing was written outside the directory. */
  g_autofree char *outside = g_build_filename (root, "escaped.flv", NULL);
  g_autofree char *parent = g_path_get_dirname (root);
  g_autofree char *further = g_build_filename (parent, "escaped.flv", NULL);
  g_assert_false (g_file_test (outside, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (further, G_FILE_TEST_EXISTS));
  rh_test_daemon_free (daemon);
  rh_test_remove_tree (root);
}

/* A full disk (a 256 KiB tmpfs) ends the recording with reason error;
 * the stream goes on, and a player gets every frame. */
static void
test_full_disk (void)
{
  if (geteuid () != 0)
    {
      g_test_skip ("mounting a tmpfs needs root (CI runs as root)");
      return;
    }
  g_autofree char *recordings = rh_test_make_dir ();
  g_assert_cmpint (mount ("tmpfs", recordings, "tmpfs", 0, "size=256k"), ==, 0);
  g_autofree char *config = g_strdup_printf ("server = { record = { all = true; dir = \"%s\"; }; };\n", recordings);
  const char *const args[] = { "--hook-stdio-format", "jsonl", NULL };
  RhTestDaemon *daemon = rh_test_daemon_start (config, args);
  RhTestPlayer *player = rh_test_player_new (daemon->port, "live", "full", 0, NULL);
  g_assert_true (rh_test_daemon_wait_log (daemon, "play_start live/full", 10000));
  g_autofree char *url = rh_test_daemon_url (daemon, "live/full");
  const char *const bitrate[] = { "-b:v", "2M", NULL };
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 4, "640x360", bitrate, NULL);
  g_assert_true (rh_test_daemon_wait_log (daemon, "record_stop live/full", 20000));
  g_assert_cmpint (rh_test_wait (publisher, 30000), ==, 0);
  g_assert_true (rh_test_player_wait_ended (player, 10000));
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);
  umount (recordings);

  g_autofree char *log = rh_test_daemon_log (daemon);
  g_assert_nonnull (strstr (log, "No space left on device; the stream goes on"));
  g_autoptr (GPtrArray) stops = NULL, publish_stops = NULL;
  JsonObject *stop = rh_test_daemon_only_event (daemon, "record_stop", &stops);
  JsonObject *publish_stop = rh_test_daemon_only_event (daemon, "publish_stop", &publish_stops);
  g_assert_cmpstr (json_object_get_string_member (stop, "reason"), ==, "error");
  g_assert_cmpint (json_object_get_int_member (stop, "bytes"), <=, 256 * 1024);
  g_assert_cmpstr (json_object_get_string_member (publish_stop, "reason"), ==, "unpublish");
  g_assert_cmpuint (rh_test_player_video_messages (player), ==,
                    json_object_get_int_member (publish_stop, "video_packets"));
  rh_test_player_free (player);
  rh_test_daemon_free (daemon);
  rh_test_remove_tree (recordings);
}

/* --record-all and --record-dir, and shutdown with a recording running:
 * the file is closed whole, record_stop says server_shutdown. */
static void
test_flags_and_shutdown (void)
{
  g_autofree char *recordings = rh_test_make_dir ();
  const char *const args[] = { "--hook-stdio-format", "jsonl", "--record-all", "--record-dir", recordings, NULL };
  RhTestDaemon *daemon = rh_test_daemon_start (NULL, args);
  g_autofree char *url = rh_test_daemon_url (daemon, "live/long");
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 30, "160x120", NULL, NULL);
  g_assert_true (rh_test_daemon_wait_log (daemon, "recording live/long to", 10000));
  g_assert_true (rh_test_poll_until (has_record_start, daemon, 10000));
  g_autoptr (GPtrArray) starts = NULL;
  JsonObject *start = rh_test_daemon_only_event (daemon, "record_start", &starts);
  /* The default template: app/name-timestamp.flv, under the directory. */
  const char *path = json_object_get_string_member (start, "path");
  g_autofree char *prefix = g_build_filename (recordings, "live", "long-", NULL);
  g_assert_true (g_str_has_prefix (path, prefix) && g_str_has_suffix (path, ".flv"));
  g_autofree char *file = g_strdup (path);
  g_assert_true (rh_test_wait_file_size (file, 20000, 10000));
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);
  g_subprocess_force_exit (publisher);
  rh_test_wait (publisher, 10000);

  g_autoptr (GPtrArray) stops = NULL;
  JsonObject *stop = rh_test_daemon_only_event (daemon, "record_stop", &stops);
  g_assert_cmpstr (json_object_get_string_member (stop, "reason"), ==, "server_shutdown");
  g_assert_cmpint (json_object_get_int_member (stop, "bytes"), ==, (gint64) file_size (file));
  RhTestProbe probe;
  g_assert_true (rh_test_probe (file, &probe));
  g_assert_true (probe.first_video_is_key);
  g_assert_cmpuint (probe.video_frames, >, 0);
  rh_test_probe_clear (&probe);
  rh_test_daemon_free (daemon);
  rh_test_remove_tree (recordings);
}

/* A record_stop hook runs in its own working directory (/ here, as
 * under systemd): the event's path is absolute, and the hook reads the
 * whole file through it. */
static void
test_hook_reads_path_from_root (void)
{
  g_autofree char *recordings = rh_test_make_dir ();
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *body = g_strdup_printf ("#!/bin/sh\ncd / || exit 1\ncat \"$1\" > %1$s/copy.tmp && "
                                           "mv %1$s/copy.tmp %1$s/copy.flv\n", dir);
  g_autofree char *script = rh_test_write_script (dir, "upload.sh", body);
  g_autofree char *config = g_strdup_printf (
    "server = { record = { all = true; dir = \"%s\"; path = \"${app}/${stream_name}.flv\"; }; };\n"
    "rules = ( { name = \"upload\"; on = [ \"record_stop\" ]; exec = { command = [ \"%s\", \"${path}\" ]; }; } );\n",
    recordings, script);
  const char *const args[] = { "--hook-stdio-format", "jsonl", NULL };
  RhTestDaemon *daemon = rh_test_daemon_start (config, args);
  g_autofree char *url = rh_test_daemon_url (daemon, "live/upload");
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 3, "320x240", NULL, NULL);
  g_assert_cmpint (rh_test_wait (publisher, 30000), ==, 0);
  g_autofree char *copy = g_build_filename (dir, "copy.flv", NULL);
  g_assert_true (rh_test_wait_file (copy, 10000));
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);
  g_autoptr (GPtrArray) stops = NULL;
  JsonObject *stop = rh_test_daemon_only_event (daemon, "record_stop", &stops);
  g_assert_true (g_path_is_absolute (json_object_get_string_member (stop, "path")));
  g_assert_cmpint (json_object_get_int_member (stop, "bytes"), ==, (gint64) file_size (copy));
  RhTestProbe probe;
  g_assert_true (rh_test_probe (copy, &probe));
  g_assert_cmpstr (probe.video_codec, ==, "h264");
  g_assert_cmpuint (probe.video_frames, >=, 60);
  rh_test_probe_clear (&probe);
  rh_test_daemon_free (daemon);
  rh_test_remove_tree (dir);
  rh_test_remove_tree (recordings);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/record/all", test_record_all);
  g_test_add_func ("/record/no-overwrite", test_no_overwrite);
  g_test_add_func ("/record/hostile-name", test_hostile_name);
  g_test_add_func ("/record/full-disk", test_full_disk);
  g_test_add_func ("/record/flags-and-shutdown", test_flags_and_shutdown);
  g_test_add_func ("/record/hook-reads-path-from-root", test_hook_reads_path_from_root);
  return g_test_run ();
}
