/* An event read back from its JSON envelope: what a hook worker takes
 * from the fleet's event log. The envelope is outside input (any program
 * with access to Redis may write an entry), so everything is checked: a
 * known notification type, an id fit for a webhook-id header, values of
 * the kind the schema gives each field. Data fields a newer node knows
 * and this build does not are skipped, so a fleet can be upgraded one
 * machine at a time. */
#pragma once

#include "event.h"

G_BEGIN_DECLS

/* At most this many bytes in an id (the producer's are ~20). */
#define RH_EVENT_ID_MAX 128

/* The event json describes (len bytes, not NUL-terminated), with its own
 * id, timestamp and node_id; NULL with why (one line, for logs and dead
 * letters) when it is not a valid envelope. */
RhEvent *rh_event_from_json (const char *json, gsize len, char **why);

G_END_DECLS
