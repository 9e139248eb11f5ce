/* What an action would do for an event, exactly as it is run: argv and
 * environment, URL, headers, secret, body, timeout. Pure: it takes the
 * rule, the action, the event and the defaults, not the dispatcher, so
 * the dispatcher, the check runner, --fire and the fuzzers plan the same
 * way. */
#pragma once

#include <gio/gio.h>

#include "hooks-settings.h"
#include "rule.h"

G_BEGIN_DECLS

/* What an action would do for an event, exactly as a job runs it. */
typedef struct {
  double timeout;        /* seconds */
  /* exec */
  GStrv argv;
  GStrv envp;
  /* webhook; relay: the URL; record: the path */
  char *url;
  GStrv headers;         /* name, value, ... */
  char *secret;          /* expanded; NULL: unsigned */
  /* exec stdin (NULL: none) or webhook body */
  char *input;
} RhActionPlan;

/* The plan of action for event under rule: templates expanded; for exec
 * the environment is base_env (rh_action_plan_base_environment) with the
 * rule's env and the event's RTMP_* variables on top, later ones
 * winning; timeout is the action's, else default_timeout. */
void rh_action_plan_build (const RhRule *rule, const RhAction *action, const RhEvent *event, double default_timeout,
                           const char *const *base_env, RhActionPlan *plan);
void rh_action_plan_clear (RhActionPlan *plan);
/* Replaces every occurrence of each of secrets in what the plan would
 * show (argv, environment, URL, header values) by "***": a plan about to
 * be printed, never one about to run. */
void rh_action_plan_mask (RhActionPlan *plan, const char *const *secrets);
/* An exec plan's stdin as bytes (empty if none), taken from the plan. */
GBytes *rh_action_plan_take_input (RhActionPlan *plan);
/* A webhook plan that may be sent: no header value with a line break or
 * control character (a client's query can hold one), and a secret that
 * decodes (*signing_key, NULL when unsigned). FALSE with why otherwise. */
gboolean rh_action_plan_webhook_ready (const RhActionPlan *plan, GBytes **signing_key, char **why);

/* What exec actions start from: the daemon's environment, or with
 * environment = "clean" the basic variables and the pass_env names. */
GStrv rh_action_plan_base_environment (const RhHooksSettings *settings);

G_END_DECLS
