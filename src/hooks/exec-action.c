#include "config.h"

#include "exec-action.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gi18n.h>
#include "child-spawn.h"
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
  /* Handed to the spawner thread and back. argv, envp and the marker
   * live in one block: one allocation per run, not one per string. */
  char **argv;
  char **envp;
  gpointer strings;
  int spawn_errno;            /* 0: spawned */
  RhChild child;
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

/* A spawn returns once the child has exec'd, a few hundred
 * microseconds: spawns happen on a thread of their own, in order, so the
 * main loop never waits for one. Runs go to it through a queue and come
 * back in batches: one main-loop wake-up for all the runs spawned
 * meanwhile. */
static GAsyncQueue *to_spawn;      /* Run* */
static GMutex spawned_lock;
static GPtrArray *spawned;         /* Run*, under spawned_lock */
static gboolean spawned_wake_pending;
/* Spawner threads: two, so that one child's exec (a few hundred
 * microseconds in which its spawner waits) does not hold up the next. */
#define SPAWNER_THREADS 2
/* How many could be started (a task limit may have refused some). */
static guint spawners;
/* Held for reading through each spawn until its pid is recorded, and for
 * writing by the orphan reaper, so that it never takes a hook for an
 * orphan. */
static GRWLock spawning;
/* Process groups of hooks spawned and not reaped, also those the main
 * thread has not heard of yet: shutdown kills them all. */
static GMutex groups_lock;
static GHashTable *live_groups;   /* pid -> pid */
static gint spawns_in_flight;
static guint64 next_run_number;

/* Processes a walk over our descendants looks at, at most. */
#define MAX_DESCENDANTS 4096

/* The children of pid, from /proc (every thread's list). */
static void
add_children (pid_t pid, GArray *pids)
{
  g_autofree char *tasks_path = g_strdup_printf ("/proc/%d/task", (int) pid);
  g_autoptr (GDir) tasks = g_dir_open (tasks_path, 0, NULL);
  const char *task;
  while (tasks != NULL && (task = g_dir_read_name (tasks)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("%s/%s/children", tasks_path, task);
      g_autofree char *text = NULL;
      if (!g_file_get_contents (path, &text, NULL, NULL))
        continue;
      g_auto (GStrv) words = g_strsplit (g_strstrip (text), " ", -1);
      for (char **w = words; *w != NULL && pids->len < MAX_DESCENDANTS; w++)
        {
          pid_t child = (pid_t) atoi (*w);
          if (child > 1)
            g_array_append_val (pids, child);
        }
    }
}

/* Every process below the daemon (breadth first, bounded). */
static GArray *
descendants (void)
{
  GArray *pids = g_array_new (FALSE, FALSE, sizeof (pid_t));
  add_children (getpid (), pids);
  for (guint i = 0; i < pids->len && pids->len < MAX_DESCENDANTS; i++)
    add_children (g_array_index (pids, pid_t, i), pids);
  return pids;
}

/* Does pid's environment hold marker (a whole "NAME=value" entry)? */
static gboolean
environ_has (pid_t pid, const char *marker)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/environ", (int) pid);
  g_autofree char *data = NULL;
  gsize len;
  if (!g_file_get_contents (path, &data, &len, NULL))
    return FALSE;
  gsize marker_len = strlen (marker);
  for (gsize at = 0; at < len; at += strlen (data + at) + 1)
    if (len - at >= marker_len && memcmp (data + at, marker, marker_len) == 0
        && (at + marker_len == len || data[at + marker_len] == '\0'))
      return TRUE;
  return FALSE;
}

/* A hook's descendants may leave its process group (setsid) and, once
 * their parent is gone, become the daemon's children (it is a child
 * subreaper). They still carry the run's marker in their environment:
 * that finds them. */
static void
signal_marked (const char *marker, pid_t group, int signal_number)
{
  g_autoptr (GArray) pids = descendants ();
  for (guint i = 0; i < pids->len; i++)
    {
      pid_t pid = g_array_index (pids, pid_t, i);
      /* Those still in the group had this signal already: a second one
       * means "now" to some programs (ffmpeg drops its trailer). */
      if (getpgid (pid) != group && environ_has (pid, marker))
        kill (pid, signal_number);
    }
}
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
    signal_marked (run->marker, run->pid, signal_number);
}

