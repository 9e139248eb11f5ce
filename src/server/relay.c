#include "config.h"

#include "relay.h"

#include <glib/gi18n.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "connection.h"
#include "relay-loop.h"
#include "send-queue.h"
#include "stream.h"
#include "protocol/amf0.h"
#include "protocol/chunk-reader.h"
#include "protocol/command.h"
#include "protocol/handshake.h"
#include "protocol/message.h"

/* Our outgoing chunk size: big enough that a video frame is a few chunks. */
#define RELAY_CHUNK_SIZE 4096
/* From the TCP connect to an accepted publish. */
#define RELAY_SETUP_TIMEOUT_SECONDS 10
/* What a relay waits for its queue to drain when the publish ends. */
#define RELAY_CLOSE_GRACE_MS 2000
/* The target's replies are small; anything larger is refused. */
#define RELAY_MAX_INPUT_MESSAGE (1024 * 1024)
/* Media waits up to this long and goes out in one write, as players'
 * does with the default merge_window. */
#define RELAY_MERGE_MS 50
/* A relay must stay up this long before its retry delay starts again
 * from 1 s: a target that accepts the publish and then fails it at once
 * is retried with a growing delay, not every second forever. */
#define RELAY_STABLE_SECONDS 30
#define RELAY_CSID_DATA 5
#define RELAY_CSID_STREAM_COMMAND 8

typedef enum {
  RELAY_WAITING,       /* for the next attempt */
  RELAY_CONNECTING,
  RELAY_HANDSHAKE,
  RELAY_SETUP,         /* connect ... publish sent, waiting for Publish.Start */
  RELAY_PUBLISHING,
  RELAY_CLOSING,       /* the publish ended: the queue drains, then we close */
  RELAY_DONE,
} RelayState;

/* A TCP connect under way: its callback may come after the relay gave it
 * up, or after the relay is gone. */
typedef struct _ConnectAttempt {
  RhRelay *relay;                  /* NULL once given up */
  GCancellable *cancellable;
} ConnectAttempt;

enum {
  TXN_CONNECT = 1,
  TXN_RELEASE_STREAM,
  TXN_FC_PUBLISH,
  TXN_CREATE_STREAM,
  TXN_PUBLISH,
};

struct _RhRelay {
  RhOutput output;                 /* first: the stream feeds it */
  const RhRelayOwner *owner;
  gpointer owner_data;
  char *public_url;
  char *host;
  guint16 port;
  char *app;
  char *stream;                    /* with its query */
  double retry_max;
  guint hops;                      /* relays the stream crossed before this one, this one included */
  double delay;                    /* before the next attempt */
  RhSlowPlayerLimits limits;
  RhPlayerPacing pacing;

  RelayState state;
  struct _ConnectAttempt *attempt;  /* the TCP connect under way */
  GSocketConnection *connection;
  GSocket *socket;
  GSource *read_source;
  GSource *write_source;
  guint timer_id;                  /* retry, setup timeout or close grace */
  guint merge_id;                  /* a flush of merged media to come */
  GByteArray *handshake;           /* S0 S1 S2 as they arrive */
  RhChunkReader *reader;
  RhSendQueue *queue;
  guint32 chunk_size;
  guint32 stream_id;
  gboolean was_published;
  gint64 published_at;             /* monotonic, the first publish */
  gint64 publishing_since;         /* monotonic, the current publish */
  guint64 bytes_sent;
  const char *end_reason;
  /* The chunk reader is calling us: a failure waits until it returns
   * (it must not be freed under its own feet), and so does writing. */
  gboolean in_reader;
  char *deferred_failure;
};

static void fail (RhRelay *relay, const char *why);
static void flush (RhRelay *relay);

/* ---- URLs ---- */

