#include "config.h"

#include "dispatcher.h"

#include "exec-action.h"
#include "hook-stats.h"
#include "process-supervisor.h"
#include "webhook-action.h"

#include <string.h>
#include <glib/gi18n.h>
#include "util/log.h"

/* What stdout may hold for a slow reader before events are dropped. */
#define STDIO_MAX_BUFFERED (1024 * 1024)

/* An event whose actions someone waits for (rh_dispatcher_emit_tracked). */
typedef struct {
  guint pending;           /* its jobs not finished yet */
  RhDispatchOutcome outcome;
  char *error;
  RhDispatchDoneFunc done;
  gpointer user_data;
} Tracker;

typedef struct {
  RhDispatcher *dispatcher;
  Tracker *tracker;      /* NULL: nobody waits */
  RhRule *rule;          /* held: a reload does not change a queued job */
  const RhAction *action;
  RhEvent *event;
  gint64 queued_at;
  gint64 started_at;
} Job;

struct _RhDispatcher {
  RhStdioOutput *stdio;
  RhStdioFormat stdio_format;
  double timeout;
  guint concurrency;
  guint queue_limit;
  GPtrArray *rules;        /* RhRule*, the snapshot in force */
  GStrv base_env;          /* variables inherited from the daemon */
  GStrv secret_values;     /* what the secret variables hold: masked in traces */
  RhWebhookClient *webhooks;
  RhSupervisor *supervisor;  /* managed processes */
  RhOutputStarter outputs;   /* recordings and relays */
  gboolean stream_actions;   /* recordings, relays and managed processes run */
  gboolean freeing;          /* trackers are dropped, not called */
  GQueue queue;            /* Job* */
  guint running;
  guint start_id;          /* idle source starting queued jobs */
  gboolean in_start;       /* inside start_job: a job that ends at once must not start the next */
  /* Counters. */
  RhHookStats *stats;      /* per rule */
  guint64 events;
  guint64 runs;
  guint64 failures;
  guint64 timeouts;
  guint64 drops;
  double latency_total;    /* seconds from event to start */
  double latency_max;
  gint64 drop_logged_at;
};

static void
tracker_failure (Tracker *tracker, const char *error)
{
  tracker->outcome.failed++;
  if (tracker->error == NULL)
    tracker->error = g_strdup (error != NULL ? error : "failed");
}

/* Called when the tracker's last job is gone, or at once when it has none. */
static void
tracker_finish (RhDispatcher *dispatcher, Tracker *tracker)
{
  tracker->outcome.error = tracker->error;
  if (!dispatcher->freeing)
    tracker->done (&tracker->outcome, tracker->user_data);
  g_free (tracker->error);
  g_free (tracker);
}

static void
job_free (Job *job)
{
  if (job->tracker != NULL && --job->tracker->pending == 0)
    tracker_finish (job->dispatcher, job->tracker);
  rh_rule_unref (job->rule);
  rh_event_unref (job->event);
  g_free (job);
}

static void
on_process_exit (RhEvent *event, gpointer user_data)
{
  rh_dispatcher_emit (user_data, event);
}

RhDispatcher *
rh_dispatcher_new (int stdout_fd)
{
  RhDispatcher *dispatcher = g_new0 (RhDispatcher, 1);
  RhHooksSettings defaults;
  rh_hooks_settings_set_defaults (&defaults);
  dispatcher->stdio = rh_stdio_output_new (stdout_fd, STDIO_MAX_BUFFERED);
  dispatcher->rules = g_ptr_array_new_with_free_func ((GDestroyNotify) rh_rule_unref);
  dispatcher->concurrency = (guint) defaults.concurrency;
  dispatcher->queue_limit = (guint) defaults.queue;
  dispatcher->timeout = defaults.timeout;
  dispatcher->stream_actions = TRUE;
  dispatcher->webhooks = rh_webhook_client_new ();
  dispatcher->stats = rh_hook_stats_new ();
  dispatcher->supervisor = rh_supervisor_new (on_process_exit, dispatcher);
  rh_supervisor_set_limit (dispatcher->supervisor, (guint) defaults.max_processes);
  g_queue_init (&dispatcher->queue);
  return dispatcher;
}

