#include "config.h"

#include "exec-action.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gi18n.h>
#include "util/log.h"

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
  guint watch_id;
  const char *label;
  gboolean is_stdout;
  guint lines;
  GString *line;              /* the line being read, at most RH_EXEC_MAX_LINE_BYTES */
  guint64 line_cut;           /* bytes of it past that, dropped */
} Reader;

struct _RhExecRun {
  char *rule_name;
  char *marker;               /* RTMPHOOKS_RUN=...: what its descendants inherit */
  pid_t pid;
  int pidfd;                  /* -1: exit watched by a GLib child watch */
  guint exit_watch_id;
  guint timeout_id;
  guint kill_id;
  guint linger_id;
  gint64 started_at;
  Reader *readers[2];         /* stdout, stderr; NULL once at end of file */
  int stdin_fd;
  guint stdin_watch_id;
  GBytes *stdin_bytes;
  gsize stdin_written;
  gboolean exited;
  RhExecResult result;
  /* Handed to the spawner thread and back. */
  GStrv argv;
  GStrv envp;
  int spawn_errno;            /* 0: spawned */
  int pipes[3];               /* the daemon's ends: stdin, stdout, stderr */
  double timeout;
  gboolean stop_requested;    /* rh_exec_stop before the process existed */
  char *first_line;           /* stdout's first line */
  gboolean line_seen;
  RhExecDoneFunc done;
  gpointer user_data;
};

/* Every run started and not finished: what shutdown must not leave behind. */
static GList *running;

/* posix_spawn returns once the child has exec'd, a few hundred
 * microseconds: spawns happen on a thread of their own, in order, so the
 * main loop never waits for one. */
static GThreadPool *spawner;
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

/* The spawner holds groups_lock through each posix_spawn: a hook's exit
 * must not wait for the next hook's start on the main loop. Its group is
 * forgotten the next time the main loop takes the lock anyway (the
 * orphan reaper, once a second; shutdown). */
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
  g_clear_handle_id (&run->timeout_id, g_source_remove);
  g_clear_handle_id (&run->linger_id, g_source_remove);
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
  g_strfreev (run->argv);
  g_strfreev (run->envp);
  g_free (run->marker);
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
      reader->run->first_line = g_strndup (reader->line->str, reader->line->len);
    }
  if (++reader->lines <= RH_EXEC_MAX_LOGGED_LINES)
    {
      g_autofree char *text = g_utf8_make_valid (reader->line->str, (gssize) reader->line->len);
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
  g_string_truncate (reader->line, 0);
  reader->line_cut = 0;
}

/* End of file (or the linger after exit is over): the last partial line
 * is logged and the pipe closed. */
static void
finish_reader (Reader *reader)
{
  Run *run = reader->run;
  if (reader->line->len > 0 || reader->line_cut > 0)
    emit_line (reader);
  if (reader->lines > RH_EXEC_MAX_LOGGED_LINES)
    rh_log (G_LOG_LEVEL_MESSAGE, NULL, NULL, run->rule_name,
            _("hook \"%s\" %s: %u more line(s) not logged"), run->rule_name, reader->label,
            reader->lines - RH_EXEC_MAX_LOGGED_LINES);
  g_clear_handle_id (&reader->watch_id, g_source_remove);
  close (reader->fd);
  run->readers[reader->is_stdout ? 0 : 1] = NULL;
  g_string_free (reader->line, TRUE);
  g_free (reader);
}

static gboolean
on_output (int fd, GIOCondition condition, gpointer user_data)
{
  Reader *reader = user_data;
  guint8 buffer[4096];
  /* A few reads per wake-up, then the main loop's other work. */
  for (int round = 0; round < 16; round++)
    {
      gssize n = read (fd, buffer, sizeof buffer);
      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return G_SOURCE_CONTINUE;
      if (n <= 0)
        {
          Run *run = reader->run;
          reader->watch_id = 0;
          finish_reader (reader);
          run_finish_if_done (run);
          return G_SOURCE_REMOVE;
        }
      for (gssize i = 0; i < n; i++)
        {
          guint8 byte = buffer[i];
          if (byte == '\n')
            emit_line (reader);
          else if (reader->line->len < RH_EXEC_MAX_LINE_BYTES)
            g_string_append_c (reader->line, (char) byte);
          else
            reader->line_cut++;
        }
    }
  return G_SOURCE_CONTINUE;
}

