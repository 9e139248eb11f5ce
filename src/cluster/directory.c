#include "config.h"

#include "directory.h"

#include "redis-args.h"

#include <glib/gi18n.h>
#include <string.h>

#include "directory-record.h"
#include "directory-scripts.h"
#include "util/log.h"

/* Streams re-located per heartbeat for players waiting on an edge. */
#define MAX_LOCATES_PER_BEAT 64

typedef struct {
  char *key;
  gint64 epoch;      /* 0: accepted while Redis was unreachable, not claimed yet */
  guint publishers;  /* local publishers on it (a replacement overlaps the old one) */
  gboolean claiming; /* an epoch-0 claim is being made now */
  char *generation;  /* of Redis' data when the claim was made */
} Claim;

struct _RhClaimRequest {
  RhDirectory *directory;  /* NULL once the directory is gone */
  char *key;
  RhClaimDoneFunc done;
  gpointer done_data;
  gboolean cancelled;
  /* An answer known at once, given from the main loop (answer_later). */
  guint idle_id;
  gboolean granted;
  gint64 epoch;
  char *refusal;
};

struct _RhDirectory {
  char *node_id;
  char *advertise;
  char *lease_ms;
  double lease;
  double heartbeat;
  gint when_backend_down;
  RhServer *server;
  RhRedisLink *link;
  GHashTable *claims;        /* key -> Claim */
  GHashTable *locating;      /* keys with a locate in flight */
  GPtrArray *requests;       /* RhClaimRequest* in flight */
  GPtrArray *nodes;          /* RhClusterNode* */
  guint heartbeat_id;
  gboolean beat_in_flight;
  gint64 up_since;           /* monotonic; 0 while Redis is down */
  char *generation;          /* of Redis' data; NULL until known on this connection */
  gboolean reporting;        /* dead nodes are reported (logged when it starts) */
  RhDirectoryStats stats;
};

/* ---- small helpers ---- */

static void
claim_free (Claim *claim)
{
  g_free (claim->generation);
  g_free (claim->key);
  g_free (claim);
}

static void
node_free (RhClusterNode *node)
{
  g_free (node->node_id);
  g_free (node->advertise);
  g_strfreev (node->streams);
  g_free (node);
}

/* ---- claims (RhDirectoryFuncs) ---- */

/* Connected, and the generation of Redis' data known. */
static gboolean
ready (const RhDirectory *directory)
{
  return rh_redis_link_is_up (directory->link) && directory->generation != NULL;
}

static Claim *
add_claim (RhDirectory *directory, const char *key, gint64 epoch)
{
  Claim *claim = g_new0 (Claim, 1);
  claim->key = g_strdup (key);
  claim->epoch = epoch;
  claim->generation = epoch > 0 ? g_strdup (directory->generation) : NULL;
  claim->publishers = 1;
  g_hash_table_replace (directory->claims, claim->key, claim);
  return claim;
}

static void directory_release (const char *key, gpointer user_data);

static void
request_free (RhClaimRequest *request)
{
  g_free (request->key);
  g_free (request->refusal);
  g_free (request);
}

/* A claim granted for a publisher that left meanwhile is given back. */
static void
request_finish (RhClaimRequest *request, gboolean granted, gint64 epoch, const char *refusal)
{
  RhDirectory *directory = request->directory;
  if (directory != NULL)
    g_ptr_array_remove_fast (directory->requests, request);
  if (!request->cancelled)
    request->done (granted, epoch, refusal, request->done_data);
  else if (granted && directory != NULL)
    directory_release (request->key, directory);
  request_free (request);
}

static gboolean
on_answer_later (gpointer data)
{
  RhClaimRequest *request = data;
  request->idle_id = 0;
  request_finish (request, request->granted, request->epoch, request->refusal);
  return G_SOURCE_REMOVE;
}

/* The session waits inside claim () for its request: an answer known at
 * once comes from the next main-loop turn. */
static void
answer_later (RhClaimRequest *request, gboolean granted, gint64 epoch, const char *refusal)
{
  request->granted = granted;
  request->epoch = epoch;
  request->refusal = g_strdup (refusal);
  request->idle_id = g_idle_add (on_answer_later, request);
}

static void send_release (RhDirectory *directory, const char *key, gint64 epoch);

