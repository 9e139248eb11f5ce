#include "config.h"

#include "emit.h"

#include "connection.h"
#include "stream.h"

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

/* tls, and tls_version once the TLS handshake is done. */
static void
add_transport (RhEvent *event, RhConnection *connection)
{
  rh_event_add_boolean (event, "tls", rh_connection_is_tls (connection));
  const char *version = rh_connection_get_tls_version (connection);
  if (version != NULL)
    rh_event_add_string (event, "tls_version", version);
}

static void
emit (const RhEventSink *sink, RhEvent *event)
{
  if (sink->func != NULL)
    sink->func (event, sink->user_data);
  rh_event_unref (event);
}

void
rh_emit_connection_accept (const RhEventSink *sink, RhConnection *connection)
{
  RhEvent *event = connection_event (RH_EVENT_CONNECTION_ACCEPT, connection);
  rh_event_add_string (event, "server_ip", rh_connection_get_server_ip (connection));
  rh_event_add_number (event, "server_port", rh_connection_get_server_port (connection));
  rh_event_add_boolean (event, "tls", rh_connection_is_tls (connection));
  emit (sink, event);
}

void
rh_emit_handshake_complete (const RhEventSink *sink, RhConnection *connection, const char *scheme)
{
  RhEvent *event = connection_event (RH_EVENT_HANDSHAKE_COMPLETE, connection);
  rh_event_add_string (event, "handshake", scheme);
  add_transport (event, connection);
  emit (sink, event);
}

