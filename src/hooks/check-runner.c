#include "config.h"

#include "check-runner.h"

#include "check-response.h"
#include "exec-action.h"
#include "webhook-action.h"

#include <string.h>
#include <glib/gi18n.h>
#include "util/log.h"

static const char *const check_result_names[RH_HOOK_N_RESULTS] = { "allowed", "denied", "error" };

struct _RhCheckRunner {
  RhDispatcher *dispatcher;
  GPtrArray *checks;        /* RhRule* with is_check, in order */
  guint concurrency;        /* check actions running at once */
  guint running;
  RhHookStats *stats;
};

struct _RhCheckRequest {
  RhCheckRunner *runner;
  RhEvent *event;
  GPtrArray *checks;        /* the matching ones, held */
  guint next;
  RhRule *current;          /* running, or NULL */
  gint64 current_started_at;
  char *stream_name;        /* the last rename */
  char *renamed_by;
  gboolean cancelled;
  guint idle_id;
  RhVerdictFunc done;
  gpointer user_data;
};

RhCheckRunner *
rh_check_runner_new (RhDispatcher *dispatcher)
{
  RhCheckRunner *runner = g_new0 (RhCheckRunner, 1);
  RhHooksSettings defaults;
  rh_hooks_settings_set_defaults (&defaults);
  runner->dispatcher = dispatcher;
  runner->checks = g_ptr_array_new_with_free_func ((GDestroyNotify) rh_rule_unref);
  runner->concurrency = (guint) defaults.check_concurrency;
  runner->stats = rh_hook_stats_new_with_names (check_result_names);
  return runner;
}

void
rh_check_runner_free (RhCheckRunner *runner)
{
  if (runner == NULL)
    return;
  g_ptr_array_unref (runner->checks);
  rh_hook_stats_free (runner->stats);
  g_free (runner);
}

void
rh_check_runner_configure (RhCheckRunner *runner, const RhHooksSettings *settings)
{
  runner->concurrency = (guint) settings->check_concurrency;
  g_ptr_array_set_size (runner->checks, 0);
  for (guint i = 0; settings->checks != NULL && i < settings->checks->len; i++)
    g_ptr_array_add (runner->checks, rh_rule_ref (g_ptr_array_index (settings->checks, i)));
}

GPtrArray *
rh_check_runner_matching (RhCheckRunner *runner, const RhEvent *request)
{
  GPtrArray *matching = g_ptr_array_new_with_free_func ((GDestroyNotify) rh_rule_unref);
  for (guint i = 0; i < runner->checks->len; i++)
    {
      RhRule *check = g_ptr_array_index (runner->checks, i);
      if (rh_rule_matches (check, request))
        g_ptr_array_add (matching, rh_rule_ref (check));
    }
  return matching;
}

static void
request_free (RhCheckRequest *request)
{
  g_clear_handle_id (&request->idle_id, g_source_remove);
  rh_event_unref (request->event);
  g_ptr_array_unref (request->checks);
  g_free (request->stream_name);
  g_free (request->renamed_by);
  g_free (request);
}

static void
decide (RhCheckRequest *request, gboolean allowed, const char *check, const char *reason)
{
  if (!request->cancelled)
    {
      RhVerdict verdict = {
        allowed, allowed ? request->renamed_by : check, allowed ? request->stream_name : NULL, reason,
      };
      request->done (&verdict, request->user_data);
    }
  request_free (request);
}

static void run_next (RhCheckRequest *request);

/* One check answered: outcome is RH_CHECK_*; answer may rename or give
 * a reason; error says what went wrong for RH_CHECK_ERROR. */
static void
check_answered (RhCheckRequest *request, int outcome, const RhCheckAnswer *answer, const char *error)
{
  RhCheckRunner *runner = request->runner;
  g_autoptr (RhRule) check = g_steal_pointer (&request->current);
  double seconds = (double) (g_get_monotonic_time () - request->current_started_at) / G_USEC_PER_SEC;
  RhEvent *event = request->event;

  runner->running--;
  rh_hook_stats_record (runner->stats, check->name, outcome, seconds,
                        outcome == RH_CHECK_ERROR ? error : NULL);
  if (request->cancelled)
    {
      request_free (request);
      return;
    }
  if (outcome == RH_CHECK_ERROR)
    {
      rh_log (G_LOG_LEVEL_WARNING, event->conn_id, event->stream_key, check->name,
              _("check \"%s\" for %s failed (%s) after %.3fs: on_error = %s"), check->name,
              rh_event_type_to_string (event->type), error, seconds,
              check->allow_on_error ? "allow" : "deny");
      if (!check->allow_on_error)
        {
          decide (request, FALSE, check->name, "check failed");
          return;
        }
    }
  else if (outcome == RH_CHECK_DENIED)
    {
      rh_log (G_LOG_LEVEL_MESSAGE, event->conn_id, event->stream_key, check->name,
              _("check \"%s\" denied %s after %.3fs%s%s"), check->name,
              rh_event_type_to_string (event->type), seconds,
              answer->reason != NULL ? ": " : "", answer->reason != NULL ? answer->reason : "");
      decide (request, FALSE, check->name, answer->reason);
      return;
    }
  else
    {
      rh_log (G_LOG_LEVEL_INFO, event->conn_id, event->stream_key, check->name,
              _("check \"%s\" allowed %s after %.3fs"), check->name,
              rh_event_type_to_string (event->type), seconds);
      if (answer->stream_name != NULL && event->type != RH_EVENT_CONNECT)
        {
          g_free (request->stream_name);
          request->stream_name = g_strdup (answer->stream_name);
          g_free (request->renamed_by);
          request->renamed_by = g_strdup (check->name);
        }
    }
  run_next (request);
}

