#include "config.h"

#include "metrics.h"

static void
header (GString *out, const char *name, const char *type, const char *help)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
gauge (GString *out, const char *name, const char *help, guint64 value)
{
  header (out, name, "gauge", help);
  g_string_append_printf (out, "%s %" G_GUINT64_FORMAT "\n", name, value);
}

static void
counter (GString *out, const char *name, const char *help, guint64 value)
{
  header (out, name, "counter", help);
  g_string_append_printf (out, "%s %" G_GUINT64_FORMAT "\n", name, value);
}

/* A label value: backslash, double quote and newline escaped. */
static void
append_label_value (GString *out, const char *value)
{
  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == '\\' || *p == '"')
        g_string_append_c (out, '\\');
      if (*p == '\n')
        g_string_append (out, "\\n");
      else
        g_string_append_c (out, *p);
    }
}

/* What render_stats names: rules' actions or decision checks. */
typedef struct {
  const char *prefix;      /* rtmphooks_hook or rtmphooks_check */
  const char *label;       /* rule or check */
  const char *runs_help;
  const char *duration_help;
} StatsNames;

static void
rule_label (GString *out, const StatsNames *names, const char *suffix, const char *rule)
{
  g_string_append_printf (out, "%s%s{%s=\"", names->prefix, suffix, names->label);
  append_label_value (out, rule);
  g_string_append_c (out, '"');
}

static void
append_double (GString *out, double value)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append (out, g_ascii_dtostr (buffer, sizeof buffer, value));
}

static void
render_stats (GString *out, RhHookStats *stats, const StatsNames *names, gboolean with_drops)
{
  g_autoptr (GPtrArray) rules = rh_hook_stats_list (stats);
  g_autofree char *runs = g_strconcat (names->prefix, "_runs_total", NULL);
  g_autofree char *duration = g_strconcat (names->prefix, "_duration_seconds", NULL);

  header (out, runs, "counter", names->runs_help);
  for (guint i = 0; i < rules->len; i++)
    {
      const RhRuleStats *rule = g_ptr_array_index (rules, i);
      for (int r = 0; r < RH_HOOK_N_RESULTS; r++)
        {
          rule_label (out, names, "_runs_total", rule->rule);
          g_string_append_printf (out, ",result=\"%s\"} %" G_GUINT64_FORMAT "\n",
                                  rh_hook_stats_result_name (stats, r), rule->runs[r]);
        }
    }
  if (with_drops)
    {
      header (out, "rtmphooks_hook_dropped_total", "counter",
              "Hook actions dropped because the queue was full, by rule.");
      for (guint i = 0; i < rules->len; i++)
        {
          const RhRuleStats *rule = g_ptr_array_index (rules, i);
          rule_label (out, names, "_dropped_total", rule->rule);
          g_string_append_printf (out, "} %" G_GUINT64_FORMAT "\n", rule->dropped);
        }
    }
  header (out, duration, "histogram", names->duration_help);
  for (guint i = 0; i < rules->len; i++)
    {
      const RhRuleStats *rule = g_ptr_array_index (rules, i);
      guint64 cumulative = 0;
      for (guint b = 0; b <= RH_HOOK_DURATION_BUCKETS; b++)
        {
          cumulative += rule->buckets[b];
          rule_label (out, names, "_duration_seconds_bucket", rule->rule);
          g_string_append (out, ",le=\"");
          if (b < RH_HOOK_DURATION_BUCKETS)
            append_double (out, rh_hook_duration_bounds[b]);
          else
            g_string_append (out, "+Inf");
          g_string_append_printf (out, "\"} %" G_GUINT64_FORMAT "\n", cumulative);
        }
      rule_label (out, names, "_duration_seconds_sum", rule->rule);
      g_string_append (out, "} ");
      append_double (out, rule->duration_sum);
      g_string_append_c (out, '\n');
      rule_label (out, names, "_duration_seconds_count", rule->rule);
      g_string_append_printf (out, "} %" G_GUINT64_FORMAT "\n", cumulative);
    }
}

static const StatsNames rule_names = {
  "rtmphooks_hook", "rule", "Hook actions finished, by rule and result.",
  "Time from the start of a hook action to its end, by rule.",
};
static const StatsNames check_names = {
  "rtmphooks_check", "check", "Decision checks answered, by check and result.",
  "Time a decision check took to answer, by check.",
};

