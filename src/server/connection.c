#include "config.h"

#include "connection.h"

#include "util/poller.h"
#include "util/transport.h"
#include "send-queue.h"
#include "tls-accept.h"
#include "protocol/chunk-reader.h"
#include "protocol/command.h"
#include "protocol/handshake.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <netinet/tcp.h>
#include <limits.h>
#include <string.h>
#include <glib/gi18n.h>
#include "util/log.h"

/* Reads per wake-up before yielding to other connections. Through TLS
 * a read returns one record (16 KiB at most): more of them. */
#define READS_PER_DISPATCH 4
#define TLS_READS_PER_DISPATCH 16
/* Vectors gathered per write through TLS, which takes one record a call. */
#define TLS_VECTORS 256
/* One sendmsg takes everything queued since the last flush, up to the
 * kernel's limit of vectors per call. */
#define MAX_VECTORS IOV_MAX
#define READ_BUFFER_SIZE (64 * 1024)

/* Every connection reads into this one buffer: they run on one thread, one
 * at a time, and nothing keeps a pointer into it past a read. */
static guint8 read_buffer[READ_BUFFER_SIZE];

struct _RhConnection {
  gint ref_count;
  const RhConnectionOwner *owner;
  gpointer owner_data;
  const RhConnectionLimits *limits;
  gpointer data;
  GDestroyNotify data_destroy;
  guint64 number;
  char id[24];
  GSocketConnection *socket_connection;
  RhTransport transport;      /* the socket; transport.tls once the TLS handshake is done */
  GTlsCertificate *tls_certificate;  /* a TLS listener's, until the TLS handshake starts */
  RhTlsAccept *tls_accept;    /* the TLS handshake under way */
  char *client_ip;
  guint16 client_port;
  char *server_ip;
  guint16 server_port;

  RhPoller *poller;
  RhPollerWatch *watch;       /* from start to close */
  gboolean want_write;        /* the watch includes G_IO_OUT: the socket was full */
  RhHandshake *handshake;     /* until the handshake is done */
  RhChunkReader *reader;      /* after it */
  RhSendQueue *queue;
  guint32 chunk_size;         /* outbound */
  gboolean flush_scheduled;
  gboolean urgent_flush_scheduled;

  guint64 bytes_received;
  guint64 bytes_sent;
  guint32 peer_window;
  guint64 acknowledged;       /* bytes_received when we last sent an ack */

  gint64 created_at;
  gint64 last_read_at;
  gint64 blocked_since;       /* when a write last found the socket full; 0 = not blocked */
  gboolean player_only;
  gboolean engaged;           /* has published or played: past its setup */
  gboolean closed;
};

/* IPv4 clients of a dual-stack listener show up as ::ffff:a.b.c.d. */
static char *
address_to_string (GInetAddress *address)
{
  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6)
    {
      const guint8 *b = g_inet_address_to_bytes (address);
      static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
      if (memcmp (b, mapped, sizeof mapped) == 0)
        return g_strdup_printf ("%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
    }
  return g_inet_address_to_string (address);
}

static void
read_endpoint (GSocketAddress *socket_address, char **ip, guint16 *port)
{
  if (G_IS_INET_SOCKET_ADDRESS (socket_address))
    {
      GInetSocketAddress *inet = G_INET_SOCKET_ADDRESS (socket_address);
      *ip = address_to_string (g_inet_socket_address_get_address (inet));
      *port = g_inet_socket_address_get_port (inet);
    }
  else
    {
      *ip = g_strdup ("unknown");
      *port = 0;
    }
}

