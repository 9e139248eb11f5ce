#include "config.h"

#include "client-session.h"

#include <glib/gi18n.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "connection.h"
#include "relay-loop.h"
#include "send-queue.h"
#include "util/log.h"
#include "util/transport.h"

/* Media waits up to this long and goes out in one write, as players'
 * does with the default merge_window. */
#define MERGE_MS 50

typedef enum {
  SESSION_NEW,
  SESSION_CONNECTING,    /* the TCP connect, and the TLS handshake of rtmps:// */
  SESSION_SETUP,         /* handshake and commands, until the publish or play is accepted */
  SESSION_READY,
  SESSION_CLOSING,       /* the goodbye is queued: draining, then ended */
  SESSION_ENDED,
} SessionState;

/* A TCP connect or TLS handshake under way: its callback may come after
 * the session gave it up, or after the session is gone. A handshake's
 * thread reads the socket: only its callback may close it. */
typedef struct {
  RhClientSession *session;   /* NULL once given up */
  GCancellable *cancellable;
  GSocketConnection *connection;  /* the TLS handshake's */
} ConnectAttempt;

struct _RhClientSession {
  RhClientRole role;
  const RhRtmpUrl *url;
  const RhClientTls *tls;
  gboolean tls_failed;
  gboolean publish_ended;
  guint relay_hops;
  const RhClientSessionOwner *owner;
  gpointer owner_data;
  SessionState state;
  RhClient *client;
  RhClientIo io;
  ConnectAttempt *attempt;
  GSocketConnection *connection;
  RhTransport transport;           /* transport.socket: NULL until connected */
  GSource *read_source;
  GSource *write_source;
  guint timer_id;                  /* setup timeout or close grace */
  guint merge_id;                  /* a flush of merged media to come */
  RhSendQueue *queue;
  guint64 bytes_sent;
  /* The client protocol is reading: writes wait until it returns. */
  gboolean in_feed;
};

static gboolean flush (RhClientSession *session);

/* ---- what the client protocol sends ---- */

static void
io_send_raw (GBytes *bytes, gpointer user_data)
{
  RhClientSession *session = user_data;
  rh_send_queue_push_raw (session->queue, bytes, 0);
}

static void
io_send (guint32 csid, guint8 type, guint32 stream_id, guint32 timestamp, GBytes *payload, gpointer user_data)
{
  RhClientSession *session = user_data;
  rh_send_queue_push (session->queue, csid, type, stream_id, timestamp, payload,
                      rh_client_get_chunk_size (session->client), 0);
}

static void
io_decorate_connect (RhAmf0Value *object, gpointer user_data)
{
  RhClientSession *session = user_data;
  if (session->relay_hops > 0)
    rh_relay_loop_mark_connect (object, session->relay_hops);
}

static void
io_ready (gpointer user_data)
{
  RhClientSession *session = user_data;
  g_clear_handle_id (&session->timer_id, g_source_remove);
  session->state = SESSION_READY;
  session->owner->ready (session, session->owner_data);
}

static void
io_media (const RhMessage *message, gpointer user_data)
{
  RhClientSession *session = user_data;
  if (session->owner->media != NULL)
    session->owner->media (session, message, session->owner_data);
}

/* ---- the connection ---- */

static void
drop_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static void
disconnect (RhClientSession *session)
{
  g_clear_handle_id (&session->timer_id, g_source_remove);
  g_clear_handle_id (&session->merge_id, g_source_remove);
  if (session->attempt != NULL)
    {
      /* Its callback still comes, and finds no session. */
      session->attempt->session = NULL;
      g_cancellable_cancel (session->attempt->cancellable);
      session->attempt = NULL;
    }
  drop_source (&session->read_source);
  drop_source (&session->write_source);
  /* The TCP connection, not TLS: GIO's TLS close blocks to send close_notify. */
  if (session->connection != NULL)
    g_io_stream_close (G_IO_STREAM (session->connection), NULL, NULL);
  g_clear_object (&session->connection);
  g_clear_object (&session->transport.tls);
  session->transport.socket = NULL;
}

/* The last thing a session does: the owner may free it inside. */
static void
end (RhClientSession *session, const char *why)
{
  g_autofree char *reason = g_strdup (why);  /* why may live in what disconnect frees */
  disconnect (session);
  session->state = SESSION_ENDED;
  session->owner->ended (session, reason, session->owner_data);
}

