/* The daemon under a service manager: what it tells systemd through
 * NOTIFY_SOCKET, read here from a real datagram socket as systemd would. */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gunixsocketaddress.h>

#include "testutil.h"

typedef struct {
  GSocket *socket;
  char *path;
} NotifySocket;

static NotifySocket *
notify_socket_new (const char *dir)
{
  g_autoptr (GError) error = NULL;
  NotifySocket *notify = g_new0 (NotifySocket, 1);
  notify->path = g_build_filename (dir, "notify.sock", NULL);
  notify->socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM, 0, &error);
  g_assert_no_error (error);
  g_autoptr (GSocketAddress) address = g_unix_socket_address_new (notify->path);
  g_assert_true (g_socket_bind (notify->socket, address, TRUE, &error));
  g_assert_no_error (error);
  return notify;
}

static void
notify_socket_free (NotifySocket *notify)
{
  g_object_unref (notify->socket);
  g_free (notify->path);
  g_free (notify);
}

/* The next datagram, or NULL after timeout_ms. */
static char *
notify_socket_next (NotifySocket *notify, guint timeout_ms)
{
  char buffer[4096];
  g_autoptr (GError) error = NULL;
  g_socket_set_timeout (notify->socket, (timeout_ms + 999) / 1000);
  gssize n = g_socket_receive (notify->socket, buffer, sizeof buffer - 1, NULL, &error);
  if (n < 0)
    return NULL;
  buffer[n] = '\0';
  return g_strdup (buffer);
}

/* Reads datagrams until one holds want; returns it (the others are
 * logged: STATUS= updates may come in between). */
static char *
notify_socket_expect (NotifySocket *notify, const char *want)
{
  for (int i = 0; i < 20; i++)
    {
      char *message = notify_socket_next (notify, 20000);
      g_assert_nonnull (message);
      g_test_message ("notify: %s", message);
      if (strstr (message, want) != NULL)
        return message;
      g_free (message);
    }
  g_error ("no notification with %s", want);
}

static void
test_notify_lifecycle (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  NotifySocket *notify = notify_socket_new (dir);
  g_autofree char *env_entry = g_strdup_printf ("NOTIFY_SOCKET=%s", notify->path);
  const char *const env[] = { env_entry, NULL };
  /* applications set: no warning comes before the start notice. */
  const char *config = "server = { applications = [ \"live\" ]; };\nhooks = { timeout = 5.0; };\n";
  RhTestDaemon *daemon = rh_test_daemon_start_full (config, NULL, env, FALSE);

  g_autofree char *ready = notify_socket_expect (notify, "READY=1");
  /* On stderr (not the journal): UTC time with a Z, then the level. */
  g_autofree char *log = rh_test_daemon_log (daemon);
  g_assert_true (g_regex_match_simple ("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z rtmphooksd\\[\\d+\\] "
                                       "notice: ", log, 0, 0));
  g_assert_nonnull (strstr (ready, "STATUS=0 connection(s), 0 stream(s)"));

  /* A good reload: RELOADING=1, then READY=1 again. */
  rh_test_daemon_reload (daemon, "hooks = { timeout = 6.0; };\n");
  g_free (notify_socket_expect (notify, "RELOADING=1"));
  g_autofree char *reloaded = notify_socket_expect (notify, "READY=1");
  g_assert_nonnull (strstr (reloaded, "STATUS=configuration reloaded"));

  /* A broken file: still ready, with the outcome in STATUS. */
  rh_test_daemon_reload (daemon, "hooks = { timeout = -1.0; };\n");
  g_free (notify_socket_expect (notify, "RELOADING=1"));
  g_autofree char *kept = notify_socket_expect (notify, "READY=1");
  g_assert_nonnull (strstr (kept, "STATUS=reload failed: 1 error(s)"));

  /* The counts follow the connections. */
  g_autoptr (GSocketConnection) client G_GNUC_UNUSED = rh_test_connect (daemon->port);
  g_free (notify_socket_expect (notify, "STATUS=1 connection(s), 0 stream(s)"));

  g_subprocess_send_signal (daemon->process, SIGTERM);
  g_free (notify_socket_expect (notify, "STOPPING=1"));
  rh_test_daemon_finish (daemon);
  notify_socket_free (notify);
  rh_test_remove_tree (dir);
}

static char *
run_capture_env (const char *const *argv, const char *const *env, int *status)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                                                        | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  for (gsize i = 0; env[i] != NULL; i += 2)
    g_subprocess_launcher_setenv (launcher, env[i], env[i + 1], TRUE);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  char *output = NULL;
  g_assert_true (g_subprocess_communicate_utf8 (process, NULL, NULL, &output, NULL, &error));
  *status = g_subprocess_get_exit_status (process);
  return output;
}

/* Under LANGUAGE=de the daemon speaks German, and configuration errors
 * still start with FILE:LINE: for editors and scripts. */