static Reader *
start_reader (Run *run, int fd, const char *label)
{
  Reader *reader = g_new0 (Reader, 1);
  reader->run = run;
  reader->fd = fd;
  reader->label = label;
  reader->is_stdout = g_str_equal (label, "stdout");
  reader->line = g_string_sized_new (256);
  reader->watch_id = g_unix_fd_add (fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_output, reader);
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
  run_finish_if_done (run);
}

static gboolean
on_pidfd (int fd, GIOCondition condition, gpointer user_data)
{
  Run *run = user_data;
  int status = 0;
  pid_t reaped;
  do
    reaped = waitpid (run->pid, &status, WNOHANG);
  while (reaped < 0 && errno == EINTR);
  if (reaped == 0)
    return G_SOURCE_CONTINUE;
  run->exit_watch_id = 0;
  close (run->pidfd);
  run->pidfd = -1;
  exited (run, status);
  return G_SOURCE_REMOVE;
}

static void
on_child_watch (GPid pid, int status, gpointer user_data)
{
  Run *run = user_data;
  run->exit_watch_id = 0;
  exited (run, status);
}

/* ---- starting ---- */

/* On the main thread: the spawner is done with run. */
static gboolean
on_spawned (gpointer user_data)
{
  Run *run = user_data;
  g_atomic_int_dec_and_test (&spawns_in_flight);
  if (run->spawn_errno != 0)
    {
      rh_log (G_LOG_LEVEL_WARNING, NULL, NULL, run->rule_name, _("hook \"%s\": cannot run %s: %s"),
              run->rule_name, run->argv[0], g_strerror (run->spawn_errno));
      run->exited = TRUE;
      run_finish_if_done (run);
      return G_SOURCE_REMOVE;
    }
  run->result.spawned = TRUE;
  run->result.pid = run->pid;
  running = g_list_prepend (running, run);

  run->stdin_fd = run->pipes[0];
  if (!write_stdin (run))
    run->stdin_watch_id = g_unix_fd_add (run->stdin_fd, G_IO_OUT | G_IO_ERR, on_stdin_writable, run);
  else
    stop_stdin (run);
  run->readers[0] = start_reader (run, run->pipes[1], "stdout");
  run->readers[1] = start_reader (run, run->pipes[2], "stderr");
  if (run->timeout > 0)
    run->timeout_id = g_timeout_add ((guint) (run->timeout * 1000), on_timeout, run);
  /* A pidfd is one more descriptor in the main loop; GLib's child watch
   * (a signal handler and a thread) is the fallback on old kernels. */
  run->pidfd = (int) syscall (SYS_pidfd_open, run->pid, 0);
  if (run->pidfd >= 0)
    {
      fcntl (run->pidfd, F_SETFD, FD_CLOEXEC);
      run->exit_watch_id = g_unix_fd_add (run->pidfd, G_IO_IN, on_pidfd, run);
    }
  else
    run->exit_watch_id = g_child_watch_add (run->pid, on_child_watch, run);
  if (run->stop_requested)
    {
      run->stop_requested = FALSE;
      rh_exec_stop (run);
    }
  return G_SOURCE_REMOVE;
}

static void
close_pipe_pair (int fds[2])
{
  for (int i = 0; i < 2; i++)
    if (fds[i] >= 0)
      close (fds[i]);
}

/* On the spawner thread: three pipes, then the program in a process
 * group of its own (so a timeout or shutdown can kill whatever it
 * started), with default signal dispositions and an empty signal mask
 * (the daemon ignores SIGPIPE; a hook must not inherit that), and no
 * descriptor of ours beyond its stdin, stdout and stderr. */
