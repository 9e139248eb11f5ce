/* The RTMP server: listeners, every client connection, and the limits
 * and settings they read. In the order things happen:
 *   1. rh_server_apply_config opens the listeners (and, on a reload,
 *      closes the dropped ones and updates the limits in place).
 *   2. on_incoming: a listener accepted a socket; it is refused at once
 *      over max_connections, max_connections_per_ip or the descriptors
 *      clients may hold, else it becomes an RhConnection owned by the
 *      connections table, watched by the one epoll poller.
 *   3. The connection's handshake is done: on_handshake_done makes its
 *      RhSession (session.c takes it from there).
 *   4. Writes are merged: a connection with something queued asks for a
 *      flush (flush.c), now for replies, after merge_window for media.
 *   5. Once a second the timeouts are checked (at most 64 closes a turn).
 *   6. A connection closes (peer, timeout, protocol error, shutdown): its
 *      session's publications and playbacks end first (their stop
 *      events), then connection_close, then it is counted by reason and
 *      forgotten.
 * rh_server_shutdown closes the listeners and then every connection. */
#include "config.h"

#include "server.h"

#include <string.h>

#include "connection.h"
#include "emit.h"
#include "flush.h"
#include "util/descriptors.h"
#include "util/listener.h"
#include "tls-accept.h"
#include "outputs.h"
#include "pull.h"
#include "registry.h"
#include "relay-loop.h"
#include "stream.h"
#include "session.h"
#include <glib/gi18n.h>
#include "util/log.h"

struct _RhServer {
  RhConfig *config;
  /* What the layers below read, kept up to date from config. */
  RhConnectionLimits limits;
  gsize input_memory;        /* unfinished input messages, all connections */
  RhSessionSettings session_settings;
  RhEventSink sink;
  GHashTable *listeners;     /* canonical address -> RhListener */
  GHashTable *connections;   /* RhConnection* (owned) set */
  GHashTable *per_ip;        /* client ip -> count */
  GPtrArray *per_ip_exempt;  /* GInetAddressMask*: no per-IP limit */
  RhRegistry *registry;
  RhOutputs *outputs;          /* recordings and relays */
  RhPulls *pulls;              /* in a fleet: streams pulled from their owners */
  RhFlush *flush;            /* media: waits for the merge window */
  RhFlush *urgent_flush;     /* replies and control: never waits */
  RhPoller *poller;          /* every client socket, one GSource */
  guint tick_id;
  /* The timeout sweep under way: the connections it still has to look
   * at, taken at the tick; closes happen a batch per main-loop turn. */
  GPtrArray *sweep;          /* RhConnection* (a reference each) */
  guint sweep_at;
  gint64 sweep_now;
  guint sweep_id;
  guint64 next_number;
  gboolean shutting_down;
  guint64 accepted;
  guint64 refused;           /* over max_connections or max_connections_per_ip */
  guint64 retired_descriptor_failures;  /* of listeners no longer there */
  guint64 retired_other_failures;
  guint64 closed_bytes_in;   /* of connections already closed */
  guint64 closed_bytes_out;
  guint64 closed_by_reason[RH_N_REASONS];
  gint64 refused_logged_at;
  guint64 refused_unlogged;
};

void
rh_server_set_event_sink (RhServer *server, RhEventSinkFunc func, RhCheckFunc check, gpointer user_data)
{
  server->sink.func = func;
  server->sink.check = check;
  server->sink.user_data = user_data;
}

static RhStreamPolicy
stream_policy (const RhServerConfig *config)
{
  return (RhStreamPolicy) {
    .gop_cache = config->gop_cache,
    .gop_cache_max_bytes = (gsize) config->gop_cache_max_bytes,
    .slow_player = {
      .queue_soft_limit = (gsize) config->player_queue_soft_limit,
      .queue_hard_limit = (gsize) config->player_queue_hard_limit,
      .max_delay = (gint64) (config->player_max_delay * G_USEC_PER_SEC),
      .behind_timeout = (gint64) (config->player_behind_timeout * G_USEC_PER_SEC),
    },
  };
}

