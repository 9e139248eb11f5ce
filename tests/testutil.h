/* Shared by the tests: scratch directories, child processes with a
 * deadline, and the real daemon on a free loopback port. It brings in the
 * other helpers: an RTMP client (test-rtmp-client.h), real media tools
 * (test-media-tools.h) and an HTTP server (test-http.h); many in-process
 * players are in test-player.h. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "test-http.h"
#include "test-media-tools.h"
#include "test-rtmp-client.h"

G_BEGIN_DECLS

typedef struct {
  GSubprocess *process;
  guint16 port;
  char *dir;          /* scratch directory, removed at the end */
  char *config_path;
  char *log_path;     /* stderr: the log */
  char *stdout_path;  /* stdout: event output */
} RhTestDaemon;

/* A free TCP port on 127.0.0.1. */
guint16 rh_test_free_port (void);
/* A fresh scratch directory (removed by rh_test_remove_tree, and in any
 * case when the test program ends, even by a failed assertion). */
char *rh_test_make_dir (void);
/* The value of a variable that make check sets; tells a person running a
 * test program by hand what to set when it is missing. */
const char *rh_test_env (const char *name);
void rh_test_remove_tree (const char *path);

/* Starts rtmphooksd with config_text (may be NULL: no file) and extra
 * arguments, listening on a free loopback port; waits until it accepts. */
RhTestDaemon *rh_test_daemon_start (const char *config_text, const char *const *extra_args);
/* The same with "NAME=value" added to the daemon's environment; with
 * use_default_config no -c is given at all (built-in defaults when the
 * default file does not exist). */
RhTestDaemon *rh_test_daemon_start_full (const char *config_text, const char *const *extra_args,
                                         const char *const *extra_env, gboolean use_default_config);
/* The config's own server.listen, which must be 127.0.0.1:port (a
 * config that names its port elsewhere too: a fleet node's advertise). */
RhTestDaemon *rh_test_daemon_start_port (const char *config_text, guint16 port, const char *const *extra_args);
/* Runs argv (a daemon command line the caller built) with stderr as the
 * log in dir (NULL: a new scratch directory, which the daemon then owns)
 * and stdout to stdout_path (NULL: a file in dir); waits until it has
 * started. port is what rh_test_daemon_url will use. */
RhTestDaemon *rh_test_daemon_spawn (const char *const *argv, char *dir, const char *stdout_path,
                                    const char *const *extra_env, guint16 port);
/* Rewrites the config file and sends SIGHUP. */
void rh_test_daemon_reload (RhTestDaemon *daemon, const char *config_text);
char *rh_test_daemon_stdout (RhTestDaemon *daemon);
/* The events the daemon printed as JSON lines (--hook-stdio-format jsonl),
 * parsed (JsonNode*), only those of type unless it is NULL. Every line
 * must parse. */
GPtrArray *rh_test_daemon_events (RhTestDaemon *daemon, const char *type);
/* The same for lines that start with prefix ("RTMP_EVENT: " in the json
 * format), asserted on every line. */
GPtrArray *rh_test_daemon_events_after (RhTestDaemon *daemon, const char *prefix, const char *type);
/* The data of the one event of type the daemon printed (asserted to be
 * one); *keep holds the parsed events it points into. */
JsonObject *rh_test_daemon_only_event (RhTestDaemon *daemon, const char *type, GPtrArray **keep);
/* SIGTERM, wait; returns the exit status. */
int rh_test_daemon_stop (RhTestDaemon *daemon);
void rh_test_daemon_free (RhTestDaemon *daemon);
char *rh_test_daemon_log (RhTestDaemon *daemon);
char *rh_test_daemon_url (RhTestDaemon *daemon, const char *key);
/* Waits up to timeout_ms for the daemon's log to contain needle. */
gboolean rh_test_daemon_wait_log (RhTestDaemon *daemon, const char *needle, guint timeout_ms);

/* Waits up to timeout_ms for needle to occur count times in the log. */
gboolean rh_test_daemon_wait_log_count (RhTestDaemon *daemon, const char *needle, guint count,
                                        guint timeout_ms);

/* Does the daemon's log hold needle now? */
gboolean rh_test_daemon_log_has (RhTestDaemon *daemon, const char *needle);
/* Stops the daemon, asserts that it exited with 0, frees it. */
void rh_test_daemon_finish (RhTestDaemon *daemon);
int rh_test_daemon_pid (RhTestDaemon *daemon);
/* A "kB" field of /proc/PID/status ("VmRSS:"), and the number of open
 * descriptors of pid. */
guint64 rh_test_proc_status_kib (int pid, const char *field);
guint rh_test_proc_open_fds (int pid);
/* Runs "rtmphooksd -t -c config_path"; returns its exit status, and
 * what it printed (stdout and stderr) in *output. */
int rh_test_check_config_file (const char *config_path, char **output);
/* Writes text to a scratch rtmphooks.conf and asserts that -t refuses
 * it with "PATH:line: message" among its errors. */
void rh_test_assert_config_error (const char *text, guint line, const char *message);

/* Checks done (data) every 10 ms without running any main context, up
 * to timeout_ms; returns its last answer. The waits below are built on
 * it; a test that iterates a main context meanwhile uses
 * rh_test_iterate_until (test-player.h). */
gboolean rh_test_poll_until (gboolean (*done) (gpointer data), gpointer data, guint timeout_ms);
/* Waits up to timeout_ms for path to exist. */
gboolean rh_test_wait_file (const char *path, guint timeout_ms);
/* ... for path to hold size bytes or more. */
gboolean rh_test_wait_file_size (const char *path, guint64 size, guint timeout_ms);
/* ... for path to hold needle count times or more. */
gboolean rh_test_wait_file_count (const char *path, const char *needle, guint count, guint timeout_ms);
/* ... for a TCP connection to 127.0.0.1:port to succeed. */
gboolean rh_test_wait_port (guint16 port, guint timeout_ms);

/* The value of one series ("name{labels}") in a /metrics text, -1 when
 * it is missing. */
double rh_test_metric (const char *text, const char *series);

/* How many times needle occurs in haystack. */
guint rh_test_count (const char *haystack, const char *needle);

/* Spawns argv (stdout and stderr to log_path, or discarded if NULL). */
GSubprocess *rh_test_spawn (const char *const *argv, const char *log_path);
GSubprocess *rh_test_spawn_full (const char *const *argv, const char *stdout_path,
                                 const char *stderr_path, const char *const *extra_env);
/* Writes an executable script into dir and returns its path. */
char *rh_test_write_script (const char *dir, const char *name, const char *text);
/* Reads a file of NAME=value lines. */
GHashTable *rh_test_read_env_file (const char *path);
/* Waits up to timeout_ms; kills the process if it is still running then.
 * Returns the exit status, or -1 if it had to be killed. */
int rh_test_wait (GSubprocess *process, guint timeout_ms);
void rh_test_sleep (guint ms);

/* Running: its /proc entry exists and it is not a zombie. */
gboolean rh_test_pid_running (int pid);
/* The process whose pid pid_file holds is running. */
gboolean rh_test_pid_file_alive (const char *pid_file);
/* Waits up to timeout_ms for the process in pid_file to be gone. */
gboolean rh_test_wait_pid_file_gone (const char *pid_file, guint timeout_ms);

G_END_DECLS