/* A hook's exit does not take groups_lock (a spawner may hold it): its
 * group is forgotten the next time the main loop takes the lock anyway
 * (the orphan reaper, once a second; shutdown). */
static GArray *forgotten_groups;   /* pid_t, main thread only */

static void
forget_group (pid_t pid)
{
  if (forgotten_groups == NULL)
    forgotten_groups = g_array_new (FALSE, FALSE, sizeof (pid_t));
  g_array_append_val (forgotten_groups, pid);
}

/* With groups_lock held. */
static void
apply_forgotten_groups (void)
{
  for (guint i = 0; forgotten_groups != NULL && i < forgotten_groups->len; i++)
    g_hash_table_remove (live_groups, GINT_TO_POINTER (g_array_index (forgotten_groups, pid_t, i)));
  if (forgotten_groups != NULL)
    g_array_set_size (forgotten_groups, 0);
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
  forget_group (run->pid);
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

/* On the main thread: the spawner is done with run. */
static void
on_spawned (Run *run)
{
  if (run->spawn_errno != 0)
    {
      rh_log (G_LOG_LEVEL_WARNING, NULL, NULL, run->rule_name, _("hook \"%s\": cannot run %s: %s"),
              run->rule_name, run->argv[0], g_strerror (run->spawn_errno));
      run->exited = TRUE;
      run_finish_if_done (run);
      return;
    }
  run->result.spawned = TRUE;
  run->result.pid = run->pid = run->child.pid;
  running = g_list_prepend (running, run);

  /* What the pipe did not take before the program started. */
  run->stdin_fd = run->child.stdin_fd;
  run->stdin_written = run->child.input_written;
  if (run->stdin_fd >= 0 && !write_stdin (run))
    run->stdin_watch_id = g_unix_fd_add (run->stdin_fd, G_IO_OUT | G_IO_ERR, on_stdin_writable, run);
  else
    stop_stdin (run);

  run->readers[0] = start_reader (run, run->child.stdout_fd, "stdout");
  run->readers[1] = start_reader (run, run->child.stderr_fd, "stderr");
  /* A pidfd is one more descriptor in the poller; GLib's child watch
   * (a signal handler and a thread) is the fallback on old kernels. */
  run->pidfd = run->child.pidfd;
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

/* On the main thread: every run spawned since the last call. */
static gboolean
on_spawned_batch (gpointer user_data)
{
  g_mutex_lock (&spawned_lock);
  g_autoptr (GPtrArray) batch = g_steal_pointer (&spawned);
  spawned = g_ptr_array_new ();
  spawned_wake_pending = FALSE;
  g_mutex_unlock (&spawned_lock);
  for (guint i = 0; i < batch->len; i++)
    on_spawned (g_ptr_array_index (batch, i));
  return G_SOURCE_REMOVE;
}

/* To the main thread, in a batch with the others spawned meanwhile. */
static void
hand_back (Run *run)
{
  g_mutex_lock (&spawned_lock);
  g_ptr_array_add (spawned, run);
  gboolean wake = !spawned_wake_pending;
  spawned_wake_pending = TRUE;
  g_mutex_unlock (&spawned_lock);
  if (wake)
    g_idle_add_full (G_PRIORITY_DEFAULT, on_spawned_batch, NULL, NULL);
}

/* On a spawner thread: the program, its pipes and its pidfd (see
 * child-spawn.h for what the child gets). */
static void
spawn (Run *run, RhChildStack *stack)
{
  gsize input_len = 0;
  const guint8 *input = run->stdin_bytes != NULL ? g_bytes_get_data (run->stdin_bytes, &input_len) : NULL;
  g_rw_lock_reader_lock (&spawning);
  run->spawn_errno = rh_child_spawn ((const char *const *) run->argv, (const char *const *) run->envp,
                                     input, input_len, stack, &run->child);
  if (run->spawn_errno == 0)
    {
      g_mutex_lock (&groups_lock);
      g_hash_table_add (live_groups, GINT_TO_POINTER (run->child.pid));
      g_mutex_unlock (&groups_lock);
    }
  g_rw_lock_reader_unlock (&spawning);
  /* Shutdown waits for this: from here on its group is in live_groups. */
  g_atomic_int_dec_and_test (&spawns_in_flight);

  hand_back (run);
}

static gpointer
spawner_main (gpointer data)
{
  /* The thread lives as long as the process, and so does its stack. */
  RhChildStack *stack = g_new (RhChildStack, 1);
  for (;;)
    spawn (g_async_queue_pop (to_spawn), stack);
  return NULL;
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

/* The spawner thread and the poller, once, on the main thread: at the
 * daemon's start (its descriptors are there from the beginning) or at
 * the first run. */
static void
ensure_started (void)
{
  if (to_spawn != NULL)
    return;
  live_groups = g_hash_table_new (NULL, NULL);
  spawned = g_ptr_array_new ();
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
  to_spawn = g_async_queue_new ();
  /* Under a task limit (ulimit -u, TasksMax) a thread may not be had:
   * fewer spawners are slower, none means hooks cannot run, which each
   * run then reports; the daemon goes on. */
  for (int i = 0; i < SPAWNER_THREADS; i++)
    {
      g_autoptr (GError) error = NULL;
      GThread *thread = g_thread_try_new ("spawner", spawner_main, NULL, &error);
      if (thread == NULL)
        {
          g_warning (_("cannot start a hook spawner thread: %s"), error->message);
          continue;
        }
      g_thread_unref (thread);
      spawners++;
    }
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
  run->stdin_bytes = g_bytes_ref (stdin_bytes);
  run->stdin_fd = -1;
  run->pidfd = -1;
  run->timeout = timeout_seconds;
  if (spawners == 0)
    {
      run->spawn_errno = EAGAIN;  /* "Resource temporarily unavailable": no thread */
      hand_back (run);
      return run;
    }
  g_atomic_int_inc (&spawns_in_flight);
  g_async_queue_push (to_spawn, run);
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
  gint64 deadline = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  while (g_atomic_int_get (&spawns_in_flight) > 0 && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  for (GList *link = running; link != NULL; link = link->next)
    {
      Run *run = link->data;
      rh_log (G_LOG_LEVEL_WARNING, NULL, NULL, run->rule_name,
              _("hook \"%s\" still running at exit: its process group is killed"), run->rule_name);
      /* Its program may be gone while what it started still runs. */
      signal_group (run, SIGKILL);
    }
  guint killed = 0;
  g_mutex_lock (&groups_lock);
  if (live_groups != NULL)
    {
      apply_forgotten_groups ();
      GHashTableIter iter;
      gpointer key;
      g_hash_table_iter_init (&iter, live_groups);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        {
          kill (-(pid_t) GPOINTER_TO_INT (key), SIGKILL);
          killed++;
        }
    }
  g_mutex_unlock (&groups_lock);
  /* Every process below the daemon came from a hook: the escaped ones too. */
  g_autoptr (GArray) rest = descendants ();
  for (guint i = 0; i < rest->len; i++)
    kill (g_array_index (rest, pid_t, i), SIGKILL);
  return MAX (killed, g_list_length (running));
}

/* Zombies of the daemon's adopted children: nothing else waits for them.
 * Hooks themselves are reaped where they are watched. */
static gboolean
reap_orphans (gpointer user_data)
{
  g_autoptr (GArray) children = g_array_new (FALSE, FALSE, sizeof (pid_t));
  /* No spawn between the listing and the waits (see spawning). */
  g_rw_lock_writer_lock (&spawning);
  g_mutex_lock (&groups_lock);
  if (live_groups != NULL)
    apply_forgotten_groups ();
  add_children (getpid (), children);
  for (guint i = 0; i < children->len; i++)
    {
      pid_t pid = g_array_index (children, pid_t, i);
      if (live_groups == NULL || !g_hash_table_contains (live_groups, GINT_TO_POINTER (pid)))
        waitpid (pid, NULL, WNOHANG);
    }
  g_mutex_unlock (&groups_lock);
  g_rw_lock_writer_unlock (&spawning);
  return G_SOURCE_CONTINUE;
}

gboolean
rh_exec_adopt_orphans (void)
{
  ensure_started ();
  if (prctl (PR_SET_CHILD_SUBREAPER, 1) != 0)
    return FALSE;
  g_timeout_add_seconds (1, reap_orphans, NULL);
  return TRUE;
}