void
rh_dispatcher_free (RhDispatcher *dispatcher)
{
  if (dispatcher == NULL)
    return;
  g_clear_handle_id (&dispatcher->start_id, g_source_remove);
  dispatcher->freeing = TRUE;
  g_queue_clear_full (&dispatcher->queue, (GDestroyNotify) job_free);
  g_ptr_array_unref (dispatcher->rules);
  g_strfreev (dispatcher->secret_values);
  g_strfreev (dispatcher->base_env);
  rh_supervisor_free (dispatcher->supervisor);
  rh_webhook_client_free (dispatcher->webhooks);
  rh_hook_stats_free (dispatcher->stats);
  rh_stdio_output_free (dispatcher->stdio);
  g_free (dispatcher);
}

void
rh_dispatcher_configure (RhDispatcher *dispatcher, const RhHooksSettings *settings)
{
  dispatcher->timeout = settings->timeout;
  dispatcher->concurrency = (guint) settings->concurrency;
  dispatcher->queue_limit = (guint) settings->queue;
  dispatcher->stdio_format = settings->stdio;
  rh_supervisor_set_limit (dispatcher->supervisor, (guint) settings->max_processes);
  g_ptr_array_set_size (dispatcher->rules, 0);
  for (guint i = 0; settings->rules != NULL && i < settings->rules->len; i++)
    g_ptr_array_add (dispatcher->rules, rh_rule_ref (g_ptr_array_index (settings->rules, i)));

  g_strfreev (dispatcher->base_env);
  dispatcher->base_env = rh_action_plan_base_environment (settings);
  g_strfreev (dispatcher->secret_values);
  dispatcher->secret_values = rh_hooks_settings_secret_values (settings);
}

static void start_jobs (RhDispatcher *dispatcher);

static const char *
event_name (const Job *job)
{
  return rh_event_type_to_string (job->event->type);
}

/* result and error (NULL when none) go to the rule's counters. */
static void start_one (RhDispatcher *dispatcher);

static void
job_finished (Job *job, RhHookResult result, const char *error)
{
  RhDispatcher *dispatcher = job->dispatcher;
  dispatcher->running--;
  job->rule->running--;
  if (result != RH_HOOK_RESULT_OK)
    {
      dispatcher->failures++;
      if (job->tracker != NULL)
        tracker_failure (job->tracker, error != NULL ? error : "timeout");
    }
  rh_hook_stats_record (dispatcher->stats, job->rule->name, result,
                        (double) (g_get_monotonic_time () - job->started_at) / G_USEC_PER_SEC, error);
  job_free (job);
  /* The freed slot goes to the next job now, not a main-loop turn later:
   * under a steady flow of hooks that turn is what a slot waits for. */
  if (!dispatcher->in_start)
    start_one (dispatcher);
  start_jobs (dispatcher);
}

static void
on_exec_done (const RhExecResult *result, gpointer user_data)
{
  Job *job = user_data;
  g_autofree char *error = NULL;

  if (result->timed_out)
    job->dispatcher->timeouts++;
  const char *conn_id = job->event->conn_id;
  const char *key = job->event->stream_key;
  if (result->exited && result->exit_status == 0)
    rh_log (G_LOG_LEVEL_INFO, conn_id, key, job->rule->name,
            _("hook \"%s\" for %s exited with status 0 after %.3fs"), job->rule->name,
            event_name (job), result->seconds);
  else if (result->exited)
    {
      error = g_strdup_printf ("exit status %d", result->exit_status);
      rh_log (G_LOG_LEVEL_WARNING, conn_id, key, job->rule->name,
              _("hook \"%s\" for %s failed with status %d after %.3fs"), job->rule->name,
              event_name (job), result->exit_status, result->seconds);
    }
  else if (result->spawned)
    {
      error = g_strdup_printf ("killed by signal %d%s", result->signal,
                               result->timed_out ? " (timeout)" : "");
      rh_log (G_LOG_LEVEL_WARNING, conn_id, key, job->rule->name,
              result->timed_out ? _("hook \"%s\" for %s killed by signal %d after %.3fs (timeout)")
                                : _("hook \"%s\" for %s killed by signal %d after %.3fs"),
              job->rule->name, event_name (job), result->signal, result->seconds);
    }
  else
    {
      error = g_strdup ("could not start");
    }
  RhHookResult outcome = result->timed_out ? RH_HOOK_RESULT_TIMEOUT
                         : result->exited && result->exit_status == 0 ? RH_HOOK_RESULT_OK
                         : RH_HOOK_RESULT_FAILED;
  job_finished (job, outcome, error);
}

