#include "config.h"

#include "stream.h"

#include <string.h>

#include "connection.h"
#include "replies.h"
#include "wire-cache.h"
#include "util/log.h"
#include "protocol/media.h"

#include <glib/gi18n.h>
#include "protocol/message.h"

typedef struct {
  guint8 type;
  RhMediaFlags flags;
  guint16 config_key;         /* headers: which configuration */
  guint32 timestamp;
  GBytes *payload;
} CachedPacket;

static void
cached_packet_clear (gpointer data)
{
  CachedPacket *packet = data;
  g_bytes_unref (packet->payload);
}

RhStream *
rh_stream_new (const char *app, const char *name, const RhStreamPolicy *policy,
               const RhStreamObserver *observer, gpointer observer_data)
{
  RhStream *stream = g_new0 (RhStream, 1);
  stream->policy = *policy;
  stream->observer = observer;
  stream->observer_data = observer_data;
  stream->app = g_strdup (app);
  stream->name = g_strdup (name);
  stream->key = g_strconcat (app, "/", name, NULL);
  stream->players = g_ptr_array_new ();
  stream->outputs = g_ptr_array_new ();
  stream->gop = g_array_new (FALSE, FALSE, sizeof (CachedPacket));
  g_array_set_clear_func (stream->gop, cached_packet_clear);
  stream->headers = g_array_new (FALSE, FALSE, sizeof (CachedPacket));
  g_array_set_clear_func (stream->headers, cached_packet_clear);
  return stream;
}

static void
clear_caches (RhStream *stream)
{
  g_clear_pointer (&stream->metadata, g_bytes_unref);
  g_array_set_size (stream->headers, 0);
  stream->video_codec = NULL;
  stream->audio_codec = NULL;
  memset (&stream->video_details, 0, sizeof stream->video_details);
  memset (&stream->audio_details, 0, sizeof stream->audio_details);
  rh_track_rate_reset (&stream->video_rate);
  rh_track_rate_reset (&stream->audio_rate);
  g_array_set_size (stream->gop, 0);
  stream->gop_bytes = 0;
  stream->gop_overflowed = FALSE;
}

void
rh_stream_free (RhStream *stream)
{
  clear_caches (stream);
  g_array_unref (stream->gop);
  g_array_unref (stream->headers);
  g_ptr_array_unref (stream->players);
  g_ptr_array_unref (stream->outputs);
  g_free (stream->pulled_from);
  g_free (stream->key);
  g_free (stream->app);
  g_free (stream->name);
  g_free (stream);
}

gboolean
rh_stream_is_live (const RhStream *stream)
{
  return stream->publisher != NULL || stream->pulled_from != NULL;
}

static void
send_status (RhPlayer *player, const char *level, const char *code, const char *description)
{
  rh_replies_status (player->connection, player->stream_id, level, code, description);
}

static void
send_user_event (RhPlayer *player, guint16 event)
{
  rh_replies_user_event (player->connection, event, player->stream_id);
}

static guint32
media_csid (guint8 type)
{
  return type == RH_MSG_VIDEO ? RH_CSID_VIDEO : type == RH_MSG_AUDIO ? RH_CSID_AUDIO : RH_CSID_DATA;
}

/* Chunked for this player alone (the cached replay to a late joiner): the
 * payload is still shared, only the chunk headers are the player's. */
static void
send_to_player (RhPlayer *player, guint8 type, guint32 timestamp, GBytes *payload)
{
  rh_connection_send (player->connection, media_csid (type), type, player->stream_id, timestamp,
                      payload);
  player->bytes_sent += g_bytes_get_size (payload);
}

static void
send_cached (RhStream *stream, RhPlayer *player)
{
  if (stream->metadata != NULL)
    send_to_player (player, RH_MSG_DATA_AMF0, 0, stream->metadata);
  for (guint i = 0; i < stream->headers->len; i++)
    {
      const CachedPacket *header = &g_array_index (stream->headers, CachedPacket, i);
      send_to_player (player, header->type, 0, header->payload);
    }
  for (guint i = 0; i < stream->gop->len; i++)
    {
      const CachedPacket *packet = &g_array_index (stream->gop, CachedPacket, i);
      send_to_player (player, packet->type, packet->timestamp, packet->payload);
    }
  player->pacing.skipping = FALSE;
}

/* Players hear that the stream begins (a publish or a pull). */
static void
begin_source (RhStream *stream)
{
  clear_caches (stream);
  for (guint i = 0; i < stream->players->len; i++)
    {
      RhPlayer *player = g_ptr_array_index (stream->players, i);
      send_user_event (player, RH_UC_STREAM_BEGIN);
      send_status (player, "status", "NetStream.Play.PublishNotify", stream->key);
      player->pacing.skipping = FALSE;
    }
}

