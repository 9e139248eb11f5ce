#include "config.h"

#include "worker.h"

#include <glib/gi18n.h>
#include <string.h>

#include "redis-args.h"
#include "worker-shards.h"
#include "hooks/event-json.h"
#include "util/log.h"

/* Entries read and not yet acknowledged, at most: reading stops there. */
#define MAX_HELD 10000
/* A failed event is delivered again after 0.5 s, doubling up to 30 s. */
#define RETRY_FIRST_US (G_USEC_PER_SEC / 2)
#define RETRY_MAX_US (30 * G_USEC_PER_SEC)
/* Commands to Redis that failed are tried again after this. */
#define BACKOFF_MS 250
/* Failures are logged at most this often. */
#define LOG_INTERVAL_US (5 * G_USEC_PER_SEC)

typedef enum {
  SHARD_NOT_MINE,
  SHARD_MAKING_GROUP,   /* XGROUP CREATE in flight */
  SHARD_SCANNING,       /* taking over what is pending, before reading new entries */
  SHARD_READING,
} ShardState;

typedef struct _Shard Shard;
typedef struct _KeyQueue KeyQueue;

typedef struct {
  RhWorker *worker;
  Shard *shard;
  char *id;                 /* the entry's stream id */
  char *raw;                /* the "event" field as read */
  gsize raw_len;
  guint deliveries;         /* this delivery included */
  RhEvent *event;           /* NULL: malformed */
  char *malformed;          /* why, when it is */
  KeyQueue *queue;          /* NULL while not queued */
  guint retry_id;
  gboolean dead_lettering;  /* its XADD to the dead letters is in flight */
} Entry;

struct _KeyQueue {
  char *key;
  GQueue entries;           /* Entry*, oldest first; the head runs */
  gboolean running;
  gboolean ready;           /* in the worker's ready list */
};

struct _Shard {
  RhWorker *worker;
  guint index;
  char *stream;
  ShardState state;
  guint generation;         /* raised when lost: late replies are ignored */
  GHashTable *held;         /* id -> Entry*: read, not yet acknowledged */
  guint rescan_id;
  char *scan_from;          /* XPENDING's next start ("-" or "(ID") */
  gboolean draining;        /* to be given back: not read any more */
  RhWorkerShardInfo info;
};

struct _RhWorker {
  RhDispatcher *dispatcher;
  RhRedisLink *control;     /* leases, claims, acks, dead letters, XINFO */
  RhRedisLink *reader;      /* the blocking XREADGROUP */
  RhWorkerShards *leases;
  char *group;
  char *consumer;
  char *dead_stream;
  char max_len[24];
  char block_ms[24];
  guint batch;
  double claim_after;
  guint max_deliveries;
  guint max_running;
  guint n_shards;
  Shard *shards;
  GHashTable *queues;       /* key -> KeyQueue* */
  GQueue ready;             /* KeyQueue* whose head may run */
  guint pump_id;
  guint beat_id;
  guint info_id;
  guint read_retry_id;
  gboolean reading;         /* an XREADGROUP in flight */
  guint running;
  guint held;
  guint writes_in_flight;   /* acks and dead letters */
  gboolean stopping;
  gboolean leaving;
  gboolean stopped;
  gboolean closing;         /* being freed: callbacks do nothing */
  gint64 failure_logged_at;
  RhWorkerStats stats;
};

static void read_more (RhWorker *worker);
static void rescan_later (Shard *shard, guint ms);
static void scan_pending (Shard *shard);
static void schedule_pump (RhWorker *worker);
static void make_group (Shard *shard);
static void maybe_leave (RhWorker *worker);

/* ---- entries and key queues ---- */

static void
entry_free (Entry *entry)
{
  g_clear_handle_id (&entry->retry_id, g_source_remove);
  g_free (entry->id);
  g_free (entry->raw);
  g_free (entry->malformed);
  if (entry->event != NULL)
    rh_event_unref (entry->event);
  g_free (entry);
}

static void
key_queue_free (KeyQueue *queue)
{
  g_queue_clear (&queue->entries);
  g_free (queue->key);
  g_free (queue);
}

/* Done with an entry: out of the shard's held set and out of memory. */
static void
entry_release (Entry *entry)
{
  RhWorker *worker = entry->worker;
  if (g_hash_table_steal (entry->shard->held, entry->id))
    worker->held--;
  entry_free (entry);
  read_more (worker);
}

static void
make_ready (RhWorker *worker, KeyQueue *queue)
{
  if (queue->ready || queue->running || g_queue_is_empty (&queue->entries))
    return;
  queue->ready = TRUE;
  g_queue_push_tail (&worker->ready, queue);
  schedule_pump (worker);
}

/* The entry at the head of its queue leaves it: the key's next runs. */
static void
dequeue (Entry *entry)
{
  KeyQueue *queue = entry->queue;
  if (queue == NULL)
    return;
  g_queue_remove (&queue->entries, entry);
  entry->queue = NULL;
  if (g_queue_is_empty (&queue->entries) && !queue->running && !queue->ready)
    g_hash_table_remove (entry->worker->queues, queue->key);
  else
    make_ready (entry->worker, queue);
}

/* ---- acknowledging, dead letters ---- */

