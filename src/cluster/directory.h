/* The fleet's stream directory, on Redis (redis-link.h): one owner per
 * stream key, never two.
 *   - A publish claims its key with a fencing epoch before it is
 *     accepted; a key another live node owns is refused, naming it.
 *   - Every heartbeat renews this node's liveness and its claims in one
 *     script; a claim found in another node's hands, or fenced by a newer
 *     epoch, drops its publisher (lease_lost). A claim whose lease ran out
 *     while Redis was unreachable, or that Redis forgot (restarted
 *     empty), is put back.
 *   - A node whose liveness expired with streams still listed: exactly
 *     one survivor reports each of them once (publish_stop, node_lost).
 *   - A player waiting for a key another node owns makes the server pull
 *     it from there.
 * Redis unreachable never ends a live stream; new publishes then follow
 * cluster.when_backend_down. */
#pragma once

#include <glib.h>

#include "config/cluster-settings.h"
#include "redis-link.h"
#include "server/server.h"

G_BEGIN_DECLS

typedef struct _RhDirectory RhDirectory;

/* A node as the last survey saw it. */
typedef struct {
  char *node_id;
  char *advertise;   /* NULL: its liveness expired */
  GStrv streams;     /* keys it claims */
} RhClusterNode;

typedef struct {
  guint64 claims_granted;
  guint64 claims_refused;         /* owned by another node */
  guint64 claims_backend_down;    /* decided without Redis (refused, or local) */
  guint64 claims_garbage;         /* took over a value that was not a record */
  guint64 lease_lost;
  guint64 reasserted;
  guint64 node_lost_reported;     /* streams this node reported lost */
  guint64 pulls_requested;
  guint claims;                   /* keys this node owns now */
} RhDirectoryStats;

RhDirectory *rh_directory_new (const RhClusterConfig *config, RhServer *server);
/* Connects and starts the heartbeat; the server asks it from now on. */
void rh_directory_start (RhDirectory *directory);
void rh_directory_free (RhDirectory *directory);

gboolean rh_directory_backend_up (const RhDirectory *directory);
const char *rh_directory_backend_problem (const RhDirectory *directory);
const char *rh_directory_node_id (const RhDirectory *directory);
/* RhClusterNode*, from the last heartbeat; owned by the directory. */
const GPtrArray *rh_directory_get_nodes (const RhDirectory *directory);
void rh_directory_get_stats (const RhDirectory *directory, RhDirectoryStats *stats);
RhRedisLink *rh_directory_get_link (RhDirectory *directory);
/* The fencing epoch of key while this node owns it, else 0. */
gint64 rh_directory_get_epoch (const char *key, gpointer directory);

G_END_DECLS