/* The settings the connections, sessions and streams hold, from config. */
static void
take_config (RhServer *server, RhConfig *config)
{
  const RhServerConfig *settings = &config->server;
  if (config != server->config)
    {
      rh_config_unref (server->config);
      server->config = rh_config_ref (config);
    }
  server->limits.handshake_timeout = settings->handshake_timeout;
  server->limits.setup_timeout = settings->setup_timeout;
  server->limits.idle_timeout = settings->idle_timeout;
  server->limits.max_message_size = (gsize) settings->max_message_size;
  server->limits.max_input_memory = (gsize) settings->max_input_memory;
  server->limits.input_memory = &server->input_memory;
  server->session_settings.chunk_size = (guint32) settings->chunk_size;
  server->session_settings.player_send_buffer = settings->player_send_buffer;
  server->session_settings.replace_duplicate_publish
    = settings->duplicate_publish == RH_DUPLICATE_PUBLISH_REPLACE;
  g_clear_pointer (&server->session_settings.applications, g_ptr_array_unref);
  if (settings->applications != NULL)
    {
      server->session_settings.applications = g_ptr_array_new_with_free_func ((GDestroyNotify) g_pattern_spec_free);
      for (char **glob = settings->applications; *glob != NULL; glob++)
        g_ptr_array_add (server->session_settings.applications, g_pattern_spec_new (*glob));
    }
  g_ptr_array_set_size (server->per_ip_exempt, 0);
  for (char **block = settings->per_ip_exempt; block != NULL && *block != NULL; block++)
    {
      GInetAddressMask *mask = g_inet_address_mask_new_from_string (*block, NULL);
      if (mask != NULL)
        g_ptr_array_add (server->per_ip_exempt, mask);
    }
  RhStreamPolicy policy = stream_policy (settings);
  rh_registry_set_policy (server->registry, &policy);
  rh_flush_set_window (server->flush, (gint64) (settings->merge_window * G_USEC_PER_SEC));
  rh_outputs_configure (server->outputs, settings);
  RhClientTls pull_tls = { settings->relay_tls.database, settings->relay_tls.verify };
  rh_pulls_configure (server->pulls, &pull_tls, config->cluster.pull_idle);
  rh_relay_loop_configure (config->cluster.enabled ? config->cluster.node_id : NULL,
                           config->cluster.enabled ? (guint) config->cluster.max_hops : RH_RELAY_MAX_HOPS);
}

static gboolean
per_ip_exempt (RhServer *server, const char *ip)
{
  g_autoptr (GInetAddress) address = g_inet_address_new_from_string (ip);
  for (guint i = 0; address != NULL && i < server->per_ip_exempt->len; i++)
    {
      GInetAddressMask *mask = g_ptr_array_index (server->per_ip_exempt, i);
      if (g_inet_address_get_family (address) == g_inet_address_mask_get_family (mask)
          && g_inet_address_mask_matches (mask, address))
        return TRUE;
    }
  return FALSE;
}

/* ---- what connections tell their owner ---- */

static void
on_handshake_done (RhConnection *connection, const char *scheme, gpointer user_data)
{
  RhServer *server = user_data;
  rh_emit_handshake_complete (&server->sink, connection, scheme);
  rh_connection_set_data (connection,
                          rh_session_new (connection, server->registry, &server->session_settings),
                          (GDestroyNotify) rh_session_free);
}

static gboolean
on_message (RhConnection *connection, const RhMessage *message, gboolean *rejected, GError **error,
            gpointer user_data)
{
  if (rh_session_handle_message (rh_connection_get_data (connection), message, error))
    return TRUE;
  *rejected = g_error_matches (*error, RH_SESSION_ERROR, RH_SESSION_ERROR_REJECTED);
  return FALSE;
}

static void
on_closing (RhConnection *connection, RhReason reason, gpointer user_data)
{
  RhSession *session = rh_connection_get_data (connection);
  if (session != NULL)
    rh_session_close (session, reason);
}

static void
on_closed (RhConnection *connection, RhReason reason, gint64 duration_seconds, gpointer user_data)
{
  RhServer *server = user_data;
  rh_emit_connection_close (&server->sink, connection, reason, duration_seconds);
  if (!g_hash_table_contains (server->connections, connection))
    return;
  server->closed_bytes_in += rh_connection_get_bytes_received (connection);
  server->closed_bytes_out += rh_connection_get_bytes_sent (connection);
  server->closed_by_reason[reason]++;
  g_hash_table_remove (server->connections, connection);
  const char *ip = rh_connection_get_client_ip (connection);
  guint per_ip = GPOINTER_TO_UINT (g_hash_table_lookup (server->per_ip, ip));
  if (per_ip <= 1)
    g_hash_table_remove (server->per_ip, ip);
  else
    g_hash_table_replace (server->per_ip, g_strdup (ip), GUINT_TO_POINTER (per_ip - 1));
  rh_connection_unref (connection);
}

static void
on_wants_flush (RhConnection *connection, gboolean urgent, gpointer user_data)
{
  RhServer *server = user_data;
  rh_flush_schedule (urgent ? server->urgent_flush : server->flush, connection);
}