/* Without Redis: refuse, or accept unclaimed (claimed when it is back). */
static void
decide_without_backend (RhDirectory *directory, RhClaimRequest *request)
{
  directory->stats.claims_backend_down++;
  if (directory->when_backend_down == RH_BACKEND_DOWN_LOCAL)
    {
      rh_log (G_LOG_LEVEL_WARNING, NULL, request->key, NULL,
              _("cluster: Redis is unreachable: publish of %s accepted locally (cluster.when_backend_down = "
                "\"local\"), claimed when Redis is back"), request->key);
      add_claim (directory, request->key, 0);
      answer_later (request, TRUE, 0, NULL);
      return;
    }
  rh_log (G_LOG_LEVEL_WARNING, NULL, request->key, NULL,
          _("cluster: Redis is unreachable: publish of %s refused (cluster.when_backend_down = \"refuse\")"),
          request->key);
  answer_later (request, FALSE, 0, "the stream directory is unreachable");
}

static void
on_claim_reply (RhRedisResult result, const redisReply *reply, gpointer user_data)
{
  RhClaimRequest *request = user_data;
  RhDirectory *directory = request->directory;
  if (directory == NULL)
    {
      request_free (request);
      return;
    }
  const redisReply *verdict = rh_redis_element (reply, 0, REDIS_REPLY_INTEGER);
  if (result != RH_REDIS_OK || verdict == NULL)
    {
      if (result == RH_REDIS_REPLY_ERROR)
        rh_log (G_LOG_LEVEL_WARNING, NULL, request->key, NULL, _("cluster: claim of %s failed: %s"), request->key,
                reply->str);
      decide_without_backend (directory, request);
      return;
    }
  if (verdict->integer == 1)
    {
      const redisReply *epoch = rh_redis_element (reply, 1, REDIS_REPLY_INTEGER);
      const redisReply *how = rh_redis_element (reply, 2, REDIS_REPLY_STRING);
      gint64 value = epoch != NULL ? epoch->integer : 0;
      if (request->cancelled)
        {
          /* The publisher left while we asked: give the key back. */
          send_release (directory, request->key, value);
          request_finish (request, FALSE, 0, NULL);
          return;
        }
      if (how != NULL && strcmp (how->str, "garbage") == 0)
        {
          directory->stats.claims_garbage++;
          rh_log (G_LOG_LEVEL_WARNING, NULL, request->key, NULL,
                  _("cluster: the directory held a value for %s that no node wrote: replaced"), request->key);
        }
      directory->stats.claims_granted++;
      Claim *claim = g_hash_table_lookup (directory->claims, request->key);
      if (claim != NULL)
        {
          claim->publishers++;   /* claimed twice at once by local publishers */
          claim->epoch = value;
          g_free (claim->generation);
          claim->generation = g_strdup (directory->generation);
        }
      else
        add_claim (directory, request->key, value);
      rh_log (G_LOG_LEVEL_INFO, NULL, request->key, NULL, "cluster: claimed %s epoch=%" G_GINT64_FORMAT,
              request->key, value);
      request_finish (request, TRUE, value, NULL);
      return;
    }
  const redisReply *owner = rh_redis_element (reply, 1, REDIS_REPLY_STRING);
  RhDirectoryRecord record;
  g_autofree char *refusal = NULL;
  if (owner != NULL && rh_directory_record_parse (owner->str, owner->len, &record))
    refusal = g_strdup_printf ("already published on node %s", record.node_id);
  else
    refusal = g_strdup ("already published on another node");
  directory->stats.claims_refused++;
  rh_log (G_LOG_LEVEL_MESSAGE, NULL, request->key, NULL, _("cluster: publish of %s refused: %s"), request->key,
          refusal);
  request_finish (request, FALSE, 0, refusal);
}

/* weak: for a publish accepted while Redis was unreachable. */
static void
send_claim (RhDirectory *directory, const char *key, gboolean weak, RhRedisReplyFunc done, gpointer user_data)
{
  RhRedisArgs args;
  rh_redis_args_init_eval (&args, RH_SCRIPT_CLAIM);
  rh_redis_args_add (&args, "4");
  rh_redis_args_add_printf (&args, RH_KEY_PREFIX "owner:%s", key);
  rh_redis_args_add_printf (&args, RH_KEY_PREFIX "epoch:%s", key);
  rh_redis_args_add_printf (&args, RH_KEY_PREFIX "streams:%s", directory->node_id);
  rh_redis_args_add (&args, RH_KEY_PREFIX "nodes");
  rh_redis_args_add (&args, directory->node_id);
  rh_redis_args_add (&args, directory->advertise);
  rh_redis_args_add (&args, directory->lease_ms);
  rh_redis_args_add (&args, key);
  rh_redis_args_add (&args, weak ? "weak" : "");
  rh_redis_args_send (&args, directory->link, done, user_data);
}