static void
on_webhook_done (const RhWebhookResult *result, gpointer user_data)
{
  g_autofree char *error = NULL;
  if (!result->delivered)
    error = result->status != 0 ? g_strdup_printf ("HTTP %u after %u attempt(s)", result->status,
                                                   result->attempts)
                                : g_strdup_printf ("no answer after %u attempt(s)", result->attempts);
  job_finished (user_data, result->delivered ? RH_HOOK_RESULT_OK : RH_HOOK_RESULT_FAILED, error);
}

static void trace_start (const Job *job, const RhActionPlan *plan);

void
rh_dispatcher_plan (RhDispatcher *dispatcher, const RhRule *rule, const RhAction *action,
                    const RhEvent *event, RhActionPlan *plan)
{
  rh_action_plan_build (rule, action, event, dispatcher->timeout, (const char *const *) dispatcher->base_env, plan);
}

static void
start_exec (RhDispatcher *dispatcher, Job *job)
{
  RhActionPlan plan;
  rh_dispatcher_plan (dispatcher, job->rule, job->action, job->event, &plan);
  trace_start (job, &plan);
  g_autoptr (GBytes) input = rh_action_plan_take_input (&plan);
  rh_exec_run (job->rule->name, (const char *const *) plan.argv, (const char *const *) plan.envp,
               input, plan.timeout, on_exec_done, job);
  rh_action_plan_clear (&plan);
}

static void
start_webhook (RhDispatcher *dispatcher, Job *job)
{
  RhActionPlan plan;
  rh_dispatcher_plan (dispatcher, job->rule, job->action, job->event, &plan);
  trace_start (job, &plan);
  g_autoptr (GBytes) body = g_bytes_new (plan.input, strlen (plan.input));
  g_autoptr (GBytes) signing_key = NULL;
  g_autofree char *why = NULL;
  if (!rh_action_plan_webhook_ready (&plan, &signing_key, &why))
    {
      rh_log (G_LOG_LEVEL_WARNING, job->event->conn_id, job->event->stream_key, job->rule->name,
              _("webhook \"%s\": %s; not sent"), job->rule->name, why);
      rh_action_plan_clear (&plan);
      job_finished (job, RH_HOOK_RESULT_FAILED, why);
      return;
    }
  rh_webhook_post (dispatcher->webhooks, job->rule->name, plan.url, (const char *const *) plan.headers,
                   signing_key, body, job->event->id, event_name (job), (guint) job->action->retries,
                   plan.timeout, on_webhook_done, job);
  rh_action_plan_clear (&plan);
}

static void
start_job (RhDispatcher *dispatcher, Job *job)
{
  double latency = (double) (g_get_monotonic_time () - job->queued_at) / G_USEC_PER_SEC;

  dispatcher->running++;
  job->rule->running++;
  dispatcher->runs++;
  job->started_at = g_get_monotonic_time ();
  dispatcher->latency_total += latency;
  dispatcher->latency_max = MAX (dispatcher->latency_max, latency);
  dispatcher->in_start = TRUE;
  if (job->action->kind == RH_ACTION_EXEC)
    start_exec (dispatcher, job);
  else
    start_webhook (dispatcher, job);
  dispatcher->in_start = FALSE;
}

/* The next job that may start: FIFO, except that a job whose rule is at
 * its own cap waits without holding back other rules (jobs of one rule
 * still start in order). */