static void
send_ack (RhWorker *worker, const char *stream, const char *id, RhRedisReplyFunc done, gpointer data)
{
  RhRedisArgs args;
  rh_redis_args_init (&args, "XACK");
  rh_redis_args_add (&args, stream);
  rh_redis_args_add (&args, worker->group);
  rh_redis_args_add (&args, id);
  rh_redis_args_send (&args, worker->control, done, data);
}

/* The shard's pending entries are looked at again, from the first. */
static void
scan_from_start (Shard *shard)
{
  shard->state = SHARD_SCANNING;
  g_free (shard->scan_from);
  shard->scan_from = g_strdup ("-");
}

static void
on_ack_reply (RhRedisResult result, const redisReply *reply, gpointer user_data)
{
  Entry *entry = user_data;
  RhWorker *worker = entry->worker;
  worker->writes_in_flight--;
  if (worker->closing)
    return;  /* the shard's held set frees it */
  Shard *shard = entry->shard;
  if (result == RH_REDIS_OK)
    worker->stats.acked++;
  else if (shard->state == SHARD_READING && !worker->stopping)
    {
      /* Still pending in Redis: the shard is scanned again and the entry
       * delivered again (at least once). */
      scan_from_start (shard);
      rescan_later (shard, BACKOFF_MS);
    }
  entry_release (entry);
  maybe_leave (worker);
}

static void
ack (Entry *entry)
{
  RhWorker *worker = entry->worker;
  dequeue (entry);
  worker->writes_in_flight++;
  send_ack (worker, entry->shard->stream, entry->id, on_ack_reply, entry);
}

static void dead_letter (Entry *entry, const char *reason);

static gboolean
on_dead_letter_retry (gpointer user_data)
{
  Entry *entry = user_data;
  entry->retry_id = 0;
  dead_letter (entry, entry->malformed);
  return G_SOURCE_REMOVE;
}

static void
on_dead_letter_reply (RhRedisResult result, const redisReply *reply, gpointer user_data)
{
  Entry *entry = user_data;
  RhWorker *worker = entry->worker;
  worker->writes_in_flight--;
  if (worker->closing)
    return;  /* the shard's held set frees it */
  entry->dead_lettering = FALSE;
  if (result != RH_REDIS_OK)
    {
      /* Not written: kept, and tried again; never acknowledged unwritten. */
      entry->retry_id = g_timeout_add (BACKOFF_MS * 4, on_dead_letter_retry, entry);
      return;
    }
  if (entry->event == NULL)
    worker->stats.dead_malformed++;
  else
    worker->stats.dead_failed++;
  ack (entry);
}

/* The entry goes to rtmphooks:dead:GROUP with why, then is acknowledged.
 * entry->malformed keeps the reason for a retry. */
static void
dead_letter (Entry *entry, const char *reason)
{
  RhWorker *worker = entry->worker;
  if (entry->malformed != reason)
    {
      g_free (entry->malformed);
      entry->malformed = g_strdup (reason);
    }
  rh_log (G_LOG_LEVEL_WARNING, NULL, entry->event != NULL ? entry->event->stream_key : NULL, NULL,
          _("worker: entry %s of %s goes to the dead letters (%s): %s"), entry->id, entry->shard->stream,
          worker->dead_stream, reason);
  RhRedisArgs args;
  rh_redis_args_init (&args, "XADD");
  rh_redis_args_add (&args, worker->dead_stream);
  rh_redis_args_add (&args, "MAXLEN");
  rh_redis_args_add (&args, "~");
  rh_redis_args_add (&args, worker->max_len);
  rh_redis_args_add (&args, "*");
  rh_redis_args_add (&args, "event");
  rh_redis_args_add_len (&args, entry->raw, entry->raw_len);
  rh_redis_args_add (&args, "stream");
  rh_redis_args_add (&args, entry->shard->stream);
  rh_redis_args_add (&args, "entry");
  rh_redis_args_add (&args, entry->id);
  rh_redis_args_add (&args, "deliveries");
  rh_redis_args_add_printf (&args, "%u", entry->deliveries);
  rh_redis_args_add (&args, "reason");
  rh_redis_args_add (&args, reason);
  rh_redis_args_add (&args, "worker");
  rh_redis_args_add (&args, worker->consumer);
  worker->writes_in_flight++;
  entry->dead_lettering = TRUE;
  rh_redis_args_send (&args, worker->control, on_dead_letter_reply, entry);
}

/* ---- running events ---- */

/* Nothing to do with the answer: a delivery count or an acknowledgement
 * Redis did not take leaves the entry pending, where a scan finds it. */
static void
on_reply_ignored (RhRedisResult result, const redisReply *reply, gpointer user_data)
{
}

/* Again after a failure: Redis' delivery counter follows, so that a
 * worker taking the entry over counts on from there. */
