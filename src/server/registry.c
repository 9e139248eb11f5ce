#include "config.h"

#include "registry.h"

#include <glib/gi18n.h>
#include <string.h>

#include "connection.h"
#include "util/log.h"

struct _RhRegistry {
  const RhEventSink *sink;
  RhDirectoryHook directory;
  RhStreamPolicy policy;
  GHashTable *streams;  /* key -> RhStream */
  guint64 ended_player_dropped;
};

static void
on_codec_detected (RhStream *stream, const char *track, const char *codec, const RhCodecDetails *details,
                   gpointer user_data)
{
  RhRegistry *registry = user_data;
  const char *conn_id = stream->publisher != NULL ? rh_connection_get_id (stream->publisher->connection) : NULL;
  g_autoptr (GString) more = g_string_new (NULL);
  if (details->profile[0] != '\0')
    g_string_append_printf (more, " profile=\"%s\"", details->profile);
  if (details->level[0] != '\0')
    g_string_append_printf (more, " level=%s", details->level);
  if (details->width > 0)
    g_string_append_printf (more, " size=%ux%u", details->width, details->height);
  if (details->bit_depth > 0)
    g_string_append_printf (more, " bit_depth=%u", details->bit_depth);
  if (details->chroma_format[0] != '\0')
    g_string_append_printf (more, " chroma=%s", details->chroma_format);
  if (details->sample_rate > 0)
    g_string_append_printf (more, " sample_rate=%u", details->sample_rate);
  if (details->channels > 0)
    g_string_append_printf (more, " channels=%u", details->channels);
  rh_log (G_LOG_LEVEL_INFO, conn_id, stream->key, NULL, "codec_detected %s track=%s codec=%s%s", stream->key,
          track, codec, more->str);
  /* A pulled stream's codecs are the owner node's to announce. */
  if (stream->publisher != NULL)
    rh_emit_codec_detected (registry->sink, stream, track, codec, details);
}

static const RhStreamObserver stream_observer = { on_codec_detected };

RhRegistry *
rh_registry_new (const RhEventSink *sink, const RhStreamPolicy *policy)
{
  RhRegistry *registry = g_new0 (RhRegistry, 1);
  registry->sink = sink;
  registry->policy = *policy;
  registry->streams = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                             (GDestroyNotify) rh_stream_free);
  return registry;
}

void
rh_registry_free (RhRegistry *registry)
{
  if (registry == NULL)
    return;
  g_hash_table_unref (registry->streams);
  g_free (registry);
}

RhStream *
rh_registry_lookup (RhRegistry *registry, const char *app, const char *name)
{
  g_autofree char *key = g_strconcat (app, "/", name, NULL);
  return g_hash_table_lookup (registry->streams, key);
}

RhStream *
rh_registry_lookup_key (RhRegistry *registry, const char *key)
{
  return g_hash_table_lookup (registry->streams, key);
}

gboolean
rh_registry_split_key (const char *key, char **app, char **name)
{
  const char *slash = strchr (key, '/');
  if (slash == NULL)
    return FALSE;
  *app = g_strndup (key, (gsize) (slash - key));
  *name = g_strdup (slash + 1);
  return TRUE;
}

RhStream *
rh_registry_obtain (RhRegistry *registry, const char *app, const char *name)
{
  RhStream *stream = rh_registry_lookup (registry, app, name);
  if (stream != NULL)
    return stream;
  stream = rh_stream_new (app, name, &registry->policy, &stream_observer, registry);
  g_hash_table_insert (registry->streams, stream->key, stream);
  rh_log (G_LOG_LEVEL_INFO, NULL, stream->key, NULL, _("stream %s created"), stream->key);
  rh_emit_stream_create (registry->sink, stream);
  return stream;
}

void
rh_registry_release (RhRegistry *registry, RhStream *stream)
{
  if (rh_stream_is_live (stream) || stream->players->len > 0)
    return;
  rh_log (G_LOG_LEVEL_INFO, NULL, stream->key, NULL, _("stream %s deleted"), stream->key);
  rh_emit_stream_delete (registry->sink, stream);
  g_hash_table_remove (registry->streams, stream->key);
}

guint
rh_registry_get_n_streams (RhRegistry *registry)
{
  return g_hash_table_size (registry->streams);
}

void
rh_registry_set_policy (RhRegistry *registry, const RhStreamPolicy *policy)
{
  GHashTableIter iter;
  gpointer value;
  registry->policy = *policy;
  g_hash_table_iter_init (&iter, registry->streams);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    ((RhStream *) value)->policy = *policy;
}

void
rh_registry_set_directory (RhRegistry *registry, const RhDirectoryFuncs *funcs, gpointer user_data)
{
  registry->directory.funcs = funcs;
  registry->directory.user_data = user_data;
}

const RhDirectoryHook *
rh_registry_get_directory (RhRegistry *registry)
{
  return &registry->directory;
}

const RhEventSink *
rh_registry_get_sink (RhRegistry *registry)
{
  return registry->sink;
}

void
rh_registry_count_ended_player (RhRegistry *registry, const RhPlayer *player)
{
  registry->ended_player_dropped += player->pacing.dropped;
}

void
rh_registry_get_counters (RhRegistry *registry, guint *streams, guint *publishers, guint *players,
                          guint64 *player_dropped)
{
  GHashTableIter iter;
  gpointer value;
  *streams = g_hash_table_size (registry->streams);
  *publishers = 0;
  *players = 0;
  *player_dropped = registry->ended_player_dropped;
  g_hash_table_iter_init (&iter, registry->streams);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      const RhStream *stream = value;
      *publishers += stream->publisher != NULL;
      *players += stream->players->len;
      for (guint i = 0; i < stream->players->len; i++)
        *player_dropped += ((const RhPlayer *) g_ptr_array_index (stream->players, i))->pacing.dropped;
    }
}

static gint
compare_stream_key (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(RhStream *const *) a)->key, (*(RhStream *const *) b)->key);
}

GPtrArray *
rh_registry_list_streams (RhRegistry *registry)
{
  GPtrArray *list = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init (&iter, registry->streams);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (list, value);
  g_ptr_array_sort (list, compare_stream_key);
  return list;
}

void
rh_registry_check_stalls (RhRegistry *registry, gint64 now, gint64 timeout)
{
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init (&iter, registry->streams);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      RhPublisher *publisher = ((RhStream *) value)->publisher;
      if (publisher == NULL || !publisher->media_started || publisher->stalled_since != 0
          || now - publisher->last_media_at < timeout)
        continue;
      publisher->stalled_since = publisher->last_media_at;
      gint64 seconds = (now - publisher->last_media_at) / G_USEC_PER_SEC;
      rh_log (G_LOG_LEVEL_WARNING, rh_connection_get_id (publisher->connection), publisher->stream->key, NULL,
              "%s media_stall %s: no media for %" G_GINT64_FORMAT "s", rh_connection_get_id (publisher->connection),
              publisher->stream->key, seconds);
      rh_emit_media_stall (registry->sink, publisher, seconds);
    }
}
