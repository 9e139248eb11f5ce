#include "config.h"

#include "exec-action.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gi18n.h>
#include "process-tree.h"
#include "spawner.h"
#include "util/log.h"
#include "util/poller.h"

const char *const rh_exec_inherited_variables[] = {
  "PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "HOME", "USER", "LOGNAME", "TMPDIR", NULL
};

typedef struct _RhExecRun Run;

/* One of the hook's output pipes, read as data comes and split into
 * lines, each cut at RH_EXEC_MAX_LINE_BYTES: a hook printing 100 MB
 * without a newline costs the daemon one buffer, not 100 MB. */
typedef struct {
  Run *run;
  int fd;
  RhPollerWatch *watch;
  const char *label;
  gboolean is_stdout;
  guint lines;
  char line[RH_EXEC_MAX_LINE_BYTES];   /* the line being read */
  gsize line_len;
  guint64 line_cut;           /* bytes of it past that, dropped */
} Reader;

struct _RhExecRun {
  char *rule_name;
  const char *marker;         /* RTMPHOOKS_RUN=...: what its descendants inherit */
  pid_t pid;
  int pidfd;                  /* -1: exit watched by a GLib child watch */
  RhPollerWatch *pidfd_watch;
  guint child_watch_id;
  guint timeout_id;
  guint kill_id;
  guint linger_id;
  gint64 started_at;
  Reader *readers[2];         /* stdout, stderr; NULL once at end of file */
  Reader reader_storage[2];
  int stdin_fd;
  guint stdin_watch_id;
  GBytes *stdin_bytes;
  gsize stdin_written;
  gboolean exited;
  RhExecResult result;
  /* argv, envp and the marker live in one block: one allocation per
   * run, not one per string. */
  char **argv;
  char **envp;
  gpointer strings;
  RhSpawnJob job;             /* handed to a spawner thread and back */
  double timeout;
  gboolean stop_requested;    /* rh_exec_stop before the process existed */
  char *first_line;           /* stdout's first line */
  gboolean line_seen;
  RhExecDoneFunc done;
  gpointer user_data;
};

/* Every run started and not finished: what shutdown must not leave behind. */
static GList *running;
/* The pipes and pidfds of every run, as one descriptor in the main loop. */
static RhPoller *poller;

/* Numbers the runs, for their RTMPHOOKS_RUN markers. */
static guint64 next_run_number;

/* Signals the hook's process group; never pid 0 or 1, which would
 * reach our own group or everything. */
static void
signal_group (Run *run, int signal_number)
{
  if (run->pid > 1)
    kill (-run->pid, signal_number);
}

/* The group, and whatever of the run escaped it. */
static void
signal_run (Run *run, int signal_number)
{
  signal_group (run, signal_number);
  if (run->result.spawned)
    rh_process_tree_signal_marked (run->marker, run->pid, signal_number);
}

static void
stop_stdin (Run *run)
{
  g_clear_handle_id (&run->stdin_watch_id, g_source_remove);
  if (run->stdin_fd >= 0)
    close (run->stdin_fd);
  run->stdin_fd = -1;
}

static void
run_finish_if_done (Run *run)
{
  if (!run->exited || run->readers[0] != NULL || run->readers[1] != NULL)
    return;
  g_clear_handle_id (&run->linger_id, g_source_remove);
  g_clear_handle_id (&run->timeout_id, g_source_remove);
  stop_stdin (run);
  /* A timed-out or stopped hook's children may outlive it: the grace is over. */
  if (run->kill_id != 0)
    {
      signal_run (run, SIGKILL);
      g_clear_handle_id (&run->kill_id, g_source_remove);
    }
  running = g_list_remove (running, run);
  run->result.seconds = (double) (g_get_monotonic_time () - run->started_at) / G_USEC_PER_SEC;
  run->result.first_line = run->first_line;
  run->done (&run->result, run->user_data);
  g_free (run->first_line);
  g_clear_pointer (&run->stdin_bytes, g_bytes_unref);
  g_free (run->strings);
  g_free (run->rule_name);
  g_free (run);
}

/* ---- output ---- */

/* Logs one line of output (the first RH_EXEC_MAX_LOGGED_LINES of a run):
 * valid UTF-8, control characters shown as '?', so a hook cannot forge
 * log lines or break the terminal. */
