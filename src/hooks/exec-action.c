#include "config.h"

#include "exec-action.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <glib/gi18n.h>
#include "util/log.h"

const char *const rh_exec_inherited_variables[] = {
  "PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "HOME", "USER", "LOGNAME", "TMPDIR", NULL
};

struct _RhExecRun {
  char *rule_name;
  GSubprocess *process;
  pid_t pid;
  GCancellable *cancellable;  /* stops the output readers */
  guint timeout_id;
  guint kill_id;
  guint linger_id;
  gint64 started_at;
  int open_streams;           /* stdout/stderr readers still running */
  gboolean exited;
  RhExecResult result;
  char *first_line;           /* stdout's first line */
  gboolean line_seen;
  RhExecDoneFunc done;
  gpointer user_data;
};

typedef struct _RhExecRun Run;

/* Every run not finished yet: what shutdown must not leave behind. */
static GList *running;

typedef struct {
  Run *run;
  GInputStream *input;
  const char *label;
  gboolean is_stdout;
  guint lines;
  GString *line;              /* the line being read, at most RH_EXEC_MAX_LINE_BYTES */
  guint64 line_cut;           /* bytes of it past that, dropped */
  guint8 buffer[4096];
} Reader;

/* Signals the hook's process group; never pid 0 or 1, which would
 * reach our own group or everything. */
static void
signal_group (Run *run, int signal_number)
{
  if (run->pid > 1)
    kill (-run->pid, signal_number);
}

static void
run_finish_if_done (Run *run)
{
  if (!run->exited || run->open_streams > 0)
    return;
  g_clear_handle_id (&run->timeout_id, g_source_remove);
  g_clear_handle_id (&run->linger_id, g_source_remove);
  /* A timed-out hook's children may outlive it: the grace is over. */
  if (run->kill_id != 0)
    {
      signal_group (run, SIGKILL);
      g_clear_handle_id (&run->kill_id, g_source_remove);
    }
  running = g_list_remove (running, run);
  run->result.seconds = (double) (g_get_monotonic_time () - run->started_at) / G_USEC_PER_SEC;
  run->result.first_line = run->first_line;
  run->done (&run->result, run->user_data);
  g_free (run->first_line);
  g_object_unref (run->cancellable);
  g_clear_object (&run->process);
  g_free (run->rule_name);
  g_free (run);
}

static void read_more (Reader *reader);

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

static void
finish_reader (Reader *reader)
{
  if (reader->line->len > 0 || reader->line_cut > 0)
    emit_line (reader);
  if (reader->lines > RH_EXEC_MAX_LOGGED_LINES)
    rh_log (G_LOG_LEVEL_MESSAGE, NULL, NULL, reader->run->rule_name,
            _("hook \"%s\" %s: %u more line(s) not logged"), reader->run->rule_name, reader->label,
            reader->lines - RH_EXEC_MAX_LOGGED_LINES);
  Run *run = reader->run;
  run->open_streams--;
  g_string_free (reader->line, TRUE);
  g_free (reader);
  run_finish_if_done (run);
}

/* Output is read in fixed pieces and split into lines here, each cut at
 * RH_EXEC_MAX_LINE_BYTES: a hook printing 100 MB without a newline costs
 * the daemon one buffer, not 100 MB. */
static void
on_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Reader *reader = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);
  if (n <= 0)
    {
      finish_reader (reader);
      return;
    }
  for (gssize i = 0; i < n; i++)
    {
      guint8 byte = reader->buffer[i];
      if (byte == '\n')
        emit_line (reader);
      else if (reader->line->len < RH_EXEC_MAX_LINE_BYTES)
        g_string_append_c (reader->line, (char) byte);
      else
        reader->line_cut++;
    }
  read_more (reader);
}

static void
read_more (Reader *reader)
{
  g_input_stream_read_async (reader->input, reader->buffer, sizeof reader->buffer, G_PRIORITY_DEFAULT,
                             reader->run->cancellable, on_read, reader);
}

static void
start_reader (Run *run, GInputStream *stream, const char *label)
{
  Reader *reader = g_new0 (Reader, 1);
  reader->run = run;
  reader->label = label;
  reader->is_stdout = g_str_equal (label, "stdout");
  reader->input = stream;   /* owned by the GSubprocess, which outlives the reader */
  reader->line = g_string_sized_new (256);
  run->open_streams++;
  read_more (reader);
}

static gboolean
on_kill (gpointer user_data)
{
  Run *run = user_data;
  run->kill_id = 0;
  signal_group (run, SIGKILL);
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
  signal_group (run, SIGTERM);
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
  g_cancellable_cancel (run->cancellable);
  return G_SOURCE_REMOVE;
}

static void
on_exited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Run *run = user_data;
  g_subprocess_wait_finish (run->process, result, NULL);
  run->exited = TRUE;
  if (g_subprocess_get_if_exited (run->process))
    {
      run->result.exited = TRUE;
      run->result.exit_status = g_subprocess_get_exit_status (run->process);
    }
  else if (g_subprocess_get_if_signaled (run->process))
    {
      run->result.signal = g_subprocess_get_term_sig (run->process);
    }
  g_clear_handle_id (&run->timeout_id, g_source_remove);
  if (run->open_streams > 0)
    run->linger_id = g_timeout_add (1000, on_linger_over, run);
  run_finish_if_done (run);
}