static gboolean
on_retry (gpointer user_data)
{
  Entry *entry = user_data;
  RhWorker *worker = entry->worker;
  entry->retry_id = 0;
  if (entry->shard->state == SHARD_NOT_MINE)
    {
      /* The shard's new reader has it (and takes it over). */
      dequeue (entry);
      entry_release (entry);
      return G_SOURCE_REMOVE;
    }
  entry->deliveries++;
  RhRedisArgs args;
  rh_redis_args_init (&args, "XCLAIM");
  rh_redis_args_add (&args, entry->shard->stream);
  rh_redis_args_add (&args, worker->group);
  rh_redis_args_add (&args, worker->consumer);
  rh_redis_args_add (&args, "0");
  rh_redis_args_add (&args, entry->id);
  rh_redis_args_add (&args, "RETRYCOUNT");
  rh_redis_args_add_printf (&args, "%u", entry->deliveries);
  rh_redis_args_add (&args, "JUSTID");
  rh_redis_args_send (&args, worker->control, on_reply_ignored, NULL);
  make_ready (worker, entry->queue);
  return G_SOURCE_REMOVE;
}

static void
log_failure (RhWorker *worker, const Entry *entry, const char *error)
{
  gint64 now = g_get_monotonic_time ();
  if (worker->failure_logged_at != 0 && now - worker->failure_logged_at < LOG_INTERVAL_US)
    return;
  worker->failure_logged_at = now;
  rh_log (G_LOG_LEVEL_WARNING, entry->event->conn_id, entry->event->stream_key, NULL,
          _("worker: %s id=%s failed on delivery %u of %u: %s"), rh_event_type_to_string (entry->event->type),
          entry->event->id, entry->deliveries, worker->max_deliveries, error);
}

static void
on_event_done (const RhDispatchOutcome *outcome, gpointer user_data)
{
  Entry *entry = user_data;
  RhWorker *worker = entry->worker;
  worker->running--;
  entry->queue->running = FALSE;
  if (outcome->failed == 0)
    ack (entry);
  else
    {
      worker->stats.failures++;
      log_failure (worker, entry, outcome->error);
      if (entry->deliveries >= worker->max_deliveries)
        {
          g_autofree char *reason = g_strdup_printf ("failed %u deliveries: %s", entry->deliveries, outcome->error);
          dead_letter (entry, reason);
        }
      else if (!worker->stopping)
        {
          gint64 delay = MIN (RETRY_FIRST_US << MIN (entry->deliveries - 1, 16), RETRY_MAX_US);
          entry->retry_id = g_timeout_add ((guint) (delay / 1000), on_retry, entry);
        }
      else
        {
          /* Left pending for the worker that takes the shard over. */
          dequeue (entry);
          entry_release (entry);
        }
    }
  schedule_pump (worker);
  maybe_leave (worker);
}

static void
run (RhWorker *worker, KeyQueue *queue)
{
  Entry *entry = g_queue_peek_head (&queue->entries);
  if (entry->retry_id != 0 || entry->dead_lettering)
    return;  /* waits for its next delivery, or is on its way out */
  queue->running = TRUE;
  worker->running++;
  worker->stats.deliveries++;
  if (entry->deliveries > 1)
    worker->stats.redeliveries++;
  rh_dispatcher_emit_tracked (worker->dispatcher, entry->event, on_event_done, entry);
}

static gboolean
on_pump (gpointer user_data)
{
  RhWorker *worker = user_data;
  worker->pump_id = 0;
  while (!worker->stopping && worker->running < worker->max_running && !g_queue_is_empty (&worker->ready))
    {
      KeyQueue *queue = g_queue_pop_head (&worker->ready);
      queue->ready = FALSE;
      if (g_queue_is_empty (&queue->entries))
        {
          if (!queue->running)
            g_hash_table_remove (worker->queues, queue->key);
          continue;
        }
      if (!queue->running)
        run (worker, queue);
    }
  return G_SOURCE_REMOVE;
}

static void
schedule_pump (RhWorker *worker)
{
  if (worker->pump_id == 0 && !worker->closing)
    worker->pump_id = g_idle_add (on_pump, worker);
}

/* ---- entries read ---- */

/* An entry from XREADGROUP or XCLAIM: [id, [field, value, ...]]. */
static void
take_entry (Shard *shard, const redisReply *item, guint deliveries)
{
  RhWorker *worker = shard->worker;
  const redisReply *id = rh_redis_element (item, 0, REDIS_REPLY_STRING);
  const redisReply *fields = rh_redis_element (item, 1, REDIS_REPLY_ARRAY);
  if (id == NULL || g_hash_table_contains (shard->held, id->str))
    return;
  Entry *entry = g_new0 (Entry, 1);
  entry->worker = worker;
  entry->shard = shard;
  entry->id = g_strndup (id->str, id->len);
  entry->deliveries = deliveries;
  g_hash_table_insert (shard->held, entry->id, entry);
  worker->held++;

  const redisReply *name = rh_redis_element (fields, 0, REDIS_REPLY_STRING);
  const redisReply *value = rh_redis_element (fields, 1, REDIS_REPLY_STRING);
  if (name != NULL && value != NULL)
    {
      entry->raw = g_strndup (value->str, value->len);
      entry->raw_len = value->len;
    }
  else
    entry->raw = g_strdup ("");
  if (fields == NULL || fields->elements != 2 || name == NULL || value == NULL || strcmp (name->str, "event") != 0)
    {
      dead_letter (entry, "malformed: the entry's one field must be \"event\"");
      return;
    }
  g_autofree char *why = NULL;
  entry->event = rh_event_from_json (entry->raw, entry->raw_len, &why);
  if (entry->event == NULL)
    {
      g_autofree char *reason = g_strdup_printf ("malformed: %s", why);
      dead_letter (entry, reason);
      return;
    }
  if (deliveries > worker->max_deliveries)
    {
      g_autofree char *reason = g_strdup_printf ("delivered %u times without an acknowledgement", deliveries - 1);
      dead_letter (entry, reason);
      return;
    }
  /* Connection ids are a node's own: two nodes may both have c000001. */
  g_autofree char *key = entry->event->stream_key != NULL
                           ? g_strdup (entry->event->stream_key)
                           : g_strdup_printf ("%s %s", entry->event->node_id != NULL ? entry->event->node_id : "",
                                              entry->event->conn_id != NULL ? entry->event->conn_id : "");
  KeyQueue *queue = g_hash_table_lookup (worker->queues, key);
  if (queue == NULL)
    {
      queue = g_new0 (KeyQueue, 1);
      queue->key = g_steal_pointer (&key);
      g_hash_table_insert (worker->queues, queue->key, queue);
    }
  entry->queue = queue;
  g_queue_push_tail (&queue->entries, entry);
  make_ready (worker, queue);
}

