#include "config.h"

#include "server.h"

#include "connection.h"
#include "events.h"
#include "registry.h"
#include <glib/gi18n.h>
#include "util/log.h"

#define READ_BUFFER_SIZE (64 * 1024)

/* Writes queued during one main loop turn go out together in the next:
 * a GSource that is ready whenever some connection has something queued. */
typedef struct {
  GSource source;
  RhServer *server;
} FlushSource;

struct _RhServer {
  RhConfig *config;
  GHashTable *listeners;     /* canonical address -> GSocketService */
  GHashTable *connections;   /* RhConnection* (owned) set */
  GHashTable *per_ip;        /* client ip -> count */
  RhRegistry *registry;
  GSource *flush_source;
  GPtrArray *dirty;          /* connections with writes pending (ref'd) */
  GPtrArray *flushing;       /* the other of two arrays swapped per flush */
  guint tick_id;
  guint64 next_number;
  gboolean shutting_down;
  guint64 accepted;
  guint64 refused;           /* over max_connections or max_connections_per_ip */
  gint64 refused_logged_at;
  guint64 refused_unlogged;
  RhEventSinkFunc event_sink;
  gpointer event_sink_data;
  guint8 read_buffer[READ_BUFFER_SIZE];
};

void
rh_server_set_event_sink (RhServer *server, RhEventSinkFunc func, gpointer user_data)
{
  server->event_sink = func;
  server->event_sink_data = user_data;
}

void
rh_server_emit (RhServer *server, RhEvent *event)
{
  if (server->event_sink != NULL)
    server->event_sink (event, server->event_sink_data);
}

const char *
rh_reason_to_string (RhReason reason)
{
  static const char *const names[] = {
    [RH_REASON_CLIENT_DISCONNECT] = "client_disconnect",
    [RH_REASON_UNPUBLISH] = "unpublish",
    [RH_REASON_SERVER_SHUTDOWN] = "server_shutdown",
    [RH_REASON_TIMEOUT] = "timeout",
    [RH_REASON_PROTOCOL_ERROR] = "protocol_error",
    [RH_REASON_REJECTED] = "rejected",
    [RH_REASON_REPLACED] = "replaced",
  };
  return names[reason];
}

static gboolean
flush_prepare (GSource *source, gint *timeout)
{
  FlushSource *flush = (FlushSource *) source;
  *timeout = -1;
  return flush->server->dirty->len > 0;
}

static gboolean
flush_check (GSource *source)
{
  return ((FlushSource *) source)->server->dirty->len > 0;
}

void
rh_server_flush (RhServer *server)
{
  /* Flushing can close connections, which can schedule more: swap first. */
  GPtrArray *dirty = server->dirty;
  server->dirty = server->flushing;
  for (guint i = 0; i < dirty->len; i++)
    rh_connection_flush (g_ptr_array_index (dirty, i));
  g_ptr_array_set_size (dirty, 0);
  server->flushing = dirty;
}

static gboolean
flush_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  rh_server_flush (((FlushSource *) source)->server);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs flush_funcs = { flush_prepare, flush_check, flush_dispatch, NULL, NULL, NULL };

static gboolean
on_tick (gpointer user_data)
{
  RhServer *server = user_data;
  gint64 now = g_get_monotonic_time ();
  g_autoptr (GPtrArray) connections = g_ptr_array_new_with_free_func ((GDestroyNotify) rh_connection_unref);

  /* Closing removes from the table: walk a copy. */
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init (&iter, server->connections);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (connections, rh_connection_ref (key));
  for (guint i = 0; i < connections->len; i++)
    rh_connection_check_timeouts (g_ptr_array_index (connections, i), now);
  return G_SOURCE_CONTINUE;
}