static RhClaimRequest *
directory_claim (const char *key, RhClaimDoneFunc done, gpointer done_data, gpointer user_data)
{
  RhDirectory *directory = user_data;
  RhClaimRequest *request = g_new0 (RhClaimRequest, 1);
  request->directory = directory;
  request->key = g_strdup (key);
  request->done = done;
  request->done_data = done_data;
  g_ptr_array_add (directory->requests, request);
  Claim *claim = g_hash_table_lookup (directory->claims, key);
  if (claim != NULL)
    {
      /* Ours already: a publisher replacing the one we have. */
      claim->publishers++;
      answer_later (request, TRUE, claim->epoch, NULL);
    }
  else if (!ready (directory))
    decide_without_backend (directory, request);
  else
    send_claim (directory, key, FALSE, on_claim_reply, request);
  return request;
}

static void
directory_cancel (RhClaimRequest *request, gpointer user_data)
{
  request->cancelled = TRUE;
}

static void
on_release_reply (RhRedisResult result, const redisReply *reply, gpointer user_data)
{
  /* Nothing to do: a release that fails leaves a lease that expires. */
}

static void
send_release (RhDirectory *directory, const char *key, gint64 epoch)
{
  if (epoch <= 0)
    return;
  RhRedisArgs args;
  rh_redis_args_init_eval (&args, RH_SCRIPT_RELEASE);
  rh_redis_args_add (&args, "2");
  rh_redis_args_add_printf (&args, RH_KEY_PREFIX "owner:%s", key);
  rh_redis_args_add_printf (&args, RH_KEY_PREFIX "streams:%s", directory->node_id);
  rh_redis_args_add_printf (&args, "%" G_GINT64_FORMAT " %s ", epoch, directory->node_id);
  rh_redis_args_add (&args, key);
  rh_redis_args_send (&args, directory->link, on_release_reply, NULL);
}

static void
directory_release (const char *key, gpointer user_data)
{
  RhDirectory *directory = user_data;
  Claim *claim = g_hash_table_lookup (directory->claims, key);
  if (claim == NULL || --claim->publishers > 0)
    return;
  rh_log (G_LOG_LEVEL_INFO, NULL, key, NULL, "cluster: released %s epoch=%" G_GINT64_FORMAT, key, claim->epoch);
  send_release (directory, key, claim->epoch);
  g_hash_table_remove (directory->claims, key);
}

/* ---- edge pulls ---- */

/* A command about one key (a locate, a late claim) or one node (a
 * report of its streams), answered later. */
typedef struct {
  RhDirectory *directory;
  char *key;
} KeyTask;

static KeyTask *
key_task_new (RhDirectory *directory, const char *key)
{
  KeyTask *task = g_new (KeyTask, 1);
  task->directory = directory;
  task->key = g_strdup (key);
  return task;
}

static void
key_task_free (KeyTask *task)
{
  g_free (task->key);
  g_free (task);
}

static void
on_locate_reply (RhRedisResult result, const redisReply *reply, gpointer user_data)
{
  KeyTask *locate = user_data;
  RhDirectory *directory = locate->directory;
  RhDirectoryRecord record;
  g_hash_table_remove (directory->locating, locate->key);
  if (result == RH_REDIS_OK && reply->type == REDIS_REPLY_STRING
      && rh_directory_record_parse (reply->str, reply->len, &record)
      && strcmp (record.node_id, directory->node_id) != 0)
    {
      /* The key is "app/name": the owner's URL for it. */
      g_autofree char *url = g_strdup_printf ("%s/%s", record.advertise, locate->key);
      directory->stats.pulls_requested++;
      rh_server_start_pull (directory->server, locate->key, url, record.node_id);
    }
  else if (result == RH_REDIS_OK && reply->type == REDIS_REPLY_STRING)
    rh_log (G_LOG_LEVEL_WARNING, NULL, locate->key, NULL,
            _("cluster: the directory entry of %s is not a record: no pull"), locate->key);
  key_task_free (locate);
}