static gboolean
on_readable (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  RhClientSession *session = user_data;
  /* A whole TLS record: GnuTLS reads the socket only as far as the
   * record it decrypts, so nothing waits in the TLS layer unseen by
   * the socket's readiness. */
  guint8 buffer[RH_TRANSPORT_TLS_RECORD];
  g_autoptr (GError) error = NULL;
  gssize n = rh_transport_receive (&session->transport, buffer, sizeof buffer, &error);
  if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return G_SOURCE_CONTINUE;
  if (n <= 0)
    {
      end (session, session->state == SESSION_CLOSING ? NULL
                    : n == 0 ? _("the target closed the connection") : error->message);
      return G_SOURCE_CONTINUE;
    }
  session->in_feed = TRUE;
  gboolean ok = rh_client_feed (session->client, buffer, (gsize) n, &error);
  session->in_feed = FALSE;
  if (!ok)
    {
      session->publish_ended = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
      end (session, error->message);
      return G_SOURCE_CONTINUE;
    }
  if (!flush (session))
    return G_SOURCE_CONTINUE;
  /* A server that pings and never reads would make the queue grow
   * without end: the bound our own clients have. */
  if (rh_send_queue_get_untimed_bytes (session->queue) > RH_CONNECTION_MAX_REPLY_BACKLOG)
    end (session, _("the target does not read our replies"));
  return G_SOURCE_CONTINUE;
}

static gboolean
on_writable (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  flush (user_data);
  return G_SOURCE_CONTINUE;
}

/* Writes what the socket takes; ends the session on an error, and a
 * closing one once everything is out. FALSE when it ended (it may be
 * freed). */
