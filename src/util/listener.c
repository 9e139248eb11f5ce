#include "config.h"

#include "listener.h"

#include <glib/gi18n.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "util/log.h"

/* Connections accepted per wake-up before other sources get a turn. */
#define ACCEPT_BATCH 256
/* Out of descriptors: the first pause, and the longest. */
#define PAUSE_MIN_MS 100
#define PAUSE_MAX_MS 2000
/* At most one log line about failed accepts this often. */
#define LOG_INTERVAL_US (10 * G_USEC_PER_SEC)

struct _RhListener {
  GSocket *socket;
  GSource *source;            /* NULL while paused */
  guint resume_id;            /* the end of a pause */
  guint pause_ms;             /* the next pause; 0 after a good accept */
  char *what;
  char *address;
  RhListenerAcceptFunc accept;
  gpointer user_data;
  guint64 descriptor_failures;
  guint64 other_failures;
  guint64 unlogged_failures;
  gint64 logged_at;
};

static void watch (RhListener *listener);

static GSocket *
listening_socket (GSocketFamily family, GSocketAddress *address, gboolean dual_stack, gint backlog,
                  GError **error)
{
  g_autoptr (GSocket) socket = g_socket_new (family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return NULL;
  if (family == G_SOCKET_FAMILY_IPV6
      && !g_socket_set_option (socket, IPPROTO_IPV6, IPV6_V6ONLY, dual_stack ? 0 : 1, error))
    return NULL;
  g_socket_set_listen_backlog (socket, backlog);
  if (!g_socket_bind (socket, address, TRUE, error) || !g_socket_listen (socket, error))
    return NULL;
  g_socket_set_blocking (socket, FALSE);
  return g_steal_pointer (&socket);
}

/* EMFILE and ENFILE (GIO maps both to one code), and ENOMEM: waiting is
 * the only thing that can help. */
static gboolean
out_of_descriptors (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES)
         || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
}

/* A flood of failures must not become a flood of log lines. */
static void
log_failure (RhListener *listener, const GError *error, gboolean paused)
{
  gint64 now = g_get_monotonic_time ();
  if (listener->logged_at != 0 && now - listener->logged_at < LOG_INTERVAL_US)
    {
      listener->unlogged_failures++;
      return;
    }
  if (paused)
    g_warning (_("%s listener on %s: accepting failed: %s; not accepting for %u ms "
                 "(%" PRIu64 " more failures since the last report)"),
               listener->what, listener->address, error->message, listener->pause_ms,
               listener->unlogged_failures);
  else
    g_warning (_("%s listener on %s: accepting failed: %s (%" PRIu64 " more failures since the last report)"),
               listener->what, listener->address, error->message, listener->unlogged_failures);
  listener->logged_at = now;
  listener->unlogged_failures = 0;
}

static gboolean
on_resume (gpointer user_data)
{
  RhListener *listener = user_data;
  listener->resume_id = 0;
  watch (listener);
  return G_SOURCE_REMOVE;
}

/* The connection stays in the kernel's queue and the socket readable:
 * stop watching it for a while rather than spin on it. */
static void
pause_accepting (RhListener *listener)
{
  listener->pause_ms = listener->pause_ms == 0 ? PAUSE_MIN_MS : MIN (listener->pause_ms * 2, PAUSE_MAX_MS);
  g_source_destroy (listener->source);
  g_clear_pointer (&listener->source, g_source_unref);
  listener->resume_id = g_timeout_add (listener->pause_ms, on_resume, listener);
}

static gboolean
on_incoming (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  RhListener *listener = user_data;
  for (int i = 0; i < ACCEPT_BATCH; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GSocket) client = g_socket_accept (socket, NULL, &error);
      if (client == NULL)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            break;
          if (out_of_descriptors (error))
            {
              listener->descriptor_failures++;
              pause_accepting (listener);
              log_failure (listener, error, TRUE);
              return G_SOURCE_REMOVE;
            }
          /* A peer gone before we took it, say: the next one may do. */
          listener->other_failures++;
          log_failure (listener, error, FALSE);
          continue;
        }
      listener->pause_ms = 0;
      g_autoptr (GSocketConnection) connection = g_socket_connection_factory_create_connection (client);
      listener->accept (connection, listener->user_data);
    }
  return G_SOURCE_CONTINUE;
}

static void
watch (RhListener *listener)
{
  listener->source = g_socket_create_source (listener->socket, G_IO_IN, NULL);
  g_source_set_callback (listener->source, G_SOURCE_FUNC (on_incoming), listener, NULL);
  g_source_attach (listener->source, NULL);
}

RhListener *
rh_listener_new (const RhListenAddress *address, gint backlog, const char *what, RhListenerAcceptFunc accept,
                 gpointer user_data, GError **error)
{
  g_autoptr (GSocket) socket = NULL;

  if (address->host == NULL)
    {
      g_autoptr (GInetAddress) any6 = g_inet_address_new_any (G_SOCKET_FAMILY_IPV6);
      g_autoptr (GSocketAddress) address6 = g_inet_socket_address_new (any6, address->port);
      g_autoptr (GError) v6_error = NULL;
      socket = listening_socket (G_SOCKET_FAMILY_IPV6, address6, TRUE, backlog, &v6_error);
      if (socket == NULL)
        {
          g_autoptr (GInetAddress) any4 = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
          g_autoptr (GSocketAddress) address4 = g_inet_socket_address_new (any4, address->port);
          socket = listening_socket (G_SOCKET_FAMILY_IPV4, address4, FALSE, backlog, error);
        }
    }
  else
    {
      g_autoptr (GSocketAddress) socket_address = g_inet_socket_address_new_from_string (address->host,
                                                                                          address->port);
      if (socket_address == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("%s is not an IP address"),
                       address->host);
          return NULL;
        }
      socket = listening_socket (g_socket_address_get_family (socket_address), socket_address, FALSE,
                                 backlog, error);
    }
  if (socket == NULL)
    return NULL;

  RhListener *listener = g_new0 (RhListener, 1);
  listener->socket = g_steal_pointer (&socket);
  listener->what = g_strdup (what);
  listener->address = rh_listen_address_to_string (address);
  listener->accept = accept;
  listener->user_data = user_data;
  watch (listener);
  return listener;
}

void
rh_listener_free (RhListener *listener)
{
  if (listener == NULL)
    return;
  if (listener->source != NULL)
    {
      g_source_destroy (listener->source);
      g_source_unref (listener->source);
    }
  if (listener->resume_id != 0)
    g_source_remove (listener->resume_id);
  g_socket_close (listener->socket, NULL);
  g_object_unref (listener->socket);
  g_free (listener->what);
  g_free (listener->address);
  g_free (listener);
}

guint64
rh_listener_get_descriptor_failures (const RhListener *listener)
{
  return listener->descriptor_failures;
}

guint64
rh_listener_get_other_failures (const RhListener *listener)
{
  return listener->other_failures;
}
