#include "config.h"

#include "dry-run.h"

#include <glib/gi18n.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hooks/check-runner.h"
#include "hooks/dispatcher.h"
#include "hooks/exec-action.h"

/* key=value pairs into an event; FALSE with a message on stderr. */
static RhEvent *
build_event (RhEventType type, const char *const *assignments)
{
  const char *conn_id = NULL, *stream_key = NULL, *app = NULL, *name = NULL;
  for (const char *const *a = assignments; a != NULL && *a != NULL; a++)
    {
      const char *equals = strchr (*a, '=');
      if (equals == NULL)
        {
          fprintf (stderr, _("rtmphooksd: --fire: \"%s\" is not key=value\n"), *a);
          return NULL;
        }
      g_autofree char *key = g_strndup (*a, (gsize) (equals - *a));
      if (strcmp (key, "conn_id") == 0)
        conn_id = equals + 1;
      else if (strcmp (key, "stream_key") == 0)
        stream_key = equals + 1;
      else if (strcmp (key, "app") == 0)
        app = equals + 1;
      else if (strcmp (key, "stream_name") == 0)
        name = equals + 1;
    }
  gboolean has_conn = rh_event_type_has_field (type, "conn_id", NULL);
  gboolean has_key = rh_event_type_has_field (type, "stream_key", NULL);
  g_autofree char *derived_key = app != NULL && name != NULL ? g_strconcat (app, "/", name, NULL) : NULL;
  g_autoptr (RhEvent) event = rh_event_new (type, has_conn ? (conn_id != NULL ? conn_id : "c000000") : NULL,
                                            has_key ? (stream_key != NULL ? stream_key : derived_key) : NULL);

  for (const char *const *a = assignments; a != NULL && *a != NULL; a++)
    {
      const char *equals = strchr (*a, '=');
      g_autofree char *key = g_strndup (*a, (gsize) (equals - *a));
      const char *value = equals + 1;
      RhFieldType field_type;
      if (strcmp (key, "conn_id") == 0 || strcmp (key, "stream_key") == 0)
        {
          if (!rh_event_type_has_field (type, key, NULL))
            {
              fprintf (stderr, _("rtmphooksd: --fire: %s does not carry %s\n"),
                       rh_event_type_to_string (type), key);
              return NULL;
            }
          continue;
        }
      if (strcmp (key, "type") == 0 || strcmp (key, "timestamp") == 0 || strcmp (key, "id") == 0
          || !rh_event_type_has_field (type, key, &field_type))
        {
          fprintf (stderr, _("rtmphooksd: --fire: %s does not carry a data field %s\n"),
                   rh_event_type_to_string (type), key);
          return NULL;
        }
      /* The schema owns the field's name: take its static key. */
      if (field_type == RH_FIELD_NUMBER)
        {
          char *end = NULL;
          gint64 number = g_ascii_strtoll (value, &end, 10);
          if (*value == '\0' || *end != '\0')
            {
              fprintf (stderr, _("rtmphooksd: --fire: %s must be an integer\n"), key);
              return NULL;
            }
          rh_event_add_number (event, g_intern_string (key), number);
        }
      else if (field_type == RH_FIELD_BOOLEAN)
        {
          if (strcmp (value, "true") != 0 && strcmp (value, "false") != 0)
            {
              fprintf (stderr, _("rtmphooksd: --fire: %s must be true or false\n"), key);
              return NULL;
            }
          rh_event_add_boolean (event, g_intern_string (key), strcmp (value, "true") == 0);
        }
      else
        {
          rh_event_add_string (event, g_intern_string (key), value);
        }
    }
  return g_steal_pointer (&event);
}