static void
on_stdin_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  /* A hook that exits without reading stdin is fine: ignore EPIPE. */
  g_output_stream_write_bytes_finish (G_OUTPUT_STREAM (source), result, NULL);
  g_output_stream_close (G_OUTPUT_STREAM (source), NULL, NULL);
}

static void
child_setup (gpointer user_data)
{
  /* Its own process group, so a timeout can kill what it started. */
  setpgid (0, 0);
}

/* The helper that puts a hook in its own process group after a
 * posix_spawn; NULL when it is missing (then the daemon forks and sets the
 * group itself, slower). RTMPHOOKS_EXEC_HELPER names it in an uninstalled
 * build. */
static const char *
exec_helper (void)
{
  static gsize initialised;
  static char *path;
  if (g_once_init_enter (&initialised))
    {
      const char *candidate = g_getenv ("RTMPHOOKS_EXEC_HELPER");
      if (candidate == NULL)
        candidate = PKGLIBEXECDIR "/rtmphooks-exec";
      if (g_file_test (candidate, G_FILE_TEST_IS_EXECUTABLE))
        path = g_strdup (candidate);
      else
        rh_log (G_LOG_LEVEL_WARNING, NULL, NULL, NULL,
                _("%s is missing: exec hooks are started by forking the daemon (slower)"), candidate);
      g_once_init_leave (&initialised, 1);
    }
  return path;
}

static gboolean
finish_unstarted (gpointer user_data)
{
  run_finish_if_done (user_data);
  return G_SOURCE_REMOVE;
}

RhExecRun *
rh_exec_run (const char *rule_name, const char *const *argv, const char *const *envp,
             GBytes *stdin_bytes, double timeout_seconds, RhExecDoneFunc done, gpointer user_data)
{
  Run *run = g_new0 (Run, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
    G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);

  run->rule_name = g_strdup (rule_name);
  run->done = done;
  run->user_data = user_data;
  run->cancellable = g_cancellable_new ();
  run->started_at = g_get_monotonic_time ();
  g_subprocess_launcher_set_environ (launcher, (char **) envp);
  const char *helper = exec_helper ();
  if (helper != NULL)
    {
      /* No child_setup and inherited descriptors (every one of ours is
       * close-on-exec, and the helper closes the rest): GLib can then
       * posix_spawn instead of forking the daemon. */
      g_subprocess_launcher_set_flags (launcher, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                                 | G_SUBPROCESS_FLAGS_STDERR_PIPE | G_SUBPROCESS_FLAGS_INHERIT_FDS);
      g_autoptr (GPtrArray) helped = g_ptr_array_new ();
      g_ptr_array_add (helped, (gpointer) helper);
      for (const char *const *a = argv; *a != NULL; a++)
        g_ptr_array_add (helped, (gpointer) *a);
      g_ptr_array_add (helped, NULL);
      run->process = g_subprocess_launcher_spawnv (launcher, (const char *const *) helped->pdata, &error);
    }
  else
    {
      g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
      run->process = g_subprocess_launcher_spawnv (launcher, argv, &error);
    }
  if (run->process == NULL)
    {
      rh_log (G_LOG_LEVEL_WARNING, NULL, NULL, rule_name, _("hook \"%s\": cannot run %s: %s"),
              rule_name, argv[0], error->message);
      run->exited = TRUE;
      /* Callers may not be ready for done before this returns. */
      g_idle_add_full (G_PRIORITY_DEFAULT, finish_unstarted, run, NULL);
      return run;
    }
  run->result.spawned = TRUE;
  running = g_list_prepend (running, run);
  /* NULL once the process has been reaped: a fast hook can be gone
   * already, and then there is nothing to kill. */
  const char *identifier = g_subprocess_get_identifier (run->process);
  run->pid = identifier != NULL ? (pid_t) atoi (identifier) : 0;

  /* The event is small: it fits the pipe buffer, so this never blocks
   * for long; a hook that does not read stdin just gets EPIPE. */
  GOutputStream *in = g_subprocess_get_stdin_pipe (run->process);
  g_output_stream_write_bytes_async (in, stdin_bytes, G_PRIORITY_DEFAULT, NULL, on_stdin_written, NULL);

  start_reader (run, g_subprocess_get_stdout_pipe (run->process), "stdout");
  start_reader (run, g_subprocess_get_stderr_pipe (run->process), "stderr");
  if (timeout_seconds > 0)
    run->timeout_id = g_timeout_add ((guint) (timeout_seconds * 1000), on_timeout, run);
  g_subprocess_wait_async (run->process, NULL, on_exited, run);
  run->result.pid = run->pid;
  return run;
}

void
rh_exec_stop (RhExecRun *run)
{
  if (run->exited || run->kill_id != 0)
    return;
  g_clear_handle_id (&run->timeout_id, g_source_remove);
  signal_group (run, SIGTERM);
  run->kill_id = g_timeout_add ((guint) (RH_EXEC_KILL_GRACE_SECONDS * 1000), on_kill, run);
}

guint
rh_exec_kill_all (void)
{
  guint killed = 0;
  for (GList *link = running; link != NULL; link = link->next)
    {
      Run *run = link->data;
      rh_log (G_LOG_LEVEL_WARNING, NULL, NULL, run->rule_name,
              _("hook \"%s\" still running at exit: its process group is killed"), run->rule_name);
      signal_group (run, SIGKILL);
      killed++;
    }
  return killed;
}