static void
on_exec_answer (const RhExecResult *result, gpointer user_data)
{
  RhCheckRequest *request = user_data;
  RhCheckAnswer answer = { NULL, NULL };
  g_autofree char *error = NULL;
  int outcome;

  if (result->first_line != NULL)
    rh_check_answer_parse (result->first_line, strlen (result->first_line), &answer);
  if (result->timed_out)
    error = g_strdup ("timeout"), outcome = RH_CHECK_ERROR;
  else if (!result->spawned)
    error = g_strdup ("could not start"), outcome = RH_CHECK_ERROR;
  else if (!result->exited)
    error = g_strdup_printf ("killed by signal %d", result->signal), outcome = RH_CHECK_ERROR;
  else
    outcome = result->exit_status == 0 ? RH_CHECK_ALLOWED : RH_CHECK_DENIED;
  check_answered (request, outcome, &answer, error);
  rh_check_answer_clear (&answer);
}

static void
on_webhook_answer (const RhWebhookResult *result, gpointer user_data)
{
  RhCheckRequest *request = user_data;
  RhCheckAnswer answer = { NULL, NULL };
  g_autofree char *error = NULL;
  int outcome;
  guint status = result->status;

  if (result->body != NULL)
    {
      gsize len;
      const char *data = g_bytes_get_data (result->body, &len);
      rh_check_answer_parse (data, len, &answer);
    }
  if (status >= 200 && status < 300)
    outcome = RH_CHECK_ALLOWED;
  else if (status == 401 || status == 403 || status == 404)
    outcome = RH_CHECK_DENIED;
  else
    {
      outcome = RH_CHECK_ERROR;
      error = status != 0 ? g_strdup_printf ("HTTP %u", status) : g_strdup ("no answer");
    }
  check_answered (request, outcome, &answer, error);
  rh_check_answer_clear (&answer);
}

/* Starts the check's action; FALSE with error when it cannot be sent. */
static gboolean
start_action (RhCheckRequest *request, RhRule *check, char **error)
{
  RhCheckRunner *runner = request->runner;
  const RhAction *action = g_ptr_array_index (check->actions, 0);
  RhActionPlan plan;
  rh_dispatcher_plan (runner->dispatcher, check, action, request->event, &plan);

  if (action->kind == RH_ACTION_EXEC)
    {
      g_autoptr (GBytes) input = rh_action_plan_take_input (&plan);
      rh_exec_run (check->name, (const char *const *) plan.argv, (const char *const *) plan.envp, input,
                   plan.timeout, on_exec_answer, request);
      rh_action_plan_clear (&plan);
      return TRUE;
    }
  g_autoptr (GBytes) signing_key = NULL;
  if (!rh_action_plan_webhook_ready (&plan, &signing_key, error))
    {
      rh_action_plan_clear (&plan);
      return FALSE;
    }
  g_autoptr (GBytes) body = g_bytes_new (plan.input, strlen (plan.input));
  /* No retries: the client is waiting, and on_error decides. */
  rh_webhook_post (rh_dispatcher_get_webhook_client (runner->dispatcher), check->name, plan.url,
                   (const char *const *) plan.headers, signing_key, body, request->event->id,
                   rh_event_type_to_string (request->event->type), 0, plan.timeout,
                   on_webhook_answer, request);
  rh_action_plan_clear (&plan);
  return TRUE;
}

static void
run_next (RhCheckRequest *request)
{
  RhCheckRunner *runner = request->runner;
  if (request->next == request->checks->len)
    {
      decide (request, TRUE, NULL, NULL);
      return;
    }
  RhRule *check = g_ptr_array_index (request->checks, request->next++);
  request->current = rh_rule_ref (check);
  request->current_started_at = g_get_monotonic_time ();
  runner->running++;
  g_autofree char *error = NULL;
  if (runner->running > runner->concurrency)
    error = g_strdup_printf ("check_concurrency (%u) reached", runner->concurrency);
  else if (start_action (request, check, &error))
    return;
  RhCheckAnswer none = { NULL, NULL };
  check_answered (request, RH_CHECK_ERROR, &none, error);
}

static gboolean
on_first_check (gpointer user_data)
{
  RhCheckRequest *request = user_data;
  request->idle_id = 0;
  run_next (request);
  return G_SOURCE_REMOVE;
}

RhCheckRequest *
rh_check_runner_start (RhCheckRunner *runner, RhEvent *event, RhVerdictFunc done, gpointer user_data)
{
  g_autoptr (GPtrArray) matching = rh_check_runner_matching (runner, event);
  if (matching->len == 0)
    return NULL;
  RhCheckRequest *request = g_new0 (RhCheckRequest, 1);
  request->runner = runner;
  request->event = rh_event_ref (event);
  request->checks = g_steal_pointer (&matching);
  request->done = done;
  request->user_data = user_data;
  /* The caller learns the verdict only after this returns, always. */
  request->idle_id = g_idle_add_full (G_PRIORITY_DEFAULT, on_first_check, request, NULL);
  return request;
}

void
rh_check_request_cancel (RhCheckRequest *request)
{
  if (request->current == NULL)
    {
      /* Nothing running that would come back to it. */
      request_free (request);
      return;
    }
  request->cancelled = TRUE;
}

RhHookStats *
rh_check_runner_get_stats (RhCheckRunner *runner)
{
  return runner->stats;
}

guint
rh_check_runner_get_running (RhCheckRunner *runner)
{
  return runner->running;
}
