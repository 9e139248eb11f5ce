#include "config.h"

#include "worker-shards.h"

#include <glib/gi18n.h>
#include <string.h>

#include "redis-args.h"
#include "worker-scripts.h"
#include "util/log.h"

struct _RhWorkerShards {
  RhRedisLink *link;
  char *alive_key;
  char *shard_prefix;
  char *worker;
  guint n;
  double claim_after;
  char ttl_ms[24];
  gboolean *owned;
  GHashTable *alive;          /* worker names at the last heartbeat */
  gint64 confirmed_at;        /* monotonic: the last heartbeat Redis answered */
  gboolean beating;           /* a heartbeat in flight */
  RhWorkerShardsOwner owner;
  gpointer owner_data;
};

RhWorkerShards *
rh_worker_shards_new (RhRedisLink *link, const char *group, const char *worker, guint n, double claim_after,
                      const RhWorkerShardsOwner *owner, gpointer owner_data)
{
  RhWorkerShards *shards = g_new0 (RhWorkerShards, 1);
  shards->link = link;
  shards->alive_key = g_strdup_printf (RH_WORKER_KEY_PREFIX "%s", group);
  shards->shard_prefix = g_strdup_printf (RH_WORKER_KEY_PREFIX "%s:shard:", group);
  shards->worker = g_strdup (worker);
  shards->n = n;
  shards->claim_after = claim_after;
  g_snprintf (shards->ttl_ms, sizeof shards->ttl_ms, "%lld", (long long) (claim_after * 1000));
  shards->owned = g_new0 (gboolean, n);
  shards->alive = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  shards->owner = *owner;
  shards->owner_data = owner_data;
  return shards;
}

void
rh_worker_shards_free (RhWorkerShards *shards)
{
  if (shards == NULL)
    return;
  g_hash_table_unref (shards->alive);
  g_free (shards->owned);
  g_free (shards->worker);
  g_free (shards->shard_prefix);
  g_free (shards->alive_key);
  g_free (shards);
}

static void
set_owned (RhWorkerShards *shards, guint shard, gboolean owned)
{
  if (shards->owned[shard] == owned)
    return;
  shards->owned[shard] = owned;
  if (owned)
    shards->owner.gained (shard, shards->owner_data);
  else
    shards->owner.lost (shard, shards->owner_data);
}

/* Without an answer for claim_after, the leases have run out in Redis:
 * another worker may hold these shards now. */
static void
lose_all_if_expired (RhWorkerShards *shards)
{
  if (g_get_monotonic_time () - shards->confirmed_at < (gint64) (shards->claim_after * G_USEC_PER_SEC))
    return;
  for (guint i = 0; i < shards->n; i++)
    set_owned (shards, i, FALSE);
}

static void
on_release_reply (RhRedisResult result, const redisReply *reply, gpointer user_data)
{
}

/* More than the fair share: the highest shards over it go back, each
 * once the worker has nothing of it in hand. */
static void
release_extras (RhWorkerShards *shards)
{
  guint alive = MAX (g_hash_table_size (shards->alive), 1);
  guint fair = (shards->n + alive - 1) / alive;
  guint owned = rh_worker_shards_count_owned (shards);
  guint extra = owned > fair ? owned - fair : 0;
  for (guint i = shards->n; i-- > 0;)
    {
      if (!shards->owned[i])
        continue;
      if (extra == 0)
        {
          shards->owner.keep (i, shards->owner_data);
          continue;
        }
      extra--;
      if (!shards->owner.give_back (i, shards->owner_data))
        continue;
      RhRedisArgs args;
      rh_redis_args_init_eval (&args, RH_SCRIPT_WORKER_RELEASE);
      rh_redis_args_add (&args, "1");
      rh_redis_args_add_printf (&args, "%s%u", shards->shard_prefix, i);
      rh_redis_args_add (&args, shards->worker);
      rh_redis_args_send (&args, shards->link, on_release_reply, NULL);
      rh_log (G_LOG_LEVEL_INFO, NULL, NULL, NULL, _("worker: shard %u given back (%u live workers)"), i, alive);
      set_owned (shards, i, FALSE);
    }
}