static GList *
next_startable (RhDispatcher *dispatcher)
{
  if (dispatcher->running >= dispatcher->concurrency)
    return NULL;
  for (GList *link = dispatcher->queue.head; link != NULL; link = link->next)
    {
      Job *job = link->data;
      if (job->rule->concurrency == 0 || job->rule->running < job->rule->concurrency)
        return link;
    }
  return NULL;
}

/* Starts the next job that may start, if any. */
static void
start_one (RhDispatcher *dispatcher)
{
  GList *link = next_startable (dispatcher);
  if (link == NULL)
    return;
  Job *job = link->data;
  g_queue_delete_link (&dispatcher->queue, link);
  start_job (dispatcher, job);
}

/* Starts what may start. Exec hooks are spawned on another thread, so
 * starting many costs the main loop little; a bounded batch per turn
 * still lets media I/O in between. */
static gboolean
on_start (gpointer user_data)
{
  RhDispatcher *dispatcher = user_data;
  for (int started = 0; started < 16 && next_startable (dispatcher) != NULL; started++)
    start_one (dispatcher);
  if (next_startable (dispatcher) != NULL)
    return G_SOURCE_CONTINUE;
  dispatcher->start_id = 0;
  return G_SOURCE_REMOVE;
}

static void
start_jobs (RhDispatcher *dispatcher)
{
  if (dispatcher->start_id == 0 && next_startable (dispatcher) != NULL)
    dispatcher->start_id = g_idle_add_full (G_PRIORITY_DEFAULT, on_start, dispatcher, NULL);
}

static void
drop (RhDispatcher *dispatcher, const RhRule *rule, const RhEvent *event)
{
  gint64 now = g_get_monotonic_time ();
  dispatcher->drops++;
  rh_hook_stats_record_drop (dispatcher->stats, rule->name);
  if (now - dispatcher->drop_logged_at >= G_USEC_PER_SEC)
    {
      rh_log (G_LOG_LEVEL_WARNING, event->conn_id, event->stream_key, rule->name,
              _("hooks: queue full (%u), dropped \"%s\" for %s; %llu dropped so far"),
              dispatcher->queue_limit, rule->name, rh_event_type_to_string (event->type),
              (unsigned long long) dispatcher->drops);
      dispatcher->drop_logged_at = now;
    }
}

static void
trace_mismatch (const RhRule *rule, const RhEvent *event)
{
  const RhCondition *failing = rh_rule_first_failing (rule, event);
  g_autofree char *condition = failing != NULL ? rh_condition_describe (failing) : g_strdup ("?");
  g_autofree char *quoted = rh_log_quote (condition);
  rh_log (G_LOG_LEVEL_DEBUG, event->conn_id, event->stream_key, rule->name,
          "hooks: rule \"%s\" does not match %s id=%s: %s does not hold", rule->name,
          rh_event_type_to_string (event->type), event->id, quoted);
}

/* What a job will run, at debug level, secrets masked: URLs without
 * their query and user info, no header values, no secret. */
static void
trace_start (const Job *job, const RhActionPlan *plan)
{
  if (!rh_log_enabled (G_LOG_LEVEL_DEBUG))
    return;
  if (plan->argv != NULL)
    {
      g_autofree char *joined = g_strjoinv ("\" \"", plan->argv);
      g_autofree char *unsecret = rh_log_mask_values (joined, (const char *const *) job->dispatcher->secret_values);
      g_autofree char *masked = rh_log_mask_secrets (unsecret);
      g_autofree char *quoted = rh_log_quote (masked);
      rh_log (G_LOG_LEVEL_DEBUG, job->event->conn_id, job->event->stream_key, job->rule->name,
              "hooks: rule \"%s\" starts exec [\"%s\"] for %s id=%s after %.3fs in the queue",
              job->rule->name, quoted, event_name (job), job->event->id,
              (double) (job->started_at - job->queued_at) / G_USEC_PER_SEC);
      return;
    }
  g_autoptr (GUri) uri = g_uri_parse (plan->url, G_URI_FLAGS_NONE, NULL);
  g_autofree char *safe = uri != NULL ? g_uri_to_string_partial (uri, G_URI_HIDE_USERINFO | G_URI_HIDE_QUERY
                                                                   | G_URI_HIDE_FRAGMENT)
                                      : g_strdup ("(invalid URL)");
  rh_log (G_LOG_LEVEL_DEBUG, job->event->conn_id, job->event->stream_key, job->rule->name,
          "hooks: rule \"%s\" starts webhook POST %s for %s id=%s after %.3fs in the queue%s",
          job->rule->name, safe, event_name (job), job->event->id,
          (double) (job->started_at - job->queued_at) / G_USEC_PER_SEC,
          plan->secret != NULL ? ", signed" : "");
}

