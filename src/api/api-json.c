#include "config.h"

#include "api-json.h"

#include <string.h>

#include <json-glib/json-glib.h>

#include "server/stream-info.h"

/* A monotonic instant as UTC ISO 8601 text. */
static char *
monotonic_to_iso (gint64 monotonic)
{
  gint64 real = g_get_real_time () - (g_get_monotonic_time () - monotonic);
  g_autoptr (GDateTime) time = g_date_time_new_from_unix_utc (real / G_USEC_PER_SEC);
  return g_date_time_format_iso8601 (time);
}

static void
add_since (JsonBuilder *builder, gint64 started_at)
{
  g_autofree char *since = monotonic_to_iso (started_at);
  json_builder_set_member_name (builder, "since");
  json_builder_add_string_value (builder, since);
}

static void
add_string (JsonBuilder *builder, const char *name, const char *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
add_int (JsonBuilder *builder, const char *name, gint64 value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

/* "tls": true or false, and "tls_version" through TLS. */
static void
add_transport (JsonBuilder *builder, gboolean tls, const char *tls_version)
{
  json_builder_set_member_name (builder, "tls");
  json_builder_add_boolean_value (builder, tls);
  if (tls_version != NULL)
    add_string (builder, "tls_version", tls_version);
}

static void
add_publisher (JsonBuilder *builder, const RhPublisherInfo *publisher)
{
  json_builder_set_member_name (builder, "publisher");
  if (publisher == NULL)
    {
      json_builder_add_null_value (builder);
      return;
    }
  double seconds = (g_get_monotonic_time () - publisher->started_at) / (double) G_USEC_PER_SEC;
  json_builder_begin_object (builder);
  add_string (builder, "conn_id", publisher->conn_id);
  add_string (builder, "client_ip", publisher->client_ip);
  add_string (builder, "publish_type", publisher->publish_type);
  add_transport (builder, publisher->tls, publisher->tls_version);
  add_since (builder, publisher->started_at);
  add_int (builder, "uptime_seconds", (gint64) seconds);
  add_int (builder, "bytes_received", (gint64) publisher->bytes_received);
  add_int (builder, "video_packets", (gint64) publisher->video_packets);
  add_int (builder, "audio_packets", (gint64) publisher->audio_packets);
  add_int (builder, "bitrate_kbps",
           seconds > 0 ? (gint64) (8.0 * publisher->bytes_received / seconds / 1000) : 0);
  json_builder_end_object (builder);
}

/* member: [ {target_name: ..., state: ...}, ... ] for the outputs of kind. */
static void
add_outputs (JsonBuilder *builder, const RhStreamInfo *stream, const char *kind, const char *member,
             const char *target_name)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  for (guint i = 0; i < stream->outputs->len; i++)
    {
      const RhOutputInfo *output = &g_array_index (stream->outputs, RhOutputInfo, i);
      if (strcmp (output->kind, kind) != 0)
        continue;
      json_builder_begin_object (builder);
      add_string (builder, target_name, output->target);
      add_string (builder, "state", output->state);
      add_int (builder, "bytes", (gint64) output->bytes);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

static void
add_players (JsonBuilder *builder, const RhStreamInfo *stream)
{
  add_int (builder, "players", stream->n_players);
  if (stream->players == NULL)
    return;
  json_builder_set_member_name (builder, "player_list");
  json_builder_begin_array (builder);
  for (guint i = 0; i < stream->players->len; i++)
    {
      const RhPlayerInfo *player = &g_array_index (stream->players, RhPlayerInfo, i);
      json_builder_begin_object (builder);
      add_string (builder, "conn_id", player->conn_id);
      add_string (builder, "client_ip", player->client_ip);
      add_transport (builder, player->tls, player->tls_version);
      add_since (builder, player->started_at);
      add_int (builder, "bytes_sent", (gint64) player->bytes_sent);
      add_int (builder, "dropped", (gint64) player->dropped);
      add_int (builder, "skips", (gint64) player->skips);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

static char *
finish (JsonBuilder *builder)
{
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  return json_to_string (root, TRUE);
}

static void
add_detail_string (const char *name, const char *value, gpointer builder)
{
  add_string (builder, name, value);
}

static void
add_detail_number (const char *name, guint value, gpointer builder)
{
  add_int (builder, name, value);
}

/* name: {codec, profile, level, width, ... (what codec_detected said),
 * bitrate, frame_rate}; absent when the track has no codec yet. */
static void
add_track (JsonBuilder *builder, const char *name, const RhTrackInfo *track)
{
  if (track->codec == NULL)
    return;
  json_builder_set_member_name (builder, name);
  json_builder_begin_object (builder);
  add_string (builder, "codec", track->codec);
  static const RhCodecDetailsVisitor to_json = { add_detail_string, add_detail_number };
  rh_codec_details_visit (&track->details, &to_json, builder);
  if (track->measured)
    {
      add_int (builder, "bitrate", (gint64) (track->bitrate + 0.5));
      json_builder_set_member_name (builder, "frame_rate");
      json_builder_add_double_value (builder, (double) (gint64) (track->frame_rate * 100 + 0.5) / 100);
    }
  json_builder_end_object (builder);
}

char *
rh_api_json_streams (const RhApiSources *sources, gboolean detail)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GPtrArray) streams = rh_server_snapshot_streams (sources->server, detail);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "streams");
  json_builder_begin_array (builder);
  for (guint i = 0; i < streams->len; i++)
    {
      const RhStreamInfo *stream = g_ptr_array_index (streams, i);
      json_builder_begin_object (builder);
      add_string (builder, "key", stream->key);
      add_string (builder, "app", stream->app);
      add_string (builder, "name", stream->name);
      add_publisher (builder, stream->publisher);
      json_builder_set_member_name (builder, "codecs");
      json_builder_begin_object (builder);
      add_string (builder, "video", stream->video.codec);
      add_string (builder, "audio", stream->audio.codec);
      json_builder_end_object (builder);
      json_builder_set_member_name (builder, "tracks");
      json_builder_begin_object (builder);
      add_track (builder, "video", &stream->video);
      add_track (builder, "audio", &stream->audio);
      json_builder_end_object (builder);
      add_players (builder, stream);
      add_outputs (builder, stream, "record", "recordings", "path");
      add_outputs (builder, stream, "relay", "relays", "url");
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return finish (builder);
}

/* name: [ {name, runs: {result: n}, dropped, duration_seconds_sum,
 * last_error, last_error_at}, ... ] */
static void
add_stats (JsonBuilder *builder, const char *member, RhHookStats *stats)
{
  g_autoptr (GPtrArray) rules = rh_hook_stats_list (stats);
  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  for (guint i = 0; i < rules->len; i++)
    {
      const RhRuleStats *rule = g_ptr_array_index (rules, i);
      json_builder_begin_object (builder);
      add_string (builder, "name", rule->rule);
      json_builder_set_member_name (builder, "runs");
      json_builder_begin_object (builder);
      for (int r = 0; r < RH_HOOK_N_RESULTS; r++)
        add_int (builder, rh_hook_stats_result_name (stats, r), (gint64) rule->runs[r]);
      json_builder_end_object (builder);
      add_int (builder, "dropped", (gint64) rule->dropped);
      json_builder_set_member_name (builder, "duration_seconds_sum");
      json_builder_add_double_value (builder, rule->duration_sum);
      add_string (builder, "last_error", rule->last_error);
      if (rule->last_error != NULL)
        {
          g_autoptr (GDateTime) at = g_date_time_new_from_unix_utc (rule->last_error_at / G_USEC_PER_SEC);
          g_autofree char *text = g_date_time_format_iso8601 (at);
          add_string (builder, "last_error_at", text);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

char *
rh_api_json_hooks (const RhApiSources *sources)
{
  RhDispatcherCounters counters;
  rh_dispatcher_get_counters (sources->dispatcher, &counters);
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  add_int (builder, "events", (gint64) counters.events);
  add_int (builder, "started", (gint64) counters.runs);
  add_int (builder, "running", counters.running);
  add_int (builder, "queued", counters.queued);
  add_int (builder, "dropped", (gint64) counters.drops);
  add_stats (builder, "rules", rh_dispatcher_get_stats (sources->dispatcher));
  if (sources->checks != NULL)
    add_stats (builder, "checks", rh_check_runner_get_stats (sources->checks));
  json_builder_set_member_name (builder, "processes");
  json_builder_begin_object (builder);
  add_int (builder, "running", counters.processes);
  add_int (builder, "starts", (gint64) counters.process_starts);
  add_int (builder, "restarts", (gint64) counters.process_restarts);
  add_int (builder, "refused", (gint64) counters.process_refused);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  return finish (builder);
}

static void
add_real_time (JsonBuilder *builder, const char *name, gint64 seconds)
{
  g_autoptr (GDateTime) at = g_date_time_new_from_unix_utc (seconds);
  g_autofree char *text = g_date_time_format_iso8601 (at);
  add_string (builder, name, text);
}

char *
rh_api_json_server (const RhApiSources *sources)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  RhServerCounters server;
  rh_server_get_counters (sources->server, &server);
  json_builder_begin_object (builder);
  add_string (builder, "version", PACKAGE_VERSION);
  add_real_time (builder, "started_at", sources->started_at);
  add_int (builder, "uptime_seconds", g_get_real_time () / G_USEC_PER_SEC - sources->started_at);
  add_real_time (builder, "config_loaded_at", sources->config_loaded_at);
  add_int (builder, "connections", server.connections);
  add_int (builder, "streams", rh_server_get_n_streams (sources->server));
  json_builder_end_object (builder);
  return finish (builder);
}

char *
rh_api_json_cluster (const RhApiSources *sources)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "enabled");
  json_builder_add_boolean_value (builder, sources->directory != NULL);
  if (sources->directory != NULL)
    {
      RhDirectoryStats stats;
      rh_directory_get_stats (sources->directory, &stats);
      add_string (builder, "node_id", rh_directory_node_id (sources->directory));
      json_builder_set_member_name (builder, "backend_up");
      json_builder_add_boolean_value (builder, rh_directory_backend_up (sources->directory));
      add_string (builder, "backend_problem", rh_directory_backend_problem (sources->directory));
      add_int (builder, "claims", stats.claims);
      json_builder_set_member_name (builder, "nodes");
      json_builder_begin_array (builder);
      const GPtrArray *nodes = rh_directory_get_nodes (sources->directory);
      for (guint i = 0; i < nodes->len; i++)
        {
          const RhClusterNode *node = g_ptr_array_index (nodes, i);
          json_builder_begin_object (builder);
          add_string (builder, "node_id", node->node_id);
          add_string (builder, "advertise", node->advertise);
          json_builder_set_member_name (builder, "alive");
          json_builder_add_boolean_value (builder, node->advertise != NULL);
          json_builder_set_member_name (builder, "streams");
          json_builder_begin_array (builder);
          for (char **key = node->streams; key != NULL && *key != NULL; key++)
            json_builder_add_string_value (builder, *key);
          json_builder_end_array (builder);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
    }
  json_builder_end_object (builder);
  return finish (builder);
}