static Shard *
shard_of_stream (RhWorker *worker, const char *stream)
{
  static const char prefix[] = "rtmphooks:events:";
  if (!g_str_has_prefix (stream, prefix))
    return NULL;
  guint64 index;
  if (!g_ascii_string_to_unsigned (stream + strlen (prefix), 10, 0, worker->n_shards - 1, &index, NULL))
    return NULL;
  return &worker->shards[index];
}

typedef struct {
  RhWorker *worker;
  guint *generations;       /* of every shard, when the read was sent */
} ReadRequest;

static gboolean
on_read_retry (gpointer user_data)
{
  RhWorker *worker = user_data;
  worker->read_retry_id = 0;
  read_more (worker);
  return G_SOURCE_REMOVE;
}

static void
on_read_reply (RhRedisResult result, const redisReply *reply, gpointer user_data)
{
  ReadRequest *request = user_data;
  RhWorker *worker = request->worker;
  g_autofree guint *generations = request->generations;
  g_free (request);
  worker->reading = FALSE;
  if (worker->closing)
    return;
  if (result == RH_REDIS_REPLY_ERROR && reply != NULL && g_str_has_prefix (reply->str, "NOGROUP"))
    {
      /* Redis lost the groups (restarted empty): made again. */
      for (guint i = 0; i < worker->n_shards; i++)
        if (worker->shards[i].state == SHARD_READING)
          make_group (&worker->shards[i]);
    }
  if (result != RH_REDIS_OK)
    {
      if (worker->read_retry_id == 0)
        worker->read_retry_id = g_timeout_add (BACKOFF_MS, on_read_retry, worker);
      return;
    }
  for (size_t s = 0; reply->type == REDIS_REPLY_ARRAY && s < reply->elements; s++)
    {
      const redisReply *name = rh_redis_element (reply->element[s], 0, REDIS_REPLY_STRING);
      const redisReply *items = rh_redis_element (reply->element[s], 1, REDIS_REPLY_ARRAY);
      Shard *shard = name != NULL ? shard_of_stream (worker, name->str) : NULL;
      /* A shard lost meanwhile: its entries stay pending for its owner. */
      if (shard == NULL || items == NULL || shard->generation != generations[shard->index]
          || shard->state != SHARD_READING)
        continue;
      for (size_t i = 0; i < items->elements; i++)
        take_entry (shard, items->element[i], 1);
    }
  read_more (worker);
}

/* One XREADGROUP for every shard being read, blocking up to block_ms:
 * new events arrive as soon as a node appends them. */
static void
read_more (RhWorker *worker)
{
  if (worker->reading || worker->stopping || worker->closing || worker->read_retry_id != 0
      || worker->held >= MAX_HELD || !rh_redis_link_is_up (worker->reader))
    return;
  guint reading = 0;
  for (guint i = 0; i < worker->n_shards; i++)
    reading += worker->shards[i].state == SHARD_READING && !worker->shards[i].draining ? 1 : 0;
  if (reading == 0)
    return;
  /* COUNT is per stream: what may come stays within MAX_HELD. */
  guint count = MIN (worker->batch, MAX (1, (MAX_HELD - worker->held) / reading));
  RhRedisArgs args;
  rh_redis_args_init (&args, "XREADGROUP");
  rh_redis_args_add (&args, "GROUP");
  rh_redis_args_add (&args, worker->group);
  rh_redis_args_add (&args, worker->consumer);
  rh_redis_args_add (&args, "COUNT");
  rh_redis_args_add_printf (&args, "%u", count);
  rh_redis_args_add (&args, "BLOCK");
  rh_redis_args_add (&args, worker->block_ms);
  rh_redis_args_add (&args, "STREAMS");
  for (guint i = 0; i < worker->n_shards; i++)
    if (worker->shards[i].state == SHARD_READING && !worker->shards[i].draining)
      rh_redis_args_add (&args, worker->shards[i].stream);
  for (guint i = 0; i < reading; i++)
    rh_redis_args_add (&args, ">");
  ReadRequest *request = g_new0 (ReadRequest, 1);
  request->worker = worker;
  request->generations = g_new0 (guint, worker->n_shards);
  for (guint i = 0; i < worker->n_shards; i++)
    request->generations[i] = worker->shards[i].generation;
  worker->reading = TRUE;
  rh_redis_args_send (&args, worker->reader, on_read_reply, request);
}

