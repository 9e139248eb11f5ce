/* Managed processes (exec with lifetime = "stream") end to end: the real
 * daemon, ffmpeg publishing, real scripts that fork. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static JsonObject *
data_of (GPtrArray *events, guint i)
{
  return json_object_get_object_member (json_node_get_object (g_ptr_array_index (events, i)), "data");
}

/* A long-running script and the child it forked are both gone at
 * publish_stop; the exit is reported. */
static void
test_stops_with_stream (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *body = g_strdup_printf ("#!/bin/sh\n"
                                           "sleep 300 &\n"
                                           "echo $! > %1$s/child.pid\n"
                                           "echo $$ > %1$s/main.tmp && mv %1$s/main.tmp %1$s/main.pid\n"
                                           "echo \"transcoding $RTMP_STREAM_KEY\"\n"
                                           "wait\n", dir);
  g_autofree char *script = rh_test_write_script (dir, "transcode.sh", body);
  g_autofree char *config = g_strdup_printf (
    "hooks = { stdio = \"jsonl\"; };\n"
    "rules = ( { name = \"transcode\"; on = [ \"publish_start\" ];\n"
    "            exec = { command = [ \"%s\" ]; lifetime = \"stream\"; }; } );\n", script);
  RhTestDaemon *daemon = rh_test_daemon_start (config, NULL);
  g_autofree char *url = rh_test_daemon_url (daemon, "live/tv");
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 2, "160x90", NULL, NULL);
  g_autofree char *main_pid = g_build_filename (dir, "main.pid", NULL);
  g_autofree char *child_pid = g_build_filename (dir, "child.pid", NULL);
  g_assert_true (rh_test_wait_file (main_pid, 15000));
  g_assert_true (rh_test_pid_file_alive (main_pid));
  g_assert_true (rh_test_pid_file_alive (child_pid));
  g_assert_true (rh_test_daemon_wait_log (daemon, "hook \"transcode\" stdout: transcoding live/tv", 5000));
  g_assert_cmpint (rh_test_wait (publisher, 20000), ==, 0);
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish_stop live/tv", 10000));
  g_assert_true (rh_test_wait_pid_file_gone (main_pid, 10000));
  g_assert_true (rh_test_wait_pid_file_gone (child_pid, 10000));
  g_assert_true (rh_test_daemon_wait_log (daemon, "process \"transcode\"", 5000));
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);

  g_autoptr (GPtrArray) exits = rh_test_daemon_events (daemon, "process_exit");
  g_assert_cmpuint (exits->len, ==, 1);
  JsonObject *data = data_of (exits, 0);
  g_autofree char *pid_text = NULL;
  g_assert_true (g_file_get_contents (main_pid, &pid_text, NULL, NULL));
  g_assert_cmpint (json_object_get_int_member (data, "pid"), ==, atoi (pid_text));
  g_assert_cmpstr (json_object_get_string_member (data, "rule"), ==, "transcode");
  g_assert_cmpstr (json_object_get_string_member (data, "stream_name"), ==, "tv");
  g_assert_cmpint (json_object_get_int_member (data, "signal"), ==, 15);
  g_assert_cmpint (json_object_get_int_member (data, "exit_status"), ==, 128 + 15);
  g_assert_cmpint (json_object_get_int_member (data, "restarts"), ==, 0);
  rh_test_daemon_free (daemon);
  rh_test_remove_tree (dir);
}

