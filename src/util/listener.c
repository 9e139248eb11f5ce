#include "config.h"

#include "listener.h"

#include <glib/gi18n.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "util/log.h"

/* Connections accepted per wake-up before other sources get a turn. */
#define ACCEPT_BATCH 256

struct _RhListener {
  GSocket *socket;
  GSource *source;
  RhListenerAcceptFunc accept;
  gpointer user_data;
};

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
          /* Out of descriptors, or a peer gone before we took it: the
           * listener stays; the next readiness tries again. */
          if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            g_warning (_("accepting a connection failed: %s"), error->message);
          break;
        }
      g_autoptr (GSocketConnection) connection = g_socket_connection_factory_create_connection (client);
      listener->accept (connection, listener->user_data);
    }
  return G_SOURCE_CONTINUE;
}

RhListener *
rh_listener_new (const RhListenAddress *address, gint backlog, RhListenerAcceptFunc accept,
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
  listener->accept = accept;
  listener->user_data = user_data;
  listener->source = g_socket_create_source (listener->socket, G_IO_IN, NULL);
  g_source_set_callback (listener->source, G_SOURCE_FUNC (on_incoming), listener, NULL);
  g_source_attach (listener->source, NULL);
  return listener;
}

void
rh_listener_free (RhListener *listener)
{
  if (listener == NULL)
    return;
  g_source_destroy (listener->source);
  g_source_unref (listener->source);
  g_socket_close (listener->socket, NULL);
  g_object_unref (listener->socket);
  g_free (listener);
}