static void
emit_line (Reader *reader)
{
  /* A decision check answers on its first line of stdout. */
  if (reader->is_stdout && !reader->run->line_seen)
    {
      reader->run->line_seen = TRUE;
      reader->run->first_line = g_strndup (reader->line, reader->line_len);
    }
  if (++reader->lines <= RH_EXEC_MAX_LOGGED_LINES)
    {
      g_autofree char *text = g_utf8_make_valid (reader->line, (gssize) reader->line_len);
      for (char *c = text; *c != '\0'; c++)
        if ((guchar) *c < 0x20 || *c == 0x7f)
          *c = '?';
      if (reader->line_cut > 0)
        rh_log (G_LOG_LEVEL_MESSAGE, NULL, NULL, reader->run->rule_name,
                "hook \"%s\" %s: %s... (%" G_GUINT64_FORMAT " more bytes not logged)",
                reader->run->rule_name, reader->label, text, reader->line_cut);
      else
        rh_log (G_LOG_LEVEL_MESSAGE, NULL, NULL, reader->run->rule_name, "hook \"%s\" %s: %s",
                reader->run->rule_name, reader->label, text);
    }
  reader->line_len = 0;
  reader->line_cut = 0;
}

/* End of file (or the linger after exit is over): the last partial line
 * is logged and the pipe closed. */
static void
finish_reader (Reader *reader)
{
  Run *run = reader->run;
  if (reader->line_len > 0 || reader->line_cut > 0)
    emit_line (reader);
  if (reader->lines > RH_EXEC_MAX_LOGGED_LINES)
    rh_log (G_LOG_LEVEL_MESSAGE, NULL, NULL, run->rule_name,
            _("hook \"%s\" %s: %u more line(s) not logged"), run->rule_name, reader->label,
            reader->lines - RH_EXEC_MAX_LOGGED_LINES);
  rh_poller_unwatch (poller, reader->watch);
  close (reader->fd);
  run->readers[reader->is_stdout ? 0 : 1] = NULL;
}

/* One read of a pipe the poll found ready (so it does not block), then
 * the main loop's other work; at end of file the reader is finished. */
static void
read_output (Reader *reader)
{
  guint8 buffer[16384];
  gssize n = read (reader->fd, buffer, sizeof buffer);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0)
    {
      finish_reader (reader);
      return;
    }
  for (gssize i = 0; i < n; i++)
    {
      guint8 byte = buffer[i];
      if (byte == '\n')
        emit_line (reader);
      else if (reader->line_len < RH_EXEC_MAX_LINE_BYTES)
        reader->line[reader->line_len++] = (char) byte;
      else
        reader->line_cut++;
    }
}

static void try_reap (Run *run);

static void
on_output (GIOCondition ready, gpointer user_data)
{
  Reader *reader = user_data;
  Run *run = reader->run;
  read_output (reader);
  /* A process closes its pipes a moment before it becomes a zombie: at
   * the end of its output, try now rather than wake again for the pidfd. */
  if (run->readers[0] == NULL && run->readers[1] == NULL)
    try_reap (run);
  run_finish_if_done (run);
}

static Reader *
start_reader (Run *run, int fd, const char *label)
{
  gboolean is_stdout = g_str_equal (label, "stdout");
  Reader *reader = &run->reader_storage[is_stdout ? 0 : 1];
  reader->run = run;
  reader->fd = fd;
  reader->label = label;
  reader->is_stdout = is_stdout;
  reader->watch = rh_poller_watch (poller, fd, G_IO_IN, on_output, reader);
  return reader;
}

/* ---- input: the event, small, written without blocking ---- */

static gboolean
write_stdin (Run *run)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (run->stdin_bytes, &len);
  while (run->stdin_written < len)
    {
      gssize n = write (run->stdin_fd, data + run->stdin_written, len - run->stdin_written);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return FALSE;
      if (n < 0)
        break;   /* EPIPE: a hook that does not read stdin is fine */
      run->stdin_written += (gsize) n;
    }
  return TRUE;
}

static gboolean
on_stdin_writable (int fd, GIOCondition condition, gpointer user_data)
{
  Run *run = user_data;
  if (!write_stdin (run))
    return G_SOURCE_CONTINUE;
  run->stdin_watch_id = 0;
  stop_stdin (run);
  return G_SOURCE_REMOVE;
}

/* ---- the end of the process ---- */

static gboolean
on_kill (gpointer user_data)
{
  Run *run = user_data;
  run->kill_id = 0;
  signal_run (run, SIGKILL);
  return G_SOURCE_REMOVE;
}

static gboolean
on_timeout (gpointer user_data)
{
  Run *run = user_data;
  run->timeout_id = 0;
  run->result.timed_out = TRUE;
  rh_log (G_LOG_LEVEL_WARNING, NULL, NULL, run->rule_name,
          _("hook \"%s\" timed out: SIGTERM to its process group"), run->rule_name);
  /* The process group reaches the hook's children too. */
  signal_run (run, SIGTERM);
  run->kill_id = g_timeout_add ((guint) (RH_EXEC_KILL_GRACE_SECONDS * 1000), on_kill, run);
  return G_SOURCE_REMOVE;
}

