#include "config.h"

#include "dispatcher.h"

#include "exec-action.h"

#include <string.h>

/* What stdout may hold for a slow reader before events are dropped. */
#define STDIO_MAX_BUFFERED (1024 * 1024)

typedef struct {
  RhDispatcher *dispatcher;
  RhRule *rule;
  RhEvent *event;
  gint64 queued_at;
} Job;

struct _RhDispatcher {
  RhStdioOutput *stdio;
  RhStdioFormat stdio_format;
  double timeout;
  guint concurrency;
  guint queue_limit;
  GPtrArray *rules;        /* RhRule*, the snapshot in force */
  GStrv base_env;          /* inherited variables + configured extras */
  GQueue queue;            /* Job* */
  guint running;
  /* Counters. */
  guint64 runs;
  guint64 failures;
  guint64 timeouts;
  guint64 drops;
  double latency_total;    /* seconds from event to start */
  double latency_max;
  gint64 drop_logged_at;
};

static void
job_free (Job *job)
{
  rh_rule_unref (job->rule);
  rh_event_unref (job->event);
  g_free (job);
}

RhDispatcher *
rh_dispatcher_new (int stdout_fd)
{
  RhDispatcher *dispatcher = g_new0 (RhDispatcher, 1);
  dispatcher->stdio = rh_stdio_output_new (stdout_fd, STDIO_MAX_BUFFERED);
  dispatcher->rules = g_ptr_array_new_with_free_func ((GDestroyNotify) rh_rule_unref);
  dispatcher->concurrency = 10;
  dispatcher->queue_limit = 4096;
  dispatcher->timeout = 30;
  g_queue_init (&dispatcher->queue);
  return dispatcher;
}

void
rh_dispatcher_free (RhDispatcher *dispatcher)
{
  if (dispatcher == NULL)
    return;
  g_queue_clear_full (&dispatcher->queue, (GDestroyNotify) job_free);
  g_ptr_array_unref (dispatcher->rules);
  g_strfreev (dispatcher->base_env);
  rh_stdio_output_free (dispatcher->stdio);
  g_free (dispatcher);
}

/* g_strv_builder_take() is GLib 2.80; we target 2.74. */
static void
builder_take (GStrvBuilder *builder, char *value)
{
  g_strv_builder_add (builder, value);
  g_free (value);
}

void
rh_dispatcher_configure (RhDispatcher *dispatcher, const RhHooksSettings *settings)
{
  dispatcher->timeout = settings->timeout;
  dispatcher->concurrency = (guint) settings->concurrency;
  dispatcher->queue_limit = (guint) settings->queue;
  dispatcher->stdio_format = settings->stdio;
  g_ptr_array_set_size (dispatcher->rules, 0);
  for (guint i = 0; settings->rules != NULL && i < settings->rules->len; i++)
    g_ptr_array_add (dispatcher->rules, rh_rule_ref (g_ptr_array_index (settings->rules, i)));

  g_autoptr (GStrvBuilder) env = g_strv_builder_new ();
  for (const char *const *name = rh_exec_inherited_variables; *name != NULL; name++)
    {
      const char *value = g_getenv (*name);
      if (value != NULL)
        builder_take (env, g_strdup_printf ("%s=%s", *name, value));
    }
  g_strfreev (dispatcher->base_env);
  dispatcher->base_env = g_strv_builder_end (env);
}

static void start_jobs (RhDispatcher *dispatcher);

static void
on_job_done (const RhExecResult *result, gpointer user_data)
{
  Job *job = user_data;
  RhDispatcher *dispatcher = job->dispatcher;

  dispatcher->running--;
  if (result->timed_out)
    dispatcher->timeouts++;
  if (!result->exited || result->exit_status != 0)
    dispatcher->failures++;
  if (result->exited)
    g_info ("hook \"%s\" for %s exited with status %d after %.3fs", job->rule->name,
            rh_event_type_to_string (job->event->type), result->exit_status, result->seconds);
  else if (result->spawned)
    g_warning ("hook \"%s\" for %s killed by signal %d after %.3fs%s", job->rule->name,
               rh_event_type_to_string (job->event->type), result->signal, result->seconds,
               result->timed_out ? " (timeout)" : "");
  if (result->exited && result->exit_status != 0)
    g_warning ("hook \"%s\" for %s failed with status %d", job->rule->name,
               rh_event_type_to_string (job->event->type), result->exit_status);
  job_free (job);
  start_jobs (dispatcher);
}

