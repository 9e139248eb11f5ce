#include "config.h"

#include "http-connections.h"

#include <glib/gi18n.h>
#include <inttypes.h>
#include <string.h>

#include "util/listener.h"
#include "util/log.h"

/* At most one log line about refused connections this often. */
#define REFUSED_LOG_INTERVAL_US (10 * G_USEC_PER_SEC)

typedef struct {
  RhHttpConnections *owner;
  GSocketConnection *stream;   /* libsoup's: we hold only a weak reference */
  char *key;                   /* "REMOTE LOCAL": how a request finds its connection */
  char *ip;
  gint64 deadline;             /* monotonic */
  gboolean shut;               /* closed at its deadline; libsoup lets go soon */
} Client;

struct _RhHttpConnections {
  SoupServer *soup;
  RhHttpLimits limits;
  GPtrArray *listeners;        /* RhListener* */
  GHashTable *clients;         /* key -> Client*, owned */
  GHashTable *per_ip;          /* ip -> count */
  guint sweep_id;
  gulong finished_id;
  gulong aborted_id;
  RhHttpCounters counters;
  guint64 refused_unlogged;
  gint64 refused_logged_at;
};

static char *
address_text (GSocketAddress *address)
{
  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return g_strdup ("unknown");
  return g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (address));
}

static char *
client_key (GSocketAddress *remote, GSocketAddress *local)
{
  g_autofree char *remote_text = address_text (remote);
  g_autofree char *local_text = address_text (local);
  return g_strconcat (remote_text, " ", local_text, NULL);
}

static char *
client_ip (GSocketAddress *remote)
{
  if (!G_IS_INET_SOCKET_ADDRESS (remote))
    return g_strdup ("unknown");
  return g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
}

static guint
count_for_ip (RhHttpConnections *connections, const char *ip)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (connections->per_ip, ip));
}

static void
set_count_for_ip (RhHttpConnections *connections, const char *ip, guint count)
{
  if (count == 0)
    g_hash_table_remove (connections->per_ip, ip);
  else
    g_hash_table_replace (connections->per_ip, g_strdup (ip), GUINT_TO_POINTER (count));
}

static void
client_free (Client *client)
{
  g_free (client->key);
  g_free (client->ip);
  g_free (client);
}

/* libsoup let the connection go (it finalized): forget it. */
static void
on_stream_gone (gpointer data, GObject *where_it_was)
{
  Client *client = data;
  RhHttpConnections *connections = client->owner;
  set_count_for_ip (connections, client->ip, count_for_ip (connections, client->ip) - 1);
  g_hash_table_remove (connections->clients, client->key);
}

/* Shutting the socket down (rather than closing it under libsoup's feet)
 * makes libsoup's pending read end, and it closes the stream itself. */
static void
shut (Client *client)
{
  client->shut = TRUE;
  g_socket_shutdown (g_socket_connection_get_socket (client->stream), TRUE, TRUE, NULL);
}

static gboolean
sweep (gpointer user_data)
{
  RhHttpConnections *connections = user_data;
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init (&iter, connections->clients);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Client *client = value;
      if (client->shut || now < client->deadline)
        continue;
      connections->counters.timed_out++;
      rh_log (G_LOG_LEVEL_INFO, NULL, NULL, NULL, _("HTTP connection from %s closed: no complete request within %.1fs"),
              client->ip, connections->limits.timeout);
      shut (client);
    }
  return G_SOURCE_CONTINUE;
}

static void
extend_deadline (RhHttpConnections *connections, SoupServerMessage *message)
{
  g_autofree char *key = client_key (soup_server_message_get_remote_address (message),
                                     soup_server_message_get_local_address (message));
  Client *client = g_hash_table_lookup (connections->clients, key);
  if (client != NULL)
    client->deadline = g_get_monotonic_time () + (gint64) (connections->limits.timeout * G_USEC_PER_SEC);
}

static void
on_request_finished (SoupServer *soup, SoupServerMessage *message, gpointer user_data)
{
  extend_deadline (user_data, message);
}

/* A flood of refusals must not become a flood of log lines. */
static void
log_refused (RhHttpConnections *connections, const char *ip, const char *why)
{
  gint64 now = g_get_monotonic_time ();
  connections->counters.refused++;
  if (connections->refused_logged_at != 0 && now - connections->refused_logged_at < REFUSED_LOG_INTERVAL_US)
    {
      connections->refused_unlogged++;
      return;
    }
  g_warning (_("HTTP connection from %s refused: %s (%" PRIu64 " more refused since the last report)"),
             ip, why, connections->refused_unlogged);
  connections->refused_logged_at = now;
  connections->refused_unlogged = 0;
}

