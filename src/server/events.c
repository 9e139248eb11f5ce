#include "config.h"

#include "events.h"

#include "connection.h"
#include "registry.h"
#include "server.h"
#include "stream.h"
#include "hooks/event.h"

static gint64
seconds_since (gint64 monotonic_start)
{
  return (g_get_monotonic_time () - monotonic_start) / G_USEC_PER_SEC;
}

static RhEvent *
connection_event (RhEventType type, RhConnection *connection)
{
  RhEvent *event = rh_event_new (type, rh_connection_get_id (connection), NULL);
  rh_event_add_string (event, "client_ip", rh_connection_get_client_ip (connection));
  rh_event_add_number (event, "client_port", rh_connection_get_client_port (connection));
  return event;
}

static void
emit (RhServer *server, RhEvent *event)
{
  rh_server_emit (server, event);
  rh_event_unref (event);
}

void
rh_events_connection_accept (RhConnection *connection)
{
  RhEvent *event = connection_event (RH_EVENT_CONNECTION_ACCEPT, connection);
  rh_event_add_string (event, "server_ip", rh_connection_get_server_ip (connection));
  rh_event_add_number (event, "server_port", rh_connection_get_server_port (connection));
  emit (rh_connection_get_server (connection), event);
}

void
rh_events_handshake_complete (RhConnection *connection, const char *scheme)
{
  RhEvent *event = connection_event (RH_EVENT_HANDSHAKE_COMPLETE, connection);
  rh_event_add_string (event, "handshake", scheme);
  emit (rh_connection_get_server (connection), event);
}

void
rh_events_connection_close (RhConnection *connection, RhReason reason, gint64 duration_seconds,
                            guint64 bytes_received, guint64 bytes_sent)
{
  RhEvent *event = connection_event (RH_EVENT_CONNECTION_CLOSE, connection);
  rh_event_add_number (event, "duration_seconds", duration_seconds);
  rh_event_add_number (event, "bytes_received", (gint64) bytes_received);
  rh_event_add_number (event, "bytes_sent", (gint64) bytes_sent);
  rh_event_add_string (event, "reason", rh_reason_to_string (reason));
  emit (rh_connection_get_server (connection), event);
}

static RhEvent *
stream_event (RhEventType type, RhStream *stream, RhConnection *connection)
{
  RhEvent *event = rh_event_new (type, connection != NULL ? rh_connection_get_id (connection) : NULL,
                                 stream->key);
  rh_event_add_string (event, "app", stream->app);
  rh_event_add_string (event, "stream_name", stream->name);
  return event;
}

void
rh_events_stream_create (RhStream *stream)
{
  emit (rh_registry_get_server (stream->registry), stream_event (RH_EVENT_STREAM_CREATE, stream, NULL));
}

void
rh_events_stream_delete (RhStream *stream)
{
  emit (rh_registry_get_server (stream->registry), stream_event (RH_EVENT_STREAM_DELETE, stream, NULL));
}

void
rh_events_publish_start (RhPublisher *publisher, const char *tc_url)
{
  RhEvent *event = stream_event (RH_EVENT_PUBLISH_START, publisher->stream, publisher->connection);
  rh_event_add_string (event, "publish_type", publisher->publish_type);
  rh_event_add_string (event, "client_ip", rh_connection_get_client_ip (publisher->connection));
  rh_event_add_string (event, "tc_url", tc_url);
  rh_event_add_string (event, "query", publisher->query);
  emit (rh_connection_get_server (publisher->connection), event);
}

void
rh_events_publish_stop (RhPublisher *publisher, RhReason reason)
{
  RhEvent *event = stream_event (RH_EVENT_PUBLISH_STOP, publisher->stream, publisher->connection);
  rh_event_add_string (event, "client_ip", rh_connection_get_client_ip (publisher->connection));
  rh_event_add_number (event, "duration_seconds", seconds_since (publisher->started_at));
  rh_event_add_number (event, "bytes_received", (gint64) publisher->bytes_received);
  rh_event_add_number (event, "video_packets", (gint64) publisher->video_packets);
  rh_event_add_number (event, "audio_packets", (gint64) publisher->audio_packets);
  rh_event_add_string (event, "reason", rh_reason_to_string (reason));
  emit (rh_connection_get_server (publisher->connection), event);
}

void
rh_events_play_start (RhPlayer *player)
{
  RhEvent *event = stream_event (RH_EVENT_PLAY_START, player->stream, player->connection);
  rh_event_add_string (event, "client_ip", rh_connection_get_client_ip (player->connection));
  rh_event_add_string (event, "query", player->query);
  emit (rh_connection_get_server (player->connection), event);
}

void
rh_events_play_stop (RhPlayer *player, RhReason reason)
{
  RhEvent *event = stream_event (RH_EVENT_PLAY_STOP, player->stream, player->connection);
  rh_event_add_string (event, "client_ip", rh_connection_get_client_ip (player->connection));
  rh_event_add_number (event, "duration_seconds", seconds_since (player->started_at));
  rh_event_add_number (event, "bytes_sent", (gint64) player->bytes_sent);
  rh_event_add_string (event, "reason", rh_reason_to_string (reason));
  emit (rh_connection_get_server (player->connection), event);
}

void
rh_events_codec_detected (RhStream *stream, const char *track, const char *codec)
{
  RhEvent *event = stream_event (RH_EVENT_CODEC_DETECTED, stream,
                                 stream->publisher != NULL ? stream->publisher->connection : NULL);
  rh_event_add_string (event, "track", track);
  rh_event_add_string (event, "codec", codec);
  emit (rh_registry_get_server (stream->registry), event);
}