static void
directory_wanted (const char *key, gpointer user_data)
{
  RhDirectory *directory = user_data;
  if (!ready (directory) || g_hash_table_contains (directory->locating, key))
    return;
  KeyTask *locate = key_task_new (directory, key);
  g_hash_table_add (directory->locating, g_strdup (key));
  RhRedisArgs args;
  rh_redis_args_init_eval (&args, RH_SCRIPT_LOCATE);
  rh_redis_args_add (&args, "1");
  rh_redis_args_add_printf (&args, RH_KEY_PREFIX "owner:%s", key);
  rh_redis_args_send (&args, directory->link, on_locate_reply, locate);
}

static const RhDirectoryFuncs directory_funcs = {
  directory_claim, directory_cancel, directory_release, directory_wanted
};

/* ---- the heartbeat ---- */

static void
lose_claim (RhDirectory *directory, const char *key, const char *why)
{
  directory->stats.lease_lost++;
  rh_log (G_LOG_LEVEL_WARNING, NULL, key, NULL, _("cluster: %s: %s; its publisher is dropped (lease_lost)"), key,
          why);
  /* The session's release finds no claim left. */
  g_hash_table_remove (directory->claims, key);
  rh_server_end_publish (directory->server, key, RH_REASON_LEASE_LOST, why);
}

typedef struct {
  RhDirectory *directory;
  GPtrArray *keys;     /* the claims renewed, in script order */
  GArray *epochs;      /* gint64, their epochs then */
} Beat;

static void
on_heartbeat_reply (RhRedisResult result, const redisReply *reply, gpointer user_data)
{
  Beat *beat = user_data;
  RhDirectory *directory = beat->directory;
  directory->beat_in_flight = FALSE;
  for (guint i = 0; result == RH_REDIS_OK && i < beat->keys->len; i++)
    {
      const char *key = g_ptr_array_index (beat->keys, i);
      const redisReply *status = rh_redis_element (reply, i, REDIS_REPLY_STRING);
      Claim *claim = g_hash_table_lookup (directory->claims, key);
      /* Released or re-claimed while the script ran: not this answer's. */
      if (status == NULL || claim == NULL || claim->epoch != g_array_index (beat->epochs, gint64, i))
        continue;
      if (strcmp (status->str, "lost") == 0)
        lose_claim (directory, key, _("another node holds the key now, or a newer epoch was given"));
      else if (strcmp (status->str, "reasserted") == 0)
        {
          directory->stats.reasserted++;
          g_free (claim->generation);
          claim->generation = g_strdup (directory->generation);
          rh_log (G_LOG_LEVEL_MESSAGE, NULL, key, NULL,
                  _("cluster: %s was missing from the directory: claimed again with epoch %lld"), key,
                  (long long) claim->epoch);
        }
    }
  if (result == RH_REDIS_REPLY_ERROR)
    rh_log (G_LOG_LEVEL_WARNING, NULL, NULL, NULL, _("cluster: heartbeat failed: %s"), reply->str);
  g_ptr_array_unref (beat->keys);
  g_array_unref (beat->epochs);
  g_free (beat);
}

static void
send_heartbeat (RhDirectory *directory)
{
  Beat *beat = g_new0 (Beat, 1);
  beat->directory = directory;
  beat->keys = g_ptr_array_new_with_free_func (g_free);
  beat->epochs = g_array_new (FALSE, FALSE, sizeof (gint64));
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init (&iter, directory->claims);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Claim *claim = value;
      if (claim->epoch == 0)
        continue;
      g_ptr_array_add (beat->keys, g_strdup (claim->key));
      g_array_append_val (beat->epochs, claim->epoch);
    }
  RhRedisArgs args;
  rh_redis_args_init_eval (&args, RH_SCRIPT_HEARTBEAT);
  rh_redis_args_add_printf (&args, "%u", 4 + 2 * beat->keys->len);
  rh_redis_args_add_printf (&args, RH_KEY_PREFIX "node:%s", directory->node_id);
  rh_redis_args_add (&args, RH_KEY_PREFIX "nodes");
  rh_redis_args_add_printf (&args, RH_KEY_PREFIX "streams:%s", directory->node_id);
  rh_redis_args_add (&args, RH_KEY_PREFIX "generation");
  for (guint i = 0; i < beat->keys->len; i++)
    {
      rh_redis_args_add_printf (&args, RH_KEY_PREFIX "owner:%s", (char *) g_ptr_array_index (beat->keys, i));
      rh_redis_args_add_printf (&args, RH_KEY_PREFIX "epoch:%s", (char *) g_ptr_array_index (beat->keys, i));
    }
  rh_redis_args_add (&args, directory->node_id);
  rh_redis_args_add (&args, directory->advertise);
  rh_redis_args_add (&args, directory->lease_ms);
  for (guint i = 0; i < beat->keys->len; i++)
    {
      Claim *claim = g_hash_table_lookup (directory->claims, g_ptr_array_index (beat->keys, i));
      rh_redis_args_add_printf (&args, "%" G_GINT64_FORMAT, g_array_index (beat->epochs, gint64, i));
      rh_redis_args_add (&args, g_ptr_array_index (beat->keys, i));
      rh_redis_args_add (&args, claim->generation != NULL ? claim->generation : "");
    }
  directory->beat_in_flight = TRUE;
  rh_redis_args_send (&args, directory->link, on_heartbeat_reply, beat);
}