static void
on_input_processed (RhConnection *connection, gpointer user_data)
{
  RhServer *server = user_data;
  /* Without a merge window, what this input made us send (fan-out
   * included) goes out now, not one main loop turn later. With one, the
   * flush source sends it when the window closes. */
  rh_flush_run (server->urgent_flush);
  if (rh_flush_get_window (server->flush) == 0)
    rh_flush_run (server->flush);
}

static const RhConnectionOwner connection_owner = {
  on_handshake_done, on_message, on_closing, on_closed, on_wants_flush, on_input_processed,
};

static void
flush_connection (gpointer connection, gpointer user_data)
{
  rh_connection_flush (connection);
}

/* Connections closed for a timeout per main-loop turn: 5000 idle
 * connections expiring in the same second must not hold the loop (each
 * close is logged and makes an event) while streams are playing. */
#define TIMEOUT_CLOSES_PER_TURN 64

static gboolean
sweep_timeouts (gpointer user_data)
{
  RhServer *server = user_data;
  guint closes = 0;
  while (server->sweep_at < server->sweep->len && closes < TIMEOUT_CLOSES_PER_TURN)
    if (rh_connection_check_timeouts (g_ptr_array_index (server->sweep, server->sweep_at++), server->sweep_now))
      closes++;
  if (server->sweep_at < server->sweep->len)
    return G_SOURCE_CONTINUE;
  g_clear_pointer (&server->sweep, g_ptr_array_unref);
  server->sweep_id = 0;
  return G_SOURCE_REMOVE;
}

static gboolean
on_tick (gpointer user_data)
{
  RhServer *server = user_data;
  gint64 now = g_get_monotonic_time ();

  /* Closing removes from the table: the sweep walks a copy. A sweep
   * still under way from the last tick goes on. */
  if (server->sweep == NULL)
    {
      server->sweep = g_ptr_array_new_full (g_hash_table_size (server->connections),
                                            (GDestroyNotify) rh_connection_unref);
      GHashTableIter iter;
      gpointer key;
      g_hash_table_iter_init (&iter, server->connections);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        g_ptr_array_add (server->sweep, rh_connection_ref (key));
      server->sweep_at = 0;
      server->sweep_now = now;
      if (sweep_timeouts (server))
        server->sweep_id = g_idle_add_full (G_PRIORITY_DEFAULT, sweep_timeouts, server, NULL);
    }
  if (server->config->server.stall_timeout > 0)
    rh_registry_check_stalls (server->registry, now,
                              (gint64) (server->config->server.stall_timeout * G_USEC_PER_SEC));
  return G_SOURCE_CONTINUE;
}

RhServer *
rh_server_new (RhConfig *config)
{
  RhServer *server = g_new0 (RhServer, 1);
  RhStreamPolicy policy = stream_policy (&config->server);
  server->config = rh_config_ref (config);
  server->listeners = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify) rh_listener_free);
  server->connections = g_hash_table_new (NULL, NULL);
  server->per_ip = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  server->per_ip_exempt = g_ptr_array_new_with_free_func (g_object_unref);
  server->registry = rh_registry_new (&server->sink, &policy);
  server->outputs = rh_outputs_new (server->registry);
  server->pulls = rh_pulls_new (server->registry);
  server->poller = rh_poller_new ();
  server->flush = rh_flush_new (flush_connection, (gpointer (*) (gpointer)) rh_connection_ref,
                                (GDestroyNotify) rh_connection_unref, server);
  server->urgent_flush = rh_flush_new (flush_connection, (gpointer (*) (gpointer)) rh_connection_ref,
                                       (GDestroyNotify) rh_connection_unref, server);
  take_config (server, config);
  server->tick_id = g_timeout_add_seconds (1, on_tick, server);
  return server;
}

void
rh_server_free (RhServer *server)
{
  if (server == NULL)
    return;
  rh_server_shutdown (server);
  g_clear_handle_id (&server->tick_id, g_source_remove);
  g_clear_handle_id (&server->sweep_id, g_source_remove);
  g_clear_pointer (&server->sweep, g_ptr_array_unref);
  rh_flush_free (server->flush);
  rh_flush_free (server->urgent_flush);
  rh_poller_free (server->poller);
  g_hash_table_unref (server->listeners);
  g_hash_table_unref (server->connections);
  g_hash_table_unref (server->per_ip);
  g_ptr_array_unref (server->per_ip_exempt);
  g_clear_pointer (&server->session_settings.applications, g_ptr_array_unref);
  rh_outputs_free (server->outputs);
  rh_pulls_free (server->pulls);
  rh_registry_free (server->registry);
  rh_config_unref (server->config);
  g_free (server);
}

