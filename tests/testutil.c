#include "config.h"

#include "testutil.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "protocol/handshake.h"

#include <libsoup/soup.h>

guint16
rh_test_free_port (void)
{
  g_autoptr (GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                             G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_assert_true (g_socket_bind (socket, address, FALSE, NULL));
  g_autoptr (GSocketAddress) bound = g_socket_get_local_address (socket, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* Every scratch directory of this test program lives below one root, so
 * that a failed assertion (SIGABRT) or a crash still removes them all. */
static char *scratch_root;

static int
remove_entry (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  remove (path);
  return 0;
}

static void
remove_scratch_root (void)
{
  if (scratch_root != NULL)
    nftw (scratch_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
on_fatal_signal (int sig)
{
  remove_scratch_root ();
  signal (sig, SIG_DFL);
  raise (sig);
}

static const char *
scratch_root_get (void)
{
  if (scratch_root == NULL)
    {
      g_autoptr (GError) error = NULL;
      scratch_root = g_dir_make_tmp ("rtmphooks-test-XXXXXX", &error);
      g_assert_no_error (error);
      atexit (remove_scratch_root);
      /* g_assert aborts, g_error traps. */
      static const int fatal[] = { SIGABRT, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTERM, SIGINT };
      for (gsize i = 0; i < G_N_ELEMENTS (fatal); i++)
        signal (fatal[i], on_fatal_signal);
    }
  return scratch_root;
}

char *
rh_test_make_dir (void)
{
  char *dir = g_build_filename (scratch_root_get (), "XXXXXX", NULL);
  g_assert_nonnull (g_mkdtemp (dir));
  return dir;
}

const char *
rh_test_env (const char *name)
{
  const char *value = g_getenv (name);
  if (value == NULL)
    g_error ("%s is not set. Run the tests with \"make check\", or by hand from the build "
             "directory with RH_DAEMON=src/rtmphooksd RH_FIXTURES=$srcdir/tests/fixtures "
             "RH_EXAMPLES=$srcdir/data/examples set.", name);
  return value;
}

/* Children die with the test program, even when it aborts on a failed
 * assertion: no daemon or client is left behind under PID 1. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

void
rh_test_remove_tree (const char *path)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileEnumerator) children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                                                    G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                                                    NULL, NULL);
  GFileInfo *info;
  while (children != NULL && (info = g_file_enumerator_next_file (children, NULL, NULL)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, g_file_info_get_name (info), NULL);
      if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
        rh_test_remove_tree (child);
      else
        g_unlink (child);
      g_object_unref (info);
    }
  g_rmdir (path);
}

guint
rh_test_count (const char *haystack, const char *needle)
{
  guint n = 0;
  for (const char *p = haystack; (p = strstr (p, needle)) != NULL; p++)
    n++;
  return n;
}

void
rh_test_sleep (guint ms)
{
  g_usleep ((gulong) ms * 1000);
}

GSocketConnection *
rh_test_connect (guint16 port)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_socket_client_set_timeout (client, 5);
  return g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
}

RhTestDaemon *
rh_test_daemon_spawn (const char *const *argv, char *dir, const char *stdout_path,
                      const char *const *extra_env, guint16 port)
{
  RhTestDaemon *daemon = g_new0 (RhTestDaemon, 1);
  daemon->dir = dir != NULL ? dir : rh_test_make_dir ();
  daemon->port = port;
  daemon->log_path = g_build_filename (daemon->dir, "daemon.log", NULL);
  daemon->stdout_path = stdout_path != NULL ? g_strdup (stdout_path)
                                            : g_build_filename (daemon->dir, "daemon.stdout", NULL);
  daemon->process = rh_test_spawn_full (argv, daemon->stdout_path, daemon->log_path, extra_env);
  /* Not a probe connection: that would be an event for the hooks too. */
  if (rh_test_daemon_wait_log (daemon, " started", 10000))
    return daemon;
  g_autofree char *log = rh_test_daemon_log (daemon);
  g_error ("daemon did not start listening:\n%s", log);
}

RhTestDaemon *
rh_test_daemon_start_full (const char *config_text, const char *const *extra_args,
                           const char *const *extra_env, gboolean use_default_config)
{
  const char *binary = rh_test_env ("RH_DAEMON");
  guint16 port = rh_test_free_port ();
  char *dir = rh_test_make_dir ();
  char *config_path = g_build_filename (dir, "rtmphooks.conf", NULL);
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);

  g_assert_true (g_file_set_contents (config_path, config_text != NULL ? config_text : "", -1, NULL));
  g_ptr_array_add (argv, g_strdup (binary));
  if (!use_default_config)
    {
      /* Never pick up an installed /etc/rtmphooks.conf. */
      g_ptr_array_add (argv, g_strdup ("-c"));
      g_ptr_array_add (argv, g_strdup (config_path));
    }
  g_ptr_array_add (argv, g_strdup ("--listen"));
  g_ptr_array_add (argv, g_strdup_printf ("127.0.0.1:%u", port));
  g_ptr_array_add (argv, g_strdup ("--log-level"));
  g_ptr_array_add (argv, g_strdup ("info"));
  for (gsize i = 0; extra_args != NULL && extra_args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (extra_args[i]));
  g_ptr_array_add (argv, NULL);

  RhTestDaemon *daemon = rh_test_daemon_spawn ((const char *const *) argv->pdata, dir, NULL,
                                               extra_env, port);
  daemon->config_path = config_path;
  return daemon;
}

RhTestDaemon *
rh_test_daemon_start (const char *config_text, const char *const *extra_args)
{
  return rh_test_daemon_start_full (config_text, extra_args, NULL, FALSE);
}

void
rh_test_daemon_reload (RhTestDaemon *daemon, const char *config_text)
{
  g_assert_true (g_file_set_contents (daemon->config_path, config_text, -1, NULL));
  g_subprocess_send_signal (daemon->process, SIGHUP);
}

char *
rh_test_daemon_stdout (RhTestDaemon *daemon)
{
  char *contents = NULL;
  if (!g_file_get_contents (daemon->stdout_path, &contents, NULL, NULL))
    return g_strdup ("");
  return contents;
}

char *
rh_test_daemon_log (RhTestDaemon *daemon)
{
  char *contents = NULL;
  if (!g_file_get_contents (daemon->log_path, &contents, NULL, NULL))
    return g_strdup ("");
  return contents;
}

gboolean
rh_test_daemon_wait_log_count (RhTestDaemon *daemon, const char *needle, guint count,
                               guint timeout_ms)
{
  for (guint waited = 0; waited <= timeout_ms; waited += 50)
    {
      g_autofree char *log = rh_test_daemon_log (daemon);
      if (rh_test_count (log, needle) >= count)
        return TRUE;
      rh_test_sleep (50);
    }
  return FALSE;
}

gboolean
rh_test_wait_file (const char *path, guint timeout_ms)
{
  for (guint waited = 0; waited <= timeout_ms; waited += 20)
    {
      if (g_file_test (path, G_FILE_TEST_EXISTS))
        return TRUE;
      rh_test_sleep (20);
    }
  return FALSE;
}

gboolean
rh_test_daemon_wait_log (RhTestDaemon *daemon, const char *needle, guint timeout_ms)
{
  return rh_test_daemon_wait_log_count (daemon, needle, 1, timeout_ms);
}

char *
rh_test_daemon_url (RhTestDaemon *daemon, const char *key)
{
  return g_strdup_printf ("rtmp://127.0.0.1:%u/%s", daemon->port, key);
}

int
rh_test_daemon_stop (RhTestDaemon *daemon)
{
  g_subprocess_send_signal (daemon->process, SIGTERM);
  int status = rh_test_wait (daemon->process, 10000);
  if (g_test_verbose () || status != 0)
    {
      g_autofree char *log = rh_test_daemon_log (daemon);
      g_test_message ("daemon log:\n%s", log);
    }
  return status;
}

void
rh_test_daemon_free (RhTestDaemon *daemon)
{
  if (daemon == NULL)
    return;
  if (daemon->process != NULL && g_subprocess_get_identifier (daemon->process) != NULL)
    {
      g_subprocess_force_exit (daemon->process);
      rh_test_wait (daemon->process, 5000);
    }
  g_clear_object (&daemon->process);
  rh_test_remove_tree (daemon->dir);
  g_free (daemon->dir);
  g_free (daemon->config_path);
  g_free (daemon->log_path);
  g_free (daemon->stdout_path);
  g_free (daemon);
}

GSubprocess *
rh_test_spawn (const char *const *argv, const char *log_path)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GError) error = NULL;

  if (log_path != NULL)
    {
      launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
      g_subprocess_launcher_set_stdout_file_path (launcher, log_path);
    }
  else
    {
      launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                            | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
    }
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  GSubprocess *process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  return process;
}

GSubprocess *
rh_test_spawn_full (const char *const *argv, const char *stdout_path, const char *stderr_path,
                    const char *const *extra_env)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE);
  g_autoptr (GError) error = NULL;
  g_subprocess_launcher_set_stdout_file_path (launcher, stdout_path);
  g_subprocess_launcher_set_stderr_file_path (launcher, stderr_path);
  for (gsize i = 0; extra_env != NULL && extra_env[i] != NULL; i++)
    {
      const char *equals = strchr (extra_env[i], '=');
      g_autofree char *name = g_strndup (extra_env[i], (gsize) (equals - extra_env[i]));
      g_subprocess_launcher_setenv (launcher, name, equals + 1, TRUE);
    }
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  GSubprocess *process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  return process;
}