gboolean
rh_relay_parse_url (const char *url, char **host, guint16 *port, char **app, char **stream, GError **error)
{
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, NULL);
  const char *path = uri != NULL ? g_uri_get_path (uri) : NULL;
  if (uri == NULL || g_ascii_strcasecmp (g_uri_get_scheme (uri), "rtmp") != 0 || g_uri_get_host (uri) == NULL
      || *g_uri_get_host (uri) == '\0' || path == NULL || path[0] != '/')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("\"%s\" is not rtmp://host[:port]/app/stream"),
                   url);
      return FALSE;
    }
  /* The first path segment is the application, the rest the stream name
   * (as nginx-rtmp and ffmpeg split it). */
  const char *slash = strchr (path + 1, '/');
  if (slash == NULL || slash == path + 1 || slash[1] == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("\"%s\" has no stream name (rtmp://host[:port]/app/stream)"), url);
      return FALSE;
    }
  gint uri_port = g_uri_get_port (uri);
  if (uri_port == 0 || uri_port > 65535)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("\"%s\" has a bad port"), url);
      return FALSE;
    }
  g_autofree char *encoded_app = g_strndup (path + 1, (gsize) (slash - path - 1));
  g_autofree char *decoded_app = g_uri_unescape_string (encoded_app, NULL);
  g_autofree char *decoded_stream = g_uri_unescape_string (slash + 1, NULL);
  if (decoded_app == NULL || decoded_stream == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("\"%s\" has a bad escape"), url);
      return FALSE;
    }
  const char *query = g_uri_get_query (uri);
  *host = g_strdup (g_uri_get_host (uri));
  *port = uri_port > 0 ? (guint16) uri_port : 1935;
  *app = g_steal_pointer (&decoded_app);
  *stream = query != NULL ? g_strconcat (decoded_stream, "?", query, NULL) : g_steal_pointer (&decoded_stream);
  return TRUE;
}

/* ---- the connection ---- */

static void
clear_timer (RhRelay *relay)
{
  g_clear_handle_id (&relay->timer_id, g_source_remove);
}

static void
drop_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static void
disconnect (RhRelay *relay)
{
  clear_timer (relay);
  g_clear_handle_id (&relay->merge_id, g_source_remove);
  if (relay->attempt != NULL)
    {
      /* Its callback still comes, and finds no relay. */
      relay->attempt->relay = NULL;
      g_cancellable_cancel (relay->attempt->cancellable);
      relay->attempt = NULL;
    }
  drop_source (&relay->read_source);
  drop_source (&relay->write_source);
  if (relay->connection != NULL)
    g_io_stream_close (G_IO_STREAM (relay->connection), NULL, NULL);
  g_clear_object (&relay->connection);
  relay->socket = NULL;
  g_clear_pointer (&relay->handshake, g_byte_array_unref);
  g_clear_pointer (&relay->reader, rh_chunk_reader_free);
  g_clear_pointer (&relay->queue, rh_send_queue_free);
}

static void
finish (RhRelay *relay)
{
  disconnect (relay);
  relay->state = RELAY_DONE;
  gint64 duration = relay->was_published ? (g_get_monotonic_time () - relay->published_at) / G_USEC_PER_SEC : 0;
  relay->owner->stopped (relay, relay->was_published, duration, relay->bytes_sent, relay->end_reason,
                         relay->owner_data);
}

static void
send_message (RhRelay *relay, guint32 csid, guint8 type, guint32 stream_id, guint32 timestamp, GBytes *payload,
              gint64 queued_at)
{
  rh_send_queue_push (relay->queue, csid, type, stream_id, timestamp, payload, relay->chunk_size, queued_at);
}

static void
send_command (RhRelay *relay, guint32 csid, guint32 stream_id, GBytes *command)
{
  send_message (relay, csid, RH_MSG_COMMAND_AMF0, stream_id, 0, command, 0);
  g_bytes_unref (command);
}