/* One that exits early is restarted, each time after a longer delay. */
static void
test_restart_backoff (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *body = g_strdup_printf ("#!/bin/sh\n"
                                           "date +%%s.%%N >> %s/starts\n"
                                           "exit 3\n", dir);
  g_autofree char *script = rh_test_write_script (dir, "crash.sh", body);
  g_autofree char *config = g_strdup_printf (
    "hooks = { stdio = \"jsonl\"; };\n"
    "rules = ( { name = \"crash\"; on = [ \"publish_start\" ];\n"
    "            exec = { command = [ \"%s\" ]; lifetime = \"stream\"; restart_delay = 0.2; }; } );\n", script);
  RhTestDaemon *daemon = rh_test_daemon_start (config, NULL);
  g_autofree char *url = rh_test_daemon_url (daemon, "live/crash");
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 6, "160x90", NULL, NULL);
  /* Starts at 0, 0.2, 0.6, 1.4 s: four in under 6 s. */
  g_assert_true (rh_test_daemon_wait_log_count (daemon, "process \"crash\" restarts in", 4, 15000));
  g_autofree char *starts_path = g_build_filename (dir, "starts", NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (starts_path, &text, NULL, NULL));
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), >=, 5);
  double gap1 = g_ascii_strtod (lines[1], NULL) - g_ascii_strtod (lines[0], NULL);
  double gap2 = g_ascii_strtod (lines[2], NULL) - g_ascii_strtod (lines[1], NULL);
  double gap3 = g_ascii_strtod (lines[3], NULL) - g_ascii_strtod (lines[2], NULL);
  g_test_message ("restart gaps: %.3f %.3f %.3f", gap1, gap2, gap3);
  g_assert_cmpfloat (gap1, >=, 0.2);
  g_assert_cmpfloat (gap2, >=, 0.4);
  g_assert_cmpfloat (gap3, >=, 0.8);
  g_assert_cmpfloat (gap2, >, gap1);
  g_assert_cmpfloat (gap3, >, gap2);
  g_assert_cmpint (rh_test_wait (publisher, 20000), ==, 0);
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);

  g_autoptr (GPtrArray) exits = rh_test_daemon_events (daemon, "process_exit");
  g_assert_cmpuint (exits->len, >=, 4);
  for (guint i = 0; i < 4; i++)
    {
      g_assert_cmpint (json_object_get_int_member (data_of (exits, i), "exit_status"), ==, 3);
      g_assert_cmpint (json_object_get_int_member (data_of (exits, i), "restarts"), ==, i);
      g_assert_false (json_object_has_member (data_of (exits, i), "signal"));
    }
  rh_test_daemon_free (daemon);
  rh_test_remove_tree (dir);
}

/* max_processes: the second stream's process is refused and counted; the
 * first one is killed at shutdown. */
static void
test_cap_and_shutdown (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *body = g_strdup_printf ("#!/bin/sh\n"
                                           "echo $$ > %1$s/$RTMP_STREAM_NAME.tmp\n"
                                           "mv %1$s/$RTMP_STREAM_NAME.tmp %1$s/$RTMP_STREAM_NAME.pid\n"
                                           "trap '' TERM\n"
                                           "sleep 300\n", dir);
  g_autofree char *script = rh_test_write_script (dir, "stubborn.sh", body);
  guint16 http_port = rh_test_free_port ();
  g_autofree char *config = g_strdup_printf (
    "hooks = { max_processes = 1; };\n"
    "http = { listen = \"127.0.0.1:%u\"; };\n"
    "rules = ( { name = \"stubborn\"; on = [ \"publish_start\" ];\n"
    "            exec = { command = [ \"%s\" ]; lifetime = \"stream\"; }; } );\n", http_port, script);
  RhTestDaemon *daemon = rh_test_daemon_start (config, NULL);
  g_autofree char *first = rh_test_daemon_url (daemon, "live/first");
  g_autofree char *second = rh_test_daemon_url (daemon, "live/second");
  g_autoptr (GSubprocess) one = rh_test_publish_ffmpeg (first, 30, "160x90", NULL, NULL);
  g_autofree char *first_pid = g_build_filename (dir, "first.pid", NULL);
  g_assert_true (rh_test_wait_file (first_pid, 15000));
  g_autoptr (GSubprocess) two = rh_test_publish_ffmpeg (second, 30, "160x90", NULL, NULL);
  g_assert_true (rh_test_daemon_wait_log (daemon, "max_processes (1) reached", 15000));
  g_autofree char *second_pid = g_build_filename (dir, "second.pid", NULL);
  g_assert_false (g_file_test (second_pid, G_FILE_TEST_EXISTS));

  g_autoptr (GSocketConnection) api = rh_test_connect (http_port);
  const char request[] = "GET /metrics HTTP/1.0\r\n\r\n";
  g_assert_true (rh_test_write (api, request, strlen (request)));
  g_autoptr (GDataInputStream) in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (api)));
  g_autofree char *metrics = g_data_input_stream_read_upto (in, "", 0, NULL, NULL, NULL);
  g_assert_nonnull (metrics);
  g_assert_nonnull (strstr (metrics, "\nrtmphooks_processes 1\n"));
  g_assert_nonnull (strstr (metrics, "\nrtmphooks_process_refused_total 1\n"));

  /* It ignores SIGTERM: the daemon's shutdown still leaves it dead. */
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);
  g_assert_true (rh_test_wait_pid_file_gone (first_pid, 5000));
  g_subprocess_force_exit (one);
  g_subprocess_force_exit (two);
  rh_test_wait (one, 5000);
  rh_test_wait (two, 5000);
  rh_test_daemon_free (daemon);
  rh_test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/processes-e2e/stops-with-stream", test_stops_with_stream);
  g_test_add_func ("/processes-e2e/restart-backoff", test_restart_backoff);
  g_test_add_func ("/processes-e2e/cap-and-shutdown", test_cap_and_shutdown);
  return g_test_run ();
}