RhServer *
rh_server_new (RhConfig *config)
{
  RhServer *server = g_new0 (RhServer, 1);
  server->config = rh_config_ref (config);
  server->listeners = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  server->connections = g_hash_table_new (NULL, NULL);
  server->per_ip = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  server->registry = rh_registry_new (server);
  server->dirty = g_ptr_array_new_with_free_func ((GDestroyNotify) rh_connection_unref);
  server->flushing = g_ptr_array_new_with_free_func ((GDestroyNotify) rh_connection_unref);
  server->flush_source = g_source_new (&flush_funcs, sizeof (FlushSource));
  ((FlushSource *) server->flush_source)->server = server;
  g_source_set_priority (server->flush_source, G_PRIORITY_DEFAULT);
  g_source_attach (server->flush_source, NULL);
  server->tick_id = g_timeout_add_seconds (1, on_tick, server);
  return server;
}

static void
stop_listener (gpointer data)
{
  GSocketService *service = data;
  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
}

void
rh_server_free (RhServer *server)
{
  if (server == NULL)
    return;
  rh_server_shutdown (server);
  g_clear_handle_id (&server->tick_id, g_source_remove);
  g_source_destroy (server->flush_source);
  g_source_unref (server->flush_source);
  g_ptr_array_unref (server->dirty);
  g_ptr_array_unref (server->flushing);
  g_hash_table_unref (server->listeners);
  g_hash_table_unref (server->connections);
  g_hash_table_unref (server->per_ip);
  rh_registry_free (server->registry);
  rh_config_unref (server->config);
  g_free (server);
}

RhConfig *
rh_server_get_config (RhServer *server)
{
  return server->config;
}

RhRegistry *
rh_server_get_registry (RhServer *server)
{
  return server->registry;
}

guint8 *
rh_server_get_read_buffer (RhServer *server, gsize *size)
{
  *size = sizeof server->read_buffer;
  return server->read_buffer;
}

void
rh_server_schedule_flush (RhServer *server, RhConnection *connection)
{
  g_ptr_array_add (server->dirty, rh_connection_ref (connection));
}

static void
log_refused (RhServer *server, const char *client_ip, const char *why)
{
  gint64 now = g_get_monotonic_time ();
  server->refused++;
  /* A flood of refusals must not become a flood of log lines. */
  if (now - server->refused_logged_at < G_USEC_PER_SEC)
    {
      server->refused_unlogged++;
      return;
    }
  g_warning (_("connection from %s refused: %s (%llu more refused since last report, %llu in all)"),
             client_ip, why, (unsigned long long) server->refused_unlogged,
             (unsigned long long) server->refused);
  server->refused_logged_at = now;
  server->refused_unlogged = 0;
}

static gboolean
on_incoming (GSocketService *service, GSocketConnection *socket_connection, GObject *source,
             gpointer user_data)
{
  RhServer *server = user_data;
  const RhServerConfig *config = &server->config->server;

  if (server->shutting_down)
    return TRUE;

  RhConnection *connection = rh_connection_new (server, socket_connection, ++server->next_number);
  const char *ip = rh_connection_get_client_ip (connection);
  guint per_ip = GPOINTER_TO_UINT (g_hash_table_lookup (server->per_ip, ip));

  if (g_hash_table_size (server->connections) >= (guint) config->max_connections)
    {
      log_refused (server, ip, "max_connections reached");
      rh_connection_unref (connection);
      return TRUE;
    }
  if (config->max_connections_per_ip > 0 && per_ip >= (guint) config->max_connections_per_ip)
    {
      log_refused (server, ip, "max_connections_per_ip reached");
      rh_connection_unref (connection);
      return TRUE;
    }

  server->accepted++;
  g_hash_table_replace (server->per_ip, g_strdup (ip), GUINT_TO_POINTER (per_ip + 1));
  g_hash_table_add (server->connections, connection);
  rh_log (G_LOG_LEVEL_INFO, rh_connection_get_id (connection), NULL, NULL,
          _("%s accepted from %s:%u on %s:%u"), rh_connection_get_id (connection), ip,
          rh_connection_get_client_port (connection), rh_connection_get_server_ip (connection),
          rh_connection_get_server_port (connection));
  rh_events_connection_accept (connection);
  rh_connection_start (connection);
  return TRUE;
}

