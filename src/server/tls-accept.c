#include "config.h"

#include "tls-accept.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <sys/socket.h>

#include "protocol/tls-record.h"
#include "util/transport.h"

typedef enum {
  WAITING_FOR_HELLO,
  WAITING_FOR_SLOT,
  HANDSHAKING,
} Stage;

struct _RhTlsAccept {
  Stage stage;
  RhPoller *poller;
  RhPollerWatch *watch;
  GSocketConnection *socket_connection;
  GTlsCertificate *certificate;
  GTlsConnection *tls;
  GCancellable *cancellable;
  RhTlsAcceptDone done;
  gpointer user_data;
  gboolean cancelled;
};

static GQueue waiting = G_QUEUE_INIT;
static RhTlsAcceptCounters counters;

static GSocket *
accept_socket (RhTlsAccept *accept)
{
  return g_socket_connection_get_socket (accept->socket_connection);
}

static void
free_accept (RhTlsAccept *accept)
{
  if (accept->watch != NULL)
    rh_poller_unwatch (accept->poller, accept->watch);
  g_clear_object (&accept->tls);
  g_clear_object (&accept->cancellable);
  g_clear_object (&accept->certificate);
  g_object_unref (accept->socket_connection);
  g_free (accept);
}

static void
finish (RhTlsAccept *accept, GTlsConnection *tls, const char *why)
{
  if (tls != NULL)
    counters.completed++;
  else
    counters.failed++;
  RhTlsAcceptDone done = accept->done;
  gpointer user_data = accept->user_data;
  free_accept (accept);
  done (tls, why, user_data);
}

static void start_next_handshake (void);

static void
on_handshake (GObject *source, GAsyncResult *result, gpointer user_data)
{
  RhTlsAccept *accept = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result, &error);

  counters.running--;
  start_next_handshake ();
  if (accept->cancelled)
    {
      /* The thread is done with the descriptor: it may close now. */
      g_io_stream_close (G_IO_STREAM (accept->socket_connection), NULL, NULL);
      free_accept (accept);
      return;
    }
  if (!ok)
    {
      g_autofree char *why = g_strdup_printf (_("TLS handshake failed: %s"), error->message);
      finish (accept, NULL, why);
      return;
    }
  GTlsProtocolVersion version = g_tls_connection_get_protocol_version (accept->tls);
  if (version != G_TLS_PROTOCOL_VERSION_TLS_1_2 && version != G_TLS_PROTOCOL_VERSION_TLS_1_3)
    {
      finish (accept, NULL, _("TLS handshake failed: the client offers nothing newer than TLS 1.1"));
      return;
    }
  GTlsConnection *tls = g_steal_pointer (&accept->tls);
  finish (accept, tls, NULL);
}

static void
start_handshake (RhTlsAccept *accept)
{
  g_autoptr (GError) error = NULL;
  /* No certificate database: we ask clients for no certificate, and
   * glib-networking would otherwise parse the whole system trust store
   * for every connection (megabytes, and milliseconds of CPU). */
  GType type = g_tls_backend_get_server_connection_type (g_tls_backend_get_default ());
  g_autoptr (GIOStream) base = rh_transport_tls_base (accept->socket_connection);
  GIOStream *tls = g_initable_new (type, NULL, &error, "base-io-stream", base, "certificate", accept->certificate,
                                   "database", NULL, NULL);
  if (tls == NULL)
    {
      finish (accept, NULL, error->message);
      return;
    }
  accept->tls = G_TLS_CONNECTION (tls);
  accept->stage = HANDSHAKING;
  accept->cancellable = g_cancellable_new ();
  counters.running++;
  g_tls_connection_handshake_async (accept->tls, G_PRIORITY_DEFAULT, accept->cancellable, on_handshake, accept);
}

static void
start_next_handshake (void)
{
  while (counters.running < RH_TLS_ACCEPT_MAX_HANDSHAKES && !g_queue_is_empty (&waiting))
    {
      RhTlsAccept *accept = g_queue_pop_head (&waiting);
      counters.waiting--;
      start_handshake (accept);
    }
}

/* Readable only once at least bytes are there (or the peer closed). */
static void
wake_at (RhTlsAccept *accept, int bytes)
{
  g_socket_set_option (accept_socket (accept), SOL_SOCKET, SO_RCVLOWAT, bytes, NULL);
}

static void
on_readable (GIOCondition ready, gpointer user_data)
{
  RhTlsAccept *accept = user_data;
  static guint8 peek[RH_TLS_RECORD_HEADER + RH_TLS_RECORD_MAX_BODY];
  int fd = g_socket_get_fd (accept_socket (accept));
  ssize_t n = recv (fd, peek, sizeof peek, MSG_PEEK | MSG_DONTWAIT);

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0)
    {
      finish (accept, NULL, n == 0 ? _("closed by peer before the TLS handshake") : g_strerror (errno));
      return;
    }
  gsize needed;
  switch (rh_tls_record_check (peek, (gsize) n, &needed))
    {
    case RH_TLS_RECORD_NOT_TLS:
      finish (accept, NULL, _("not a TLS handshake (plain RTMP on a TLS port?)"));
      return;
    case RH_TLS_RECORD_INCOMPLETE:
      wake_at (accept, (int) needed);
      return;
    case RH_TLS_RECORD_COMPLETE:
      break;
    }
  wake_at (accept, 1);
  rh_poller_unwatch (accept->poller, accept->watch);
  accept->watch = NULL;
  accept->stage = WAITING_FOR_SLOT;
  g_queue_push_tail (&waiting, accept);
  counters.waiting++;
  start_next_handshake ();
}

RhTlsAccept *
rh_tls_accept_start (RhPoller *poller, GSocketConnection *socket_connection, GTlsCertificate *certificate,
                     RhTlsAcceptDone done, gpointer user_data)
{
  RhTlsAccept *accept = g_new0 (RhTlsAccept, 1);
  accept->stage = WAITING_FOR_HELLO;
  accept->poller = poller;
  accept->socket_connection = g_object_ref (socket_connection);
  accept->certificate = g_object_ref (certificate);
  accept->done = done;
  accept->user_data = user_data;
  accept->watch = rh_poller_watch (poller, g_socket_get_fd (accept_socket (accept)), G_IO_IN, on_readable, accept);
  return accept;
}

void
rh_tls_accept_cancel (RhTlsAccept *accept)
{
  counters.cancelled++;
  switch (accept->stage)
    {
    case WAITING_FOR_SLOT:
      g_queue_remove (&waiting, accept);
      counters.waiting--;
      /* fall through */
    case WAITING_FOR_HELLO:
      g_io_stream_close (G_IO_STREAM (accept->socket_connection), NULL, NULL);
      free_accept (accept);
      break;
    case HANDSHAKING:
      /* on_handshake closes and frees it. */
      accept->cancelled = TRUE;
      g_cancellable_cancel (accept->cancellable);
      break;
    }
}

void
rh_tls_accept_get_counters (RhTlsAcceptCounters *out)
{
  *out = counters;
}