/* ---- taking a shard over: its pending entries first ---- */

typedef struct {
  Shard *shard;
  guint generation;
  GHashTable *deliveries;   /* id -> deliveries so far (XPENDING), for XCLAIM's answer */
  GPtrArray *ids;           /* claimed, in order */
  guint from_others;
  char *last;               /* the page's last id */
  gboolean full_page;
} Scan;

static void
scan_free (Scan *scan)
{
  g_hash_table_unref (scan->deliveries);
  g_ptr_array_unref (scan->ids);
  g_free (scan->last);
  g_free (scan);
}

static gboolean
on_rescan (gpointer user_data)
{
  Shard *shard = user_data;
  shard->rescan_id = 0;
  if (shard->state == SHARD_SCANNING)
    scan_pending (shard);
  else if (shard->state == SHARD_MAKING_GROUP)
    make_group (shard);
  return G_SOURCE_REMOVE;
}

static void
rescan_later (Shard *shard, guint ms)
{
  if (shard->rescan_id == 0)
    shard->rescan_id = g_timeout_add (MAX (ms, 50), on_rescan, shard);
}

/* A reply to a scan of a shard lost or closed meanwhile is dropped with
 * its scan: TRUE then. */
static gboolean
scan_is_stale (Scan *scan)
{
  if (!scan->shard->worker->closing && scan->shard->generation == scan->generation
      && scan->shard->state == SHARD_SCANNING)
    return FALSE;
  scan_free (scan);
  return TRUE;
}

static void
on_claim_reply (RhRedisResult result, const redisReply *reply, gpointer user_data)
{
  Scan *scan = user_data;
  Shard *shard = scan->shard;
  if (scan_is_stale (scan))
    return;
  RhWorker *worker = shard->worker;
  if (result != RH_REDIS_OK || reply->type != REDIS_REPLY_ARRAY)
    {
      rescan_later (shard, BACKOFF_MS);
      scan_free (scan);
      return;
    }
  g_autoptr (GHashTable) returned = g_hash_table_new (g_str_hash, g_str_equal);
  for (size_t i = 0; i < reply->elements; i++)
    {
      const redisReply *id = rh_redis_element (reply->element[i], 0, REDIS_REPLY_STRING);
      if (id == NULL)
        continue;
      g_hash_table_add (returned, id->str);
      guint so_far = GPOINTER_TO_UINT (g_hash_table_lookup (scan->deliveries, id->str));
      take_entry (shard, reply->element[i], so_far + 1);
    }
  /* Pending ids whose entries the stream no longer has (trimmed by
   * MAXLEN, deleted): nothing to deliver; acknowledged, counted. */
  for (guint i = 0; i < scan->ids->len; i++)
    {
      const char *id = g_ptr_array_index (scan->ids, i);
      if (g_hash_table_contains (returned, id))
        continue;
      worker->stats.gone++;
      rh_log (G_LOG_LEVEL_WARNING, NULL, NULL, NULL,
              _("worker: pending entry %s of %s is no longer in the stream (trimmed): not delivered"), id,
              shard->stream);
      send_ack (worker, shard->stream, id, on_reply_ignored, NULL);
    }
  if (scan->from_others > 0)
    {
      worker->stats.taken_over += scan->from_others;
      rh_log (G_LOG_LEVEL_MESSAGE, NULL, NULL, NULL, _("worker: took over %u pending event(s) on %s"),
              scan->from_others, shard->stream);
    }
  g_free (shard->scan_from);
  shard->scan_from = scan->full_page ? g_strdup_printf ("(%s", scan->last) : g_strdup ("-");
  gboolean more = scan->full_page;
  scan_free (scan);
  if (more)
    scan_pending (shard);
  else
    {
      shard->state = SHARD_READING;
      read_more (worker);
    }
}