/* A fleet node's stream directory and its Redis connection. */
static void
render_cluster (GString *out, const RhApiSources *sources, const RhServerCounters *server)
{
  if (sources->directory == NULL)
    return;
  RhRedisStats redis;
  rh_redis_link_get_stats (rh_directory_get_link (sources->directory), &redis);
  RhDirectoryStats directory;
  rh_directory_get_stats (sources->directory, &directory);
  gauge (out, "rtmphooks_cluster_backend_up", "1 while this node is connected to Redis.", redis.up ? 1 : 0);
  counter (out, "rtmphooks_cluster_backend_connects_total", "Connections to Redis made (authenticated).",
           redis.connects);
  counter (out, "rtmphooks_cluster_commands_total", "Redis commands sent.", redis.commands);
  header (out, "rtmphooks_cluster_errors_total", "counter",
          "Redis failures by kind: down (command while unreachable), timeout (no reply within "
          "cluster.redis_timeout), connection (lost with the command on it), reply_error (an error reply), "
          "connect and auth (connection attempts).");
  for (RhRedisResult result = RH_REDIS_DOWN; result < RH_REDIS_N_RESULTS; result++)
    g_string_append_printf (out, "rtmphooks_cluster_errors_total{kind=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            rh_redis_result_to_string (result), redis.results[result]);
  for (RhRedisFail fail = 0; fail < RH_REDIS_N_FAILS; fail++)
    g_string_append_printf (out, "rtmphooks_cluster_errors_total{kind=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            rh_redis_fail_to_string (fail), redis.fails[fail]);
  header (out, "rtmphooks_cluster_command_duration_seconds", "histogram", "Redis command round trips.");
  for (int i = 0; i < RH_REDIS_LATENCY_BUCKETS; i++)
    g_string_append_printf (out, "rtmphooks_cluster_command_duration_seconds_bucket{le=\"%g\"} %" G_GUINT64_FORMAT
                            "\n", rh_redis_latency_bounds[i], redis.latency_counts[i]);
  g_string_append_printf (out, "rtmphooks_cluster_command_duration_seconds_bucket{le=\"+Inf\"} %" G_GUINT64_FORMAT
                          "\nrtmphooks_cluster_command_duration_seconds_sum %.6f\n"
                          "rtmphooks_cluster_command_duration_seconds_count %" G_GUINT64_FORMAT "\n",
                          redis.latency_count, redis.latency_sum, redis.latency_count);
  gauge (out, "rtmphooks_cluster_claims", "Stream keys this node owns in the directory.", directory.claims);
  header (out, "rtmphooks_cluster_claims_total", "counter",
          "Publish claims by result: granted, refused (another node owns the key), backend_down (decided "
          "without Redis by cluster.when_backend_down).");
  g_string_append_printf (out, "rtmphooks_cluster_claims_total{result=\"granted\"} %" G_GUINT64_FORMAT "\n"
                          "rtmphooks_cluster_claims_total{result=\"refused\"} %" G_GUINT64_FORMAT "\n"
                          "rtmphooks_cluster_claims_total{result=\"backend_down\"} %" G_GUINT64_FORMAT "\n",
                          directory.claims_granted, directory.claims_refused, directory.claims_backend_down);
  counter (out, "rtmphooks_cluster_garbage_replaced_total",
           "Directory entries that held a value no node wrote, replaced by a claim.", directory.claims_garbage);
  counter (out, "rtmphooks_cluster_lease_lost_total",
           "Publishers dropped because another node holds their key now (lease_lost).", directory.lease_lost);
  counter (out, "rtmphooks_cluster_reasserted_total",
           "Claims put back after Redis forgot them or their lease ran out while it was unreachable.",
           directory.reasserted);
  counter (out, "rtmphooks_cluster_node_lost_total",
           "Streams of dead nodes this node reported (publish_stop, node_lost).", directory.node_lost_reported);
  gauge (out, "rtmphooks_cluster_pulls", "Streams pulled from the nodes that own them.", server->pulls);
  counter (out, "rtmphooks_cluster_pulls_started_total", "Pulls that reached the owner's stream.",
           server->pulls_started);
  counter (out, "rtmphooks_cluster_pulls_failed_total", "Pull attempts that never reached the owner's stream.",
           server->pulls_failed);
  counter (out, "rtmphooks_cluster_pull_received_bytes_total", "Bytes received by pulls.", server->pull_bytes);
  if (sources->event_log == NULL)
    return;
  RhEventLogStats events;
  rh_event_log_get_stats (sources->event_log, &events);
  RhRedisStats log_redis;
  rh_redis_link_get_stats (rh_event_log_get_link (sources->event_log), &log_redis);
  gauge (out, "rtmphooks_cluster_events_backend_up", "1 while the event log's connection to Redis is up.",
         log_redis.up ? 1 : 0);
  counter (out, "rtmphooks_cluster_events_appended_total", "Events Redis acknowledged in the event log.",
           events.appended);
  counter (out, "rtmphooks_cluster_events_dropped_total",
           "Events not appended: the spool was full while Redis was unreachable or slow, or Redis refused them.",
           events.dropped);
  counter (out, "rtmphooks_cluster_events_resent_total",
           "Events sent again after a connection was lost before Redis answered (they may be there twice).",
           events.resent);
  gauge (out, "rtmphooks_cluster_events_spooled", "Events waiting for Redis.", events.spooled);
  gauge (out, "rtmphooks_cluster_events_in_flight", "Events sent to Redis, not yet acknowledged.", events.in_flight);
}

/* A hook worker: how far behind it is, per shard, and what became of
 * the events it read. */
static void
render_worker (GString *out, const RhApiSources *sources)
{
  if (sources->worker == NULL)
    return;
  RhWorkerStats stats;
  rh_worker_get_stats (sources->worker, &stats);
  gauge (out, "rtmphooks_worker_backend_up", "1 while this worker is connected to Redis.", stats.backend_up ? 1 : 0);
  gauge (out, "rtmphooks_worker_workers_alive", "Live workers in this worker's group, at its last heartbeat.",
         stats.workers_alive);
  gauge (out, "rtmphooks_worker_shards_owned", "Event log shards this worker reads.", stats.shards_owned);
  gauge (out, "rtmphooks_worker_events_held", "Events read and not yet acknowledged (queued, running, retrying).",
         stats.held);
  gauge (out, "rtmphooks_worker_events_running", "Events whose actions run now.", stats.running);
  counter (out, "rtmphooks_worker_deliveries_total", "Events run, redeliveries included.", stats.deliveries);
  counter (out, "rtmphooks_worker_redeliveries_total",
           "Events run again: after a failure, or taken over from a worker that stopped.", stats.redeliveries);
  counter (out, "rtmphooks_worker_acks_total", "Events acknowledged: every action they started finished.",
           stats.acked);
  counter (out, "rtmphooks_worker_failures_total", "Deliveries with an action that failed after its retries.",
           stats.failures);
  header (out, "rtmphooks_worker_dead_letters_total", "counter",
          "Entries moved to the dead letters, by reason: failed (max_deliveries reached), malformed (not an event).");
  g_string_append_printf (out, "rtmphooks_worker_dead_letters_total{reason=\"failed\"} %" G_GUINT64_FORMAT "\n"
                          "rtmphooks_worker_dead_letters_total{reason=\"malformed\"} %" G_GUINT64_FORMAT "\n",
                          stats.dead_failed, stats.dead_malformed);
  counter (out, "rtmphooks_worker_taken_over_total", "Pending events taken over from other workers.",
           stats.taken_over);
  counter (out, "rtmphooks_worker_trimmed_total",
           "Pending events the stream no longer held (trimmed by max_len) when taken over: not run.", stats.gone);
  header (out, "rtmphooks_worker_shard_lag", "gauge",
          "Entries of each shard not yet delivered to the group (XINFO GROUPS lag; absent while unknown).");
  guint shards = rh_worker_get_shards (sources->worker);
  for (guint i = 0; i < shards; i++)
    {
      RhWorkerShardInfo info;
      rh_worker_get_shard_info (sources->worker, i, &info);
      if (info.lag >= 0)
        g_string_append_printf (out, "rtmphooks_worker_shard_lag{shard=\"%u\"} %lld\n", i, (long long) info.lag);
    }
  header (out, "rtmphooks_worker_shard_pending", "gauge",
          "Entries of each shard delivered to the group and not yet acknowledged (absent while unknown).");
  for (guint i = 0; i < shards; i++)
    {
      RhWorkerShardInfo info;
      rh_worker_get_shard_info (sources->worker, i, &info);
      if (info.pending >= 0)
        g_string_append_printf (out, "rtmphooks_worker_shard_pending{shard=\"%u\"} %lld\n", i,
                                (long long) info.pending);
    }
}

char *
rh_metrics_render (const RhApiSources *sources, const RhHttpCounters *http)
{
  RhServerCounters server;
  RhDispatcherCounters hooks;
  rh_server_get_counters (sources->server, &server);
  rh_dispatcher_get_counters (sources->dispatcher, &hooks);
  GString *out = g_string_sized_new (4096);

  gauge (out, "rtmphooks_connections", "Open client connections.", server.connections);
  counter (out, "rtmphooks_connections_accepted_total", "Client connections accepted.", server.accepted);
  counter (out, "rtmphooks_connections_refused_total",
           "Client connections refused over max_connections or max_connections_per_ip.", server.refused);
  header (out, "rtmphooks_accept_failures_total", "counter",
          "Accepts that failed, by listener and reason (descriptors: out of descriptors, the listener paused).");
  g_string_append_printf (out, "rtmphooks_accept_failures_total{listener=\"rtmp\",reason=\"descriptors\"} %" G_GUINT64_FORMAT "\n"
                          "rtmphooks_accept_failures_total{listener=\"rtmp\",reason=\"other\"} %" G_GUINT64_FORMAT "\n"
                          "rtmphooks_accept_failures_total{listener=\"http\",reason=\"descriptors\"} %" G_GUINT64_FORMAT "\n"
                          "rtmphooks_accept_failures_total{listener=\"http\",reason=\"other\"} %" G_GUINT64_FORMAT "\n",
                          server.accept_descriptor_failures, server.accept_other_failures,
                          http->accept_descriptor_failures, http->accept_other_failures);
  header (out, "rtmphooks_tls_handshakes_total", "counter",
          "TLS handshakes on the TLS listeners, by result (failed: not TLS, refused, older than TLS 1.2, or the "
          "peer gone; cancelled: the handshake deadline or a shutdown ended it first).");
  g_string_append_printf (out, "rtmphooks_tls_handshakes_total{result=\"ok\"} %" G_GUINT64_FORMAT "\n"
                          "rtmphooks_tls_handshakes_total{result=\"failed\"} %" G_GUINT64_FORMAT "\n"
                          "rtmphooks_tls_handshakes_total{result=\"cancelled\"} %" G_GUINT64_FORMAT "\n",
                          server.tls_handshakes_ok, server.tls_handshakes_failed, server.tls_handshakes_cancelled);
  gauge (out, "rtmphooks_tls_handshakes_running", "TLS handshakes under way on GIO's threads.",
         server.tls_handshakes_running);
  gauge (out, "rtmphooks_tls_handshakes_waiting", "TLS clients whose ClientHello arrived, waiting for a handshake slot.",
         server.tls_handshakes_waiting);
  if (server.tls_certificate_not_after != 0)
    gauge (out, "rtmphooks_tls_certificate_expiry_seconds",
           "When the TLS listeners' certificate expires, in seconds since the epoch.",
           (guint64) server.tls_certificate_not_after);
  gauge (out, "rtmphooks_http_connections", "Open HTTP API connections.", http->open);
  counter (out, "rtmphooks_http_connections_accepted_total", "HTTP API connections accepted.", http->accepted);
  counter (out, "rtmphooks_http_connections_refused_total",
           "HTTP API connections refused over http.max_connections or http.max_connections_per_ip.", http->refused);
  counter (out, "rtmphooks_http_connections_timed_out_total",
           "HTTP API connections closed without a complete request within http.timeout.", http->timed_out);
  header (out, "rtmphooks_connections_closed_total", "counter",
          "Client connections closed, by reason (protocol_error includes input over a budget).");
  for (RhReason reason = 0; reason < RH_N_REASONS; reason++)
    if (reason != RH_REASON_UNPUBLISH) /* ends a publication, never a connection */
      g_string_append_printf (out, "rtmphooks_connections_closed_total{reason=\"%s\"} %" G_GUINT64_FORMAT "\n",
                              rh_reason_to_string (reason), server.closed[reason]);
  gauge (out, "rtmphooks_streams", "Stream keys with a publisher or a waiting player.", server.streams);
  gauge (out, "rtmphooks_publishers", "Live publishers.", server.publishers);
  gauge (out, "rtmphooks_players", "Players.", server.players);
  gauge (out, "rtmphooks_input_buffered_bytes",
         "Bytes held for messages clients have not finished sending (bounded by server.max_input_memory).",
         server.input_memory);
  counter (out, "rtmphooks_received_bytes_total", "Bytes received from clients.", server.bytes_in);
  counter (out, "rtmphooks_sent_bytes_total", "Bytes sent to clients.", server.bytes_out);
  counter (out, "rtmphooks_player_dropped_messages_total",
           "Media messages skipped because a player was behind.", server.player_dropped);

  counter (out, "rtmphooks_events_total", "Events produced.", hooks.events);
  counter (out, "rtmphooks_hook_actions_started_total", "Hook actions started.", hooks.runs);
  counter (out, "rtmphooks_hook_actions_dropped_total",
           "Hook actions dropped because the queue was full.", hooks.drops);
  gauge (out, "rtmphooks_hook_actions_running", "Hook actions running.", hooks.running);
  gauge (out, "rtmphooks_hook_actions_queued", "Hook actions waiting to start.", hooks.queued);
  counter (out, "rtmphooks_stdio_events_written_total", "Events written to stdout.", hooks.stdio_written);
  counter (out, "rtmphooks_stdio_events_dropped_total",
           "Events not written to stdout because its reader was too slow.", hooks.stdio_dropped);
  render_stats (out, rh_dispatcher_get_stats (sources->dispatcher), &rule_names, TRUE);
  gauge (out, "rtmphooks_checks_running", "Decision check actions running.",
         sources->checks != NULL ? rh_check_runner_get_running (sources->checks) : 0);
  if (sources->checks != NULL)
    render_stats (out, rh_check_runner_get_stats (sources->checks), &check_names, FALSE);
  gauge (out, "rtmphooks_processes", "Managed processes (lifetime stream), running or waiting to restart.",
         hooks.processes);
  counter (out, "rtmphooks_process_starts_total", "Managed process starts, restarts included.",
           hooks.process_starts);
  counter (out, "rtmphooks_process_restarts_total", "Managed processes restarted after an early exit.",
           hooks.process_restarts);
  counter (out, "rtmphooks_process_refused_total", "Managed processes not started: max_processes reached.",
           hooks.process_refused);

  RhOutputsCounters outputs;
  rh_outputs_get_counters (rh_server_get_outputs (sources->server), &outputs);
  gauge (out, "rtmphooks_recordings", "Recordings being written.", outputs.recordings);
  counter (out, "rtmphooks_recordings_started_total", "Recordings started.", outputs.recordings_started);
  counter (out, "rtmphooks_recordings_failed_total",
           "Recordings refused (a path out of the directory) or ended by a write error or a slow disk.",
           outputs.recordings_failed);
  counter (out, "rtmphooks_recording_bytes_total", "Bytes written by recordings, counted as they are written.",
           outputs.recording_bytes);
  gauge (out, "rtmphooks_relays", "Relay pushes, connected or reconnecting.", outputs.relays);
  counter (out, "rtmphooks_relays_started_total", "Relay pushes started.", outputs.relays_started);
  counter (out, "rtmphooks_relay_reconnects_total", "Relay connections lost or refused, and made again.",
           outputs.relay_reconnects);
  counter (out, "rtmphooks_relays_failed_total", "Relay pushes refused (a bad URL).", outputs.relays_failed);
  counter (out, "rtmphooks_relay_sent_bytes_total", "Bytes sent by relay pushes, counted as they are sent.",
           outputs.relay_bytes);

  render_cluster (out, sources, &server);
  render_worker (out, sources);

  header (out, "rtmphooks_config_reloads_total", "counter", "Configuration reloads, by result.");
  g_string_append_printf (out, "rtmphooks_config_reloads_total{result=\"ok\"} %" G_GUINT64_FORMAT "\n",
                          sources->reloads_ok);
  g_string_append_printf (out, "rtmphooks_config_reloads_total{result=\"failed\"} %" G_GUINT64_FORMAT "\n",
                          sources->reloads_failed);
  gauge (out, "rtmphooks_config_last_load_timestamp_seconds",
         "When the configuration in force was loaded, in seconds since the epoch.",
         (guint64) sources->config_loaded_at);
  gauge (out, "rtmphooks_start_time_seconds", "When the daemon started, in seconds since the epoch.",
         (guint64) sources->started_at);
  return g_string_free (out, FALSE);
}