RhRegistry *
rh_server_get_registry (RhServer *server)
{
  return server->registry;
}

RhOutputs *
rh_server_get_outputs (RhServer *server)
{
  return server->outputs;
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

/* certificate: a TLS listener's (the one loaded now: a reload's new
 * certificate applies to connections accepted after it). */
static void
accept_connection (RhServer *server, GSocketConnection *socket_connection, GTlsCertificate *certificate)
{
  const RhServerConfig *config = &server->config->server;

  if (server->shutting_down)
    return;

  RhConnection *connection = rh_connection_new (socket_connection, ++server->next_number, server->poller,
                                                &connection_owner, server, &server->limits, certificate);
  const char *ip = rh_connection_get_client_ip (connection);
  guint per_ip = GPOINTER_TO_UINT (g_hash_table_lookup (server->per_ip, ip));

  if (g_hash_table_size (server->connections) >= (guint) config->max_connections)
    {
      log_refused (server, ip, "max_connections reached");
      rh_connection_unref (connection);
      return;
    }
  if (g_hash_table_size (server->connections) >= rh_descriptors_get_client_share ((guint64) config->descriptor_reserve))
    {
      log_refused (server, ip, "the descriptors left are kept for hooks, recordings and the HTTP API");
      rh_connection_unref (connection);
      return;
    }
  if (config->max_connections_per_ip > 0 && per_ip >= (guint) config->max_connections_per_ip
      && !per_ip_exempt (server, ip))
    {
      log_refused (server, ip, "max_connections_per_ip reached");
      rh_connection_unref (connection);
      return;
    }

  server->accepted++;
  g_hash_table_replace (server->per_ip, g_strdup (ip), GUINT_TO_POINTER (per_ip + 1));
  g_hash_table_add (server->connections, connection);
  rh_log (G_LOG_LEVEL_INFO, rh_connection_get_id (connection), NULL, NULL,
          _("%s accepted from %s:%u on %s:%u%s"), rh_connection_get_id (connection), ip,
          rh_connection_get_client_port (connection), rh_connection_get_server_ip (connection),
          rh_connection_get_server_port (connection), certificate != NULL ? " (TLS)" : "");
  rh_emit_connection_accept (&server->sink, connection);
  rh_connection_start (connection);
}

static void
on_incoming (GSocketConnection *socket_connection, gpointer user_data)
{
  accept_connection (user_data, socket_connection, NULL);
}

static void
on_incoming_tls (GSocketConnection *socket_connection, gpointer user_data)
{
  RhServer *server = user_data;
  /* Never in clear on a TLS port. The loader requires a certificate
   * with listen_tls; this only guards that. */
  if (server->config->server.tls.loaded == NULL)
    return;
  accept_connection (server, socket_connection, server->config->server.tls.loaded);
}

/* Opens the listeners of addresses not yet open; wanted collects the
 * keys of all (TLS ones are "tls:ADDRESS"). FALSE with error when one
 * cannot be opened at start; on a reload that is only logged. */
static gboolean
open_listeners (RhServer *server, const RhConfig *config, GArray *listen, gboolean tls, GHashTable *wanted,
                gboolean starting, GError **error)
{
  for (guint i = 0; i < listen->len; i++)
    {
      const RhListenAddress *address = &g_array_index (listen, RhListenAddress, i);
      g_autofree char *text = rh_listen_address_to_string (address);
      char *key = g_strconcat (tls ? "tls:" : "", text, NULL);
      g_hash_table_add (wanted, key);
      if (g_hash_table_contains (server->listeners, key))
        continue;
      g_autoptr (GError) local_error = NULL;
      RhListener *listener = rh_listener_new (address, config->server.listen_backlog, tls ? "RTMPS" : "RTMP",
                                              tls ? on_incoming_tls : on_incoming, server, &local_error);
      if (listener == NULL)
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
      g_message (tls ? _("listening on %s (RTMPS)") : _("listening on %s"), text);
      g_hash_table_insert (server->listeners, g_strdup (key), listener);
    }
  return TRUE;
}

gboolean
rh_server_apply_config (RhServer *server, RhConfig *config, gboolean starting, GError **error)
{
  g_autoptr (GHashTable) wanted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  /* A hook worker serves no RTMP. */
  if (!config->worker.enabled
      && (!open_listeners (server, config, config->server.listen, FALSE, wanted, starting, error)
          || !open_listeners (server, config, config->server.listen_tls, TRUE, wanted, starting, error)))
    return FALSE;

  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init (&iter, server->listeners);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!g_hash_table_contains (wanted, key))
      {
        g_message (_("no longer listening on %s"), (const char *) key);
        server->retired_descriptor_failures += rh_listener_get_descriptor_failures (value);
        server->retired_other_failures += rh_listener_get_other_failures (value);
        g_hash_table_iter_remove (&iter);
      }

  take_config (server, config);
  return TRUE;
}