static gboolean
flush (RhClientSession *session)
{
  if (session->transport.socket == NULL || session->in_feed)
    return TRUE;
  while (rh_send_queue_get_length (session->queue) > 0)
    {
      GOutputVector vectors[64];
      guint n = rh_send_queue_gather (session->queue, vectors, G_N_ELEMENTS (vectors));
      g_autoptr (GError) error = NULL;
      gssize sent = rh_transport_send (&session->transport, vectors, n, &error);
      if (sent < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        break;
      if (sent < 0)
        {
          end (session, session->state == SESSION_CLOSING ? NULL : error->message);
          return FALSE;
        }
      rh_send_queue_advance (session->queue, (gsize) sent);
      session->bytes_sent += (guint64) sent;
    }
  gboolean pending = rh_send_queue_get_length (session->queue) > 0;
  if (pending && session->write_source == NULL)
    {
      session->write_source = g_socket_create_source (session->transport.socket, G_IO_OUT, NULL);
      g_source_set_callback (session->write_source, G_SOURCE_FUNC (on_writable), session, NULL);
      g_source_attach (session->write_source, NULL);
    }
  else if (!pending)
    {
      drop_source (&session->write_source);
      if (session->state == SESSION_CLOSING)
        {
          end (session, NULL);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
on_setup_timeout (gpointer user_data)
{
  RhClientSession *session = user_data;
  session->timer_id = 0;
  end (session, session->role == RH_CLIENT_PUBLISH ? _("no publish accepted within 10 s")
                                                   : _("no play accepted within 10 s"));
  return G_SOURCE_REMOVE;
}

/* The connection is up (through TLS for rtmps://): the RTMP handshake. */
static void
start_rtmp (RhClientSession *session, GSocketConnection *connection, GTlsConnection *tls)
{
  session->connection = connection;
  session->transport.socket = g_socket_connection_get_socket (connection);
  session->transport.tls = tls;
  session->state = SESSION_SETUP;
  rh_client_start (session->client);
  session->read_source = g_socket_create_source (session->transport.socket, G_IO_IN, NULL);
  g_source_set_callback (session->read_source, G_SOURCE_FUNC (on_readable), session, NULL);
  g_source_attach (session->read_source, NULL);
  flush (session);
}

static ConnectAttempt *
new_attempt (RhClientSession *session)
{
  ConnectAttempt *attempt = g_new0 (ConnectAttempt, 1);
  attempt->session = session;
  attempt->cancellable = g_cancellable_new ();
  session->attempt = attempt;
  return attempt;
}

static void
free_attempt (ConnectAttempt *attempt)
{
  g_object_unref (attempt->cancellable);
  g_clear_object (&attempt->connection);
  g_free (attempt);
}

/* What a failed verification was about, for the log and the reason. */
static char *
describe_tls_failure (GTlsConnection *tls, const GError *error)
{
  GTlsCertificateFlags flags = g_tls_connection_get_peer_certificate_errors (tls);
  if (flags == 0)
    return g_strdup_printf (_("TLS handshake failed: %s"), error->message);
  GString *what = g_string_new (NULL);
  static const struct { GTlsCertificateFlags flag; const char *text; } names[] = {
    { G_TLS_CERTIFICATE_UNKNOWN_CA, N_("not signed by a trusted CA") },
    { G_TLS_CERTIFICATE_BAD_IDENTITY, N_("issued for another host") },
    { G_TLS_CERTIFICATE_NOT_ACTIVATED, N_("not valid yet") },
    { G_TLS_CERTIFICATE_EXPIRED, N_("expired") },
    { G_TLS_CERTIFICATE_REVOKED, N_("revoked") },
    { G_TLS_CERTIFICATE_INSECURE, N_("insecure") },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (flags & names[i].flag)
      g_string_append_printf (what, "%s%s", what->len > 0 ? ", " : "", _(names[i].text));
  if (what->len == 0)
    g_string_append (what, error->message);
  g_autofree char *text = g_string_free (what, FALSE);
  return g_strdup_printf (_("TLS certificate refused: %s"), text);
}

static void
on_tls_handshake (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ConnectAttempt *attempt = user_data;
  RhClientSession *session = attempt->session;
  GTlsConnection *tls = G_TLS_CONNECTION (source);
  g_autoptr (GError) error = NULL;
  gboolean ok = g_tls_connection_handshake_finish (tls, result, &error);
  GSocketConnection *connection = g_steal_pointer (&attempt->connection);
  free_attempt (attempt);
  if (session == NULL || !ok)
    {
      g_autofree char *why = session != NULL ? describe_tls_failure (tls, error) : NULL;
      /* The handshake thread is done with the socket: it may close. */
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      g_object_unref (connection);
      g_object_unref (tls);
      if (session == NULL)
        return;
      session->attempt = NULL;
      session->tls_failed = TRUE;
      end (session, why);
      return;
    }
  session->attempt = NULL;
  start_rtmp (session, connection, tls);
}

static gboolean
accept_any_certificate (GTlsConnection *tls, GTlsCertificate *certificate, GTlsCertificateFlags errors,
                        gpointer user_data)
{
  return TRUE;
}

/* An rtmps:// target: TLS first, checked against the database, with the
 * URL's host as the identity (and SNI). */
static void
start_tls (RhClientSession *session, GSocketConnection *connection)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketConnectable) identity = g_network_address_new (session->url->host, session->url->port);
  GIOStream *tls = g_tls_client_connection_new (G_IO_STREAM (connection), identity, &error);
  if (tls == NULL)
    {
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      g_object_unref (connection);
      session->tls_failed = TRUE;
      end (session, error->message);
      return;
    }
  if (session->tls->database != NULL)
    g_tls_connection_set_database (G_TLS_CONNECTION (tls), session->tls->database);
  if (!session->tls->verify)
    {
      g_warning (_("%s: TLS certificate not verified (verify = false): anyone on the path can read and "
                   "change this stream"), session->url->public_url);
      g_signal_connect (tls, "accept-certificate", G_CALLBACK (accept_any_certificate), NULL);
    }
  ConnectAttempt *attempt = new_attempt (session);
  attempt->connection = connection;
  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT, attempt->cancellable,
                                    on_tls_handshake, attempt);
}

static void
on_connected (GObject *socket_client, GAsyncResult *result, gpointer user_data)
{
  ConnectAttempt *attempt = user_data;
  RhClientSession *session = attempt->session;
  g_autoptr (GError) error = NULL;
  GSocketConnection *connection = g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (socket_client), result,
                                                                          &error);
  free_attempt (attempt);
  if (session == NULL)
    {
      /* Given up meanwhile: a connection that made it anyway is closed. */
      if (connection != NULL)
        {
          g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
          g_object_unref (connection);
        }
      return;
    }
  session->attempt = NULL;
  if (connection == NULL)
    {
      end (session, error->message);
      return;
    }
  GSocket *socket = g_socket_connection_get_socket (connection);
  g_socket_set_blocking (socket, FALSE);
  /* The socket client's connect timeout stays on the socket, where it
   * would end a session that receives nothing for that long. */
  g_socket_set_timeout (socket, 0);
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  if (session->url->tls)
    start_tls (session, connection);
  else
    start_rtmp (session, connection, NULL);
}

/* ---- life ---- */

RhClientSession *
rh_client_session_new (RhClientRole role, const RhRtmpUrl *url, const RhClientTls *tls, guint relay_hops,
                       const RhClientSessionOwner *owner, gpointer owner_data)
{
  RhClientSession *session = g_new0 (RhClientSession, 1);
  session->role = role;
  session->url = url;
  session->tls = tls;
  session->relay_hops = relay_hops;
  session->owner = owner;
  session->owner_data = owner_data;
  session->io = (RhClientIo) { io_send_raw, io_send, io_decorate_connect, io_ready, io_media };
  session->client = rh_client_new (role, url, &session->io, session);
  session->queue = rh_send_queue_new ();
  return session;
}

void
rh_client_session_start (RhClientSession *session)
{
  session->state = SESSION_CONNECTING;
  ConnectAttempt *attempt = new_attempt (session);
  g_autoptr (GSocketClient) socket_client = g_socket_client_new ();
  g_socket_client_set_timeout (socket_client, RH_CLIENT_SESSION_SETUP_SECONDS);
  g_socket_client_connect_to_host_async (socket_client, session->url->host, session->url->port,
                                         attempt->cancellable, on_connected, attempt);
  session->timer_id = g_timeout_add_seconds (RH_CLIENT_SESSION_SETUP_SECONDS, on_setup_timeout, session);
}

void
rh_client_session_free (RhClientSession *session)
{
  if (session == NULL)
    return;
  disconnect (session);
  rh_client_free (session->client);
  rh_send_queue_free (session->queue);
  g_free (session);
}

static gboolean
on_merge_over (gpointer user_data)
{
  RhClientSession *session = user_data;
  session->merge_id = 0;
  flush (session);
  return G_SOURCE_REMOVE;
}

void
rh_client_session_send (RhClientSession *session, guint32 csid, guint8 type, guint32 timestamp, GBytes *payload,
                        gint64 queued_at)
{
  if (session->state != SESSION_READY)
    return;
  rh_send_queue_push (session->queue, csid, type, rh_client_get_stream_id (session->client), timestamp, payload,
                      rh_client_get_chunk_size (session->client), queued_at);
  /* Out at the end of a merge window (or when the socket takes more, if
   * a write already waits for it). */
  if (session->merge_id == 0 && session->write_source == NULL)
    session->merge_id = g_timeout_add (MERGE_MS, on_merge_over, session);
}

static gboolean
on_close_grace (gpointer user_data)
{
  RhClientSession *session = user_data;
  session->timer_id = 0;
  end (session, NULL);
  return G_SOURCE_REMOVE;
}

void
rh_client_session_close (RhClientSession *session)
{
  if (session->state != SESSION_READY)
    {
      end (session, NULL);
      return;
    }
  rh_client_send_teardown (session->client);
  session->state = SESSION_CLOSING;
  g_clear_handle_id (&session->merge_id, g_source_remove);
  session->timer_id = g_timeout_add (RH_CLIENT_SESSION_CLOSE_GRACE_MS, on_close_grace, session);
  flush (session);
}

gsize
rh_client_session_get_queued_bytes (const RhClientSession *session)
{
  return rh_send_queue_get_bytes (session->queue);
}

gint64
rh_client_session_get_oldest_queued_at (const RhClientSession *session)
{
  return rh_send_queue_get_oldest_queued_at (session->queue);
}

guint64
rh_client_session_get_bytes_sent (const RhClientSession *session)
{
  return session->bytes_sent;
}

gboolean
rh_client_session_failed_in_tls (const RhClientSession *session)
{
  return session->tls_failed;
}

gboolean
rh_client_session_publish_ended (const RhClientSession *session)
{
  return session->publish_ended;
}

gboolean
rh_client_session_refused_as_loop (const RhClientSession *session)
{
  return rh_client_refused_as_loop (session->client);
}