static void
test_translated_messages (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *messages = g_build_filename (dir, "de", "LC_MESSAGES", NULL);
  g_autofree char *catalogue = g_build_filename (messages, "rtmphooks.mo", NULL);
  g_autofree char *gmo = g_build_filename (rh_test_env ("RH_PO_DIR"), "de.gmo", NULL);
  g_autofree char *contents = NULL;
  gsize length;
  g_assert_true (g_file_get_contents (gmo, &contents, &length, NULL));
  g_assert_cmpint (g_mkdir_with_parents (messages, 0755), ==, 0);
  g_assert_true (g_file_set_contents (catalogue, contents, (gssize) length, NULL));

  g_autofree char *bad = g_build_filename (rh_test_env ("RH_FIXTURES"), "hooks", "bad.conf", NULL);
  const char *const env[] = { "LC_ALL", "C.UTF-8", "LANGUAGE", "de", "RTMPHOOKS_LOCALEDIR", dir, NULL };
  const char *const check[] = { rh_test_env ("RH_DAEMON"), "-t", "-c", bad, NULL };
  int status;
  g_autofree char *output = run_capture_env (check, env, &status);
  g_test_message ("%s", output);
  g_assert_cmpint (status, ==, 1);
  g_autofree char *unknown_event = g_strdup_printf ("%s:6: Regel \"a\": unbekanntes Ereignis \"publish_begin\" (eines von ", bad);
  g_autofree char *not_found = g_strdup_printf ("%s:11: Regel \"f\": Programm /nonexistent/program nicht gefunden\n", bad);
  g_assert_nonnull (strstr (output, unknown_event));
  g_assert_nonnull (strstr (output, not_found));
  g_assert_nonnull (strstr (output, "rtmphooksd: 19 Konfigurationsfehler\n"));

  const char *const help[] = { rh_test_env ("RH_DAEMON"), "--help", NULL };
  g_autofree char *help_output = run_capture_env (help, env, &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (help_output, "Konfigurationsdatei (Vorgabe "));
  g_assert_nonnull (strstr (help_output, "Die Konfiguration prüfen, jeden Fehler melden und beenden"));

  /* Without LANGUAGE the same run is in English. */
  const char *const english[] = { "LC_ALL", "C.UTF-8", "LANGUAGE", "", "RTMPHOOKS_LOCALEDIR", dir, NULL };
  g_autofree char *english_output = run_capture_env (check, english, &status);
  g_assert_nonnull (strstr (english_output, "rtmphooksd: 19 configuration error(s)\n"));
  rh_test_remove_tree (dir);
}

/* -t with no -c names the file it looked for: a source build reads
 * SYSCONFDIR/rtmphooks.conf (/usr/local/etc by default), a package
 * /etc/rtmphooks.conf. */
static void
test_check_names_default_path (void)
{
  const char *const check[] = { rh_test_env ("RH_DAEMON"), "-t", NULL };
  const char *const env[] = { "LANGUAGE", "", NULL };
  int status;
  g_autofree char *output = run_capture_env (check, env, &status);
  g_test_message ("%s", output);
  const char *path = SYSCONFDIR "/rtmphooks.conf";
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      /* An installed file: -t checks it and names it either way. */
      g_assert_nonnull (strstr (output, path));
      return;
    }
  g_assert_cmpint (status, ==, 0);
  g_autofree char *expected = g_strdup_printf ("rtmphooksd: no file at %s: the built-in defaults are valid\n", path);
  g_assert_cmpstr (output, ==, expected);
}

/* --pid-file: the daemon's pid once it serves, which SIGHUP reloads
 * through; removed when the daemon exits. */
static void
test_pid_file_reload (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *pid_file = g_build_filename (dir, "rtmphooksd.pid", NULL);
  const char *const args[] = { "--pid-file", pid_file, NULL };
  RhTestDaemon *daemon = rh_test_daemon_start ("server = { applications = [ \"live\" ]; };\n", args);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (pid_file, &text, NULL, NULL));
  g_assert_cmpint (atoi (text), ==, rh_test_daemon_pid (daemon));
  g_assert_cmpint (kill ((pid_t) atoi (text), SIGHUP), ==, 0);
  g_assert_true (rh_test_daemon_wait_log (daemon, "configuration reloaded from", 10000));
  rh_test_daemon_finish (daemon);
  g_assert_false (g_file_test (pid_file, G_FILE_TEST_EXISTS));

  /* A pid file that cannot be written stops the start, with the reason. */
  g_autofree char *nowhere = g_build_filename (dir, "missing", "rtmphooksd.pid", NULL);
  g_autofree char *listen = g_strdup_printf ("127.0.0.1:%u", rh_test_free_port ());
  const char *const argv[] = { rh_test_env ("RH_DAEMON"), "--listen", listen, "--pid-file", nowhere, NULL };
  const char *const env[] = { "LANGUAGE", "", NULL };
  int status;
  g_autofree char *output = run_capture_env (argv, env, &status);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (output, "cannot write the pid file: "));
  rh_test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/service/notify-lifecycle", test_notify_lifecycle);
  g_test_add_func ("/service/translated-messages", test_translated_messages);
  g_test_add_func ("/service/check-names-default-path", test_check_names_default_path);
  g_test_add_func ("/service/pid-file-reload", test_pid_file_reload);
  return g_test_run ();
}