/* A publish accepted while Redis was unreachable, now claimed: a key
 * another node took meanwhile ends this one (the newer publish). */
static void
on_late_claim_reply (RhRedisResult result, const redisReply *reply, gpointer user_data)
{
  KeyTask *pending = user_data;
  RhDirectory *directory = pending->directory;
  Claim *claim = g_hash_table_lookup (directory->claims, pending->key);
  const redisReply *verdict = rh_redis_element (reply, 0, REDIS_REPLY_INTEGER);
  if (claim != NULL && claim->epoch == 0)
    {
      claim->claiming = FALSE;
      if (result == RH_REDIS_OK && verdict != NULL && verdict->integer == 1)
        {
          const redisReply *epoch = rh_redis_element (reply, 1, REDIS_REPLY_INTEGER);
          claim->epoch = epoch != NULL ? epoch->integer : 0;
          claim->generation = g_strdup (directory->generation);
          rh_log (G_LOG_LEVEL_MESSAGE, NULL, pending->key, NULL,
                  "cluster: %s, accepted while Redis was unreachable, claimed with epoch %" G_GINT64_FORMAT,
                  pending->key, claim->epoch);
        }
      else if (result == RH_REDIS_OK && verdict != NULL)
        lose_claim (directory, pending->key, _("another node published it while Redis was unreachable"));
    }
  key_task_free (pending);
}

static void
claim_unclaimed (RhDirectory *directory)
{
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init (&iter, directory->claims);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Claim *claim = value;
      if (claim->epoch != 0 || claim->claiming)
        continue;
      claim->claiming = TRUE;
      send_claim (directory, claim->key, TRUE, on_late_claim_reply, key_task_new (directory, claim->key));
    }
}

static void
on_reap_reply (RhRedisResult result, const redisReply *reply, gpointer user_data)
{
  KeyTask *pending = user_data;  /* key: the dead node */
  RhDirectory *directory = pending->directory;
  for (size_t i = 0; result == RH_REDIS_OK && reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++)
    {
      const redisReply *pair = reply->element[i];
      const redisReply *key = rh_redis_element (pair, 0, REDIS_REPLY_STRING);
      const redisReply *epoch = rh_redis_element (pair, 1, REDIS_REPLY_INTEGER);
      if (key == NULL || strlen (key->str) != key->len)
        continue;
      directory->stats.node_lost_reported++;
      rh_log (G_LOG_LEVEL_WARNING, NULL, key->str, NULL,
              _("cluster: node %s is gone with %s live on it: publish_stop (node_lost)"), pending->key, key->str);
      rh_server_report_node_lost (directory->server, key->str, pending->key, epoch != NULL ? epoch->integer : 0);
    }
  key_task_free (pending);
}

static void
reap (RhDirectory *directory, const char *dead)
{
  KeyTask *pending = key_task_new (directory, dead);
  RhRedisArgs args;
  rh_redis_args_init_eval (&args, RH_SCRIPT_REAP);
  rh_redis_args_add (&args, "4");
  rh_redis_args_add_printf (&args, RH_KEY_PREFIX "node:%s", dead);
  rh_redis_args_add_printf (&args, RH_KEY_PREFIX "streams:%s", dead);
  rh_redis_args_add_printf (&args, RH_KEY_PREFIX "reap:%s", dead);
  rh_redis_args_add (&args, RH_KEY_PREFIX "nodes");
  rh_redis_args_add (&args, dead);
  rh_redis_args_add (&args, directory->node_id);
  rh_redis_args_add (&args, directory->lease_ms);
  rh_redis_args_send (&args, directory->link, on_reap_reply, pending);
}