/* Players hear that it ended and keep waiting. */
static void
end_source (RhStream *stream)
{
  clear_caches (stream);
  for (guint i = 0; i < stream->players->len; i++)
    {
      RhPlayer *player = g_ptr_array_index (stream->players, i);
      send_user_event (player, RH_UC_STREAM_EOF);
      send_status (player, "status", "NetStream.Play.UnpublishNotify", stream->key);
    }
}

void
rh_stream_set_publisher (RhStream *stream, RhPublisher *publisher)
{
  g_return_if_fail (!rh_stream_is_live (stream));
  stream->publisher = publisher;
  publisher->stream = stream;
  begin_source (stream);
}

void
rh_stream_clear_publisher (RhStream *stream, RhReason reason)
{
  if (stream->publisher == NULL)
    return;
  /* Detached first: an output's ended() may free it. */
  g_autoptr (GPtrArray) outputs = g_steal_pointer (&stream->outputs);
  stream->outputs = g_ptr_array_new ();
  for (guint i = 0; i < outputs->len; i++)
    {
      RhOutput *output = g_ptr_array_index (outputs, i);
      output->stream = NULL;
      output->funcs->ended (output, reason);
    }
  stream->publisher->stream = NULL;
  stream->publisher = NULL;
  end_source (stream);
}

void
rh_stream_begin_pull (RhStream *stream, const char *origin_node)
{
  g_return_if_fail (!rh_stream_is_live (stream));
  stream->pulled_from = g_strdup (origin_node);
  begin_source (stream);
}

void
rh_stream_end_pull (RhStream *stream)
{
  if (stream->pulled_from == NULL)
    return;
  g_clear_pointer (&stream->pulled_from, g_free);
  end_source (stream);
}

void
rh_stream_add_player (RhStream *stream, RhPlayer *player)
{
  player->stream = stream;
  g_ptr_array_add (stream->players, player);

  send_user_event (player, RH_UC_STREAM_BEGIN);
  send_status (player, "status", "NetStream.Play.Reset", stream->key);
  send_status (player, "status", "NetStream.Play.Start", stream->key);
  rh_replies_sample_access (player->connection, player->stream_id);
  if (rh_stream_is_live (stream))
    send_cached (stream, player);
}

void
rh_stream_attach_output (RhStream *stream, RhOutput *output)
{
  g_return_if_fail (rh_stream_is_live (stream));
  g_ptr_array_add (stream->outputs, output);
  output->stream = stream;
  rh_stream_replay_to_output (stream, output);
}

void
rh_stream_replay_to_output (RhStream *stream, RhOutput *output)
{
  if (stream->metadata != NULL)
    {
      RhOutputPacket metadata = { RH_MSG_DATA_AMF0, 0, stream->metadata, RH_MEDIA_SEQUENCE_HEADER, 0 };
      output->funcs->packet (output, &metadata);
    }
  GArray *caches[] = { stream->headers, stream->gop };
  for (gsize c = 0; c < G_N_ELEMENTS (caches); c++)
    for (guint i = 0; i < caches[c]->len; i++)
      {
        const CachedPacket *cached = &g_array_index (caches[c], CachedPacket, i);
        RhOutputPacket packet = { cached->type, cached->timestamp, cached->payload, cached->flags, cached->config_key };
        output->funcs->packet (output, &packet);
      }
}

void
rh_stream_detach_output (RhStream *stream, RhOutput *output)
{
  if (g_ptr_array_remove (stream->outputs, output))
    output->stream = NULL;
}

void
rh_stream_remove_player (RhStream *stream, RhPlayer *player)
{
  g_ptr_array_remove (stream->players, player);
  player->stream = NULL;
}

static void
cache_gop (RhStream *stream, guint8 type, guint32 timestamp, GBytes *payload, RhMediaFlags flags)
{
  if (!stream->policy.gop_cache)
    return;
  if (type == RH_MSG_VIDEO && (flags & RH_MEDIA_KEYFRAME))
    {
      g_array_set_size (stream->gop, 0);
      stream->gop_bytes = 0;
      stream->gop_overflowed = FALSE;
    }
  else if (stream->gop->len == 0 || stream->gop_overflowed)
    {
      return;  /* nothing to attach to before the first keyframe */
    }

  gsize size = g_bytes_get_size (payload);
  if (stream->gop_bytes + size > stream->policy.gop_cache_max_bytes)
    {
      g_array_set_size (stream->gop, 0);
      stream->gop_bytes = 0;
      stream->gop_overflowed = TRUE;
      return;
    }
  CachedPacket packet = { type, flags, 0, timestamp, g_bytes_ref (payload) };
  g_array_append_val (stream->gop, packet);
  stream->gop_bytes += size;
}