RhConnection *
rh_connection_new (GSocketConnection *socket_connection, guint64 number, RhPoller *poller,
                   const RhConnectionOwner *owner, gpointer owner_data,
                   const RhConnectionLimits *limits, GTlsCertificate *tls_certificate)
{
  RhConnection *connection = g_new0 (RhConnection, 1);
  connection->poller = poller;
  connection->ref_count = 1;
  connection->owner = owner;
  connection->owner_data = owner_data;
  connection->limits = limits;
  connection->number = number;
  g_snprintf (connection->id, sizeof connection->id, "c%06" G_GUINT64_FORMAT, number);
  connection->socket_connection = g_object_ref (socket_connection);
  connection->transport.socket = g_socket_connection_get_socket (socket_connection);
  if (tls_certificate != NULL)
    connection->tls_certificate = g_object_ref (tls_certificate);
  connection->handshake = rh_handshake_new ();
  connection->queue = rh_send_queue_new ();
  connection->chunk_size = RH_CHUNK_DEFAULT_SIZE;
  connection->created_at = g_get_monotonic_time ();
  connection->last_read_at = connection->created_at;

  g_autoptr (GSocketAddress) remote = g_socket_get_remote_address (connection->transport.socket, NULL);
  g_autoptr (GSocketAddress) local = g_socket_get_local_address (connection->transport.socket, NULL);
  read_endpoint (remote, &connection->client_ip, &connection->client_port);
  read_endpoint (local, &connection->server_ip, &connection->server_port);

  g_socket_set_blocking (connection->transport.socket, FALSE);
  /* Media is latency-sensitive and we already batch writes ourselves. */
  g_socket_set_option (connection->transport.socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  return connection;
}

RhConnection *
rh_connection_ref (RhConnection *connection)
{
  connection->ref_count++;
  return connection;
}

void
rh_connection_unref (RhConnection *connection)
{
  if (connection == NULL || --connection->ref_count > 0)
    return;
  g_assert (connection->watch == NULL);
  if (connection->data_destroy != NULL)
    connection->data_destroy (connection->data);
  rh_handshake_free (connection->handshake);
  rh_chunk_reader_free (connection->reader);
  rh_send_queue_free (connection->queue);
  g_clear_object (&connection->transport.tls);
  g_clear_object (&connection->tls_certificate);
  g_object_unref (connection->socket_connection);
  g_free (connection->client_ip);
  g_free (connection->server_ip);
  g_free (connection);
}

void
rh_connection_set_data (RhConnection *connection, gpointer data, GDestroyNotify destroy)
{
  if (connection->data_destroy != NULL)
    connection->data_destroy (connection->data);
  connection->data = data;
  connection->data_destroy = destroy;
}

gpointer
rh_connection_get_data (const RhConnection *connection)
{
  return connection->data;
}

void
rh_connection_allow_full_messages (RhConnection *connection)
{
  if (connection->reader != NULL)
    {
      rh_chunk_reader_set_max_message_size (connection->reader, connection->limits->max_message_size);
      rh_chunk_reader_set_budget (connection->reader,
                                  connection->limits->max_message_size + RH_CONNECTION_INPUT_SLACK,
                                  connection->limits->input_memory, connection->limits->max_input_memory);
    }
}

void
rh_connection_set_player_only (RhConnection *connection, gboolean player_only)
{
  connection->player_only = player_only;
}

void
rh_connection_set_engaged (RhConnection *connection)
{
  connection->engaged = TRUE;
}

guint64
rh_connection_get_bytes_received (const RhConnection *connection)
{
  return connection->bytes_received;
}

guint64
rh_connection_get_bytes_sent (const RhConnection *connection)
{
  return connection->bytes_sent;
}

const char *
rh_connection_get_id (const RhConnection *connection)
{
  return connection->id;
}

const char *
rh_connection_get_client_ip (const RhConnection *connection)
{
  return connection->client_ip;
}

guint16
rh_connection_get_client_port (const RhConnection *connection)
{
  return connection->client_port;
}

const char *
rh_connection_get_server_ip (const RhConnection *connection)
{
  return connection->server_ip;
}

guint16
rh_connection_get_server_port (const RhConnection *connection)
{
  return connection->server_port;
}

gboolean
rh_connection_is_tls (const RhConnection *connection)
{
  return connection->tls_certificate != NULL || connection->transport.tls != NULL;
}

const char *
rh_connection_get_tls_version (const RhConnection *connection)
{
  return rh_transport_tls_version (&connection->transport);
}

gsize
rh_connection_get_queued_bytes (const RhConnection *connection)
{
  return rh_send_queue_get_bytes (connection->queue);
}

/* ---- writing ---- */

/* Media may wait for the owner's merge window; replies (the handshake,
 * command results, control messages) go out at the next flush, so that a
 * merge window never slows a client's setup. */
static void
schedule_flush (RhConnection *connection, gboolean urgent)
{
  /* With a write watch armed the socket is full: it will call us. */
  if (connection->want_write)
    return;
  gboolean *scheduled = urgent ? &connection->urgent_flush_scheduled : &connection->flush_scheduled;
  if (*scheduled)
    return;
  *scheduled = TRUE;
  connection->owner->wants_flush (connection, urgent, connection->owner_data);
}

static gboolean
is_media (guint8 type)
{
  return type == RH_MSG_AUDIO || type == RH_MSG_VIDEO || type == RH_MSG_DATA_AMF0
         || type == RH_MSG_DATA_AMF3 || type == RH_MSG_AGGREGATE;
}

static void
queue_message (RhConnection *connection, guint32 csid, guint8 type, guint32 stream_id,
               guint32 timestamp, GBytes *payload)
{
  if (connection->closed)
    return;
  gboolean media = is_media (type);
  rh_send_queue_push (connection->queue, csid, type, stream_id, timestamp, payload,
                      connection->chunk_size, media ? g_get_monotonic_time () : 0);
  schedule_flush (connection, !media);
}

void
rh_connection_send (RhConnection *connection, guint32 csid, guint8 type, guint32 stream_id,
                    guint32 timestamp, GBytes *payload)
{
  queue_message (connection, csid, type, stream_id, timestamp, payload);
}

void
rh_connection_send_media_wire (RhConnection *connection, GBytes *wire, gint64 queued_at)
{
  if (connection->closed)
    return;
  rh_send_queue_push_raw (connection->queue, wire, queued_at);
  schedule_flush (connection, FALSE);
}

guint32
rh_connection_get_chunk_size (const RhConnection *connection)
{
  return connection->chunk_size;
}

gint64
rh_connection_get_oldest_queued_at (const RhConnection *connection)
{
  return rh_send_queue_get_oldest_queued_at (connection->queue);
}

void
rh_connection_send_control (RhConnection *connection, guint8 type, GBytes *payload)
{
  queue_message (connection, RH_CSID_CONTROL, type, 0, 0, payload);
}

void
rh_connection_set_chunk_size (RhConnection *connection, guint32 chunk_size)
{
  g_autoptr (GBytes) payload = rh_control_u32 (chunk_size);
  rh_connection_send_control (connection, RH_MSG_SET_CHUNK_SIZE, payload);
  connection->chunk_size = chunk_size;
}

void
rh_connection_limit_send_buffer (RhConnection *connection, gint bytes)
{
  if (bytes > 0)
    g_socket_set_option (connection->transport.socket, SOL_SOCKET, SO_SNDBUF, bytes, NULL);
}

void
rh_connection_set_peer_window (RhConnection *connection, guint32 window)
{
  connection->peer_window = window;
}

/* Writes until the queue is empty or the socket is full. FALSE on a
 * socket error (message in error). No clock reads here: this runs per
 * player per packet; only a full socket is timed. */
static gboolean
write_queued (RhConnection *connection, GError **error)
{
  GOutputVector vectors[MAX_VECTORS];
  guint max_vectors = connection->transport.tls != NULL ? TLS_VECTORS : MAX_VECTORS;

  /* Through TLS, records the socket did not take wait in the transport
   * even when the queue is empty. */
  while (rh_send_queue_get_length (connection->queue) > 0 || rh_transport_get_pending (&connection->transport) > 0)
    {
      guint n = rh_send_queue_gather (connection->queue, vectors, max_vectors);
      g_autoptr (GError) local_error = NULL;
      gssize written = rh_transport_send (&connection->transport, vectors, n, &local_error);
      if (written < 0)
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            {
              if (connection->blocked_since == 0)
                connection->blocked_since = g_get_monotonic_time ();
              return TRUE;
            }
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      rh_send_queue_advance (connection->queue, (gsize) written);
      connection->bytes_sent += (guint64) written;
      connection->blocked_since = 0;
      if (n == 0)
        break;
    }
  return TRUE;
}

/* Wait for writability only while something is left that the socket
 * would not take. */
static void
update_write_watch (RhConnection *connection)
{
  gboolean pending = rh_send_queue_get_length (connection->queue) > 0
                     || rh_transport_get_pending (&connection->transport) > 0;
  if (pending == connection->want_write || connection->watch == NULL)
    return;
  connection->want_write = pending;
  rh_poller_modify (connection->poller, connection->watch, pending ? G_IO_IN | G_IO_OUT : G_IO_IN);
}

void
rh_connection_flush (RhConnection *connection)
{
  g_autoptr (GError) error = NULL;

  connection->flush_scheduled = FALSE;
  connection->urgent_flush_scheduled = FALSE;
  if (connection->closed)
    return;
  if (!write_queued (connection, &error))
    {
      rh_connection_close (connection, RH_REASON_CLIENT_DISCONNECT, error->message);
      return;
    }
  update_write_watch (connection);
}

/* ---- reading ---- */

static gboolean
on_message (const RhMessage *message, gpointer user_data)
{
  RhConnection *connection = user_data;
  g_autoptr (GError) error = NULL;
  gboolean rejected = FALSE;

  if (connection->closed)
    return FALSE;
  if (!connection->owner->message (connection, message, &rejected, &error, connection->owner_data))
    {
      rh_connection_close (connection, rejected ? RH_REASON_REJECTED : RH_REASON_PROTOCOL_ERROR,
                           error->message);
      return FALSE;
    }
  return !connection->closed;
}

static void
finish_handshake (RhConnection *connection)
{
  const char *scheme = rh_handshake_scheme_to_string (rh_handshake_get_scheme (connection->handshake));

  rh_log (G_LOG_LEVEL_INFO, connection->id, NULL, NULL, _("%s handshake complete (%s)"), connection->id,
          scheme);
  g_clear_pointer (&connection->handshake, rh_handshake_free);
  /* Until connect succeeds nobody knows who this is: a small limit, so
   * that a stranger cannot make us hold max_message_size per chunk stream. */
  connection->reader = rh_chunk_reader_new (MIN (connection->limits->max_message_size,
                                                 RH_CONNECTION_SETUP_MAX_MESSAGE_SIZE));
  rh_chunk_reader_set_budget (connection->reader, RH_CONNECTION_SETUP_MAX_MESSAGE_SIZE + RH_CONNECTION_INPUT_SLACK,
                              connection->limits->input_memory, connection->limits->max_input_memory);
  connection->owner->handshake_done (connection, scheme, connection->owner_data);
}

/* FALSE when the connection was closed. */
static gboolean
process_input (RhConnection *connection, const guint8 *data, gsize len)
{
  g_autoptr (GError) error = NULL;

  if (connection->handshake != NULL)
    {
      g_autoptr (GByteArray) reply = g_byte_array_new ();
      gssize used = rh_handshake_feed (connection->handshake, data, len, reply, &error);
      if (used < 0)
        {
          rh_connection_close (connection, RH_REASON_PROTOCOL_ERROR, error->message);
          return FALSE;
        }
      if (reply->len > 0)
        {
          g_autoptr (GBytes) bytes = g_byte_array_free_to_bytes (g_steal_pointer (&reply));
          rh_send_queue_push_raw (connection->queue, bytes, 0);
          schedule_flush (connection, TRUE);
        }
      if (rh_handshake_get_state (connection->handshake) != RH_HANDSHAKE_DONE)
        return TRUE;
      finish_handshake (connection);
      data += used;
      len -= (gsize) used;
    }

  if (!rh_chunk_reader_feed (connection->reader, data, len, on_message, connection, &error))
    {
      if (error != NULL)
        rh_connection_close (connection, RH_REASON_PROTOCOL_ERROR, error->message);
      return FALSE;
    }
  return !connection->closed;
}

static void
acknowledge (RhConnection *connection)
{
  if (connection->peer_window == 0 || connection->reader == NULL
      || connection->bytes_received - connection->acknowledged < connection->peer_window)
    return;
  connection->acknowledged = connection->bytes_received;
  /* The sequence number is the byte count modulo 2^32. */
  g_autoptr (GBytes) payload = rh_control_u32 ((guint32) connection->bytes_received);
  rh_connection_send_control (connection, RH_MSG_ACKNOWLEDGEMENT, payload);
}

/* Checked after each read, not where a reply is queued: closing in the
 * middle of a command would leave the session half set up. */
static gboolean
replies_within_bound (RhConnection *connection)
{
  gsize backlog = rh_send_queue_get_untimed_bytes (connection->queue);
  if (backlog <= RH_CONNECTION_MAX_REPLY_BACKLOG)
    return TRUE;
  g_autofree char *detail = g_strdup_printf (_("peer does not read its replies (%zu bytes queued)"), backlog);
  rh_connection_close (connection, RH_REASON_PROTOCOL_ERROR, detail);
  return FALSE;
}

static void
read_input (RhConnection *connection)
{
  gsize size = sizeof read_buffer;
  guint8 *buffer = read_buffer;
  gboolean tls = connection->transport.tls != NULL;
  int rounds = tls ? TLS_READS_PER_DISPATCH : READS_PER_DISPATCH;

  for (int round = 0; round < rounds && !connection->closed; round++)
    {
      g_autoptr (GError) error = NULL;
      gssize n = rh_transport_receive (&connection->transport, buffer, size, &error);
      if (n < 0)
        {
          if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            rh_connection_close (connection, RH_REASON_CLIENT_DISCONNECT, error->message);
          break;
        }
      if (n == 0)
        {
          rh_connection_close (connection, RH_REASON_CLIENT_DISCONNECT, _("closed by peer"));
          break;
        }
      connection->bytes_received += (guint64) n;
      connection->last_read_at = g_get_monotonic_time ();
      if (!process_input (connection, buffer, (gsize) n))
        break;
      acknowledge (connection);
      if (!replies_within_bound (connection))
        break;
      /* A short read emptied the socket; through TLS a read is one
       * record, so only WOULD_BLOCK says so. */
      if ((gsize) n < size && !tls)
        break;
    }
  connection->owner->input_processed (connection, connection->owner_data);
}

static void
on_ready (GIOCondition ready, gpointer user_data)
{
  RhConnection *connection = user_data;
  /* Keeps the connection alive until the callback returns, whatever it closes. */
  g_autoptr (RhConnection) hold G_GNUC_UNUSED = rh_connection_ref (connection);

  if (ready & G_IO_OUT)
    rh_connection_flush (connection);
  /* A hang-up or an error shows up as the read's end or error. */
  if (!connection->closed && (ready & (G_IO_IN | G_IO_HUP | G_IO_ERR)))
    read_input (connection);
}

static void
watch_socket (RhConnection *connection)
{
  connection->watch = rh_poller_watch (connection->poller, g_socket_get_fd (connection->transport.socket), G_IO_IN,
                                       on_ready, connection);
}

static void
on_tls_accepted (GTlsConnection *tls, const char *why, gpointer user_data)
{
  RhConnection *connection = user_data;
  g_autoptr (RhConnection) hold G_GNUC_UNUSED = connection;  /* the reference the handshake held */

  connection->tls_accept = NULL;
  if (tls == NULL)
    {
      rh_connection_close (connection, RH_REASON_PROTOCOL_ERROR, why);
      return;
    }
  rh_transport_set_tls (&connection->transport, tls);
  g_object_unref (tls);
  rh_log (G_LOG_LEVEL_INFO, connection->id, NULL, NULL, _("%s TLS handshake complete (%s, %s)"), connection->id,
          rh_transport_tls_version (&connection->transport), g_tls_connection_get_ciphersuite_name (tls));
  watch_socket (connection);
}

void
rh_connection_start (RhConnection *connection)
{
  if (connection->tls_certificate == NULL)
    {
      watch_socket (connection);
      return;
    }
  rh_connection_ref (connection);
  connection->tls_accept = rh_tls_accept_start (connection->poller, connection->socket_connection,
                                                connection->tls_certificate, on_tls_accepted, connection);
}

void
rh_connection_close (RhConnection *connection, RhReason reason, const char *detail)
{
  if (connection->closed)
    return;
  /* Keeps the connection alive until the callback returns, whatever it closes. */
  g_autoptr (RhConnection) hold G_GNUC_UNUSED = rh_connection_ref (connection);
  gint64 now = g_get_monotonic_time ();

  connection->closed = TRUE;
  /* Publications and playbacks end first: their stop events come before
   * connection_close. */
  connection->owner->closing (connection, reason, connection->owner_data);
  rh_log (G_LOG_LEVEL_MESSAGE, connection->id, NULL, NULL,
          _("%s closed: %s (%s) after %.1fs, %llu bytes in, %llu bytes out"), connection->id,
          rh_reason_to_string (reason), detail, (double) (now - connection->created_at) / G_USEC_PER_SEC,
          (unsigned long long) connection->bytes_received, (unsigned long long) connection->bytes_sent);
  /* Out of the epoll set before the descriptor closes. */
  if (connection->watch != NULL)
    {
      /* One last try for what is queued (an error status, say); never block. */
      write_queued (connection, NULL);
      rh_poller_unwatch (connection->poller, connection->watch);
      connection->watch = NULL;
    }
  /* The TLS side closes the socket once no handshake thread uses it.
   * Through TLS no close_notify is sent: GIO's TLS close blocks. */
  if (connection->tls_accept != NULL)
    {
      rh_tls_accept_cancel (g_steal_pointer (&connection->tls_accept));
      rh_connection_unref (connection);
    }
  else
    g_io_stream_close (G_IO_STREAM (connection->socket_connection), NULL, NULL);
  connection->owner->closed (connection, reason, (now - connection->created_at) / G_USEC_PER_SEC,
                             connection->owner_data);
}

gboolean
rh_connection_check_timeouts (RhConnection *connection, gint64 now)
{
  gint64 handshake_limit = (gint64) (connection->limits->handshake_timeout * G_USEC_PER_SEC);
  gint64 idle_limit = (gint64) (connection->limits->idle_timeout * G_USEC_PER_SEC);
  gint64 setup_limit = (gint64) (connection->limits->setup_timeout * G_USEC_PER_SEC);

  if (connection->closed)
    return FALSE;
  if (connection->handshake != NULL && now - connection->created_at > handshake_limit)
    {
      rh_connection_close (connection, RH_REASON_TIMEOUT, _("handshake not completed in time"));
      return TRUE;
    }
  /* Counted from accept, so a client trickling bytes cannot extend it:
   * a connection that never publishes or plays only holds a slot. */
  if (!connection->engaged && now - connection->created_at > setup_limit)
    {
      rh_connection_close (connection, RH_REASON_TIMEOUT, _("no publish or play within setup_timeout"));
      return TRUE;
    }
  /* Players legitimately send nothing for long stretches: for them, idle
   * means not reading what we send. */
  if (connection->player_only)
    {
      if (connection->blocked_since == 0 || now - connection->blocked_since <= idle_limit)
        return FALSE;
      rh_connection_close (connection, RH_REASON_TIMEOUT, _("player stopped reading"));
      return TRUE;
    }
  if (now - connection->last_read_at <= idle_limit)
    return FALSE;
  rh_connection_close (connection, RH_REASON_TIMEOUT, _("nothing received within idle_timeout"));
  return TRUE;
}