/* Reports of dead nodes wait until every node had the time to come back
 * after an outage of Redis itself (a lease, a reconnect, a heartbeat):
 * nodes that were only cut off from Redis with everyone else must not be
 * reported lost. */
static gboolean
may_reap (RhDirectory *directory)
{
  gint64 settled = (gint64) ((directory->lease + 2.0 + directory->heartbeat) * G_USEC_PER_SEC);
  gboolean may = directory->up_since != 0 && g_get_monotonic_time () - directory->up_since > settled;
  if (may && !directory->reporting)
    rh_log (G_LOG_LEVEL_INFO, NULL, NULL, NULL, "cluster: dead nodes are reported from now on");
  directory->reporting = may;
  return may;
}

static void
on_survey_reply (RhRedisResult result, const redisReply *reply, gpointer user_data)
{
  RhDirectory *directory = user_data;
  if (result != RH_REDIS_OK || reply->type != REDIS_REPLY_ARRAY)
    return;
  g_ptr_array_set_size (directory->nodes, 0);
  for (size_t i = 0; i < reply->elements; i++)
    {
      const redisReply *item = reply->element[i];
      const redisReply *id = rh_redis_element (item, 0, REDIS_REPLY_STRING);
      const redisReply *url = rh_redis_element (item, 1, REDIS_REPLY_STRING);
      const redisReply *keys = rh_redis_element (item, 2, REDIS_REPLY_ARRAY);
      if (id == NULL || !rh_cluster_node_id_is_valid (id->str))
        continue;
      RhClusterNode *node = g_new0 (RhClusterNode, 1);
      node->node_id = g_strdup (id->str);
      node->advertise = url != NULL ? g_strndup (url->str, url->len) : NULL;
      GPtrArray *streams = g_ptr_array_new ();
      for (size_t k = 0; keys != NULL && k < keys->elements; k++)
        if (keys->element[k]->type == REDIS_REPLY_STRING && strlen (keys->element[k]->str) == keys->element[k]->len)
          g_ptr_array_add (streams, g_strdup (keys->element[k]->str));
      g_ptr_array_add (streams, NULL);
      node->streams = (GStrv) g_ptr_array_free (streams, FALSE);
      g_ptr_array_add (directory->nodes, node);
    }
  if (!may_reap (directory))
    return;
  for (guint i = 0; i < directory->nodes->len; i++)
    {
      const RhClusterNode *node = g_ptr_array_index (directory->nodes, i);
      if (node->advertise == NULL && node->streams[0] != NULL && strcmp (node->node_id, directory->node_id) != 0)
        reap (directory, node->node_id);
    }
}

static void
send_survey (RhDirectory *directory)
{
  RhRedisArgs args;
  rh_redis_args_init_eval (&args, RH_SCRIPT_SURVEY);
  rh_redis_args_add (&args, "1");
  rh_redis_args_add (&args, RH_KEY_PREFIX "nodes");
  rh_redis_args_send (&args, directory->link, on_survey_reply, directory);
}

/* Players waiting for a stream that is live elsewhere (its owner came
 * after them, or the last pull ended). */
static void
locate_unserved (RhDirectory *directory)
{
  g_autoptr (GPtrArray) keys = rh_server_list_unserved (directory->server);
  for (guint i = 0; i < keys->len && i < MAX_LOCATES_PER_BEAT; i++)
    directory_wanted (g_ptr_array_index (keys, i), directory);
}

static gboolean
on_heartbeat (gpointer data)
{
  RhDirectory *directory = data;
  if (!ready (directory))
    return G_SOURCE_CONTINUE;
  if (!directory->beat_in_flight)
    send_heartbeat (directory);
  claim_unclaimed (directory);
  send_survey (directory);
  locate_unserved (directory);
  return G_SOURCE_CONTINUE;
}

static void
on_generation_reply (RhRedisResult result, const redisReply *reply, gpointer user_data)
{
  RhDirectory *directory = user_data;
  if (result != RH_REDIS_OK || reply->type != REDIS_REPLY_STRING)
    return;  /* the link goes down, or retries at the next connection */
  g_free (directory->generation);
  directory->generation = g_strndup (reply->str, reply->len);
  directory->up_since = g_get_monotonic_time ();
  /* Re-assert at once what this node serves. */
  on_heartbeat (directory);
}