/* Not queued and not under the concurrency cap: a managed process
 * starts with its stream (max_processes bounds them). */
static void
start_managed (RhDispatcher *dispatcher, RhRule *rule, const RhAction *action, RhEvent *event)
{
  RhActionPlan plan;
  rh_dispatcher_plan (dispatcher, rule, action, event, &plan);
  g_autoptr (GBytes) input = rh_action_plan_take_input (&plan);
  rh_supervisor_start (dispatcher->supervisor, rule, action, event, (const char *const *) plan.argv,
                       (const char *const *) plan.envp, input);
  rh_action_plan_clear (&plan);
}

/* A recording or a relay begins now, with the publish that is starting:
 * it is no job (nothing to wait for) and it ends with the publish. */
static void
start_output (RhDispatcher *dispatcher, RhRule *rule, const RhAction *action, RhEvent *event)
{
  if (dispatcher->outputs.start == NULL)
    return;
  g_autofree char *target = rh_template_expand (action->kind == RH_ACTION_RECORD ? action->path : action->url,
                                                event);
  dispatcher->outputs.start (action, rule->name, event, target, dispatcher->outputs.user_data);
}

void
rh_dispatcher_set_outputs (RhDispatcher *dispatcher, const RhOutputStarter *starter)
{
  dispatcher->outputs = *starter;
}

void
rh_dispatcher_set_stream_actions (RhDispatcher *dispatcher, gboolean enabled)
{
  dispatcher->stream_actions = enabled;
}

static void
emit (RhDispatcher *dispatcher, RhEvent *event, Tracker *tracker)
{
  dispatcher->events++;
  if (dispatcher->stdio_format != RH_STDIO_OFF)
    rh_stdio_output_write (dispatcher->stdio, dispatcher->stdio_format, event);

  gboolean tracing = rh_log_enabled (G_LOG_LEVEL_DEBUG);
  if (tracing)
    rh_log (G_LOG_LEVEL_DEBUG, event->conn_id, event->stream_key, NULL, "hooks: event %s id=%s",
            rh_event_type_to_string (event->type), event->id);
  /* Managed processes end with what started them, before anything else
   * runs for the stop. */
  if (event->type == RH_EVENT_PUBLISH_STOP || event->type == RH_EVENT_PLAY_STOP)
    rh_supervisor_stop_for (dispatcher->supervisor, event);
  for (guint i = 0; i < dispatcher->rules->len; i++)
    {
      RhRule *rule = g_ptr_array_index (dispatcher->rules, i);
      if (!rh_rule_matches (rule, event))
        {
          if (tracing && (rule->events & (1u << event->type)))
            trace_mismatch (rule, event);
          continue;
        }
      if (tracing)
        rh_log (G_LOG_LEVEL_DEBUG, event->conn_id, event->stream_key, rule->name,
                "hooks: rule \"%s\" matches %s id=%s: %u action(s) queued behind %u", rule->name,
                rh_event_type_to_string (event->type), event->id, rule->actions->len,
                g_queue_get_length (&dispatcher->queue));
      for (guint a = 0; a < rule->actions->len; a++)
        {
          const RhAction *action = g_ptr_array_index (rule->actions, a);
          if (action->managed)
            {
              if (dispatcher->stream_actions)
                start_managed (dispatcher, rule, action, event);
              continue;
            }
          if (action->kind == RH_ACTION_RECORD || action->kind == RH_ACTION_RELAY)
            {
              if (dispatcher->stream_actions)
                start_output (dispatcher, rule, action, event);
              continue;
            }
          if (tracker != NULL)
            tracker->outcome.actions++;
          if (g_queue_get_length (&dispatcher->queue) >= dispatcher->queue_limit)
            {
              drop (dispatcher, rule, event);
              if (tracker != NULL)
                tracker_failure (tracker, "dropped: the hook queue was full");
              continue;
            }
          Job *job = g_new0 (Job, 1);
          job->dispatcher = dispatcher;
          job->tracker = tracker;
          if (tracker != NULL)
            tracker->pending++;
          job->rule = rh_rule_ref (rule);
          job->action = action;
          job->event = rh_event_ref (event);
          job->queued_at = g_get_monotonic_time ();
          g_queue_push_tail (&dispatcher->queue, job);
        }
    }
}