static void
print_strv_json (const char *label, char **values)
{
  printf ("    %s: [", label);
  for (char **v = values; v != NULL && *v != NULL; v++)
    {
      g_autofree char *escaped = g_strescape (*v, NULL);
      printf ("%s\"%s\"", v == values ? "" : ", ", escaped);
    }
  printf ("]\n");
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
print_plan (const RhAction *action, const RhActionPlan *plan, const RhEvent *event)
{
  if (action->kind == RH_ACTION_EXEC)
    {
      if (action->managed)
        printf ("  exec (lifetime stream: until the matching stop, restarted after %gs, doubling)\n",
                action->restart_delay);
      else
        printf ("  exec (timeout %gs)\n", plan->timeout);
      print_strv_json ("argv", plan->argv);
      printf ("    environment:\n");
      guint n = g_strv_length (plan->envp);
      g_autofree char **sorted = g_memdup2 (plan->envp, sizeof (char *) * n);
      qsort (sorted, n, sizeof (char *), compare_strings);
      for (guint i = 0; i < n; i++)
        printf ("      %s\n", sorted[i]);
      printf ("    stdin: %s", plan->input != NULL ? plan->input : "(nothing)\n");
      return;
    }
  if (action->kind == RH_ACTION_RECORD)
    {
      printf ("  record (until the publish ends)\n    path: %s (under the recording directory)\n", plan->url);
      return;
    }
  if (action->kind == RH_ACTION_RELAY)
    {
      printf ("  relay (until the publish ends)\n    url: %s\n", plan->url);
      return;
    }
  if (action->kind == RH_ACTION_WEBHOOK && event->type >= RH_EVENT_FIRST_CHECK)
    printf ("  webhook (timeout %gs, never retried)\n", plan->timeout);
  else
    printf ("  webhook (timeout %gs, %d retries)\n", plan->timeout, action->retries);
  printf ("    POST %s\n", plan->url);
  for (char **h = plan->headers; h != NULL && h[0] != NULL && h[1] != NULL; h += 2)
    printf ("    %s: %s\n", h[0], h[1]);
  printf ("    Content-Type: application/json\n");
  printf ("    webhook-id: %s\n", event->id);
  printf ("    Idempotency-Key: %s\n", event->id);
  printf ("    X-RTMPHooks-Event: %s\n", rh_event_type_to_string (event->type));
  if (plan->secret != NULL)
    printf ("    webhook-timestamp, webhook-signature: made when sent, with the secret\n");
  printf ("    body: %s\n", plan->input);
}

static gboolean
on_poll (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

/* Runs the event through a dispatcher until every action is done. */
static int
run_event (RhDispatcher *dispatcher, RhEvent *event)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  /* A program that exits without reading its stdin must cost an EPIPE,
   * not the process (the daemon does the same). */
  signal (SIGPIPE, SIG_IGN);
  rh_dispatcher_emit (dispatcher, event);
  while (rh_dispatcher_get_running (dispatcher) > 0 || rh_dispatcher_get_queued (dispatcher) > 0)
    {
      g_timeout_add (20, on_poll, loop);
      g_main_loop_run (loop);
    }
  g_autoptr (GPtrArray) rules = rh_hook_stats_list (rh_dispatcher_get_stats (dispatcher));
  int status = 0;
  printf ("results:\n");
  for (guint i = 0; i < rules->len; i++)
    {
      const RhRuleStats *rule = g_ptr_array_index (rules, i);
      for (int r = 0; r < RH_HOOK_N_RESULTS; r++)
        if (rule->runs[r] > 0)
          printf ("  %s: %s%s%s (%.3f s)\n", rule->rule,
                  rh_hook_stats_result_name (rh_dispatcher_get_stats (dispatcher), r),
                  r != RH_HOOK_RESULT_OK && rule->last_error != NULL ? ": " : "",
                  r != RH_HOOK_RESULT_OK && rule->last_error != NULL ? rule->last_error : "",
                  rule->duration_sum);
      if (rule->runs[RH_HOOK_RESULT_FAILED] + rule->runs[RH_HOOK_RESULT_TIMEOUT] > 0)
        status = 1;
    }
  /* Managed processes would outlive the dry run. */
  guint killed = rh_exec_kill_all ();
  if (killed > 0)
    printf ("  (%u process(es) with lifetime stream stopped at the end of the dry run)\n", killed);
  return status;
}

typedef struct {
  GMainLoop *loop;
  gboolean decided;
  gboolean allowed;
} CheckWait;

static void
on_verdict (const RhVerdict *verdict, gpointer user_data)
{
  CheckWait *wait = user_data;
  wait->decided = TRUE;
  wait->allowed = verdict->allowed;
  if (verdict->allowed)
    printf ("verdict: allowed%s%s%s%s\n", verdict->stream_name != NULL ? ", renamed to " : "",
            verdict->stream_name != NULL ? verdict->stream_name : "",
            verdict->check != NULL ? " by " : "", verdict->check != NULL ? verdict->check : "");
  else
    printf ("verdict: denied by \"%s\"%s%s\n", verdict->check, verdict->reason != NULL ? ": " : "",
            verdict->reason != NULL ? verdict->reason : "");
  g_main_loop_quit (wait->loop);
}

/* The checks matching a request, what they would run, and with run the
 * verdict; exit status 1 when denied. */
static int
dry_run_checks (RhConfig *config, RhDispatcher *dispatcher, RhEvent *event, gboolean run)
{
  g_autoptr (RhCheckRunner) runner = rh_check_runner_new (dispatcher);
  rh_check_runner_configure (runner, &config->hooks);
  g_auto (GStrv) secrets = rh_hooks_settings_secret_values (&config->hooks);
  for (guint i = 0; i < config->hooks.checks->len; i++)
    {
      const RhRule *check = g_ptr_array_index (config->hooks.checks, i);
      if (!(check->events & (1u << event->type)))
        continue;
      if (!rh_rule_matches (check, event))
        {
          printf ("check \"%s\": its conditions do not hold\n", check->name);
          continue;
        }
      printf ("check \"%s\": matches (on_error = %s)\n", check->name, check->allow_on_error ? "allow" : "deny");
      const RhAction *action = g_ptr_array_index (check->actions, 0);
      RhActionPlan plan;
      rh_dispatcher_plan (dispatcher, check, action, event, &plan);
      rh_action_plan_mask (&plan, (const char *const *) secrets);
      print_plan (action, &plan, event);
      rh_action_plan_clear (&plan);
    }
  fflush (stdout);
  if (!run)
    return 0;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  CheckWait wait = { loop, FALSE, FALSE };
  signal (SIGPIPE, SIG_IGN);
  RhCheckRequest *request = rh_check_runner_start (runner, event, on_verdict, &wait);
  if (request == NULL)
    {
      printf ("verdict: allowed (no check matches)\n");
      return 0;
    }
  g_main_loop_run (loop);
  return wait.allowed ? 0 : 1;
}

int
rh_dry_run (RhConfig *config, const char *event_name, const char *const *assignments, gboolean run)
{
  RhEventType type;
  if (!rh_event_type_from_string (event_name, &type))
    {
      g_autofree char *known = rh_event_type_list ((1u << RH_EVENT_N_TYPES) - 1);
      fprintf (stderr, _("rtmphooksd: --fire: unknown event \"%s\" (one of %s)\n"), event_name, known);
      return 2;
    }
  g_autoptr (RhEvent) event = build_event (type, assignments);
  if (event == NULL)
    return 2;
  g_autofree char *json = rh_event_to_json (event);
  printf ("event: %s\n", json);

  RhDispatcher *dispatcher = rh_dispatcher_new (STDOUT_FILENO);
  rh_dispatcher_configure (dispatcher, &config->hooks);
  if (type >= RH_EVENT_FIRST_CHECK)
    {
      int status = dry_run_checks (config, dispatcher, event, run);
      fflush (stdout);
      rh_dispatcher_free (dispatcher);
      return status;
    }
  guint matched = 0;
  g_auto (GStrv) secrets = rh_hooks_settings_secret_values (&config->hooks);
  for (guint i = 0; i < config->hooks.rules->len; i++)
    {
      const RhRule *rule = g_ptr_array_index (config->hooks.rules, i);
      if (!(rule->events & (1u << type)))
        continue;
      if (!rh_rule_matches (rule, event))
        {
          printf ("rule \"%s\": its conditions do not hold\n", rule->name);
          continue;
        }
      matched++;
      printf ("rule \"%s\": matches\n", rule->name);
      for (guint a = 0; a < rule->actions->len; a++)
        {
          const RhAction *action = g_ptr_array_index (rule->actions, a);
          RhActionPlan plan;
          rh_dispatcher_plan (dispatcher, rule, action, event, &plan);
          rh_action_plan_mask (&plan, (const char *const *) secrets);
          print_plan (action, &plan, event);
          rh_action_plan_clear (&plan);
        }
    }
  if (matched == 0)
    printf ("no rule matches\n");
  fflush (stdout);
  int status = run ? run_event (dispatcher, event) : 0;
  fflush (stdout);
  rh_dispatcher_free (dispatcher);
  return status;
}