static void
start_commands (RhRelay *relay)
{
  g_autoptr (GBytes) chunk_size = rh_control_u32 (RELAY_CHUNK_SIZE);
  send_message (relay, RH_CSID_CONTROL, RH_MSG_SET_CHUNK_SIZE, 0, 0, chunk_size, 0);
  relay->chunk_size = RELAY_CHUNK_SIZE;

  g_autofree char *tc_url = g_strdup_printf ("rtmp://%s:%u/%s", relay->host, relay->port, relay->app);
  RhAmf0Value *object = rh_amf0_object_new ();
  rh_amf0_object_set (object, "app", rh_amf0_string_new (relay->app));
  rh_amf0_object_set (object, "type", rh_amf0_string_new ("nonprivate"));
  rh_amf0_object_set (object, "flashVer", rh_amf0_string_new ("FMLE/3.0 (compatible; rtmphooks/" PACKAGE_VERSION ")"));
  rh_amf0_object_set (object, "tcUrl", rh_amf0_string_new (tc_url));
  rh_relay_loop_mark_connect (object, relay->hops);
  send_command (relay, RH_CSID_COMMAND, 0, rh_command_build ("connect", TXN_CONNECT, object, NULL));
  relay->state = RELAY_SETUP;
}

static void
on_connect_result (RhRelay *relay)
{
  send_command (relay, RH_CSID_COMMAND, 0, rh_command_build ("releaseStream", TXN_RELEASE_STREAM, rh_amf0_null_new (),
                                                               rh_amf0_string_new (relay->stream), NULL));
  send_command (relay, RH_CSID_COMMAND, 0, rh_command_build ("FCPublish", TXN_FC_PUBLISH, rh_amf0_null_new (),
                                                               rh_amf0_string_new (relay->stream), NULL));
  send_command (relay, RH_CSID_COMMAND, 0, rh_command_build ("createStream", TXN_CREATE_STREAM, rh_amf0_null_new (),
                                                               NULL));
}

static void
on_publishing (RhRelay *relay)
{
  clear_timer (relay);
  relay->state = RELAY_PUBLISHING;
  relay->publishing_since = g_get_monotonic_time ();
  memset (&relay->pacing, 0, sizeof relay->pacing);
  gboolean first = !relay->was_published;
  if (first)
    {
      relay->was_published = TRUE;
      relay->published_at = g_get_monotonic_time ();
    }
  relay->owner->started (relay, first, relay->owner_data);
  /* What a late player gets: metadata, sequence headers, the GOP. */
  if (relay->output.stream != NULL)
    rh_stream_replay_to_output (relay->output.stream, &relay->output);
}

