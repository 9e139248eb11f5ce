/* Edge pulls, in a fleet: a player here waits for a stream another node
 * owns, so this node plays it from there (a client session in the play
 * role, marked as a relay in its connect so that loops are refused) and
 * feeds a local stream with it, GOP cache and all: one upstream
 * connection for every local player. A pull ends when the owner's
 * publish ends (the owner says UnpublishNotify), when its connection
 * fails, or pull_idle seconds after its last local player left; each
 * ending is a pull_stop event (pull_start when it began), never a
 * play_start or publish_start. */
#pragma once

#include <glib.h>

#include "client-session.h"
#include "registry.h"

G_BEGIN_DECLS

typedef struct _RhPulls RhPulls;

typedef struct {
  guint active;
  guint64 started;       /* pulls that reached the owner's stream */
  guint64 failed;        /* attempts that never did */
  guint64 bytes;         /* received by pulls, ended and live */
} RhPullsCounters;

RhPulls *rh_pulls_new (RhRegistry *registry);
/* Ends every pull at once (reason server_shutdown). */
void rh_pulls_free (RhPulls *pulls);
/* How new pulls check rtmps:// owners, and how long they outlive their
 * last player. */
void rh_pulls_configure (RhPulls *pulls, const RhClientTls *tls, double idle_seconds);
/* Pulls key ("app/name") from url (the owner's advertise URL + /app/name)
 * unless a pull of key runs already or the key is live here. */
void rh_pulls_start (RhPulls *pulls, const char *key, const char *url, const char *origin_node);
/* Ends every pull (reason server_shutdown), with its pull_stop. */
void rh_pulls_stop_all (RhPulls *pulls);
void rh_pulls_get_counters (RhPulls *pulls, RhPullsCounters *counters);

G_END_DECLS