void
rh_emit_connection_close (const RhEventSink *sink, RhConnection *connection, RhReason reason,
                          gint64 duration_seconds)
{
  RhEvent *event = connection_event (RH_EVENT_CONNECTION_CLOSE, connection);
  rh_event_add_number (event, "duration_seconds", duration_seconds);
  rh_event_add_number (event, "bytes_received", (gint64) rh_connection_get_bytes_received (connection));
  rh_event_add_number (event, "bytes_sent", (gint64) rh_connection_get_bytes_sent (connection));
  rh_event_add_string (event, "reason", rh_reason_to_string (reason));
  rh_event_add_boolean (event, "tls", rh_connection_is_tls (connection));
  emit (sink, event);
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
rh_emit_stream_create (const RhEventSink *sink, RhStream *stream)
{
  emit (sink, stream_event (RH_EVENT_STREAM_CREATE, stream, NULL));
}

void
rh_emit_stream_delete (const RhEventSink *sink, RhStream *stream)
{
  emit (sink, stream_event (RH_EVENT_STREAM_DELETE, stream, NULL));
}

void
rh_emit_publish_start (const RhEventSink *sink, RhPublisher *publisher, const char *tc_url)
{
  RhEvent *event = stream_event (RH_EVENT_PUBLISH_START, publisher->stream, publisher->connection);
  rh_event_add_string (event, "publish_type", publisher->publish_type);
  rh_event_add_string (event, "client_ip", rh_connection_get_client_ip (publisher->connection));
  rh_event_add_string (event, "tc_url", tc_url);
  rh_event_add_string (event, "query", publisher->query);
  add_transport (event, publisher->connection);
  if (publisher->epoch > 0)
    rh_event_add_number (event, "epoch", publisher->epoch);
  emit (sink, event);
}

void
rh_emit_publish_stop (const RhEventSink *sink, RhPublisher *publisher, RhReason reason)
{
  RhEvent *event = stream_event (RH_EVENT_PUBLISH_STOP, publisher->stream, publisher->connection);
  rh_event_add_string (event, "client_ip", rh_connection_get_client_ip (publisher->connection));
  rh_event_add_number (event, "duration_seconds", seconds_since (publisher->started_at));
  rh_event_add_number (event, "bytes_received", (gint64) publisher->bytes_received);
  rh_event_add_number (event, "video_packets", (gint64) publisher->video_packets);
  rh_event_add_number (event, "audio_packets", (gint64) publisher->audio_packets);
  rh_event_add_string (event, "reason", rh_reason_to_string (reason));
  if (publisher->epoch > 0)
    rh_event_add_number (event, "epoch", publisher->epoch);
  emit (sink, event);
}

void
rh_emit_publish_lost (const RhEventSink *sink, const char *app, const char *name, const char *owner_node,
                      gint64 epoch)
{
  g_autofree char *key = g_strdup_printf ("%s/%s", app, name);
  RhEvent *event = rh_event_new (RH_EVENT_PUBLISH_STOP, NULL, key);
  rh_event_add_string (event, "app", app);
  rh_event_add_string (event, "stream_name", name);
  rh_event_add_string (event, "reason", "node_lost");
  rh_event_add_string (event, "owner_node", owner_node);
  if (epoch > 0)
    rh_event_add_number (event, "epoch", epoch);
  emit (sink, event);
}

void
rh_emit_pull_start (const RhEventSink *sink, RhStream *stream, const char *url, const char *origin_node)
{
  RhEvent *event = stream_event (RH_EVENT_PULL_START, stream, NULL);
  rh_event_add_string (event, "url", url);
  rh_event_add_string (event, "origin_node", origin_node);
  emit (sink, event);
}

void
rh_emit_pull_stop (const RhEventSink *sink, RhStream *stream, const char *url, const char *origin_node,
                   gint64 duration_seconds, guint64 bytes_received, const char *reason)
{
  RhEvent *event = stream_event (RH_EVENT_PULL_STOP, stream, NULL);
  rh_event_add_string (event, "url", url);
  rh_event_add_string (event, "origin_node", origin_node);
  rh_event_add_number (event, "duration_seconds", duration_seconds);
  rh_event_add_number (event, "bytes_received", (gint64) bytes_received);
  rh_event_add_string (event, "reason", reason);
  emit (sink, event);
}

void
rh_emit_play_start (const RhEventSink *sink, RhPlayer *player)
{
  RhEvent *event = stream_event (RH_EVENT_PLAY_START, player->stream, player->connection);
  rh_event_add_string (event, "client_ip", rh_connection_get_client_ip (player->connection));
  rh_event_add_string (event, "query", player->query);
  add_transport (event, player->connection);
  emit (sink, event);
}

void
rh_emit_play_stop (const RhEventSink *sink, RhPlayer *player, RhReason reason)
{
  RhEvent *event = stream_event (RH_EVENT_PLAY_STOP, player->stream, player->connection);
  rh_event_add_string (event, "client_ip", rh_connection_get_client_ip (player->connection));
  rh_event_add_number (event, "duration_seconds", seconds_since (player->started_at));
  rh_event_add_number (event, "bytes_sent", (gint64) player->bytes_sent);
  rh_event_add_string (event, "reason", rh_reason_to_string (reason));
  emit (sink, event);
}

static void
add_detail_string (const char *name, const char *value, gpointer event)
{
  rh_event_add_string (event, name, value);
}

static void
add_detail_number (const char *name, guint value, gpointer event)
{
  rh_event_add_number (event, name, value);
}

void
rh_emit_codec_detected (const RhEventSink *sink, RhStream *stream, const char *track, const char *codec,
                        const RhCodecDetails *details)
{
  RhEvent *event = stream_event (RH_EVENT_CODEC_DETECTED, stream,
                                 stream->publisher != NULL ? stream->publisher->connection : NULL);
  rh_event_add_string (event, "track", track);
  rh_event_add_string (event, "codec", codec);
  static const RhCodecDetailsVisitor to_event = { add_detail_string, add_detail_number };
  rh_codec_details_visit (details, &to_event, event);
  emit (sink, event);
}

void
rh_emit_media_start (const RhEventSink *sink, RhPublisher *publisher)
{
  RhEvent *event = stream_event (RH_EVENT_MEDIA_START, publisher->stream, publisher->connection);
  if (publisher->stream->video_codec != NULL)
    rh_event_add_string (event, "video_codec", publisher->stream->video_codec);
  if (publisher->stream->audio_codec != NULL)
    rh_event_add_string (event, "audio_codec", publisher->stream->audio_codec);
  emit (sink, event);
}

void
rh_emit_media_stall (const RhEventSink *sink, RhPublisher *publisher, gint64 seconds)
{
  RhEvent *event = stream_event (RH_EVENT_MEDIA_STALL, publisher->stream, publisher->connection);
  rh_event_add_string (event, "client_ip", rh_connection_get_client_ip (publisher->connection));
  rh_event_add_number (event, "seconds", seconds);
  emit (sink, event);
}

void
rh_emit_media_resume (const RhEventSink *sink, RhPublisher *publisher, gint64 stalled_seconds)
{
  RhEvent *event = stream_event (RH_EVENT_MEDIA_RESUME, publisher->stream, publisher->connection);
  rh_event_add_number (event, "stalled_seconds", stalled_seconds);
  emit (sink, event);
}

static RhEvent *
output_event (RhEventType type, const RhOutput *output)
{
  RhEvent *event = rh_event_new (type, output->conn_id, output->stream_key);
  rh_event_add_string (event, "app", output->app);
  rh_event_add_string (event, "stream_name", output->stream_name);
  return event;
}

void
rh_emit_record_start (const RhEventSink *sink, const RhOutput *output, const char *path)
{
  RhEvent *event = output_event (RH_EVENT_RECORD_START, output);
  rh_event_add_string (event, "path", path);
  emit (sink, event);
}

void
rh_emit_record_stop (const RhEventSink *sink, const RhOutput *output, const char *path, gint64 duration_seconds,
                     guint64 bytes, const char *reason)
{
  RhEvent *event = output_event (RH_EVENT_RECORD_STOP, output);
  if (path != NULL)
    rh_event_add_string (event, "path", path);
  rh_event_add_number (event, "duration_seconds", duration_seconds);
  rh_event_add_number (event, "bytes", (gint64) bytes);
  rh_event_add_string (event, "reason", reason);
  emit (sink, event);
}

void
rh_emit_relay_start (const RhEventSink *sink, const RhOutput *output, const char *url)
{
  RhEvent *event = output_event (RH_EVENT_RELAY_START, output);
  rh_event_add_string (event, "url", url);
  emit (sink, event);
}

void
rh_emit_relay_stop (const RhEventSink *sink, const RhOutput *output, const char *url, gint64 duration_seconds,
                    guint64 bytes_sent, const char *reason)
{
  RhEvent *event = output_event (RH_EVENT_RELAY_STOP, output);
  rh_event_add_string (event, "url", url);
  rh_event_add_number (event, "duration_seconds", duration_seconds);
  rh_event_add_number (event, "bytes_sent", (gint64) bytes_sent);
  rh_event_add_string (event, "reason", reason);
  emit (sink, event);
}

static RhCheckRequest *
check (const RhEventSink *sink, RhEvent *request, RhVerdictFunc done, gpointer done_data)
{
  RhCheckRequest *pending = sink->check != NULL ? sink->check (request, done, done_data, sink->user_data) : NULL;
  rh_event_unref (request);
  return pending;
}

static RhEvent *
request_event (RhEventType type, RhConnection *connection, const char *app, const char *name)
{
  g_autofree char *key = name != NULL ? g_strconcat (app, "/", name, NULL) : NULL;
  RhEvent *event = rh_event_new (type, rh_connection_get_id (connection), key);
  rh_event_add_string (event, "app", app);
  if (name != NULL)
    rh_event_add_string (event, "stream_name", name);
  return event;
}

RhCheckRequest *
rh_emit_connect_request (const RhEventSink *sink, RhConnection *connection, const char *app,
                         const char *tc_url, const char *flash_ver, const char *query,
                         RhVerdictFunc done, gpointer done_data)
{
  if (sink->check == NULL)
    return NULL;
  RhEvent *event = request_event (RH_EVENT_CONNECT, connection, app, NULL);
  rh_event_add_string (event, "client_ip", rh_connection_get_client_ip (connection));
  rh_event_add_number (event, "client_port", rh_connection_get_client_port (connection));
  rh_event_add_string (event, "tc_url", tc_url);
  rh_event_add_string (event, "flash_ver", flash_ver);
  rh_event_add_string (event, "query", query);
  add_transport (event, connection);
  return check (sink, event, done, done_data);
}

RhCheckRequest *
rh_emit_publish_request (const RhEventSink *sink, RhConnection *connection, const char *app,
                         const char *name, const char *publish_type, const char *tc_url,
                         const char *query, RhVerdictFunc done, gpointer done_data)
{
  if (sink->check == NULL)
    return NULL;
  RhEvent *event = request_event (RH_EVENT_PUBLISH, connection, app, name);
  rh_event_add_string (event, "publish_type", publish_type);
  rh_event_add_string (event, "client_ip", rh_connection_get_client_ip (connection));
  rh_event_add_string (event, "tc_url", tc_url);
  rh_event_add_string (event, "query", query);
  add_transport (event, connection);
  return check (sink, event, done, done_data);
}

RhCheckRequest *
rh_emit_play_request (const RhEventSink *sink, RhConnection *connection, const char *app,
                      const char *name, const char *tc_url, const char *query,
                      RhVerdictFunc done, gpointer done_data)
{
  if (sink->check == NULL)
    return NULL;
  RhEvent *event = request_event (RH_EVENT_PLAY, connection, app, name);
  rh_event_add_string (event, "client_ip", rh_connection_get_client_ip (connection));
  rh_event_add_string (event, "tc_url", tc_url);
  rh_event_add_string (event, "query", query);
  add_transport (event, connection);
  return check (sink, event, done, done_data);
}