void
rh_dispatcher_emit (RhDispatcher *dispatcher, RhEvent *event)
{
  emit (dispatcher, event, NULL);
  start_jobs (dispatcher);
}

void
rh_dispatcher_emit_tracked (RhDispatcher *dispatcher, RhEvent *event, RhDispatchDoneFunc done,
                            gpointer user_data)
{
  Tracker *tracker = g_new0 (Tracker, 1);
  tracker->done = done;
  tracker->user_data = user_data;
  /* Held while the jobs are queued, so that none finishing early
   * completes the event before the last is queued. */
  tracker->pending = 1;
  emit (dispatcher, event, tracker);
  start_jobs (dispatcher);
  if (--tracker->pending == 0)
    tracker_finish (dispatcher, tracker);
}

guint
rh_dispatcher_get_running (RhDispatcher *dispatcher)
{
  return dispatcher->running;
}

guint
rh_dispatcher_get_queued (RhDispatcher *dispatcher)
{
  return g_queue_get_length (&dispatcher->queue);
}

void
rh_dispatcher_log_stats (RhDispatcher *dispatcher)
{
  RhDispatcherCounters c;
  rh_dispatcher_get_counters (dispatcher, &c);
  g_message ("hooks: runs=%" G_GUINT64_FORMAT " failures=%" G_GUINT64_FORMAT " timeouts=%" G_GUINT64_FORMAT
             " drops=%" G_GUINT64_FORMAT " running=%u queued=%u latency_avg=%.3fs latency_max=%.3fs"
             " stdio_written=%" G_GUINT64_FORMAT " stdio_dropped=%" G_GUINT64_FORMAT,
             c.runs, c.failures, c.timeouts, c.drops, c.running, c.queued,
             c.runs > 0 ? dispatcher->latency_total / (double) c.runs : 0.0, dispatcher->latency_max,
             c.stdio_written, c.stdio_dropped);
}

void
rh_dispatcher_get_counters (RhDispatcher *dispatcher, RhDispatcherCounters *counters)
{
  counters->events = dispatcher->events;
  counters->runs = dispatcher->runs;
  counters->failures = dispatcher->failures;
  counters->timeouts = dispatcher->timeouts;
  counters->drops = dispatcher->drops;
  counters->running = dispatcher->running;
  counters->queued = g_queue_get_length (&dispatcher->queue);
  counters->stdio_written = rh_stdio_output_get_written (dispatcher->stdio);
  counters->stdio_dropped = rh_stdio_output_get_dropped (dispatcher->stdio);
  counters->processes = rh_supervisor_get_count (dispatcher->supervisor);
  counters->process_starts = rh_supervisor_get_starts (dispatcher->supervisor);
  counters->process_restarts = rh_supervisor_get_restarts (dispatcher->supervisor);
  counters->process_refused = rh_supervisor_get_refused (dispatcher->supervisor);
}

RhWebhookClient *
rh_dispatcher_get_webhook_client (RhDispatcher *dispatcher)
{
  return dispatcher->webhooks;
}

RhHookStats *
rh_dispatcher_get_stats (RhDispatcher *dispatcher)
{
  return dispatcher->stats;
}

void
rh_dispatcher_drain_stdio (RhDispatcher *dispatcher, guint timeout_ms)
{
  rh_stdio_output_drain (dispatcher->stdio, timeout_ms);
}