/* A background child may keep the pipes open after the hook exits: stop
 * reading shortly after the exit rather than wait for it. */
static gboolean
on_linger_over (gpointer user_data)
{
  Run *run = user_data;
  run->linger_id = 0;
  for (int i = 0; i < 2; i++)
    if (run->readers[i] != NULL)
      finish_reader (run->readers[i]);
  run_finish_if_done (run);
  return G_SOURCE_REMOVE;
}

static void
exited (Run *run, int status)
{
  rh_process_tree_forget_group (run->pid);
  run->exited = TRUE;
  if (WIFEXITED (status))
    {
      run->result.exited = TRUE;
      run->result.exit_status = WEXITSTATUS (status);
    }
  else if (WIFSIGNALED (status))
    {
      run->result.signal = WTERMSIG (status);
    }
  g_clear_handle_id (&run->timeout_id, g_source_remove);
  if (run->readers[0] != NULL || run->readers[1] != NULL)
    run->linger_id = g_timeout_add (1000, on_linger_over, run);
}

/* Reaps the process if it has ended (its pidfd is readable then). */
static void
try_reap (Run *run)
{
  if (run->pidfd_watch == NULL)
    return;
  int status = 0;
  pid_t reaped;
  do
    reaped = waitpid (run->pid, &status, WNOHANG | __WALL);
  while (reaped < 0 && errno == EINTR);
  if (reaped == 0)
    return;
  rh_poller_unwatch (poller, run->pidfd_watch);
  run->pidfd_watch = NULL;
  close (run->pidfd);
  run->pidfd = -1;
  exited (run, status);
}

static void
on_pidfd (GIOCondition ready, gpointer user_data)
{
  Run *run = user_data;
  try_reap (run);
  run_finish_if_done (run);
}

static void
on_child_watch (GPid pid, int status, gpointer user_data)
{
  Run *run = user_data;
  run->child_watch_id = 0;
  exited (run, status);
  run_finish_if_done (run);
}

/* ---- starting ---- */

/* On the main thread: the spawner is done with the run. */
static void
on_spawned (RhSpawnJob *job)
{
  Run *run = (Run *) (gpointer) ((char *) job - G_STRUCT_OFFSET (Run, job));
  if (job->error != 0)
    {
      rh_log (G_LOG_LEVEL_WARNING, NULL, NULL, run->rule_name, _("hook \"%s\": cannot run %s: %s"),
              run->rule_name, run->argv[0], g_strerror (job->error));
      run->exited = TRUE;
      run_finish_if_done (run);
      return;
    }
  run->result.spawned = TRUE;
  run->result.pid = run->pid = job->child.pid;
  running = g_list_prepend (running, run);

  /* What the pipe did not take before the program started. */
  run->stdin_fd = job->child.stdin_fd;
  run->stdin_written = job->child.input_written;
  if (run->stdin_fd >= 0 && !write_stdin (run))
    run->stdin_watch_id = g_unix_fd_add (run->stdin_fd, G_IO_OUT | G_IO_ERR, on_stdin_writable, run);
  else
    stop_stdin (run);

  run->readers[0] = start_reader (run, job->child.stdout_fd, "stdout");
  run->readers[1] = start_reader (run, job->child.stderr_fd, "stderr");
  /* A pidfd is one more descriptor in the poller; GLib's child watch
   * (a signal handler and a thread) is the fallback on old kernels. */
  run->pidfd = job->child.pidfd;
  if (run->pidfd >= 0)
    run->pidfd_watch = rh_poller_watch (poller, run->pidfd, G_IO_IN, on_pidfd, run);
  else
    run->child_watch_id = g_child_watch_add (run->pid, on_child_watch, run);
  if (run->timeout > 0)
    run->timeout_id = g_timeout_add ((guint) (run->timeout * 1000), on_timeout, run);
  if (run->stop_requested)
    {
      run->stop_requested = FALSE;
      rh_exec_stop (run);
    }
}

/* argv, then envp with the run's marker added (replacing one the
 * daemon's environment may carry), in one allocation. */
