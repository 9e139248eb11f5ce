#include "config.h"

#include "rule.h"

RhRule *
rh_rule_new_exec (const char *name, guint32 events, const char *const *argv)
{
  RhRule *rule = g_new0 (RhRule, 1);
  rule->ref_count = 1;
  rule->name = g_strdup (name);
  rule->events = events;
  rule->argv = g_strdupv ((char **) argv);
  return rule;
}

RhRule *
rh_rule_ref (RhRule *rule)
{
  g_atomic_int_inc (&rule->ref_count);
  return rule;
}

void
rh_rule_unref (RhRule *rule)
{
  if (rule == NULL || !g_atomic_int_dec_and_test (&rule->ref_count))
    return;
  g_free (rule->name);
  g_strfreev (rule->argv);
  g_free (rule);
}