static void
on_pending_reply (RhRedisResult result, const redisReply *reply, gpointer user_data)
{
  Scan *scan = user_data;
  Shard *shard = scan->shard;
  if (scan_is_stale (scan))
    return;
  RhWorker *worker = shard->worker;
  if (result != RH_REDIS_OK || reply->type != REDIS_REPLY_ARRAY)
    {
      if (result == RH_REDIS_REPLY_ERROR && reply != NULL && g_str_has_prefix (reply->str, "NOGROUP"))
        make_group (shard);
      else
        rescan_later (shard, BACKOFF_MS);
      scan_free (scan);
      return;
    }
  gint64 wait_ms = 0;
  for (size_t i = 0; i < reply->elements; i++)
    {
      const redisReply *id = rh_redis_element (reply->element[i], 0, REDIS_REPLY_STRING);
      const redisReply *consumer = rh_redis_element (reply->element[i], 1, REDIS_REPLY_STRING);
      const redisReply *idle = rh_redis_element (reply->element[i], 2, REDIS_REPLY_INTEGER);
      const redisReply *count = rh_redis_element (reply->element[i], 3, REDIS_REPLY_INTEGER);
      if (id == NULL || consumer == NULL || idle == NULL || count == NULL)
        continue;
      g_free (scan->last);
      scan->last = g_strndup (id->str, id->len);
      if (g_hash_table_contains (shard->held, id->str))
        continue;  /* in hand already */
      gboolean mine = strcmp (consumer->str, worker->consumer) == 0;
      gint64 claim_after_ms = (gint64) (worker->claim_after * 1000);
      /* Another live worker's, still fresh: it may be running it. Nothing
       * of this shard runs before it (order per key). */
      if (!mine && rh_worker_shards_is_alive (worker->leases, consumer->str) && idle->integer < claim_after_ms)
        {
          wait_ms = MAX (wait_ms, claim_after_ms - idle->integer);
          continue;
        }
      if (!mine)
        scan->from_others++;
      g_hash_table_insert (scan->deliveries, g_strndup (id->str, id->len),
                           GUINT_TO_POINTER ((guint) CLAMP (count->integer, 0, G_MAXINT)));
      g_ptr_array_add (scan->ids, g_strndup (id->str, id->len));
    }
  if (wait_ms > 0)
    {
      rescan_later (shard, (guint) MIN (wait_ms, G_MAXINT));
      scan_free (scan);
      return;
    }
  scan->full_page = reply->elements >= worker->batch;
  if (scan->ids->len == 0)
    {
      on_claim_reply (RH_REDIS_OK, &(redisReply) { .type = REDIS_REPLY_ARRAY }, scan);
      return;
    }
  /* XCLAIM rather than XAUTOCLAIM: XAUTOCLAIM skips entries that are
   * not idle long enough and takes later ones, which breaks the order. */
  RhRedisArgs args;
  rh_redis_args_init (&args, "XCLAIM");
  rh_redis_args_add (&args, shard->stream);
  rh_redis_args_add (&args, worker->group);
  rh_redis_args_add (&args, worker->consumer);
  rh_redis_args_add (&args, "0");
  for (guint i = 0; i < scan->ids->len; i++)
    rh_redis_args_add (&args, g_ptr_array_index (scan->ids, i));
  rh_redis_args_send (&args, worker->control, on_claim_reply, scan);
}

/* What the group has delivered and not acknowledged, a page at a time:
 * this worker's own (a restart under the same name), a dead worker's,
 * or one silent for claim_after. */
static void
scan_pending (Shard *shard)
{
  RhWorker *worker = shard->worker;
  if (worker->stopping || !rh_redis_link_is_up (worker->control))
    {
      rescan_later (shard, BACKOFF_MS);
      return;
    }
  Scan *scan = g_new0 (Scan, 1);
  scan->shard = shard;
  scan->generation = shard->generation;
  scan->deliveries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  scan->ids = g_ptr_array_new_with_free_func (g_free);
  RhRedisArgs args;
  rh_redis_args_init (&args, "XPENDING");
  rh_redis_args_add (&args, shard->stream);
  rh_redis_args_add (&args, worker->group);
  rh_redis_args_add (&args, shard->scan_from);
  rh_redis_args_add (&args, "+");
  rh_redis_args_add_printf (&args, "%u", worker->batch);
  rh_redis_args_send (&args, worker->control, on_pending_reply, scan);
}

typedef struct {
  Shard *shard;
  guint generation;
} ShardCommand;

static void
on_group_reply (RhRedisResult result, const redisReply *reply, gpointer user_data)
{
  ShardCommand *command = user_data;
  Shard *shard = command->shard;
  gboolean current = !shard->worker->closing && shard->generation == command->generation
                     && shard->state == SHARD_MAKING_GROUP;
  g_free (command);
  if (!current)
    return;
  gboolean exists = result == RH_REDIS_REPLY_ERROR && reply != NULL && g_str_has_prefix (reply->str, "BUSYGROUP");
  if (result != RH_REDIS_OK && !exists)
    {
      rescan_later (shard, BACKOFF_MS);
      return;
    }
  scan_from_start (shard);
  scan_pending (shard);
}

/* The group reads a stream from its first entry: what nodes appended
 * before any worker existed is delivered too. */
static void
make_group (Shard *shard)
{
  RhWorker *worker = shard->worker;
  shard->state = SHARD_MAKING_GROUP;
  if (!rh_redis_link_is_up (worker->control))
    {
      rescan_later (shard, BACKOFF_MS);
      return;
    }
  ShardCommand *command = g_new0 (ShardCommand, 1);
  command->shard = shard;
  command->generation = shard->generation;
  RhRedisArgs args;
  rh_redis_args_init (&args, "XGROUP");
  rh_redis_args_add (&args, "CREATE");
  rh_redis_args_add (&args, shard->stream);
  rh_redis_args_add (&args, worker->group);
  rh_redis_args_add (&args, "0");
  rh_redis_args_add (&args, "MKSTREAM");
  rh_redis_args_send (&args, worker->control, on_group_reply, command);
}

/* ---- shards gained and lost ---- */

static void
on_shard_gained (guint index, gpointer user_data)
{
  RhWorker *worker = user_data;
  if (worker->closing || worker->stopping)
    return;
  rh_log (G_LOG_LEVEL_INFO, NULL, NULL, NULL, _("worker: reading %s"), worker->shards[index].stream);
  make_group (&worker->shards[index]);
}

/* Entries of a lost shard not yet running are dropped from memory: they
 * stay pending in Redis for the shard's new reader. */