static void
spawn (gpointer data, gpointer user_data)
{
  Run *run = data;
  int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  sigset_t all, none;

  if (pipe2 (in, O_CLOEXEC) != 0 || pipe2 (out, O_CLOEXEC | O_NONBLOCK) != 0
      || pipe2 (err, O_CLOEXEC | O_NONBLOCK) != 0)
    {
      run->spawn_errno = errno;
      close_pipe_pair (in);
      close_pipe_pair (out);
      close_pipe_pair (err);
      g_idle_add_full (G_PRIORITY_DEFAULT, on_spawned, run, NULL);
      return;
    }
  /* The child's stdout and stderr block as usual; our ends do not. */
  fcntl (out[1], F_SETFL, 0);
  fcntl (err[1], F_SETFL, 0);
  fcntl (in[1], F_SETFL, O_NONBLOCK);

  posix_spawn_file_actions_init (&actions);
  posix_spawn_file_actions_adddup2 (&actions, in[0], 0);
  posix_spawn_file_actions_adddup2 (&actions, out[1], 1);
  posix_spawn_file_actions_adddup2 (&actions, err[1], 2);
  posix_spawn_file_actions_addclosefrom_np (&actions, 3);
  posix_spawnattr_init (&attributes);
  sigfillset (&all);
  sigemptyset (&none);
  posix_spawnattr_setsigdefault (&attributes, &all);
  posix_spawnattr_setsigmask (&attributes, &none);
  posix_spawnattr_setpgroup (&attributes, 0);
  posix_spawnattr_setflags (&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF
                                         | POSIX_SPAWN_SETSIGMASK);
  /* Held until the pid is recorded, so that the orphan reaper never
   * takes a hook for an orphan. */
  g_mutex_lock (&groups_lock);
  run->spawn_errno = posix_spawn (&run->pid, run->argv[0], &actions, &attributes, run->argv, run->envp);
  if (run->spawn_errno == 0)
    g_hash_table_add (live_groups, GINT_TO_POINTER (run->pid));
  g_mutex_unlock (&groups_lock);
  posix_spawn_file_actions_destroy (&actions);
  posix_spawnattr_destroy (&attributes);

  close (in[0]);
  close (out[1]);
  close (err[1]);
  if (run->spawn_errno != 0)
    {
      close (in[1]);
      close (out[0]);
      close (err[0]);
    }
  else
    {
      run->pipes[0] = in[1];
      run->pipes[1] = out[0];
      run->pipes[2] = err[0];
    }
  g_idle_add_full (G_PRIORITY_DEFAULT, on_spawned, run, NULL);
}

RhExecRun *
rh_exec_run (const char *rule_name, const char *const *argv, const char *const *envp,
             GBytes *stdin_bytes, double timeout_seconds, RhExecDoneFunc done, gpointer user_data)
{
  Run *run = g_new0 (Run, 1);
  if (g_once_init_enter (&spawner))
    {
      live_groups = g_hash_table_new (NULL, NULL);
      g_once_init_leave (&spawner, g_thread_pool_new (spawn, NULL, 1, TRUE, NULL));
    }
  run->rule_name = g_strdup (rule_name);
  run->done = done;
  run->user_data = user_data;
  run->started_at = g_get_monotonic_time ();
  run->argv = g_strdupv ((char **) argv);
  run->marker = g_strdup_printf ("RTMPHOOKS_RUN=%d-%" G_GUINT64_FORMAT, (int) getpid (), ++next_run_number);
  run->envp = g_environ_setenv (g_strdupv ((char **) envp), "RTMPHOOKS_RUN", strchr (run->marker, '=') + 1, TRUE);
  run->stdin_bytes = g_bytes_ref (stdin_bytes);
  run->stdin_fd = -1;
  run->pidfd = -1;
  run->timeout = timeout_seconds;
  g_atomic_int_inc (&spawns_in_flight);
  g_thread_pool_push (spawner, run, NULL);
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
  /* No spawn between the listing and the waits (see spawn ()). */
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
  return G_SOURCE_CONTINUE;
}

gboolean
rh_exec_adopt_orphans (void)
{
  if (prctl (PR_SET_CHILD_SUBREAPER, 1) != 0)
    return FALSE;
  g_timeout_add_seconds (1, reap_orphans, NULL);
  return TRUE;
}