static void
start_job (RhDispatcher *dispatcher, Job *job)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) event_env = rh_event_to_environment (job->event);
  g_strv_builder_addv (builder, (const char **) dispatcher->base_env);
  g_strv_builder_addv (builder, (const char **) event_env);
  g_auto (GStrv) envp = g_strv_builder_end (builder);
  g_autofree char *json = rh_event_to_json (job->event);
  g_autoptr (GBytes) stdin_bytes = g_bytes_new_take (g_strconcat (json, "\n", NULL), strlen (json) + 1);
  double latency = (double) (g_get_monotonic_time () - job->queued_at) / G_USEC_PER_SEC;

  dispatcher->running++;
  dispatcher->runs++;
  dispatcher->latency_total += latency;
  dispatcher->latency_max = MAX (dispatcher->latency_max, latency);
  rh_exec_run (job->rule->name, (const char *const *) job->rule->argv, (const char *const *) envp,
               stdin_bytes, job->rule->timeout > 0 ? job->rule->timeout : dispatcher->timeout,
               on_job_done, job);
}

static void
start_jobs (RhDispatcher *dispatcher)
{
  while (dispatcher->running < dispatcher->concurrency && !g_queue_is_empty (&dispatcher->queue))
    start_job (dispatcher, g_queue_pop_head (&dispatcher->queue));
}

static void
drop (RhDispatcher *dispatcher, const RhRule *rule, const RhEvent *event)
{
  gint64 now = g_get_monotonic_time ();
  dispatcher->drops++;
  if (now - dispatcher->drop_logged_at >= G_USEC_PER_SEC)
    {
      g_warning ("hooks: queue full (%u), dropped \"%s\" for %s; %" G_GUINT64_FORMAT " dropped so far",
                 dispatcher->queue_limit, rule->name, rh_event_type_to_string (event->type),
                 dispatcher->drops);
      dispatcher->drop_logged_at = now;
    }
}

void
rh_dispatcher_emit (RhDispatcher *dispatcher, RhEvent *event)
{
  if (dispatcher->stdio_format != RH_STDIO_OFF)
    rh_stdio_output_write (dispatcher->stdio, dispatcher->stdio_format, event);

  for (guint i = 0; i < dispatcher->rules->len; i++)
    {
      RhRule *rule = g_ptr_array_index (dispatcher->rules, i);
      if (!rh_rule_matches (rule, event->type))
        continue;
      if (g_queue_get_length (&dispatcher->queue) >= dispatcher->queue_limit)
        {
          drop (dispatcher, rule, event);
          continue;
        }
      Job *job = g_new0 (Job, 1);
      job->dispatcher = dispatcher;
      job->rule = rh_rule_ref (rule);
      job->event = rh_event_ref (event);
      job->queued_at = g_get_monotonic_time ();
      g_queue_push_tail (&dispatcher->queue, job);
    }
  start_jobs (dispatcher);
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
  g_message ("hooks: runs=%" G_GUINT64_FORMAT " failures=%" G_GUINT64_FORMAT " timeouts=%" G_GUINT64_FORMAT
             " drops=%" G_GUINT64_FORMAT " running=%u queued=%u latency_avg=%.3fs latency_max=%.3fs"
             " stdio_written=%" G_GUINT64_FORMAT " stdio_dropped=%" G_GUINT64_FORMAT,
             dispatcher->runs, dispatcher->failures, dispatcher->timeouts, dispatcher->drops,
             dispatcher->running, g_queue_get_length (&dispatcher->queue),
             dispatcher->runs > 0 ? dispatcher->latency_total / (double) dispatcher->runs : 0.0,
             dispatcher->latency_max, rh_stdio_output_get_written (dispatcher->stdio),
             rh_stdio_output_get_dropped (dispatcher->stdio));
}

void
rh_dispatcher_drain_stdio (RhDispatcher *dispatcher, guint timeout_ms)
{
  rh_stdio_output_drain (dispatcher->stdio, timeout_ms);
}
