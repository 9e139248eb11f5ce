#include "config.h"

#include "process-supervisor.h"

#include "exec-action.h"

#include <glib/gi18n.h>
#include "util/log.h"

struct _RhSupervisor {
  GList *processes;          /* Managed* */
  guint limit;
  guint64 starts;
  guint64 restarts;
  guint64 refused;
  RhProcessExitFunc on_exit;
  gpointer user_data;
};

typedef struct {
  RhSupervisor *supervisor;
  RhRule *rule;
  RhEventType start_type;
  char *conn_id;
  char *stream_key;
  char *app;
  char *stream_name;
  GStrv argv;
  GStrv envp;
  GBytes *input;
  double first_delay;
  double delay;              /* before the next restart */
  RhExecRun *run;            /* NULL while waiting to restart */
  gint64 started_at;
  guint restart_id;
  guint restarts;
  gboolean stopping;
} Managed;

RhSupervisor *
rh_supervisor_new (RhProcessExitFunc on_exit, gpointer user_data)
{
  RhSupervisor *supervisor = g_new0 (RhSupervisor, 1);
  supervisor->limit = 100;
  supervisor->on_exit = on_exit;
  supervisor->user_data = user_data;
  return supervisor;
}

static void
managed_free (Managed *managed)
{
  g_clear_handle_id (&managed->restart_id, g_source_remove);
  rh_rule_unref (managed->rule);
  g_free (managed->conn_id);
  g_free (managed->stream_key);
  g_free (managed->app);
  g_free (managed->stream_name);
  g_strfreev (managed->argv);
  g_strfreev (managed->envp);
  g_bytes_unref (managed->input);
  g_free (managed);
}

void
rh_supervisor_free (RhSupervisor *supervisor)
{
  if (supervisor == NULL)
    return;
  /* A run still going would call back into freed memory: such runs are
   * only left when the daemon exits, after rh_exec_kill_all. */
  for (GList *link = supervisor->processes; link != NULL; link = link->next)
    {
      Managed *managed = link->data;
      if (managed->run == NULL)
        managed_free (managed);
      else
        managed->supervisor = NULL;
    }
  g_list_free (supervisor->processes);
  g_free (supervisor);
}

void
rh_supervisor_set_limit (RhSupervisor *supervisor, guint max_processes)
{
  supervisor->limit = max_processes;
}

static void launch (Managed *managed);

static gboolean
on_restart (gpointer user_data)
{
  Managed *managed = user_data;
  managed->restart_id = 0;
  managed->restarts++;
  managed->supervisor->restarts++;
  launch (managed);
  return G_SOURCE_REMOVE;
}

static void
report_exit (Managed *managed, const RhExecResult *result)
{
  g_autoptr (RhEvent) event = rh_event_new (RH_EVENT_PROCESS_EXIT, managed->conn_id, managed->stream_key);
  rh_event_add_string (event, "rule", managed->rule->name);
  rh_event_add_string (event, "app", managed->app);
  rh_event_add_string (event, "stream_name", managed->stream_name);
  rh_event_add_number (event, "pid", result->pid);
  rh_event_add_number (event, "exit_status", result->exited ? result->exit_status : 128 + result->signal);
  if (!result->exited && result->spawned)
    rh_event_add_number (event, "signal", result->signal);
  rh_event_add_number (event, "restarts", managed->restarts);
  managed->supervisor->on_exit (event, managed->supervisor->user_data);
}

