#include "config.h"

#include "rule.h"

RhNamedTemplate *
rh_named_template_new (const char *name, RhTemplate *value)
{
  RhNamedTemplate *named = g_new0 (RhNamedTemplate, 1);
  named->name = g_strdup (name);
  named->value = value;
  return named;
}

void
rh_named_template_free (RhNamedTemplate *named)
{
  g_free (named->name);
  rh_template_free (named->value);
  g_free (named);
}

RhAction *
rh_action_new (RhActionKind kind)
{
  RhAction *action = g_new0 (RhAction, 1);
  action->kind = kind;
  action->argv = g_ptr_array_new_with_free_func ((GDestroyNotify) rh_template_free);
  action->headers = g_ptr_array_new_with_free_func ((GDestroyNotify) rh_named_template_free);
  action->stdin_json = TRUE;
  action->retries = 3;
  action->restart_delay = 1.0;
  action->tls_verify = -1;
  return action;
}

void
rh_action_free (RhAction *action)
{
  g_ptr_array_unref (action->argv);
  g_ptr_array_unref (action->headers);
  rh_template_free (action->url);
  rh_template_free (action->path);
  rh_template_free (action->secret);
  g_clear_object (&action->ca_database);
  g_free (action);
}

RhRule *
rh_rule_new (const char *name, guint32 events)
{
  RhRule *rule = g_new0 (RhRule, 1);
  rule->ref_count = 1;
  rule->name = g_strdup (name);
  rule->events = events;
  rule->conditions = g_ptr_array_new_with_free_func ((GDestroyNotify) rh_condition_free);
  rule->env = g_ptr_array_new_with_free_func ((GDestroyNotify) rh_named_template_free);
  rule->actions = g_ptr_array_new_with_free_func ((GDestroyNotify) rh_action_free);
  return rule;
}

RhRule *
rh_rule_new_script (const char *name, guint32 events, const char *path)
{
  RhRule *rule = rh_rule_new (name, events);
  RhAction *action = rh_action_new (RH_ACTION_EXEC);
  g_ptr_array_add (action->argv, rh_template_new_literal (path));
  g_ptr_array_add (rule->actions, action);
  return rule;
}

RhRule *
rh_rule_new_webhook (const char *name, guint32 events, RhTemplate *url)
{
  RhRule *rule = rh_rule_new (name, events);
  RhAction *action = rh_action_new (RH_ACTION_WEBHOOK);
  action->url = url;
  g_ptr_array_add (rule->actions, action);
  return rule;
}

static RhRule *
rule_new_output (const char *name, RhActionKind kind, RhTemplate *target)
{
  RhRule *rule = rh_rule_new (name, 1u << RH_EVENT_PUBLISH_START);
  RhAction *action = rh_action_new (kind);
  if (kind == RH_ACTION_RECORD)
    action->path = target;
  else
    action->url = target;
  g_ptr_array_add (rule->actions, action);
  return rule;
}

RhRule *
rh_rule_new_record (const char *name, RhTemplate *path)
{
  return rule_new_output (name, RH_ACTION_RECORD, path);
}

RhRule *
rh_rule_new_relay (const char *name, RhTemplate *url)
{
  return rule_new_output (name, RH_ACTION_RELAY, url);
}

RhRule *
rh_rule_ref (RhRule *rule)
{
  rule->ref_count++;
  return rule;
}

void
rh_rule_unref (RhRule *rule)
{
  if (rule == NULL || --rule->ref_count > 0)
    return;
  g_free (rule->name);
  g_ptr_array_unref (rule->conditions);
  g_ptr_array_unref (rule->env);
  g_ptr_array_unref (rule->actions);
  g_free (rule);
}

gboolean
rh_rule_matches (const RhRule *rule, const RhEvent *event)
{
  if ((rule->events & (1u << event->type)) == 0)
    return FALSE;
  for (guint i = 0; i < rule->conditions->len; i++)
    if (!rh_condition_matches (g_ptr_array_index (rule->conditions, i), event))
      return FALSE;
  return TRUE;
}

const RhCondition *
rh_rule_first_failing (const RhRule *rule, const RhEvent *event)
{
  for (guint i = 0; i < rule->conditions->len; i++)
    if (!rh_condition_matches (g_ptr_array_index (rule->conditions, i), event))
      return g_ptr_array_index (rule->conditions, i);
  return NULL;
}