static void
log_pacing_change (const RhStream *stream, const RhPlayer *player, const RhPlayerPacing *before,
                   gsize queued, gint64 oldest_queued_at, gint64 now)
{
  const char *id = rh_connection_get_id (player->connection);
  if (player->pacing.skips != before->skips)
    rh_log (G_LOG_LEVEL_INFO, id, stream->key, NULL,
            _("player %s behind (%llu bytes queued, oldest %.3f s ago): "
              "skipping to the next keyframe"),
            id, (unsigned long long) queued, oldest_queued_at != 0 ? (now - oldest_queued_at) / 1e6 : 0.0);
  else if (before->skipping && !player->pacing.skipping && player->pacing.skip_dropped > 0)
    rh_log (G_LOG_LEVEL_INFO, id, stream->key, NULL,
            _("player %s caught up at a keyframe after skipping %llu messages"),
            id, (unsigned long long) player->pacing.skip_dropped);
}

/* Judges one player for one message: TRUE to send it. *close_detail is
 * set when the player must be closed (reason timeout). */
static gboolean
pace_player (RhStream *stream, RhPlayer *player, RhMediaFlags flags, gint64 now,
             const char **close_detail)
{
  if (player->paused)
    return FALSE;
  gsize queued = rh_connection_get_queued_bytes (player->connection);
  gint64 oldest = rh_connection_get_oldest_queued_at (player->connection);
  RhPlayerPacing before = player->pacing;
  RhPlayerVerdict verdict = rh_slow_player_judge (&player->pacing, &stream->policy.slow_player,
                                                  queued, oldest, now, flags);
  if (player->pacing.skipping != before.skipping)
    log_pacing_change (stream, player, &before, queued, oldest, now);
  switch (verdict)
    {
    case RH_PLAYER_SEND:
      return TRUE;
    case RH_PLAYER_DROP:
      return FALSE;
    case RH_PLAYER_CLOSE_QUEUE_FULL:
      *close_detail = _("player too slow: send queue over player_queue_hard_limit");
      return FALSE;
    case RH_PLAYER_CLOSE_BEHIND:
      *close_detail = _("player stayed behind for player_behind_timeout");
      return FALSE;
    }
  g_return_val_if_reached (FALSE);
}

typedef struct {
  RhConnection *connection;   /* a reference */
  const char *detail;
} PlayerToClose;

static void
player_to_close_clear (gpointer data)
{
  rh_connection_unref (((PlayerToClose *) data)->connection);
}

/* Sends one message to every player. The wire bytes are built once per
 * (chunk size, stream id) and shared: each player queues a reference. */
static void
fan_out (RhStream *stream, guint8 type, guint32 timestamp, GBytes *payload, RhMediaFlags flags)
{
  g_autoptr (GArray) to_close = NULL;  /* allocated only when someone is */
  RhWireCache wire;
  gint64 now = g_get_monotonic_time ();

  rh_wire_cache_init (&wire, media_csid (type), type, timestamp, payload);
  for (guint i = 0; i < stream->players->len; i++)
    {
      RhPlayer *player = g_ptr_array_index (stream->players, i);
      const char *close_detail = NULL;
      if (!pace_player (stream, player, flags, now, &close_detail))
        {
          if (close_detail != NULL)
            {
              if (to_close == NULL)
                {
                  to_close = g_array_new (FALSE, FALSE, sizeof (PlayerToClose));
                  g_array_set_clear_func (to_close, player_to_close_clear);
                }
              PlayerToClose entry = { rh_connection_ref (player->connection), close_detail };
              g_array_append_val (to_close, entry);
            }
          continue;
        }
      GBytes *bytes = rh_wire_cache_get (&wire, rh_connection_get_chunk_size (player->connection),
                                         player->stream_id);
      if (bytes == NULL)
        {
          send_to_player (player, type, timestamp, payload);
          continue;
        }
      rh_connection_send_media_wire (player->connection, bytes, now);
      player->bytes_sent += g_bytes_get_size (payload);
    }
  rh_wire_cache_clear (&wire);
  /* Closing changes stream->players: only after the loop. */
  for (guint i = 0; to_close != NULL && i < to_close->len; i++)
    {
      PlayerToClose *entry = &g_array_index (to_close, PlayerToClose, i);
      rh_connection_close (entry->connection, RH_REASON_TIMEOUT, entry->detail);
    }
}

/* An output may end itself (a recording that failed) while fed: the
 * loop goes by index and rereads the length. */
