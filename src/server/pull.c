#include "config.h"

#include "pull.h"

#include <glib/gi18n.h>
#include <string.h>

#include "emit.h"
#include "stream.h"
#include "protocol/aggregate.h"
#include "protocol/data-message.h"
#include "util/log.h"

typedef struct {
  RhPulls *pulls;
  char *key;
  char *app;
  char *name;
  char *origin_node;
  RhRtmpUrl url;
  RhClientSession *session;
  RhStream *stream;          /* while it feeds it (pulled_from set) */
  gint64 started_at;         /* monotonic, when it began to feed */
  gint64 idle_since;         /* monotonic; 0 while players watch */
  guint64 bytes_received;
  const char *stop_reason;   /* set when we end it */
  gboolean closing;
} Pull;

struct _RhPulls {
  RhRegistry *registry;
  RhClientTls tls;           /* a reference on its database */
  double idle_seconds;
  GHashTable *pulls;         /* key -> Pull */
  guint tick_id;
  RhPullsCounters counters;
};

static void
pull_free (Pull *pull)
{
  g_clear_pointer (&pull->session, rh_client_session_free);
  rh_rtmp_url_clear (&pull->url);
  g_free (pull->key);
  g_free (pull->app);
  g_free (pull->name);
  g_free (pull->origin_node);
  g_free (pull);
}

/* The stream stops being fed: pull_stop, players wait for what comes. */
static void
stop_feeding (Pull *pull, const char *reason)
{
  RhStream *stream = g_steal_pointer (&pull->stream);
  if (stream == NULL)
    return;
  RhPulls *pulls = pull->pulls;
  gint64 duration = (g_get_monotonic_time () - pull->started_at) / G_USEC_PER_SEC;
  rh_log (G_LOG_LEVEL_MESSAGE, NULL, pull->key, NULL,
          "pull_stop %s from node %s reason=%s duration=%" G_GINT64_FORMAT "s bytes=%" G_GUINT64_FORMAT, pull->key,
          pull->origin_node, reason, duration, pull->bytes_received);
  rh_stream_end_pull (stream);
  rh_emit_pull_stop (rh_registry_get_sink (pulls->registry), stream, pull->url.public_url, pull->origin_node,
                     duration, pull->bytes_received, reason);
  pulls->counters.bytes += pull->bytes_received;
  rh_registry_release (pulls->registry, stream);
}

static void
on_ready (RhClientSession *session, gpointer owner)
{
  Pull *pull = owner;
  RhPulls *pulls = pull->pulls;
  RhStream *stream = rh_registry_obtain (pulls->registry, pull->app, pull->name);
  if (rh_stream_is_live (stream))
    {
      /* Published here meanwhile: that publisher serves the players;
       * the tick closes the pull (not from inside this callback). */
      pull->stop_reason = "superseded";
      return;
    }
  pull->stream = stream;
  pull->started_at = g_get_monotonic_time ();
  pulls->counters.started++;
  rh_stream_begin_pull (stream, pull->origin_node);
  rh_log (G_LOG_LEVEL_MESSAGE, NULL, pull->key, NULL, "pull_start %s from node %s (%s)", pull->key,
          pull->origin_node, pull->url.public_url);
  rh_emit_pull_start (rh_registry_get_sink (pulls->registry), stream, pull->url.public_url, pull->origin_node);
}

static void
on_aggregate_tag (guint8 type, guint32 timestamp, GBytes *body, gpointer user_data)
{
  Pull *pull = user_data;
  if (type == RH_MSG_AUDIO || type == RH_MSG_VIDEO)
    rh_stream_push_media (pull->stream, type, timestamp, body);
}

/* What the owner says to each of its players at play start, not part of
 * the stream: players here got their own. */
static gboolean
is_sample_access (GBytes *payload)
{
  static const guint8 marker[] = { 0x02, 0x00, 0x11, '|', 'R', 't', 'm', 'p', 'S', 'a', 'm', 'p', 'l', 'e',
                                   'A', 'c', 'c', 'e', 's', 's' };
  gsize len;
  const guint8 *data = g_bytes_get_data (payload, &len);
  return len >= sizeof marker && memcmp (data, marker, sizeof marker) == 0;
}

static void
on_media (RhClientSession *session, const RhMessage *message, gpointer owner)
{
  Pull *pull = owner;
  if (pull->stream == NULL || message->payload == NULL)
    return;
  pull->bytes_received += g_bytes_get_size (message->payload);
  switch (message->type)
    {
    case RH_MSG_AUDIO:
    case RH_MSG_VIDEO:
      rh_stream_push_media (pull->stream, message->type, message->timestamp, message->payload);
      return;
    case RH_MSG_AGGREGATE:
      rh_aggregate_foreach (message->payload, message->timestamp, on_aggregate_tag, pull, NULL);
      return;
    default:
      {
        if (message->type == RH_MSG_DATA_AMF0 && is_sample_access (message->payload))
          return;
        RhDataMessage data = { NULL, FALSE };
        if (rh_data_message_parse (message->type, message->payload, &data, NULL))
          rh_stream_push_data (pull->stream, message->timestamp, data.payload, data.is_metadata);
        rh_data_message_clear (&data);
      }
    }
}