static void
on_shard_lost (guint index, gpointer user_data)
{
  RhWorker *worker = user_data;
  if (worker->closing)
    return;
  Shard *shard = &worker->shards[index];
  shard->generation++;
  shard->state = SHARD_NOT_MINE;
  shard->draining = FALSE;
  g_clear_handle_id (&shard->rescan_id, g_source_remove);
  GHashTableIter iter;
  gpointer value;
  g_autoptr (GPtrArray) dropped = g_ptr_array_new ();
  g_hash_table_iter_init (&iter, shard->held);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Entry *entry = value;
      if (entry->queue != NULL && !(entry->queue->running && g_queue_peek_head (&entry->queue->entries) == entry)
          && entry->retry_id == 0 && !entry->dead_lettering)
        g_ptr_array_add (dropped, entry);
    }
  for (guint i = 0; i < dropped->len; i++)
    {
      Entry *entry = g_ptr_array_index (dropped, i);
      dequeue (entry);
      entry_release (entry);
    }
  if (!worker->stopping)
    rh_log (G_LOG_LEVEL_INFO, NULL, NULL, NULL, _("worker: no longer reading %s"), shard->stream);
}

static gboolean
shard_give_back (guint index, gpointer user_data)
{
  RhWorker *worker = user_data;
  Shard *shard = &worker->shards[index];
  shard->draining = TRUE;
  return g_hash_table_size (shard->held) == 0 && shard->state != SHARD_MAKING_GROUP
         && shard->state != SHARD_SCANNING;
}

static void
shard_keep (guint index, gpointer user_data)
{
  RhWorker *worker = user_data;
  Shard *shard = &worker->shards[index];
  if (!shard->draining)
    return;
  shard->draining = FALSE;
  read_more (worker);
}

/* ---- shard information for /metrics ---- */

static void
on_info_reply (RhRedisResult result, const redisReply *reply, gpointer user_data)
{
  ShardCommand *command = user_data;
  Shard *shard = command->shard;
  gboolean closing = shard->worker->closing;
  g_free (command);
  if (closing || result != RH_REDIS_OK || reply->type != REDIS_REPLY_ARRAY)
    return;
  for (size_t g = 0; g < reply->elements; g++)
    {
      const redisReply *group = reply->element[g];
      if (group->type != REDIS_REPLY_ARRAY)
        continue;
      gboolean ours = FALSE;
      RhWorkerShardInfo info = { -1, -1 };
      for (size_t i = 0; i + 1 < group->elements; i += 2)
        {
          const redisReply *name = group->element[i], *value = group->element[i + 1];
          if (name->type != REDIS_REPLY_STRING)
            continue;
          if (strcmp (name->str, "name") == 0 && value->type == REDIS_REPLY_STRING)
            ours = strcmp (value->str, shard->worker->group) == 0;
          else if (strcmp (name->str, "lag") == 0 && value->type == REDIS_REPLY_INTEGER)
            info.lag = value->integer;
          else if (strcmp (name->str, "pending") == 0 && value->type == REDIS_REPLY_INTEGER)
            info.pending = value->integer;
        }
      if (ours)
        shard->info = info;
    }
}

static gboolean
on_info_tick (gpointer user_data)
{
  RhWorker *worker = user_data;
  if (!rh_redis_link_is_up (worker->control))
    return G_SOURCE_CONTINUE;
  for (guint i = 0; i < worker->n_shards; i++)
    {
      ShardCommand *command = g_new0 (ShardCommand, 1);
      command->shard = &worker->shards[i];
      const char *argv[] = { "XINFO", "GROUPS", worker->shards[i].stream };
      rh_redis_link_command (worker->control, 3, argv, NULL, on_info_reply, command);
    }
  return G_SOURCE_CONTINUE;
}

/* ---- the worker ---- */

static gboolean
on_beat_tick (gpointer user_data)
{
  RhWorker *worker = user_data;
  if (!worker->stopping)
    rh_worker_shards_beat (worker->leases);
  return G_SOURCE_CONTINUE;
}

static void
on_control_up (RhRedisLink *link, gpointer user_data)
{
  RhWorker *worker = user_data;
  if (!worker->stopping)
    rh_worker_shards_beat (worker->leases);
}

static void
on_reader_up (RhRedisLink *link, gpointer user_data)
{
  read_more (user_data);
}

static void
on_link_down (RhRedisLink *link, gpointer user_data)
{
}