void
rh_server_remove_connection (RhServer *server, RhConnection *connection)
{
  if (!g_hash_table_remove (server->connections, connection))
    return;
  const char *ip = rh_connection_get_client_ip (connection);
  guint per_ip = GPOINTER_TO_UINT (g_hash_table_lookup (server->per_ip, ip));
  if (per_ip <= 1)
    g_hash_table_remove (server->per_ip, ip);
  else
    g_hash_table_replace (server->per_ip, g_strdup (ip), GUINT_TO_POINTER (per_ip - 1));
  rh_connection_unref (connection);
}

static GSocketService *
open_listener (RhServer *server, const RhListenAddress *address, GError **error)
{
  g_autoptr (GSocketService) service = g_socket_service_new ();

  if (address->host == NULL)
    {
      if (!g_socket_listener_add_inet_port (G_SOCKET_LISTENER (service), address->port, NULL, error))
        return NULL;
    }
  else
    {
      g_autoptr (GSocketAddress) socket_address = g_inet_socket_address_new_from_string (address->host,
                                                                                          address->port);
      if (!g_socket_listener_add_address (G_SOCKET_LISTENER (service), socket_address,
                                          G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, NULL,
                                          error))
        return NULL;
    }
  g_signal_connect (service, "incoming", G_CALLBACK (on_incoming), server);
  g_socket_service_start (service);
  return g_steal_pointer (&service);
}

gboolean
rh_server_apply_config (RhServer *server, RhConfig *config, gboolean starting, GError **error)
{
  GArray *listen = config->server.listen;
  g_autoptr (GHashTable) wanted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < listen->len; i++)
    {
      const RhListenAddress *address = &g_array_index (listen, RhListenAddress, i);
      char *text = rh_listen_address_to_string (address);
      g_hash_table_add (wanted, text);
      if (g_hash_table_contains (server->listeners, text))
        continue;
      g_autoptr (GError) local_error = NULL;
      GSocketService *service = open_listener (server, address, &local_error);
      if (service == NULL)
        {
          if (starting)
            {
              g_set_error (error, local_error->domain, local_error->code, _("cannot listen on %s: %s"),
                           text, local_error->message);
              return FALSE;
            }
          g_warning (_("cannot listen on %s: %s"), text, local_error->message);
          continue;
        }
      g_message (_("listening on %s"), text);
      g_hash_table_insert (server->listeners, g_strdup (text), service);
    }

  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init (&iter, server->listeners);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!g_hash_table_contains (wanted, key))
      {
        g_message (_("no longer listening on %s"), (const char *) key);
        stop_listener (value);
        g_hash_table_iter_remove (&iter);
      }

  if (config != server->config)
    {
      rh_config_unref (server->config);
      server->config = rh_config_ref (config);
    }
  return TRUE;
}

void
rh_server_shutdown (RhServer *server)
{
  server->shutting_down = TRUE;
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init (&iter, server->listeners);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    stop_listener (value);
  g_hash_table_remove_all (server->listeners);

  while (g_hash_table_size (server->connections) > 0)
    {
      g_hash_table_iter_init (&iter, server->connections);
      gpointer key;
      g_hash_table_iter_next (&iter, &key, NULL);
      rh_connection_close (key, RH_REASON_SERVER_SHUTDOWN, _("server shutting down"));
    }
}

guint
rh_server_get_n_connections (RhServer *server)
{
  return g_hash_table_size (server->connections);
}

void
rh_server_log_stats (RhServer *server)
{
  g_message ("stats: connections=%u accepted=%" G_GUINT64_FORMAT " refused=%" G_GUINT64_FORMAT
             " streams=%u", g_hash_table_size (server->connections), server->accepted,
             server->refused, rh_registry_get_n_streams (server->registry));
}
