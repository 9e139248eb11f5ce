#include "config.h"

#include "testutil.h"

#include <json-glib/json-glib.h>

#include <glib/gstdio.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

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

static RhTestDaemon *
start_on_port (const char *config_text, guint16 port, gboolean listen_flag, const char *const *extra_args,
               const char *const *extra_env, gboolean use_default_config)
{
  const char *binary = rh_test_env ("RH_DAEMON");
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
  if (listen_flag)
    {
      g_ptr_array_add (argv, g_strdup ("--listen"));
      g_ptr_array_add (argv, g_strdup_printf ("127.0.0.1:%u", port));
    }
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
rh_test_daemon_start_full (const char *config_text, const char *const *extra_args,
                           const char *const *extra_env, gboolean use_default_config)
{
  return start_on_port (config_text, rh_test_free_port (), TRUE, extra_args, extra_env, use_default_config);
}

RhTestDaemon *
rh_test_daemon_start_port (const char *config_text, guint16 port, const char *const *extra_args)
{
  return start_on_port (config_text, port, FALSE, extra_args, NULL, FALSE);
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

GPtrArray *
rh_test_daemon_events (RhTestDaemon *daemon, const char *type)
{
  return rh_test_daemon_events_after (daemon, "", type);
}

GPtrArray *
rh_test_daemon_events_after (RhTestDaemon *daemon, const char *prefix, const char *type)
{
  GPtrArray *events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autofree char *out = rh_test_daemon_stdout (daemon);
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  for (char **line = lines; *line != NULL; line++)
    {
      if (**line == '\0')
        continue;
      g_assert_true (g_str_has_prefix (*line, prefix));
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) node = json_from_string (*line + strlen (prefix), &error);
      g_assert_no_error (error);
      if (type == NULL || g_strcmp0 (json_object_get_string_member (json_node_get_object (node), "type"), type) == 0)
        g_ptr_array_add (events, g_steal_pointer (&node));
    }
  return events;
}

JsonObject *
rh_test_daemon_only_event (RhTestDaemon *daemon, const char *type, GPtrArray **keep)
{
  *keep = rh_test_daemon_events (daemon, type);
  g_assert_cmpuint ((*keep)->len, ==, 1);
  return json_object_get_object_member (json_node_get_object (g_ptr_array_index (*keep, 0)), "data");
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
rh_test_poll_until (gboolean (*done) (gpointer data), gpointer data, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  while (!done (data))
    {
      if (g_get_monotonic_time () >= deadline)
        return done (data);
      g_usleep (10 * 1000);
    }
  return TRUE;
}

typedef struct {
  const char *path;
  const char *needle;
  guint count;
  guint64 size;
} FileWait;

static gboolean
file_has_count (gpointer data)
{
  FileWait *wait = data;
  g_autofree char *text = NULL;
  return g_file_get_contents (wait->path, &text, NULL, NULL) && rh_test_count (text, wait->needle) >= wait->count;
}

gboolean
rh_test_wait_file_count (const char *path, const char *needle, guint count, guint timeout_ms)
{
  FileWait wait = { .path = path, .needle = needle, .count = count };
  return rh_test_poll_until (file_has_count, &wait, timeout_ms);
}

static gboolean
file_has_size (gpointer data)
{
  FileWait *wait = data;
  GStatBuf st;
  return g_stat (wait->path, &st) == 0 && (guint64) st.st_size >= wait->size;
}

gboolean
rh_test_wait_file_size (const char *path, guint64 size, guint timeout_ms)
{
  FileWait wait = { .path = path, .size = size };
  return rh_test_poll_until (file_has_size, &wait, timeout_ms);
}

gboolean
rh_test_daemon_wait_log_count (RhTestDaemon *daemon, const char *needle, guint count,
                               guint timeout_ms)
{
  return rh_test_wait_file_count (daemon->log_path, needle, count, timeout_ms);
}

gboolean
rh_test_daemon_log_has (RhTestDaemon *daemon, const char *needle)
{
  g_autofree char *log = rh_test_daemon_log (daemon);
  return strstr (log, needle) != NULL;
}

void
rh_test_daemon_finish (RhTestDaemon *daemon)
{
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);
  rh_test_daemon_free (daemon);
}

int
rh_test_daemon_pid (RhTestDaemon *daemon)
{
  return atoi (g_subprocess_get_identifier (daemon->process));
}

guint64
rh_test_proc_status_kib (int pid, const char *field)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *status = NULL;
  g_assert_true (g_file_get_contents (path, &status, NULL, NULL));
  const char *line = strstr (status, field);
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen (field), NULL, 10);
}

guint
rh_test_proc_open_fds (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/fd", pid);
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  g_assert_nonnull (dir);
  guint n = 0;
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

static gboolean
port_accepts (gpointer data)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) connection
    = g_socket_client_connect_to_host (client, "127.0.0.1", (guint16) GPOINTER_TO_UINT (data), NULL, NULL);
  return connection != NULL;
}

gboolean
rh_test_wait_port (guint16 port, guint timeout_ms)
{
  return rh_test_poll_until (port_accepts, GUINT_TO_POINTER (port), timeout_ms);
}

gboolean
rh_test_wait_file (const char *path, guint timeout_ms)
{
  return rh_test_wait_file_size (path, 0, timeout_ms);
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


/* A zombie nobody reaped yet (an orphan waits for init) counts as gone. */
gboolean
rh_test_pid_running (int pid)
{
  if (pid <= 0)
    return FALSE;
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *stat = NULL;
  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return FALSE;
  const char *end = strrchr (stat, ')');
  return end != NULL && !(end[1] == ' ' && end[2] == 'Z');
}

gboolean
rh_test_pid_file_alive (const char *pid_file)
{
  g_autofree char *text = NULL;
  return g_file_get_contents (pid_file, &text, NULL, NULL) && rh_test_pid_running (atoi (text));
}

static gboolean
pid_file_gone (gpointer data)
{
  return !rh_test_pid_file_alive (data);
}

gboolean
rh_test_wait_pid_file_gone (const char *pid_file, guint timeout_ms)
{
  return rh_test_poll_until (pid_file_gone, (gpointer) pid_file, timeout_ms);
}

int
rh_test_check_config_file (const char *config_path, char **output)
{
  const char *const argv[] = { rh_test_env ("RH_DAEMON"), "-t", "-c", config_path, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                                       | G_SUBPROCESS_FLAGS_STDERR_MERGE, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (process, NULL, NULL, output, NULL, &error));
  g_assert_no_error (error);
  return g_subprocess_get_exit_status (process);
}

void
rh_test_assert_config_error (const char *text, guint line, const char *message)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *path = g_build_filename (dir, "rtmphooks.conf", NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  g_autofree char *output = NULL;
  g_assert_cmpint (rh_test_check_config_file (path, &output), ==, 1);
  g_autofree char *expected = g_strdup_printf ("%s:%u: %s", path, line, message);
  if (strstr (output, expected) == NULL)
    g_error ("expected \"%s\" in:\n%s", expected, output);
  rh_test_remove_tree (dir);
}

double
rh_test_metric (const char *text, const char *series)
{
  g_autofree char *needle = g_strconcat ("\n", series, " ", NULL);
  const char *at = strstr (text, needle);
  return at != NULL ? g_ascii_strtod (at + strlen (needle), NULL) : -1;
}