static void
on_beat_reply (RhRedisResult result, const redisReply *reply, gpointer user_data)
{
  RhWorkerShards *shards = user_data;
  shards->beating = FALSE;
  const redisReply *alive = rh_redis_element (reply, 0, REDIS_REPLY_ARRAY);
  const redisReply *mine = rh_redis_element (reply, 1, REDIS_REPLY_ARRAY);
  if (result != RH_REDIS_OK || alive == NULL || mine == NULL)
    {
      lose_all_if_expired (shards);
      return;
    }
  shards->confirmed_at = g_get_monotonic_time ();
  g_hash_table_remove_all (shards->alive);
  for (size_t i = 0; i < alive->elements; i++)
    if (alive->element[i]->type == REDIS_REPLY_STRING)
      g_hash_table_add (shards->alive, g_strndup (alive->element[i]->str, alive->element[i]->len));
  g_autofree gboolean *now = g_new0 (gboolean, shards->n);
  for (size_t i = 0; i < mine->elements; i++)
    if (mine->element[i]->type == REDIS_REPLY_INTEGER && mine->element[i]->integer >= 0
        && (guint64) mine->element[i]->integer < shards->n)
      now[mine->element[i]->integer] = TRUE;
  for (guint i = 0; i < shards->n; i++)
    set_owned (shards, i, now[i]);
  release_extras (shards);
}

static void
send_beat (RhWorkerShards *shards, gboolean staying, RhRedisReplyFunc done, gpointer data)
{
  RhRedisArgs args;
  rh_redis_args_init_eval (&args, RH_SCRIPT_WORKER_BEAT);
  rh_redis_args_add (&args, "1");
  rh_redis_args_add (&args, shards->alive_key);
  rh_redis_args_add (&args, shards->worker);
  rh_redis_args_add (&args, shards->ttl_ms);
  rh_redis_args_add_printf (&args, "%u", shards->n);
  rh_redis_args_add (&args, shards->shard_prefix);
  rh_redis_args_add (&args, staying ? "1" : "0");
  rh_redis_args_send (&args, shards->link, done, data);
}

void
rh_worker_shards_beat (RhWorkerShards *shards)
{
  if (shards->beating)
    return;
  shards->beating = TRUE;
  send_beat (shards, TRUE, on_beat_reply, shards);
}

typedef struct {
  void (*done) (gpointer data);
  gpointer data;
} Leave;

static void
on_leave_reply (RhRedisResult result, const redisReply *reply, gpointer user_data)
{
  Leave *leave = user_data;
  leave->done (leave->data);
  g_free (leave);
}

void
rh_worker_shards_leave (RhWorkerShards *shards, void (*done) (gpointer data), gpointer data)
{
  for (guint i = 0; i < shards->n; i++)
    set_owned (shards, i, FALSE);
  Leave *leave = g_new0 (Leave, 1);
  leave->done = done;
  leave->data = data;
  send_beat (shards, FALSE, on_leave_reply, leave);
}

gboolean
rh_worker_shards_owns (const RhWorkerShards *shards, guint shard)
{
  return shard < shards->n && shards->owned[shard];
}

guint
rh_worker_shards_count_owned (const RhWorkerShards *shards)
{
  guint owned = 0;
  for (guint i = 0; i < shards->n; i++)
    owned += shards->owned[i] ? 1 : 0;
  return owned;
}

gboolean
rh_worker_shards_is_alive (const RhWorkerShards *shards, const char *worker)
{
  return g_hash_table_contains (shards->alive, worker);
}

guint
rh_worker_shards_count_alive (const RhWorkerShards *shards)
{
  return g_hash_table_size (shards->alive);
}