char *
rh_test_write_script (const char *dir, const char *name, const char *text)
{
  char *path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  g_assert_cmpint (g_chmod (path, 0755), ==, 0);
  return path;
}

GHashTable *
rh_test_read_env_file (const char *path)
{
  GHashTable *env = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *contents = NULL;
  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return env;
  g_auto (GStrv) lines = g_strsplit (contents, "\n", -1);
  for (char **line = lines; *line != NULL; line++)
    {
      const char *equals = strchr (*line, '=');
      if (equals != NULL)
        g_hash_table_insert (env, g_strndup (*line, (gsize) (equals - *line)), g_strdup (equals + 1));
    }
  return env;
}

static void
on_waited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  gboolean *done = user_data;
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *done = TRUE;
}

static gboolean
on_deadline (gpointer user_data)
{
  gboolean *expired = user_data;
  *expired = TRUE;
  return G_SOURCE_REMOVE;
}

int
rh_test_wait (GSubprocess *process, guint timeout_ms)
{
  gboolean done = FALSE;
  gboolean expired = FALSE;
  g_autoptr (GMainContext) context = g_main_context_new ();

  g_main_context_push_thread_default (context);
  g_subprocess_wait_async (process, NULL, on_waited, &done);
  g_autoptr (GSource) deadline = g_timeout_source_new (timeout_ms);
  g_source_set_callback (deadline, on_deadline, &expired, NULL);
  g_source_attach (deadline, context);
  while (!done && !expired)
    g_main_context_iteration (context, TRUE);
  if (!done)
    {
      g_subprocess_force_exit (process);
      while (!done)
        g_main_context_iteration (context, TRUE);
    }
  g_source_destroy (deadline);
  g_main_context_pop_thread_default (context);
  if (expired && !g_subprocess_get_if_exited (process))
    return -1;
  if (g_subprocess_get_if_exited (process))
    return g_subprocess_get_exit_status (process);
  return 128 + g_subprocess_get_term_sig (process);
}

