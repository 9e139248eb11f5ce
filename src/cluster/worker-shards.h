/* Which of the event log's shards this hook worker reads: a lease per
 * shard in Redis, renewed by a heartbeat, so that each shard has one
 * reader and one stream key's events run in order. Workers share the
 * shards fairly: each takes free ones up to shards / live workers
 * (rounded up), and one holding more gives back those it is not busy
 * with. A worker that stops beating loses its shards and its place among
 * the live ones after claim_after; one that leaves frees them at once. */
#pragma once

#include <glib.h>

#include "redis-link.h"

G_BEGIN_DECLS

typedef struct _RhWorkerShards RhWorkerShards;

typedef struct {
  void (*gained) (guint shard, gpointer user_data);
  void (*lost) (guint shard, gpointer user_data);
  /* The worker holds more than its share: may this shard go back now
   * (nothing of it in hand)? If not, the worker stops reading it, so
   * that it soon may. */
  gboolean (*give_back) (guint shard, gpointer user_data);
  /* The shard stays with this worker (it may read it again). */
  void (*keep) (guint shard, gpointer user_data);
} RhWorkerShardsOwner;

RhWorkerShards *rh_worker_shards_new (RhRedisLink *link, const char *group, const char *worker, guint shards,
                                      double claim_after, const RhWorkerShardsOwner *owner, gpointer owner_data);
void rh_worker_shards_free (RhWorkerShards *shards);
/* One heartbeat (a no-op while the last is unanswered). */
void rh_worker_shards_beat (RhWorkerShards *shards);
/* Leaves the group: shards freed for the others at once; done is called
 * when Redis answered, or failed to. */
void rh_worker_shards_leave (RhWorkerShards *shards, void (*done) (gpointer data), gpointer data);
gboolean rh_worker_shards_owns (const RhWorkerShards *shards, guint shard);
guint rh_worker_shards_count_owned (const RhWorkerShards *shards);
/* Whether worker was alive at the last heartbeat. */
gboolean rh_worker_shards_is_alive (const RhWorkerShards *shards, const char *worker);
guint rh_worker_shards_count_alive (const RhWorkerShards *shards);

G_END_DECLS
