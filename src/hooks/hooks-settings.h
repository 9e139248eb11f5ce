/* The hooks section of rtmphooks.conf as the hook engine takes it:
 * limits, defaults for actions, the rules and the decision checks. The
 * configuration loader fills it; the dispatcher and the check runner
 * read it. */
#pragma once

#include "rule.h"
#include "stdio-output.h"

G_BEGIN_DECLS

/* What exec actions inherit from the daemon's environment. */
typedef enum {
  RH_HOOK_ENVIRONMENT_INHERIT,   /* all of it */
  RH_HOOK_ENVIRONMENT_CLEAN,     /* PATH, LANG, ... and pass_env */
} RhHookEnvironment;

typedef struct {
  double timeout;          /* seconds, per action unless the rule sets one */
  gint concurrency;
  gint queue;
  RhStdioFormat stdio;
  gint require_https;      /* default for webhooks: RH_REQUIRE_HTTPS_* */
  gint environment;        /* RhHookEnvironment */
  GStrv pass_env;          /* with RH_HOOK_ENVIRONMENT_CLEAN: names or globs passed on */
  /* Environment variables the configuration reads as secrets (webhook
   * and check secrets and Authorization headers, http.token): never
   * passed to hooks unless pass_env names them, masked wherever actions
   * are shown (--fire, debug logs). */
  GStrv secret_variables;
  gint max_processes;      /* managed processes (lifetime = "stream") at most */
  gint check_concurrency;  /* decision check actions running at once */
  GPtrArray *rules;        /* RhRule* */
  GPtrArray *checks;       /* RhRule* with is_check, in order */
} RhHooksSettings;

/* The built-in defaults (rules left alone): the one place they are set,
 * for the configuration loader and a dispatcher not yet configured. */
void rh_hooks_settings_set_defaults (RhHooksSettings *settings);

/* Adds name to secret_variables, once. */
void rh_hooks_settings_add_secret_variable (RhHooksSettings *settings, const char *name);
/* The values the secret variables hold in the daemon's environment now
 * (those set and not empty). */
GStrv rh_hooks_settings_secret_values (const RhHooksSettings *settings);

G_END_DECLS