static void
feed_outputs (RhStream *stream, const RhOutputPacket *packet)
{
  for (guint i = 0; i < stream->outputs->len; i++)
    {
      RhOutput *output = g_ptr_array_index (stream->outputs, i);
      output->funcs->packet (output, packet);
      if (i < stream->outputs->len && g_ptr_array_index (stream->outputs, i) != output)
        i--;
    }
}

/* Keeps a decoder configuration for late joiners, replacing the one of
 * the same type and key; TRUE if it differs from that one. */
static gboolean
keep_header (RhStream *stream, guint8 type, guint16 config_key, GBytes *payload)
{
  for (guint i = 0; i < stream->headers->len; i++)
    {
      CachedPacket *header = &g_array_index (stream->headers, CachedPacket, i);
      if (header->type != type || header->config_key != config_key)
        continue;
      gboolean differs = !g_bytes_equal (header->payload, payload);
      g_bytes_unref (header->payload);
      header->payload = g_bytes_ref (payload);
      return differs;
    }
  CachedPacket header = { type, RH_MEDIA_SEQUENCE_HEADER, config_key, 0, g_bytes_ref (payload) };
  g_array_append_val (stream->headers, header);
  return TRUE;
}

/* Only when the codec or its configuration changed: never per packet. */
static void
describe_codec (guint8 type, const RhMediaInfo *info, const guint8 *data, gsize len, RhCodecDetails *details)
{
  memset (details, 0, sizeof *details);
  gboolean header = (info->flags & RH_MEDIA_SEQUENCE_HEADER) && info->config_key == 0 && info->config_offset <= len;
  if (type == RH_MSG_VIDEO)
    {
      if (header)
        rh_codec_details_video (info->codec, data + info->config_offset, len - info->config_offset, details);
    }
  else if (header)
    rh_codec_details_audio_config (info->codec, data + info->config_offset, len - info->config_offset, details);
  else if (len > 1 && (data[0] >> 4) == 2)
    rh_codec_details_mp3 (data + 1, len - 1, details);   /* legacy MP3: the frame says */
  else if (len > 0 && (data[0] >> 4) != 9 && (data[0] >> 4) != 10)
    rh_codec_details_flv_audio (data[0], details);
}

void
rh_stream_push_media (RhStream *stream, guint8 type, guint32 timestamp, GBytes *payload)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (payload, &len);
  RhMediaInfo info = type == RH_MSG_VIDEO ? rh_media_inspect_video (data, len)
                                          : rh_media_inspect_audio (data, len);

  const char **codec = type == RH_MSG_VIDEO ? &stream->video_codec : &stream->audio_codec;
  gboolean changed = info.codec != NULL && g_strcmp0 (*codec, info.codec) != 0;
  if (info.flags & RH_MEDIA_SEQUENCE_HEADER)
    {
      /* New decoder parameters are a change even with the same codec
       * (those of the main track: codec_detected describes it). */
      gboolean new_config = keep_header (stream, type, info.config_key, payload);
      changed = changed || (new_config && info.config_key == 0);
    }
  else if (!(info.flags & RH_MEDIA_SEQUENCE_END))
    {
      cache_gop (stream, type, timestamp, payload, info.flags);
      rh_track_rate_add (type == RH_MSG_VIDEO ? &stream->video_rate : &stream->audio_rate, timestamp, len);
    }
  if (changed && info.codec != NULL)
    {
      RhCodecDetails *details = type == RH_MSG_VIDEO ? &stream->video_details : &stream->audio_details;
      describe_codec (type, &info, data, len, details);
      *codec = info.codec;
      stream->observer->codec_detected (stream, type == RH_MSG_VIDEO ? "video" : "audio", info.codec, details,
                                        stream->observer_data);
    }
  fan_out (stream, type, timestamp, payload, info.flags);
  RhOutputPacket packet = { type, timestamp, payload, info.flags, info.config_key };
  feed_outputs (stream, &packet);
}

void
rh_stream_push_data (RhStream *stream, guint32 timestamp, GBytes *payload, gboolean is_metadata)
{
  if (is_metadata)
    {
      g_clear_pointer (&stream->metadata, g_bytes_unref);
      stream->metadata = g_bytes_ref (payload);
    }
  fan_out (stream, RH_MSG_DATA_AMF0, timestamp, payload, RH_MEDIA_SEQUENCE_HEADER);
  RhOutputPacket packet = { RH_MSG_DATA_AMF0, timestamp, payload, is_metadata ? RH_MEDIA_SEQUENCE_HEADER : 0, 0 };
  feed_outputs (stream, &packet);
}