/* First learn the generation of what Redis holds (made if it holds
 * nothing): claims made in another generation were forgotten. */
static void
on_link_up (RhRedisLink *link, gpointer user_data)
{
  RhDirectory *directory = user_data;
  g_autofree char *fresh = g_strdup_printf ("%08x%08x", g_random_int (), g_random_int ());
  RhRedisArgs args;
  rh_redis_args_init_eval (&args, RH_SCRIPT_GENERATION);
  rh_redis_args_add (&args, "1");
  rh_redis_args_add (&args, RH_KEY_PREFIX "generation");
  rh_redis_args_add (&args, fresh);
  rh_redis_args_send (&args, directory->link, on_generation_reply, directory);
}

static void
on_link_down (RhRedisLink *link, gpointer user_data)
{
  RhDirectory *directory = user_data;
  directory->up_since = 0;
  g_clear_pointer (&directory->generation, g_free);
  rh_log (G_LOG_LEVEL_WARNING, NULL, NULL, NULL,
          _("cluster: Redis is unreachable: live streams go on; their claims are renewed when it is back"));
}

static const RhRedisLinkOwner link_owner = { on_link_up, on_link_down };

/* ---- the directory ---- */

RhDirectory *
rh_directory_new (const RhClusterConfig *config, RhServer *server)
{
  RhDirectory *directory = g_new0 (RhDirectory, 1);
  directory->node_id = g_strdup (config->node_id);
  directory->advertise = g_strdup (config->advertise);
  directory->lease_ms = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) (config->lease * 1000));
  directory->lease = config->lease;
  directory->heartbeat = config->heartbeat;
  directory->when_backend_down = config->when_backend_down;
  directory->server = server;
  directory->claims = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) claim_free);
  directory->locating = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  directory->requests = g_ptr_array_new ();
  directory->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) node_free);
  directory->link = rh_redis_link_new (config, &link_owner, directory);
  return directory;
}

void
rh_directory_start (RhDirectory *directory)
{
  rh_server_set_directory (directory->server, &directory_funcs, directory);
  rh_redis_link_start (directory->link);
  directory->heartbeat_id = g_timeout_add ((guint) (directory->heartbeat * 1000), on_heartbeat, directory);
}

void
rh_directory_free (RhDirectory *directory)
{
  if (directory == NULL)
    return;
  rh_server_set_directory (directory->server, NULL, NULL);
  g_clear_handle_id (&directory->heartbeat_id, g_source_remove);
  for (guint i = 0; i < directory->requests->len; i++)
    {
      RhClaimRequest *request = g_ptr_array_index (directory->requests, i);
      request->directory = NULL;
      /* The link's callback frees the others. */
      if (request->idle_id != 0)
        {
          g_source_remove (request->idle_id);
          request_free (request);
        }
    }
  /* Freeing the link answers what is in flight with no one listening. */
  rh_redis_link_free (directory->link);
  g_ptr_array_unref (directory->requests);
  g_hash_table_unref (directory->claims);
  g_hash_table_unref (directory->locating);
  g_ptr_array_unref (directory->nodes);
  g_free (directory->node_id);
  g_free (directory->advertise);
  g_free (directory->lease_ms);
  g_free (directory->generation);
  g_free (directory);
}

gboolean
rh_directory_backend_up (const RhDirectory *directory)
{
  return ready (directory);
}

const char *
rh_directory_backend_problem (const RhDirectory *directory)
{
  return rh_redis_link_get_problem (directory->link);
}

const char *
rh_directory_node_id (const RhDirectory *directory)
{
  return directory->node_id;
}

const GPtrArray *
rh_directory_get_nodes (const RhDirectory *directory)
{
  return directory->nodes;
}

void
rh_directory_get_stats (const RhDirectory *directory, RhDirectoryStats *stats)
{
  *stats = directory->stats;
  stats->claims = g_hash_table_size (directory->claims);
}

RhRedisLink *
rh_directory_get_link (RhDirectory *directory)
{
  return directory->link;
}

gint64
rh_directory_get_epoch (const char *key, gpointer data)
{
  RhDirectory *directory = data;
  const Claim *claim = g_hash_table_lookup (directory->claims, key);
  return claim != NULL ? claim->epoch : 0;
}
