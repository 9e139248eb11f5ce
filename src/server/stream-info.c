#include "config.h"

#include "stream-info.h"

#include <glib/gi18n.h>

#include "connection.h"
#include "registry.h"
#include "server.h"
#include "stream.h"
#include "util/log.h"

static void
publisher_info_free (RhPublisherInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->conn_id);
  g_free (info->client_ip);
  g_free (info->publish_type);
  g_free (info);
}

static void
player_info_clear (gpointer data)
{
  RhPlayerInfo *info = data;
  g_free (info->conn_id);
  g_free (info->client_ip);
}

static void
output_info_clear (gpointer data)
{
  RhOutputInfo *info = data;
  g_free (info->kind);
  g_free (info->target);
  g_free (info->state);
}

static void
stream_info_free (RhStreamInfo *info)
{
  g_free (info->key);
  g_free (info->app);
  g_free (info->name);
  publisher_info_free (info->publisher);
  g_free (info->video.codec);
  g_free (info->audio.codec);
  g_clear_pointer (&info->players, g_array_unref);
  g_array_unref (info->outputs);
  g_free (info);
}

static RhPublisherInfo *
publisher_info (const RhPublisher *publisher)
{
  if (publisher == NULL)
    return NULL;
  RhPublisherInfo *info = g_new0 (RhPublisherInfo, 1);
  info->conn_id = g_strdup (rh_connection_get_id (publisher->connection));
  info->client_ip = g_strdup (rh_connection_get_client_ip (publisher->connection));
  info->publish_type = g_strdup (publisher->publish_type);
  info->tls = rh_connection_is_tls (publisher->connection);
  info->tls_version = rh_connection_get_tls_version (publisher->connection);
  info->started_at = publisher->started_at;
  info->bytes_received = publisher->bytes_received;
  info->video_packets = publisher->video_packets;
  info->audio_packets = publisher->audio_packets;
  return info;
}

static void
track_info (RhTrackInfo *info, const char *codec, const RhCodecDetails *details, const RhTrackRate *rate)
{
  info->codec = g_strdup (codec);
  info->details = *details;
  info->measured = rh_track_rate_read (rate, &info->bitrate, &info->frame_rate);
}

static RhStreamInfo *
stream_info (const RhStream *stream, gboolean with_players)
{
  RhStreamInfo *info = g_new0 (RhStreamInfo, 1);
  info->key = g_strdup (stream->key);
  info->app = g_strdup (stream->app);
  info->name = g_strdup (stream->name);
  info->publisher = publisher_info (stream->publisher);
  track_info (&info->video, stream->video_codec, &stream->video_details, &stream->video_rate);
  track_info (&info->audio, stream->audio_codec, &stream->audio_details, &stream->audio_rate);
  info->n_players = stream->players->len;
  if (with_players)
    {
      info->players = g_array_sized_new (FALSE, TRUE, sizeof (RhPlayerInfo), stream->players->len);
      g_array_set_clear_func (info->players, player_info_clear);
      for (guint i = 0; i < stream->players->len; i++)
        {
          const RhPlayer *player = g_ptr_array_index (stream->players, i);
          RhPlayerInfo one = {
            g_strdup (rh_connection_get_id (player->connection)),
            g_strdup (rh_connection_get_client_ip (player->connection)),
            rh_connection_is_tls (player->connection), rh_connection_get_tls_version (player->connection),
            player->started_at, player->bytes_sent, player->pacing.dropped, player->pacing.skips,
          };
          g_array_append_val (info->players, one);
        }
    }
  info->outputs = g_array_new (FALSE, TRUE, sizeof (RhOutputInfo));
  g_array_set_clear_func (info->outputs, output_info_clear);
  for (guint i = 0; i < stream->outputs->len; i++)
    {
      RhOutput *output = g_ptr_array_index (stream->outputs, i);
      RhOutputInfo one = { g_strdup (output->funcs->kind), NULL, NULL, 0 };
      const char *state = NULL;
      output->funcs->describe (output, &one.target, &state, &one.bytes);
      one.state = g_strdup (state);
      g_array_append_val (info->outputs, one);
    }
  return info;
}

GPtrArray *
rh_server_snapshot_streams (RhServer *server, gboolean with_players)
{
  g_autoptr (GPtrArray) streams = rh_registry_list_streams (rh_server_get_registry (server));
  GPtrArray *infos = g_ptr_array_new_full (streams->len, (GDestroyNotify) stream_info_free);
  for (guint i = 0; i < streams->len; i++)
    g_ptr_array_add (infos, stream_info (g_ptr_array_index (streams, i), with_players));
  return infos;
}

guint
rh_server_get_n_streams (RhServer *server)
{
  return rh_registry_get_n_streams (rh_server_get_registry (server));
}

gboolean
rh_server_drop_publisher (RhServer *server, const char *app, const char *name, const char *requested_by)
{
  RhStream *stream = rh_registry_lookup (rh_server_get_registry (server), app, name);
  if (stream == NULL || stream->publisher == NULL)
    return FALSE;
  RhConnection *connection = stream->publisher->connection;
  rh_log (G_LOG_LEVEL_MESSAGE, rh_connection_get_id (connection), stream->key, NULL,
          _("publisher of %s dropped through the HTTP API (request from %s)"), stream->key,
          requested_by != NULL ? requested_by : "?");
  rh_connection_close (connection, RH_REASON_REJECTED, _("dropped through the HTTP API"));
  return TRUE;
}
