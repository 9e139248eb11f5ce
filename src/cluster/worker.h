/* A hook worker: it consumes the fleet's event log (the Redis Streams
 * rtmphooks:events:N the nodes append to) as one consumer of a consumer
 * group, and runs the rules on each event through the dispatcher, as a
 * node would. Guarantees:
 *  - at least once: an entry is acknowledged (XACK) only when every exec
 *    and webhook action it started has finished, successfully or after
 *    its retries; a worker that dies leaves its entries pending and
 *    another takes them over once this one is no longer alive or they
 *    sat claim_after;
 *  - in order per stream key: a shard has one reader (worker-shards.h),
 *    and a key's next event starts only when its previous one finished;
 *    different keys run concurrently;
 *  - an event that failed max_deliveries times, or an entry that is not
 *    an event, goes to the dead letters (rtmphooks:dead:GROUP), counted,
 *    and the key's later events go on. */
#pragma once

#include <glib.h>

#include "redis-link.h"
#include "config/cluster-settings.h"
#include "config/worker-settings.h"
#include "hooks/dispatcher.h"

G_BEGIN_DECLS

typedef struct _RhWorker RhWorker;

typedef struct {
  gboolean backend_up;
  guint shards_owned;
  guint workers_alive;
  guint held;                 /* entries read, not yet acknowledged */
  guint running;              /* events whose actions run */
  guint64 deliveries;         /* events started, redeliveries included */
  guint64 redeliveries;
  guint64 acked;
  guint64 failures;           /* deliveries with an action that failed */
  guint64 dead_failed;        /* dead letters: failed max_deliveries times */
  guint64 dead_malformed;     /* dead letters: not an event */
  guint64 taken_over;         /* entries claimed from another worker */
  guint64 gone;               /* pending entries trimmed from the stream before delivery */
} RhWorkerStats;

/* Per shard, from XINFO GROUPS (-1: not known yet). */
typedef struct {
  gint64 lag;                 /* entries not yet delivered to the group */
  gint64 pending;             /* delivered, not yet acknowledged */
} RhWorkerShardInfo;

/* max_running: events whose actions may run at once. */
RhWorker *rh_worker_new (const RhClusterConfig *cluster, const RhWorkerConfig *config, RhDispatcher *dispatcher,
                         guint max_running);
void rh_worker_start (RhWorker *worker);
/* Reads nothing more; what runs finishes and is acknowledged, then the
 * worker leaves its group (its shards go to the others at once). */
void rh_worker_stop (RhWorker *worker);
/* After rh_worker_stop: all of that is done. */
gboolean rh_worker_is_stopped (const RhWorker *worker);
void rh_worker_free (RhWorker *worker);
void rh_worker_get_stats (const RhWorker *worker, RhWorkerStats *stats);
guint rh_worker_get_shards (const RhWorker *worker);
void rh_worker_get_shard_info (const RhWorker *worker, guint shard, RhWorkerShardInfo *info);
RhRedisLink *rh_worker_get_link (RhWorker *worker);
const char *rh_worker_get_group (const RhWorker *worker);

G_END_DECLS