GSubprocess *
rh_test_publish_ffmpeg (const char *url, guint seconds, const char *size,
                        const char *const *extra_output_args, const char *log_path)
{
  g_autofree char *source = g_strdup_printf ("testsrc=size=%s:rate=30", size);
  g_autofree char *duration = g_strdup_printf ("%u", seconds);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  const char *const head[] = {
    "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-re",
    "-f", "lavfi", "-i", source, "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=44100",
    "-t", duration, "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency",
    "-g", "30", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", NULL
  };
  for (gsize i = 0; head[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) head[i]);
  for (gsize i = 0; extra_output_args != NULL && extra_output_args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) extra_output_args[i]);
  g_ptr_array_add (argv, (gpointer) "-f");
  g_ptr_array_add (argv, (gpointer) "flv");
  g_ptr_array_add (argv, (gpointer) url);
  g_ptr_array_add (argv, NULL);
  return rh_test_spawn ((const char *const *) argv->pdata, log_path);
}

static char *
run_capture (const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                                       | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
  char *out = NULL;
  g_assert_no_error (error);
  if (!g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error))
    return NULL;
  return out;
}

gboolean
rh_test_probe (const char *path, RhTestProbe *probe)
{
  memset (probe, 0, sizeof *probe);
  const char *const streams_argv[] = {
    "ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json", path, NULL
  };
  g_autofree char *streams_json = run_capture (streams_argv);
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (streams_json == NULL || !json_parser_load_from_data (parser, streams_json, -1, NULL))
    return FALSE;
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  if (!json_object_has_member (root, "streams"))
    return FALSE;
  JsonArray *streams = json_object_get_array_member (root, "streams");
  for (guint i = 0; i < json_array_get_length (streams); i++)
    {
      JsonObject *s = json_array_get_object_element (streams, i);
      const char *type = json_object_get_string_member_with_default (s, "codec_type", "");
      const char *codec = json_object_get_string_member_with_default (s, "codec_name", "");
      guint frames = (guint) g_ascii_strtoull (json_object_get_string_member_with_default (s, "nb_read_frames", "0"),
                                               NULL, 10);
      if (strcmp (type, "video") == 0)
        {
          probe->video_codec = g_strdup (codec);
          probe->video_profile = g_strdup (json_object_get_string_member_with_default (s, "profile", ""));
          probe->video_frames = frames;
          probe->width = (guint) json_object_get_int_member_with_default (s, "width", 0);
          probe->height = (guint) json_object_get_int_member_with_default (s, "height", 0);
        }
      else if (strcmp (type, "audio") == 0)
        {
          probe->audio_codec = g_strdup (codec);
          probe->audio_frames = frames;
        }
    }

  const char *const packets_argv[] = {
    "ffprobe", "-v", "error", "-select_streams", "v:0", "-read_intervals", "%+#1",
    "-show_entries", "packet=pts_time,flags", "-of", "json", path, NULL
  };
  g_autofree char *packets_json = run_capture (packets_argv);
  g_autoptr (JsonParser) packets_parser = json_parser_new ();
  if (packets_json != NULL && json_parser_load_from_data (packets_parser, packets_json, -1, NULL))
    {
      JsonObject *proot = json_node_get_object (json_parser_get_root (packets_parser));
      JsonArray *packets = json_object_has_member (proot, "packets")
                           ? json_object_get_array_member (proot, "packets") : NULL;
      if (packets != NULL && json_array_get_length (packets) > 0)
        {
          JsonObject *first = json_array_get_object_element (packets, 0);
          const char *flags = json_object_get_string_member_with_default (first, "flags", "");
          probe->first_video_is_key = flags[0] == 'K';
          probe->first_video_pts = g_ascii_strtod (json_object_get_string_member_with_default (first, "pts_time", "0"),
                                                   NULL);
        }
    }
  return TRUE;
}