/* One try, never blocking: a fresh socket's buffer takes it. */
#define REFUSED_BODY_LENGTH 34
static void
refuse (GSocketConnection *stream)
{
#define REFUSED_BODY "{\"error\": \"too many connections\"}\n"
  static const char answer[] = "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
                               "Content-Type: application/json\r\nContent-Length: "
                               G_STRINGIFY (REFUSED_BODY_LENGTH) "\r\n\r\n" REFUSED_BODY;
  G_STATIC_ASSERT (sizeof REFUSED_BODY - 1 == REFUSED_BODY_LENGTH);
  GSocket *socket = g_socket_connection_get_socket (stream);
  g_socket_send_with_blocking (socket, answer, sizeof answer - 1, FALSE, NULL, NULL);
  g_socket_shutdown (socket, FALSE, TRUE, NULL);
  g_io_stream_close (G_IO_STREAM (stream), NULL, NULL);
}

static void
on_accept (GSocketConnection *stream, gpointer user_data)
{
  RhHttpConnections *connections = user_data;
  const RhHttpLimits *limits = &connections->limits;
  g_autoptr (GSocketAddress) remote = g_socket_connection_get_remote_address (stream, NULL);
  g_autoptr (GSocketAddress) local = g_socket_connection_get_local_address (stream, NULL);
  if (remote == NULL || local == NULL)
    {
      g_io_stream_close (G_IO_STREAM (stream), NULL, NULL);  /* gone already */
      return;
    }
  g_autofree char *ip = client_ip (remote);
  guint for_ip = count_for_ip (connections, ip);
  if (g_hash_table_size (connections->clients) >= limits->max_connections)
    {
      log_refused (connections, ip, "http.max_connections reached");
      refuse (stream);
      return;
    }
  if (for_ip >= limits->max_connections_per_ip)
    {
      log_refused (connections, ip, "http.max_connections_per_ip reached");
      refuse (stream);
      return;
    }

  Client *client = g_new0 (Client, 1);
  client->owner = connections;
  client->stream = stream;
  client->key = client_key (remote, local);
  client->ip = g_steal_pointer (&ip);
  client->deadline = g_get_monotonic_time () + (gint64) (limits->timeout * G_USEC_PER_SEC);
  /* Two connections never share both addresses; if one somehow did, the
   * older one is forgotten and shut. */
  Client *stale = g_hash_table_lookup (connections->clients, client->key);
  if (stale != NULL)
    {
      g_object_weak_unref (G_OBJECT (stale->stream), on_stream_gone, stale);
      shut (stale);
      set_count_for_ip (connections, stale->ip, count_for_ip (connections, stale->ip) - 1);
      g_hash_table_remove (connections->clients, stale->key);
    }
  g_hash_table_insert (connections->clients, client->key, client);
  set_count_for_ip (connections, client->ip, count_for_ip (connections, client->ip) + 1);
  g_object_weak_ref (G_OBJECT (stream), on_stream_gone, client);
  connections->counters.accepted++;
  soup_server_accept_iostream (connections->soup, G_IO_STREAM (stream), local, remote, NULL);
}

RhHttpConnections *
rh_http_connections_new (SoupServer *soup, const RhHttpLimits *limits)
{
  RhHttpConnections *connections = g_new0 (RhHttpConnections, 1);
  connections->soup = soup;
  connections->limits = *limits;
  connections->listeners = g_ptr_array_new_with_free_func ((GDestroyNotify) rh_listener_free);
  connections->clients = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) client_free);
  connections->per_ip = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  connections->sweep_id = g_timeout_add_seconds (1, sweep, connections);
  connections->finished_id = g_signal_connect (soup, "request-finished", G_CALLBACK (on_request_finished),
                                               connections);
  connections->aborted_id = g_signal_connect (soup, "request-aborted", G_CALLBACK (on_request_finished),
                                              connections);
  return connections;
}

void
rh_http_connections_free (RhHttpConnections *connections)
{
  if (connections == NULL)
    return;
  g_signal_handler_disconnect (connections->soup, connections->finished_id);
  g_signal_handler_disconnect (connections->soup, connections->aborted_id);
  g_source_remove (connections->sweep_id);
  g_ptr_array_unref (connections->listeners);
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init (&iter, connections->clients);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Client *client = value;
      g_object_weak_unref (G_OBJECT (client->stream), on_stream_gone, client);
      if (!client->shut)
        shut (client);
    }
  g_hash_table_unref (connections->clients);
  g_hash_table_unref (connections->per_ip);
  g_free (connections);
}

gboolean
rh_http_connections_listen (RhHttpConnections *connections, const RhListenAddress *address, GError **error)
{
  RhListener *listener = rh_listener_new (address, connections->limits.listen_backlog, "HTTP API", on_accept,
                                          connections, error);
  if (listener == NULL)
    return FALSE;
  g_ptr_array_add (connections->listeners, listener);
  return TRUE;
}

void
rh_http_connections_set_limits (RhHttpConnections *connections, const RhHttpLimits *limits)
{
  connections->limits = *limits;
}

void
rh_http_connections_get_counters (RhHttpConnections *connections, RhHttpCounters *counters)
{
  *counters = connections->counters;
  counters->open = g_hash_table_size (connections->clients);
  for (guint i = 0; i < connections->listeners->len; i++)
    {
      RhListener *listener = g_ptr_array_index (connections->listeners, i);
      counters->accept_descriptor_failures += rh_listener_get_descriptor_failures (listener);
      counters->accept_other_failures += rh_listener_get_other_failures (listener);
    }
}