static gboolean
handle_command (RhRelay *relay, const RhMessage *message)
{
  g_autoptr (GError) error = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (message->payload, &len);
  g_autoptr (RhCommand) command = rh_command_parse (message->type, data, len, &error);
  if (command == NULL)
    return TRUE;  /* not ours to judge: the target's business */
  if (strcmp (command->name, "_error") == 0)
    {
      const RhAmf0Value *info = rh_command_get (command, 1);
      const char *code = info != NULL ? rh_amf0_object_get_string (info, "code") : NULL;
      g_autofree char *why = g_strdup_printf (_("the target refused (%s)"), code != NULL ? code : command->name);
      fail (relay, why);
      return FALSE;
    }
  if (strcmp (command->name, "_result") == 0)
    {
      if (command->transaction_id == TXN_CONNECT)
        on_connect_result (relay);
      else if (command->transaction_id == TXN_CREATE_STREAM)
        {
          relay->stream_id = (guint32) rh_command_get_number (command, 1, 1);
          send_command (relay, RELAY_CSID_STREAM_COMMAND, relay->stream_id,
                        rh_command_build ("publish", TXN_PUBLISH, rh_amf0_null_new (),
                                          rh_amf0_string_new (relay->stream), rh_amf0_string_new ("live"), NULL));
        }
      return TRUE;
    }
  if (strcmp (command->name, "onStatus") == 0)
    {
      const RhAmf0Value *info = rh_command_get (command, 1);
      const char *code = info != NULL ? rh_amf0_object_get_string (info, "code") : NULL;
      const char *level = info != NULL ? rh_amf0_object_get_string (info, "level") : NULL;
      if (g_strcmp0 (code, "NetStream.Publish.Start") == 0 && relay->state == RELAY_SETUP)
        on_publishing (relay);
      else if (g_strcmp0 (level, "error") == 0)
        {
          g_autofree char *why = g_strdup_printf (_("the target refused (%s)"), code != NULL ? code : "error");
          fail (relay, why);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
on_message (const RhMessage *message, gpointer user_data)
{
  RhRelay *relay = user_data;
  switch (message->type)
    {
    case RH_MSG_COMMAND_AMF0:
    case RH_MSG_COMMAND_AMF3:
      return handle_command (relay, message);
    case RH_MSG_USER_CONTROL:
      {
      /* A ping request (6) wants its value back in a ping response (7):
       * nginx-rtmp drops a peer that does not answer. */
      gsize len;
      const guint8 *data = g_bytes_get_data (message->payload, &len);
      if (len >= 6 && data[0] == 0 && data[1] == 6)
        {
          guint32 value = rh_read_u32_be (data + 2);
          g_autoptr (GBytes) pong = rh_control_user_event (7, value);
          send_message (relay, RH_CSID_CONTROL, RH_MSG_USER_CONTROL, 0, 0, pong, 0);
        }
      return TRUE;
      }
    default:
      return TRUE;
    }
}

/* S0 S1 S2, then C2 (S1 echoed), then the commands. */
static gboolean
feed_handshake (RhRelay *relay, const guint8 *data, gsize len, gsize *used)
{
  gsize want = 1 + 2 * RH_HANDSHAKE_SIZE;
  gsize take = MIN (len, want - relay->handshake->len);
  g_byte_array_append (relay->handshake, data, (guint) take);
  *used = take;
  /* S0 says at once what the peer is (an HTTP server answers "HTTP/"). */
  if (relay->handshake->data[0] != 3)
    {
      fail (relay, _("the target is not an RTMP server (bad handshake)"));
      return FALSE;
    }
  if (relay->handshake->len < want)
    return TRUE;
  g_autoptr (GBytes) c2 = g_bytes_new (relay->handshake->data + 1, RH_HANDSHAKE_SIZE);
  rh_send_queue_push_raw (relay->queue, c2, 0);
  g_clear_pointer (&relay->handshake, g_byte_array_unref);
  start_commands (relay);
  return TRUE;
}

static gboolean
on_readable (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  RhRelay *relay = user_data;
  guint8 buffer[16384];
  g_autoptr (GError) error = NULL;
  gssize n = g_socket_receive (socket, (gchar *) buffer, sizeof buffer, NULL, &error);
  if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return G_SOURCE_CONTINUE;
  if (n <= 0)
    {
      /* The source is removed by fail (it destroys it): keep it until then. */
      if (relay->state == RELAY_CLOSING)
        finish (relay);
      else
        fail (relay, n == 0 ? _("the target closed the connection") : error->message);
      return G_SOURCE_CONTINUE;
    }
  gsize used = 0;
  if (relay->handshake != NULL && !feed_handshake (relay, buffer, (gsize) n, &used))
    return G_SOURCE_CONTINUE;
  if (relay->handshake == NULL && (gsize) n > used)
    {
      relay->in_reader = TRUE;
      gboolean ok = rh_chunk_reader_feed (relay->reader, buffer + used, (gsize) n - used, on_message, relay, &error);
      relay->in_reader = FALSE;
      g_autofree char *deferred = g_steal_pointer (&relay->deferred_failure);
      if (deferred != NULL || (!ok && error != NULL))
        {
          fail (relay, deferred != NULL ? deferred : error->message);
          return G_SOURCE_CONTINUE;
        }
    }
  flush (relay);
  /* A target that pings and never reads would make the queue grow
   * without end: the same bound as for our own clients. */
  if (relay->queue != NULL && rh_send_queue_get_untimed_bytes (relay->queue) > RH_CONNECTION_MAX_REPLY_BACKLOG)
    fail (relay, _("the target does not read our replies"));
  return G_SOURCE_CONTINUE;
}

static gboolean
on_writable (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  flush (user_data);
  return G_SOURCE_CONTINUE;
}

static void
flush (RhRelay *relay)
{
  if (relay->socket == NULL || relay->queue == NULL || relay->in_reader)
    return;
  while (rh_send_queue_get_length (relay->queue) > 0)
    {
      GOutputVector vectors[64];
      guint n = rh_send_queue_gather (relay->queue, vectors, G_N_ELEMENTS (vectors));
      g_autoptr (GError) error = NULL;
      gssize sent = g_socket_send_message (relay->socket, NULL, vectors, (gint) n, NULL, 0, G_SOCKET_MSG_NONE, NULL,
                                           &error);
      if (sent < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        break;
      if (sent < 0)
        {
          if (relay->state == RELAY_CLOSING)
            finish (relay);
          else
            fail (relay, error->message);
          return;
        }
      rh_send_queue_advance (relay->queue, (gsize) sent);
      relay->bytes_sent += (guint64) sent;
    }
  gboolean pending = rh_send_queue_get_length (relay->queue) > 0;
  if (pending && relay->write_source == NULL)
    {
      relay->write_source = g_socket_create_source (relay->socket, G_IO_OUT, NULL);
      g_source_set_callback (relay->write_source, G_SOURCE_FUNC (on_writable), relay, NULL);
      g_source_attach (relay->write_source, NULL);
    }
  else if (!pending)
    {
      drop_source (&relay->write_source);
      if (relay->state == RELAY_CLOSING)
        finish (relay);
    }
}

static gboolean
on_setup_timeout (gpointer user_data)
{
  RhRelay *relay = user_data;
  relay->timer_id = 0;
  fail (relay, _("no publish accepted within 10 s"));
  return G_SOURCE_REMOVE;
}

static void
on_connected (GObject *client, GAsyncResult *result, gpointer user_data)
{
  ConnectAttempt *attempt = user_data;
  RhRelay *relay = attempt->relay;
  g_autoptr (GError) error = NULL;
  GSocketConnection *connection = g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (client), result, &error);
  g_object_unref (attempt->cancellable);
  g_free (attempt);
  if (relay == NULL)
    {
      /* Given up meanwhile (the publish ended): a connection that made
       * it anyway is closed. */
      if (connection != NULL)
        {
          g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
          g_object_unref (connection);
        }
      return;
    }
  relay->attempt = NULL;
  if (connection == NULL)
    {
      fail (relay, error->message);
      return;
    }
  relay->connection = connection;
  relay->socket = g_socket_connection_get_socket (connection);
  g_socket_set_blocking (relay->socket, FALSE);
  /* The client's connect timeout stays on the socket, where it would end
   * a relay that receives nothing for that long: the target sends little. */
  g_socket_set_timeout (relay->socket, 0);
  g_socket_set_option (relay->socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  relay->state = RELAY_HANDSHAKE;
  relay->handshake = g_byte_array_new ();
  relay->reader = rh_chunk_reader_new (RELAY_MAX_INPUT_MESSAGE);
  relay->queue = rh_send_queue_new ();
  relay->chunk_size = RH_CHUNK_DEFAULT_SIZE;

  /* C0 C1: version 3, time 0, zero, then bytes that need not be random. */
  guint8 *c0c1 = g_malloc0 (1 + RH_HANDSHAKE_SIZE);
  c0c1[0] = 3;
  for (gsize i = 9; i < 1 + RH_HANDSHAKE_SIZE; i++)
    c0c1[i] = (guint8) g_random_int ();
  g_autoptr (GBytes) bytes = g_bytes_new_take (c0c1, 1 + RH_HANDSHAKE_SIZE);
  rh_send_queue_push_raw (relay->queue, bytes, 0);

  relay->read_source = g_socket_create_source (relay->socket, G_IO_IN, NULL);
  g_source_set_callback (relay->read_source, G_SOURCE_FUNC (on_readable), relay, NULL);
  g_source_attach (relay->read_source, NULL);
  flush (relay);
}

static void
connect_now (RhRelay *relay)
{
  relay->state = RELAY_CONNECTING;
  relay->attempt = g_new0 (ConnectAttempt, 1);
  relay->attempt->relay = relay;
  relay->attempt->cancellable = g_cancellable_new ();
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_socket_client_set_timeout (client, RELAY_SETUP_TIMEOUT_SECONDS);
  g_socket_client_connect_to_host_async (client, relay->host, relay->port, relay->attempt->cancellable, on_connected,
                                         relay->attempt);
  relay->timer_id = g_timeout_add_seconds (RELAY_SETUP_TIMEOUT_SECONDS, on_setup_timeout, relay);
}

static gboolean
on_retry (gpointer user_data)
{
  RhRelay *relay = user_data;
  relay->timer_id = 0;
  connect_now (relay);
  return G_SOURCE_REMOVE;
}

static void
fail (RhRelay *relay, const char *why)
{
  if (relay->in_reader)
    {
      if (relay->deferred_failure == NULL)
        relay->deferred_failure = g_strdup (why);
      return;
    }
  g_autofree char *reason = g_strdup (why);  /* why may live in what disconnect frees */
  if (relay->state == RELAY_PUBLISHING
      && g_get_monotonic_time () - relay->publishing_since >= RELAY_STABLE_SECONDS * G_USEC_PER_SEC)
    relay->delay = 1;
  disconnect (relay);
  relay->state = RELAY_WAITING;
  double delay = relay->delay;
  relay->delay = MIN (relay->delay * 2, relay->retry_max);
  relay->owner->reconnecting (relay, reason, delay, relay->owner_data);
  relay->timer_id = g_timeout_add ((guint) (delay * 1000), on_retry, relay);
}

/* ---- what the stream feeds ---- */

static gboolean
on_merge_over (gpointer user_data)
{
  RhRelay *relay = user_data;
  relay->merge_id = 0;
  flush (relay);
  return G_SOURCE_REMOVE;
}

/* Media goes out at the end of a merge window (or when the socket takes
 * more, if a write is already waiting for it). */
static void
flush_soon (RhRelay *relay)
{
  if (relay->merge_id == 0 && relay->write_source == NULL)
    relay->merge_id = g_timeout_add (RELAY_MERGE_MS, on_merge_over, relay);
}

static void
on_packet (RhOutput *output, const RhOutputPacket *packet)
{
  RhRelay *relay = (RhRelay *) output;
  /* Until the target accepts the publish nothing is sent: the cached
   * start is replayed then. */
  if (relay->state != RELAY_PUBLISHING)
    return;
  gint64 now = g_get_monotonic_time ();
  if (packet->type == RH_MSG_DATA_AMF0)
    {
      /* A publisher sends metadata as @setDataFrame("onMetaData", ...). */
      GByteArray *data = g_byte_array_sized_new ((guint) g_bytes_get_size (packet->payload) + 16);
      if (packet->flags & RH_MEDIA_SEQUENCE_HEADER)
        rh_amf0_encode_string (data, "@setDataFrame");
      g_byte_array_append (data, g_bytes_get_data (packet->payload, NULL), (guint) g_bytes_get_size (packet->payload));
      g_autoptr (GBytes) message = g_byte_array_free_to_bytes (data);
      send_message (relay, RELAY_CSID_DATA, RH_MSG_DATA_AMF0, relay->stream_id, packet->timestamp, message, 0);
      flush_soon (relay);
      return;
    }
  RhPlayerVerdict verdict = rh_slow_player_judge (&relay->pacing, &relay->limits,
                                                  rh_send_queue_get_bytes (relay->queue),
                                                  rh_send_queue_get_oldest_queued_at (relay->queue), now, packet->flags);
  if (verdict == RH_PLAYER_CLOSE_QUEUE_FULL || verdict == RH_PLAYER_CLOSE_BEHIND)
    {
      fail (relay, _("the target is too slow for the stream"));
      return;
    }
  if (verdict == RH_PLAYER_DROP)
    return;
  send_message (relay, packet->type == RH_MSG_VIDEO ? RH_CSID_VIDEO : RH_CSID_AUDIO, packet->type, relay->stream_id,
                packet->timestamp, packet->payload, now);
  flush_soon (relay);
}

static gboolean
on_close_grace (gpointer user_data)
{
  RhRelay *relay = user_data;
  relay->timer_id = 0;
  finish (relay);
  return G_SOURCE_REMOVE;
}

static void
on_ended (RhOutput *output, RhReason reason)
{
  RhRelay *relay = (RhRelay *) output;
  relay->end_reason = reason == RH_REASON_SERVER_SHUTDOWN ? "server_shutdown" : "publish_stop";
  if (relay->state != RELAY_PUBLISHING)
    {
      finish (relay);
      return;
    }
  /* Say goodbye as a publisher does, and let what is queued go out. */
  send_command (relay, RELAY_CSID_STREAM_COMMAND, relay->stream_id,
                rh_command_build ("FCUnpublish", 6, rh_amf0_null_new (), rh_amf0_string_new (relay->stream), NULL));
  send_command (relay, RH_CSID_COMMAND, 0,
                rh_command_build ("deleteStream", 7, rh_amf0_null_new (), rh_amf0_number_new (relay->stream_id),
                                  NULL));
  relay->state = RELAY_CLOSING;
  clear_timer (relay);
  relay->timer_id = g_timeout_add (RELAY_CLOSE_GRACE_MS, on_close_grace, relay);
  flush (relay);
}

static void
describe (RhOutput *output, char **target, const char **state)
{
  static const char *const names[] = {
    [RELAY_WAITING] = "reconnecting", [RELAY_CONNECTING] = "connecting", [RELAY_HANDSHAKE] = "connecting",
    [RELAY_SETUP] = "connecting", [RELAY_PUBLISHING] = "publishing", [RELAY_CLOSING] = "closing",
    [RELAY_DONE] = "closed",
  };
  RhRelay *relay = (RhRelay *) output;
  *target = g_strdup (relay->public_url);
  *state = names[relay->state];
}

static const RhOutputFuncs output_funcs = { on_packet, on_ended, describe, "relay" };

/* ---- life ---- */

RhRelay *
rh_relay_new (const char *url, double retry_max, guint hops, const char *conn_id, const char *app,
              const char *stream_name, const RhRelayOwner *owner, gpointer owner_data, GError **error)
{
  g_autofree char *host = NULL, *target_app = NULL, *target_stream = NULL;
  guint16 port;
  if (!rh_relay_parse_url (url, &host, &port, &target_app, &target_stream, error))
    return NULL;
  RhRelay *relay = g_new0 (RhRelay, 1);
  rh_output_init (&relay->output, &output_funcs, conn_id, app, stream_name);
  relay->owner = owner;
  relay->owner_data = owner_data;
  const char *query = strchr (url, '?');
  relay->public_url = query != NULL ? g_strndup (url, (gsize) (query - url)) : g_strdup (url);
  relay->host = g_steal_pointer (&host);
  relay->port = port;
  relay->app = g_steal_pointer (&target_app);
  relay->stream = g_steal_pointer (&target_stream);
  relay->retry_max = retry_max;
  relay->hops = hops;
  relay->delay = 1;
  /* A target is a player that may take 8 MiB or 3 s of backlog before it
   * skips, 32 MiB or 20 s behind before it is reconnected. */
  relay->limits = (RhSlowPlayerLimits) { 8 * 1024 * 1024, 32 * 1024 * 1024, 3 * G_USEC_PER_SEC,
                                         20 * G_USEC_PER_SEC };
  relay->state = RELAY_WAITING;
  return relay;
}

void
rh_relay_start (RhRelay *relay)
{
  connect_now (relay);
}

void
rh_relay_free (RhRelay *relay)
{
  if (relay == NULL)
    return;
  disconnect (relay);
  rh_output_clear (&relay->output);
  g_free (relay->public_url);
  g_free (relay->host);
  g_free (relay->app);
  g_free (relay->stream);
  g_free (relay->deferred_failure);
  g_free (relay);
}

RhOutput *
rh_relay_get_output (RhRelay *relay)
{
  return &relay->output;
}

const char *
rh_relay_get_public_url (const RhRelay *relay)
{
  return relay->public_url;
}