void
rh_test_probe_clear (RhTestProbe *probe)
{
  g_clear_pointer (&probe->video_codec, g_free);
  g_clear_pointer (&probe->audio_codec, g_free);
  g_clear_pointer (&probe->video_profile, g_free);
}

gboolean
rh_test_write (GSocketConnection *connection, const void *data, gsize len)
{
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  return g_output_stream_write_all (out, data, len, NULL, NULL, NULL);
}

gboolean
rh_test_wait_closed (GSocketConnection *connection, guint timeout_ms)
{
  GSocket *socket = g_socket_connection_get_socket (connection);
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  guint8 buffer[4096];

  g_socket_set_timeout (socket, 1);
  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr (GError) error = NULL;
      gssize n = g_socket_receive (socket, (char *) buffer, sizeof buffer, NULL, &error);
      if (n == 0)
        return TRUE;
      if (n < 0 && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        return TRUE;  /* reset by peer counts as closed */
    }
  return FALSE;
}

gboolean
rh_test_client_handshake (GSocketConnection *connection)
{
  guint8 c0c1[1 + RH_HANDSHAKE_SIZE] = { 3 };
  guint8 s0s1s2[1 + 2 * RH_HANDSHAKE_SIZE];
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  gsize got = 0;

  for (gsize i = 9; i < sizeof c0c1; i++)
    c0c1[i] = (guint8) g_random_int ();
  if (!rh_test_write (connection, c0c1, sizeof c0c1))
    return FALSE;
  if (!g_input_stream_read_all (in, s0s1s2, sizeof s0s1s2, &got, NULL, NULL) || got != sizeof s0s1s2)
    return FALSE;
  return rh_test_write (connection, s0s1s2 + 1, RH_HANDSHAKE_SIZE);
}

/* ---- HTTP server for webhook tests ---- */

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
  request->body = g_strndup (g_bytes_get_data (flat, NULL), g_bytes_get_size (flat));
  request->headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  soup_message_headers_iter_init (&iter, soup_server_message_get_request_headers (message));
  while (soup_message_headers_iter_next (&iter, &name, &value))
    g_hash_table_insert (request->headers, g_ascii_strdown (name, -1), g_strdup (value));

  g_mutex_lock (&http->lock);
  g_ptr_array_add (http->requests, request);
  if (strcmp (path, "/ok") == 0)
    status = 200;
  else if (strcmp (path, "/bad") == 0)
    status = 400;
  else if (strcmp (path, "/flaky") == 0)
    status = http->flaky_seen++ == 0 ? 500 : 200;
  else
    status = 404;
  g_mutex_unlock (&http->lock);
  soup_server_message_set_status (message, status, NULL);
  soup_server_message_set_response (message, "text/plain", SOUP_MEMORY_STATIC, "done", 4);
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

gboolean
rh_test_http_wait (RhTestHttp *http, const char *path, guint count, guint timeout_ms)
{
  for (guint waited = 0; waited <= timeout_ms; waited += 50)
    {
      g_autoptr (GPtrArray) requests = rh_test_http_requests (http, path);
      if (requests->len >= count)
        return TRUE;
      rh_test_sleep (50);
    }
  return FALSE;
}