RhWorker *
rh_worker_new (const RhClusterConfig *cluster, const RhWorkerConfig *config, RhDispatcher *dispatcher,
               guint max_running)
{
  RhWorker *worker = g_new0 (RhWorker, 1);
  worker->dispatcher = dispatcher;
  worker->group = g_strdup (config->group);
  worker->consumer = g_strdup (cluster->node_id);
  worker->dead_stream = g_strdup_printf ("rtmphooks:dead:%s", config->group);
  g_snprintf (worker->max_len, sizeof worker->max_len, "%d", cluster->events_max_len);
  worker->batch = (guint) config->batch;
  /* Well within the link's deadline, which a blocked read must not reach. */
  g_snprintf (worker->block_ms, sizeof worker->block_ms, "%d", MAX (1, (int) (cluster->redis_timeout * 500)));
  worker->claim_after = config->claim_after;
  worker->max_deliveries = (guint) config->max_deliveries;
  worker->max_running = MAX (max_running, 1);
  worker->n_shards = (guint) cluster->events_shards;
  worker->shards = g_new0 (Shard, worker->n_shards);
  for (guint i = 0; i < worker->n_shards; i++)
    {
      Shard *shard = &worker->shards[i];
      shard->worker = worker;
      shard->index = i;
      shard->stream = g_strdup_printf ("rtmphooks:events:%u", i);
      shard->held = g_hash_table_new (g_str_hash, g_str_equal);
      shard->scan_from = g_strdup ("-");
      shard->info = (RhWorkerShardInfo) { -1, -1 };
    }
  worker->queues = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) key_queue_free);
  g_queue_init (&worker->ready);
  /* The links keep these pointers: static. */
  static const RhRedisLinkOwner control_owner = { on_control_up, on_link_down };
  worker->control = rh_redis_link_new (cluster, &control_owner, worker);
  static const RhRedisLinkOwner reader_owner = { on_reader_up, on_link_down };
  worker->reader = rh_redis_link_new (cluster, &reader_owner, worker);
  RhWorkerShardsOwner leases_owner = { on_shard_gained, on_shard_lost, shard_give_back, shard_keep };
  worker->leases = rh_worker_shards_new (worker->control, config->group, cluster->node_id, worker->n_shards,
                                         config->claim_after, &leases_owner, worker);
  return worker;
}

void
rh_worker_start (RhWorker *worker)
{
  rh_dispatcher_set_stream_actions (worker->dispatcher, FALSE);
  rh_redis_link_start (worker->control);
  rh_redis_link_start (worker->reader);
  /* Three heartbeats per lease, and never rarer than a second. */
  guint beat_ms = (guint) MIN (worker->claim_after * 1000 / 3, 1000);
  worker->beat_id = g_timeout_add (beat_ms, on_beat_tick, worker);
  worker->info_id = g_timeout_add_seconds (1, on_info_tick, worker);
}

static void
on_left (gpointer data)
{
  RhWorker *worker = data;
  if (!worker->closing)
    worker->stopped = TRUE;
}

/* Once nothing runs and nothing is being written, the shards go. */
static void
maybe_leave (RhWorker *worker)
{
  if (!worker->stopping || worker->leaving || worker->running > 0 || worker->writes_in_flight > 0)
    return;
  worker->leaving = TRUE;
  rh_worker_shards_leave (worker->leases, on_left, worker);
}

void
rh_worker_stop (RhWorker *worker)
{
  worker->stopping = TRUE;
  g_clear_handle_id (&worker->beat_id, g_source_remove);
  /* Waiting retries are left pending for the next reader. */
  g_autoptr (GList) queues = g_hash_table_get_values (worker->queues);
  for (GList *link = queues; link != NULL; link = link->next)
    {
      KeyQueue *queue = link->data;
      Entry *head = g_queue_peek_head (&queue->entries);
      if (head != NULL && head->retry_id != 0 && !queue->running)
        {
          dequeue (head);
          entry_release (head);
        }
    }
  maybe_leave (worker);
}

gboolean
rh_worker_is_stopped (const RhWorker *worker)
{
  return worker->stopped;
}

void
rh_worker_free (RhWorker *worker)
{
  if (worker == NULL)
    return;
  worker->closing = TRUE;
  g_clear_handle_id (&worker->beat_id, g_source_remove);
  g_clear_handle_id (&worker->info_id, g_source_remove);
  g_clear_handle_id (&worker->pump_id, g_source_remove);
  g_clear_handle_id (&worker->read_retry_id, g_source_remove);
  /* Commands in flight fail now, their callbacks see closing. */
  rh_redis_link_free (worker->reader);
  rh_redis_link_free (worker->control);
  rh_worker_shards_free (worker->leases);
  g_queue_clear (&worker->ready);
  g_hash_table_unref (worker->queues);
  for (guint i = 0; i < worker->n_shards; i++)
    {
      Shard *shard = &worker->shards[i];
      g_clear_handle_id (&shard->rescan_id, g_source_remove);
      GHashTableIter iter;
      gpointer value;
      g_hash_table_iter_init (&iter, shard->held);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        entry_free (value);
      g_hash_table_unref (shard->held);
      g_free (shard->stream);
      g_free (shard->scan_from);
    }
  g_free (worker->shards);
  g_free (worker->group);
  g_free (worker->consumer);
  g_free (worker->dead_stream);
  g_free (worker);
}

void
rh_worker_get_stats (const RhWorker *worker, RhWorkerStats *stats)
{
  *stats = worker->stats;
  stats->backend_up = rh_redis_link_is_up (worker->control);
  stats->shards_owned = rh_worker_shards_count_owned (worker->leases);
  stats->workers_alive = rh_worker_shards_count_alive (worker->leases);
  stats->held = worker->held;
  stats->running = worker->running;
}

guint
rh_worker_get_shards (const RhWorker *worker)
{
  return worker->n_shards;
}

void
rh_worker_get_shard_info (const RhWorker *worker, guint shard, RhWorkerShardInfo *info)
{
  *info = worker->shards[shard].info;
}

RhRedisLink *
rh_worker_get_link (RhWorker *worker)
{
  return worker->control;
}

const char *
rh_worker_get_group (const RhWorker *worker)
{
  return worker->group;
}
