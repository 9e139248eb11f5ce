/* A hook rule: which events it reacts to and the action it runs. Rules
 * are immutable and refcounted, so an action that is running keeps the
 * rule it started with across a reload. */
#pragma once

#include <glib.h>

#include "event.h"

G_BEGIN_DECLS

typedef struct {
  gint ref_count;
  char *name;
  guint32 events;    /* bit (1 << RhEventType) per event */
  char **argv;       /* exec: program and arguments, never through a shell */
  double timeout;    /* seconds; 0 = the hooks default */
} RhRule;

RhRule *rh_rule_new_exec (const char *name, guint32 events, const char *const *argv);
RhRule *rh_rule_ref (RhRule *rule);
void rh_rule_unref (RhRule *rule);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RhRule, rh_rule_unref)

static inline gboolean
rh_rule_matches (const RhRule *rule, RhEventType type)
{
  return (rule->events & (1u << type)) != 0;
}

G_END_DECLS