static void
on_exited (const RhExecResult *result, gpointer user_data)
{
  Managed *managed = user_data;
  RhSupervisor *supervisor = managed->supervisor;
  managed->run = NULL;
  if (supervisor == NULL)
    {
      managed_free (managed);
      return;
    }
  if (result->exited)
    rh_log (managed->stopping ? G_LOG_LEVEL_INFO : G_LOG_LEVEL_WARNING, managed->conn_id, managed->stream_key,
            managed->rule->name, _("process \"%s\" (pid %d) exited with status %d after %.1fs"),
            managed->rule->name, result->pid, result->exit_status, result->seconds);
  else if (result->spawned)
    rh_log (managed->stopping ? G_LOG_LEVEL_INFO : G_LOG_LEVEL_WARNING, managed->conn_id, managed->stream_key,
            managed->rule->name, _("process \"%s\" (pid %d) killed by signal %d after %.1fs"),
            managed->rule->name, result->pid, result->signal, result->seconds);
  if (result->spawned)
    report_exit (managed, result);
  if (managed->stopping)
    {
      supervisor->processes = g_list_remove (supervisor->processes, managed);
      managed_free (managed);
      return;
    }
  /* It died while its stream lives: try again, less eagerly each time,
   * unless it had been running fine for a while. */
  if (result->seconds >= RH_MANAGED_GOOD_RUN)
    managed->delay = managed->first_delay;
  rh_log (G_LOG_LEVEL_MESSAGE, managed->conn_id, managed->stream_key, managed->rule->name,
          _("process \"%s\" restarts in %.1fs (restart %u)"), managed->rule->name, managed->delay,
          managed->restarts + 1);
  managed->restart_id = g_timeout_add ((guint) (managed->delay * 1000), on_restart, managed);
  managed->delay = MIN (managed->delay * 2, RH_MANAGED_MAX_RESTART_DELAY);
}

static void
launch (Managed *managed)
{
  managed->supervisor->starts++;
  managed->started_at = g_get_monotonic_time ();
  managed->run = rh_exec_run (managed->rule->name, (const char *const *) managed->argv,
                              (const char *const *) managed->envp, managed->input, 0, on_exited, managed);
}

gboolean
rh_supervisor_start (RhSupervisor *supervisor, RhRule *rule, const RhAction *action, const RhEvent *start,
                     const char *const *argv, const char *const *envp, GBytes *input)
{
  if (g_list_length (supervisor->processes) >= supervisor->limit)
    {
      supervisor->refused++;
      rh_log (G_LOG_LEVEL_WARNING, start->conn_id, start->stream_key, rule->name,
              _("process \"%s\" not started: max_processes (%u) reached; %llu refused so far"), rule->name,
              supervisor->limit, (unsigned long long) supervisor->refused);
      return FALSE;
    }
  Managed *managed = g_new0 (Managed, 1);
  managed->supervisor = supervisor;
  managed->rule = rh_rule_ref (rule);
  managed->start_type = start->type;
  managed->conn_id = g_strdup (start->conn_id);
  managed->stream_key = g_strdup (start->stream_key);
  managed->app = rh_event_lookup (start, "app");
  managed->stream_name = rh_event_lookup (start, "stream_name");
  managed->argv = g_strdupv ((char **) argv);
  managed->envp = g_strdupv ((char **) envp);
  managed->input = g_bytes_ref (input);
  managed->first_delay = action->restart_delay;
  managed->delay = action->restart_delay;
  supervisor->processes = g_list_prepend (supervisor->processes, managed);
  launch (managed);
  rh_log (G_LOG_LEVEL_MESSAGE, start->conn_id, start->stream_key, rule->name,
          _("process \"%s\" started for %s %s"), rule->name, rh_event_type_to_string (start->type),
          start->stream_key);
  return TRUE;
}

void
rh_supervisor_stop_for (RhSupervisor *supervisor, const RhEvent *stop)
{
  RhEventType start_type = stop->type == RH_EVENT_PUBLISH_STOP ? RH_EVENT_PUBLISH_START : RH_EVENT_PLAY_START;
  GList *link = supervisor->processes;
  while (link != NULL)
    {
      GList *next = link->next;
      Managed *managed = link->data;
      if (managed->start_type == start_type && !managed->stopping
          && g_strcmp0 (managed->conn_id, stop->conn_id) == 0
          && g_strcmp0 (managed->stream_key, stop->stream_key) == 0)
        {
          managed->stopping = TRUE;
          if (managed->run != NULL)
            rh_exec_stop (managed->run);
          else
            {
              supervisor->processes = g_list_delete_link (supervisor->processes, link);
              managed_free (managed);
            }
        }
      link = next;
    }
}

guint
rh_supervisor_get_count (RhSupervisor *supervisor)
{
  return g_list_length (supervisor->processes);
}

guint64
rh_supervisor_get_starts (RhSupervisor *supervisor)
{
  return supervisor->starts;
}

guint64
rh_supervisor_get_restarts (RhSupervisor *supervisor)
{
  return supervisor->restarts;
}

guint64
rh_supervisor_get_refused (RhSupervisor *supervisor)
{
  return supervisor->refused;
}