static void
pack_strings (Run *run, const char *const *argv, const char *const *envp, const char *marker)
{
  gsize argc = 0, envc = 0, bytes = strlen (marker) + 1;
  const char *const marker_name = "RTMPHOOKS_RUN=";
  for (; argv[argc] != NULL; argc++)
    bytes += strlen (argv[argc]) + 1;
  for (const char *const *e = envp; *e != NULL; e++)
    if (!g_str_has_prefix (*e, marker_name))
      {
        bytes += strlen (*e) + 1;
        envc++;
      }
  gsize pointers = (argc + 1 + envc + 2) * sizeof (char *);
  char **block = g_malloc (pointers + bytes);
  char *text = (char *) block + pointers;
  run->strings = block;
  run->argv = block;
  run->envp = block + argc + 1;
  for (gsize i = 0; i < argc; i++)
    {
      run->argv[i] = text;
      text = g_stpcpy (text, argv[i]) + 1;
    }
  run->argv[argc] = NULL;
  gsize at = 0;
  for (const char *const *e = envp; *e != NULL; e++)
    if (!g_str_has_prefix (*e, marker_name))
      {
        run->envp[at++] = text;
        text = g_stpcpy (text, *e) + 1;
      }
  run->envp[at++] = text;
  run->marker = text;
  g_stpcpy (text, marker);
  run->envp[at] = NULL;
}

/* The spawner threads and the poller, once, on the main thread: at the
 * daemon's start (its descriptors are there from the beginning) or at
 * the first run. */
static void
ensure_started (void)
{
  if (poller != NULL)
    return;
  poller = rh_poller_new ();
  /* With pidfds, nothing here needs SIGCHLD: a hook's exit would only
   * interrupt the main loop's poll (every other thread blocks signals,
   * so it lands on this one). Blocked, it is never delivered. Without
   * them, GLib's child watches need it. */
  int probe = (int) syscall (SYS_pidfd_open, getpid (), 0);
  if (probe >= 0)
    {
      close (probe);
      sigset_t child_signal;
      sigemptyset (&child_signal);
      sigaddset (&child_signal, SIGCHLD);
      pthread_sigmask (SIG_BLOCK, &child_signal, NULL);
    }
  rh_spawner_start ();
}

RhExecRun *
rh_exec_run (const char *rule_name, const char *const *argv, const char *const *envp,
             GBytes *stdin_bytes, double timeout_seconds, RhExecDoneFunc done, gpointer user_data)
{
  Run *run = g_new0 (Run, 1);
  ensure_started ();
  run->rule_name = g_strdup (rule_name);
  run->done = done;
  run->user_data = user_data;
  run->started_at = g_get_monotonic_time ();
  char marker[64];
  g_snprintf (marker, sizeof marker, "RTMPHOOKS_RUN=%d-%" G_GUINT64_FORMAT, (int) getpid (), ++next_run_number);
  pack_strings (run, argv, envp, marker);
  run->stdin_bytes = stdin_bytes != NULL ? g_bytes_ref (stdin_bytes) : g_bytes_new_static ("", 0);
  run->stdin_fd = -1;
  run->pidfd = -1;
  run->timeout = timeout_seconds;
  run->job.argv = (const char *const *) run->argv;
  run->job.envp = (const char *const *) run->envp;
  run->job.input = g_bytes_get_data (run->stdin_bytes, &run->job.input_len);
  run->job.done = on_spawned;
  rh_spawner_submit (&run->job);
  return run;
}

void
rh_exec_stop (RhExecRun *run)
{
  if (!run->result.spawned && !run->exited)
    {
      run->stop_requested = TRUE;
      return;
    }
  if (run->exited || run->kill_id != 0)
    return;
  g_clear_handle_id (&run->timeout_id, g_source_remove);
  signal_run (run, SIGTERM);
  run->kill_id = g_timeout_add ((guint) (RH_EXEC_KILL_GRACE_SECONDS * 1000), on_kill, run);
}

guint
rh_exec_kill_all (void)
{
  /* A spawn under way would escape: let it finish (it takes
   * milliseconds; bounded anyway). */
  rh_spawner_wait_idle (2 * G_USEC_PER_SEC);
  for (GList *link = running; link != NULL; link = link->next)
    {
      Run *run = link->data;
      rh_log (G_LOG_LEVEL_WARNING, NULL, NULL, run->rule_name,
              _("hook \"%s\" still running at exit: its process group is killed"), run->rule_name);
      /* Its program may be gone while what it started still runs. */
      signal_group (run, SIGKILL);
    }
  guint killed = rh_process_tree_kill_groups ();
  /* Every process below the daemon came from a hook: the escaped ones too. */
  rh_process_tree_kill_descendants ();
  return MAX (killed, g_list_length (running));
}

gboolean
rh_exec_adopt_orphans (void)
{
  ensure_started ();
  return rh_process_tree_adopt_orphans ();
}