void
rh_server_shutdown (RhServer *server)
{
  server->shutting_down = TRUE;
  GHashTableIter iter;
  g_hash_table_remove_all (server->listeners);
  rh_pulls_stop_all (server->pulls);

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
rh_server_get_counters (RhServer *server, RhServerCounters *counters)
{
  memset (counters, 0, sizeof *counters);
  counters->connections = g_hash_table_size (server->connections);
  counters->accepted = server->accepted;
  counters->refused = server->refused;
  counters->accept_descriptor_failures = server->retired_descriptor_failures;
  counters->accept_other_failures = server->retired_other_failures;
  RhTlsAcceptCounters tls;
  rh_tls_accept_get_counters (&tls);
  counters->tls_handshakes_ok = tls.completed;
  counters->tls_handshakes_failed = tls.failed;
  counters->tls_handshakes_cancelled = tls.cancelled;
  counters->tls_handshakes_running = tls.running;
  counters->tls_handshakes_waiting = tls.waiting;
  if (server->config->server.tls.loaded != NULL)
    counters->tls_certificate_not_after = server->config->server.tls.not_after;
  GHashTableIter listeners;
  gpointer listener;
  g_hash_table_iter_init (&listeners, server->listeners);
  while (g_hash_table_iter_next (&listeners, NULL, &listener))
    {
      counters->accept_descriptor_failures += rh_listener_get_descriptor_failures (listener);
      counters->accept_other_failures += rh_listener_get_other_failures (listener);
    }
  counters->input_memory = server->input_memory;
  counters->bytes_in = server->closed_bytes_in;
  counters->bytes_out = server->closed_bytes_out;
  memcpy (counters->closed, server->closed_by_reason, sizeof counters->closed);
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init (&iter, server->connections);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      counters->bytes_in += rh_connection_get_bytes_received (key);
      counters->bytes_out += rh_connection_get_bytes_sent (key);
    }
  rh_registry_get_counters (server->registry, &counters->streams, &counters->publishers,
                            &counters->players, &counters->player_dropped);
  RhPullsCounters pulls;
  rh_pulls_get_counters (server->pulls, &pulls);
  counters->pulls = pulls.active;
  counters->pulls_started = pulls.started;
  counters->pulls_failed = pulls.failed;
  counters->pull_bytes = pulls.bytes;
}

/* ---- the fleet's directory ---- */

void
rh_server_set_directory (RhServer *server, const RhDirectoryFuncs *funcs, gpointer user_data)
{
  rh_registry_set_directory (server->registry, funcs, user_data);
}

gboolean
rh_server_end_publish (RhServer *server, const char *key, RhReason reason, const char *why)
{
  RhStream *stream = rh_registry_lookup_key (server->registry, key);
  if (stream == NULL || stream->publisher == NULL)
    return FALSE;
  rh_connection_close (stream->publisher->connection, reason, why);
  return TRUE;
}

void
rh_server_start_pull (RhServer *server, const char *key, const char *url, const char *origin_node)
{
  if (!server->shutting_down)
    rh_pulls_start (server->pulls, key, url, origin_node);
}

void
rh_server_report_node_lost (RhServer *server, const char *key, const char *owner_node, gint64 epoch)
{
  g_autofree char *app = NULL, *name = NULL;
  if (rh_registry_split_key (key, &app, &name))
    rh_emit_publish_lost (&server->sink, app, name, owner_node, epoch);
}

GPtrArray *
rh_server_list_unserved (RhServer *server)
{
  GPtrArray *keys = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) streams = rh_registry_list_streams (server->registry);
  for (guint i = 0; i < streams->len; i++)
    {
      RhStream *stream = g_ptr_array_index (streams, i);
      gboolean audience = FALSE;
      for (guint p = 0; p < stream->players->len && !audience; p++)
        audience = !((RhPlayer *) g_ptr_array_index (stream->players, p))->is_pull;
      if (!rh_stream_is_live (stream) && audience)
        g_ptr_array_add (keys, g_strdup (stream->key));
    }
  return keys;
}

void
rh_server_log_stats (RhServer *server)
{
  g_message ("stats: connections=%u accepted=%" G_GUINT64_FORMAT " refused=%" G_GUINT64_FORMAT
             " streams=%u", g_hash_table_size (server->connections), server->accepted,
             server->refused, rh_registry_get_n_streams (server->registry));
}
