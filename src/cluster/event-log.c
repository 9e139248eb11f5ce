#include "config.h"

#include "event-log.h"

#include <glib/gi18n.h>
#include <string.h>

#include "util/log.h"

/* Drops are logged at most this often, with the count since the last line. */
#define DROP_LOG_INTERVAL_US (10 * G_USEC_PER_SEC)

typedef struct {
  guint shard;
  char *json;
  gsize len;
} Entry;

struct _RhEventLog {
  RhRedisLink *link;
  RhEventEpochFunc epoch;
  gpointer epoch_data;
  guint shards;
  char **streams;            /* "rtmphooks:events:N" */
  char max_len[24];
  guint spool_max;
  GQueue spool;              /* Entry*, oldest first */
  RhEventLogStats stats;
  gint64 drop_logged_at;
  guint64 drops_unlogged;
};

static void
entry_free (Entry *entry)
{
  g_free (entry->json);
  g_free (entry);
}

guint
rh_event_log_shard (const char *key, guint shards)
{
  /* FNV-1a: stable across builds and platforms, unlike a seeded hash. */
  guint32 hash = 2166136261u;
  for (const guchar *p = (const guchar *) (key != NULL ? key : ""); *p != '\0'; p++)
    hash = (hash ^ *p) * 16777619u;
  return hash % shards;
}

static void
drop (RhEventLog *log, Entry *entry, const char *why)
{
  log->stats.dropped++;
  log->drops_unlogged++;
  gint64 now = g_get_monotonic_time ();
  if (log->drop_logged_at == 0 || now - log->drop_logged_at >= DROP_LOG_INTERVAL_US)
    {
      rh_log (G_LOG_LEVEL_WARNING, NULL, NULL, NULL,
              _("cluster: %llu event(s) not appended to the event log: %s"), (unsigned long long) log->drops_unlogged,
              why);
      log->drop_logged_at = now;
      log->drops_unlogged = 0;
    }
  entry_free (entry);
}

static void send_entry (RhEventLog *log, Entry *entry);

/* Sends what the spool holds, as far as the pipeline allows. */
static void
drain (RhEventLog *log)
{
  while (!g_queue_is_empty (&log->spool) && rh_redis_link_is_up (log->link)
         && log->stats.in_flight < RH_EVENT_LOG_MAX_IN_FLIGHT)
    send_entry (log, g_queue_pop_head (&log->spool));
}

static void
spool (RhEventLog *log, Entry *entry)
{
  if (g_queue_get_length (&log->spool) >= log->spool_max)
    {
      drop (log, entry, _("the spool (cluster.events.spool) is full while Redis is unreachable or slow"));
      return;
    }
  g_queue_push_tail (&log->spool, entry);
}

typedef struct {
  RhEventLog *log;
  Entry *entry;
} Append;

static void
on_appended (RhRedisResult result, const redisReply *reply, gpointer user_data)
{
  Append *append = user_data;
  RhEventLog *log = append->log;
  Entry *entry = append->entry;
  g_free (append);
  log->stats.in_flight--;
  switch (result)
    {
    case RH_REDIS_OK:
      log->stats.appended++;
      entry_free (entry);
      break;
    case RH_REDIS_REPLY_ERROR:
      {
        g_autofree char *why = g_strdup_printf (_("Redis refused it: %s"), reply->str);
        drop (log, entry, why);
        break;
      }
    default:
      /* Redis may or may not have it: send it again (at least once). */
      log->stats.resent++;
      spool (log, entry);
      break;
    }
  drain (log);
}

static void
send_entry (RhEventLog *log, Entry *entry)
{
  const char *argv[] = { "XADD", log->streams[entry->shard], "MAXLEN", "~", log->max_len, "*", "event", entry->json };
  size_t lengths[G_N_ELEMENTS (argv)];
  for (guint i = 0; i < G_N_ELEMENTS (argv); i++)
    lengths[i] = strlen (argv[i]);
  lengths[G_N_ELEMENTS (argv) - 1] = entry->len;
  Append *append = g_new (Append, 1);
  append->log = log;
  append->entry = entry;
  log->stats.in_flight++;
  rh_redis_link_command (log->link, G_N_ELEMENTS (argv), argv, lengths, on_appended, append);
}

void
rh_event_log_append (RhEventLog *log, const RhEvent *event)
{
  const char *key = event->stream_key != NULL ? event->stream_key : event->conn_id;
  g_autofree char *json = rh_event_to_json (event);
  gint64 epoch = event->stream_key != NULL && log->epoch != NULL ? log->epoch (event->stream_key, log->epoch_data) : 0;
  Entry *entry = g_new (Entry, 1);
  entry->shard = rh_event_log_shard (key, log->shards);
  /* The envelope with two members more: {... ,"seq":N,"epoch":E} */
  gsize len = strlen (json);
  entry->json = g_strdup_printf ("%.*s,\"seq\":%" G_GUINT64_FORMAT ",\"epoch\":%" G_GINT64_FORMAT "}",
                                 (int) (len - 1), json, ++log->stats.seq, epoch);
  entry->len = strlen (entry->json);
  if (g_queue_is_empty (&log->spool) && rh_redis_link_is_up (log->link)
      && log->stats.in_flight < RH_EVENT_LOG_MAX_IN_FLIGHT)
    send_entry (log, entry);
  else
    spool (log, entry);
}

static void
on_link_up (RhRedisLink *link, gpointer user_data)
{
  RhEventLog *log = user_data;
  if (!g_queue_is_empty (&log->spool))
    rh_log (G_LOG_LEVEL_MESSAGE, NULL, NULL, NULL, _("cluster: sending %u spooled event(s) to the event log"),
            g_queue_get_length (&log->spool));
  drain (log);
}

static const RhRedisLinkOwner link_owner = { on_link_up, NULL };

RhEventLog *
rh_event_log_new (const RhClusterConfig *config, RhEventEpochFunc epoch, gpointer epoch_data)
{
  RhEventLog *log = g_new0 (RhEventLog, 1);
  log->epoch = epoch;
  log->epoch_data = epoch_data;
  log->shards = (guint) config->events_shards;
  log->streams = g_new0 (char *, log->shards + 1);
  for (guint i = 0; i < log->shards; i++)
    log->streams[i] = g_strdup_printf ("rtmphooks:events:%u", i);
  g_snprintf (log->max_len, sizeof log->max_len, "%d", config->events_max_len);
  log->spool_max = (guint) config->events_spool;
  g_queue_init (&log->spool);
  log->link = rh_redis_link_new (config, &link_owner, log);
  return log;
}

void
rh_event_log_start (RhEventLog *log)
{
  rh_redis_link_start (log->link);
}

void
rh_event_log_free (RhEventLog *log)
{
  if (log == NULL)
    return;
  /* Appends in flight fail now and go back to the spool. */
  rh_redis_link_free (log->link);
  guint spooled = g_queue_get_length (&log->spool);
  if (spooled > 0)
    rh_log (G_LOG_LEVEL_WARNING, NULL, NULL, NULL,
            _("cluster: %u event(s) still spooled at exit: not appended to the event log"), spooled);
  g_queue_clear_full (&log->spool, (GDestroyNotify) entry_free);
  g_strfreev (log->streams);
  g_free (log);
}

void
rh_event_log_get_stats (const RhEventLog *log, RhEventLogStats *stats)
{
  *stats = log->stats;
  stats->spooled = log->spool.length;
}

RhRedisLink *
rh_event_log_get_link (RhEventLog *log)
{
  return log->link;
}
