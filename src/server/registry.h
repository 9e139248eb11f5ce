/* Every stream key with a publisher or a waiting player. The registry
 * holds the stream policy (applied to every stream, also on reload) and
 * the event sink through which stream events leave. */
#pragma once

#include "directory.h"
#include "emit.h"
#include "stream.h"
#include "types.h"

G_BEGIN_DECLS

RhRegistry *rh_registry_new (const RhEventSink *sink, const RhStreamPolicy *policy);
void rh_registry_free (RhRegistry *registry);

/* The stream for app/name, created (empty) if there is none. */
RhStream *rh_registry_obtain (RhRegistry *registry, const char *app, const char *name);
RhStream *rh_registry_lookup (RhRegistry *registry, const char *app, const char *name);
/* The same by the stream key, "app/name". */
RhStream *rh_registry_lookup_key (RhRegistry *registry, const char *key);
/* A stream key's parts (an application name has no '/'); FALSE for a key
 * without one. */
gboolean rh_registry_split_key (const char *key, char **app, char **name);
/* Forgets the stream if it has neither publisher, pull nor players any more. */
void rh_registry_release (RhRegistry *registry, RhStream *stream);
guint rh_registry_get_n_streams (RhRegistry *registry);

/* A new policy for every stream, live ones included. */
void rh_registry_set_policy (RhRegistry *registry, const RhStreamPolicy *policy);
const RhEventSink *rh_registry_get_sink (RhRegistry *registry);
/* In a fleet, the stream directory publishes claim keys from. */
void rh_registry_set_directory (RhRegistry *registry, const RhDirectoryFuncs *funcs, gpointer user_data);
const RhDirectoryHook *rh_registry_get_directory (RhRegistry *registry);

/* A player's play ended: its counts go to the totals. */
void rh_registry_count_ended_player (RhRegistry *registry, const RhPlayer *player);
/* Live counts; player_dropped includes ended players'. */
void rh_registry_get_counters (RhRegistry *registry, guint *streams, guint *publishers, guint *players,
                               guint64 *player_dropped);
/* Publishers whose media stopped for longer than timeout (microseconds)
 * while their connection stays up: media_stall, once per stall. */
void rh_registry_check_stalls (RhRegistry *registry, gint64 now, gint64 timeout);
/* The streams in key order (container only). */
GPtrArray *rh_registry_list_streams (RhRegistry *registry);

G_END_DECLS
