/* The producer side of a fleet's event log: every event of this node is
 * appended (XADD, MAXLEN ~) to one of cluster.events.shards Redis
 * Streams, rtmphooks:events:N, chosen by a hash of its stream key (of its
 * connection when it has none), so that one stream's events stay in
 * order. The entry's one field, "event", is the JSON envelope the stdio
 * output writes, plus "seq" (this node's counter) and "epoch" (the
 * stream's fencing epoch while this node owns it, else 0).
 *
 * Appends are pipelined on a Redis connection of their own (at most
 * RH_EVENT_LOG_MAX_IN_FLIGHT unanswered) and never block the main loop.
 * While Redis cannot take them they wait in a bounded spool, oldest
 * first; an append whose connection was lost before Redis answered is
 * spooled again (at least once: it may then be in Redis twice). Past the
 * spool an event is dropped, counted and logged; nothing is lost
 * silently. */
#pragma once

#include <glib.h>

#include "redis-link.h"
#include "config/cluster-settings.h"
#include "hooks/event.h"

G_BEGIN_DECLS

#define RH_EVENT_LOG_MAX_IN_FLIGHT 10000

typedef struct _RhEventLog RhEventLog;

/* The fencing epoch of key while this node owns it, or 0. */
typedef gint64 (*RhEventEpochFunc) (const char *stream_key, gpointer user_data);

typedef struct {
  guint64 appended;      /* acknowledged by Redis */
  guint64 dropped;       /* the spool was full, or Redis refused the entry */
  guint64 resent;        /* spooled again after a lost connection */
  guint spooled;         /* waiting for Redis now */
  guint in_flight;       /* sent, not yet answered */
  guint64 seq;           /* the last event's sequence number */
} RhEventLogStats;

RhEventLog *rh_event_log_new (const RhClusterConfig *config, RhEventEpochFunc epoch, gpointer epoch_data);
void rh_event_log_start (RhEventLog *log);
void rh_event_log_free (RhEventLog *log);
void rh_event_log_append (RhEventLog *log, const RhEvent *event);
void rh_event_log_get_stats (const RhEventLog *log, RhEventLogStats *stats);
RhRedisLink *rh_event_log_get_link (RhEventLog *log);
/* The stream (0 .. shards - 1) an event with this key goes to. */
guint rh_event_log_shard (const char *key, guint shards);

G_END_DECLS
