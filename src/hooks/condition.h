/* One condition of a rule on one event field, as written in the config:
 *   "live"          exact value
 *   "cam*"          glob (* ? [...])
 *   "~^cam[0-9]+$"  regular expression
 *   "!..."          negation of any of the above (or below)
 *   "> 60"          numeric comparison (<, <=, >, >=, ==, !=) on numeric fields
 *   "10.0.0.0/8"    CIDR, on IP fields (client_ip, server_ip)
 * A list of values matches when any of them does. Pure code. */
#pragma once

#include <glib.h>

#include "event.h"

G_BEGIN_DECLS

typedef struct _RhCondition RhCondition;

/* values: one or more texts (any may match). */
RhCondition *rh_condition_new (const char *field, RhFieldType field_type,
                               const char *const *values, GError **error);
void rh_condition_free (RhCondition *condition);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RhCondition, rh_condition_free)

/* An event without the field never matches (negated or not). */
gboolean rh_condition_matches (const RhCondition *condition, const RhEvent *event);
/* As written: field = "value", or field in ["a", "b"]. */
char *rh_condition_describe (const RhCondition *condition);

G_END_DECLS