static void
on_ended (RhClientSession *session, const char *why, gpointer owner)
{
  Pull *pull = owner;
  RhPulls *pulls = pull->pulls;
  gboolean was_feeding = pull->stream != NULL || pull->started_at != 0;
  if (pull->stream != NULL)
    stop_feeding (pull, pull->stop_reason != NULL ? pull->stop_reason
                        : rh_client_session_publish_ended (session) ? "publish_stop" : "error");
  if (!was_feeding && pull->stop_reason == NULL)
    {
      pulls->counters.failed++;
      rh_log (G_LOG_LEVEL_WARNING, NULL, pull->key, NULL, _("pull of %s from node %s (%s) failed: %s"), pull->key,
              pull->origin_node, pull->url.public_url, why != NULL ? why : _("closed"));
    }
  else if (why != NULL && pull->stop_reason == NULL)
    rh_log (G_LOG_LEVEL_MESSAGE, NULL, pull->key, NULL, "pull of %s ended: %s", pull->key, why);
  g_hash_table_remove (pulls->pulls, pull->key);
}

static const RhClientSessionOwner session_owner = { on_ready, on_media, on_ended };

/* Once a second: pulls without players for idle_seconds close, and so
 * do pulls a local publish superseded. */
static gboolean
on_tick (gpointer data)
{
  RhPulls *pulls = data;
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  gpointer value;
  g_autoptr (GPtrArray) closing = g_ptr_array_new ();
  g_hash_table_iter_init (&iter, pulls->pulls);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Pull *pull = value;
      if (pull->closing)
        continue;
      if (pull->stop_reason != NULL)
        {
          g_ptr_array_add (closing, pull);
          continue;
        }
      if (pull->stream == NULL)
        continue;
      if (pull->stream->players->len > 0)
        pull->idle_since = 0;
      else if (pull->idle_since == 0)
        pull->idle_since = now;
      if (pull->idle_since != 0 && now - pull->idle_since >= (gint64) (pulls->idle_seconds * G_USEC_PER_SEC))
        {
          pull->stop_reason = "idle";
          g_ptr_array_add (closing, pull);
        }
    }
  for (guint i = 0; i < closing->len; i++)
    {
      Pull *pull = g_ptr_array_index (closing, i);
      pull->closing = TRUE;
      stop_feeding (pull, pull->stop_reason);
      rh_client_session_close (pull->session);
    }
  return G_SOURCE_CONTINUE;
}

RhPulls *
rh_pulls_new (RhRegistry *registry)
{
  RhPulls *pulls = g_new0 (RhPulls, 1);
  pulls->registry = registry;
  pulls->tls.verify = TRUE;
  pulls->idle_seconds = 10;
  pulls->pulls = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) pull_free);
  pulls->tick_id = g_timeout_add_seconds (1, on_tick, pulls);
  return pulls;
}

void
rh_pulls_configure (RhPulls *pulls, const RhClientTls *tls, double idle_seconds)
{
  g_clear_object (&pulls->tls.database);
  pulls->tls.database = tls->database != NULL ? g_object_ref (tls->database) : NULL;
  pulls->tls.verify = tls->verify;
  pulls->idle_seconds = idle_seconds;
}

void
rh_pulls_start (RhPulls *pulls, const char *key, const char *url, const char *origin_node)
{
  if (g_hash_table_contains (pulls->pulls, key))
    return;
  RhStream *stream = rh_registry_lookup_key (pulls->registry, key);
  g_autofree char *app = NULL, *name = NULL;
  if ((stream != NULL && rh_stream_is_live (stream)) || !rh_registry_split_key (key, &app, &name))
    return;
  Pull *pull = g_new0 (Pull, 1);
  pull->pulls = pulls;
  pull->key = g_strdup (key);
  pull->app = g_steal_pointer (&app);
  pull->name = g_steal_pointer (&name);
  pull->origin_node = g_strdup (origin_node);
  g_autoptr (GError) error = NULL;
  if (!rh_rtmp_url_parse (url, &pull->url, &error))
    {
      rh_log (G_LOG_LEVEL_WARNING, NULL, key, NULL, _("pull of %s from node %s: bad URL: %s"), key, origin_node,
              error->message);
      pulls->counters.failed++;
      pull_free (pull);
      return;
    }
  rh_log (G_LOG_LEVEL_INFO, NULL, key, NULL, "pull of %s from node %s (%s) starting", key, origin_node,
          pull->url.public_url);
  /* Marked as one relay hop: the owner sees a pull, not an audience. */
  pull->session = rh_client_session_new (RH_CLIENT_PLAY, &pull->url, &pulls->tls, 1, &session_owner, pull);
  g_hash_table_insert (pulls->pulls, pull->key, pull);
  rh_client_session_start (pull->session);
}

void
rh_pulls_stop_all (RhPulls *pulls)
{
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init (&iter, pulls->pulls);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Pull *pull = value;
      stop_feeding (pull, "server_shutdown");
    }
  g_hash_table_remove_all (pulls->pulls);
}

void
rh_pulls_free (RhPulls *pulls)
{
  if (pulls == NULL)
    return;
  rh_pulls_stop_all (pulls);
  g_clear_handle_id (&pulls->tick_id, g_source_remove);
  g_hash_table_unref (pulls->pulls);
  g_clear_object (&pulls->tls.database);
  g_free (pulls);
}

void
rh_pulls_get_counters (RhPulls *pulls, RhPullsCounters *counters)
{
  *counters = pulls->counters;
  counters->active = g_hash_table_size (pulls->pulls);
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init (&iter, pulls->pulls);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    counters->bytes += ((Pull *) value)->bytes_received;
}
