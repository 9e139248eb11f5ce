/* A fleet node's event log end to end: a private redis-server, a node
 * with cluster.events, real clients. Every event the node prints (stdio
 * jsonl) is in Redis, in its stream key's shard, in order, with node_id,
 * seq and epoch; Redis away for a while loses nothing within the spool,
 * and past it exactly what the drop counter says; local_hooks = false
 * keeps rules from running on the node. */
#include "config.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "test-redis.h"
#include "testutil.h"

#define SHARDS 4

typedef struct {
  RhTestDaemon *daemon;
  guint16 port;
  guint16 http_port;
} Node;

static Node
start_node (guint16 redis_port, const char *events_extra, const char *rest)
{
  Node node = { NULL, rh_test_free_port (), rh_test_free_port () };
  g_autofree char *config = g_strdup_printf (
    "server = { listen = [ \"127.0.0.1:%u\" ]; applications = [ \"live\" ]; };\n"
    "http = { listen = [ \"127.0.0.1:%u\" ]; };\n"
    "cluster = { node_id = \"n1\"; redis = \"127.0.0.1:%u\"; advertise = \"rtmp://127.0.0.1:%u\";\n"
    "  lease = 2; heartbeat = 0.5; events = { shards = %d; %s }; };\n%s",
    node.port, node.http_port, redis_port, node.port, SHARDS, events_extra != NULL ? events_extra : "",
    rest != NULL ? rest : "");
  const char *const args[] = { "--hook-stdio-format", "jsonl", NULL };
  node.daemon = rh_test_daemon_start_port (config, node.port, args);
  return node;
}

static void
stop_node (Node *node)
{
  g_assert_cmpint (rh_test_daemon_stop (node->daemon), ==, 0);
  rh_test_daemon_free (node->daemon);
}

/* The events in Redis, parsed, per shard in stream order. */
static GPtrArray *
logged_events (const RhTestRedis *redis, guint shard)
{
  GPtrArray *events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autofree char *listing = rh_test_redis_command (redis, "XRANGE rtmphooks:events:%u - +", shard);
  g_auto (GStrv) lines = g_strsplit (listing, "\n", -1);
  for (char **line = lines; *line != NULL; line++)
    {
      if ((*line)[0] != '{')
        continue;  /* entry ids and the field name */
      g_autoptr (GError) error = NULL;
      JsonNode *node = json_from_string (*line, &error);
      g_assert_no_error (error);
      g_ptr_array_add (events, node);
    }
  return events;
}

static JsonObject *
object (GPtrArray *events, guint i)
{
  return json_node_get_object (g_ptr_array_index (events, i));
}

/* Every id the node printed, as a set. */
static GHashTable *
printed_ids (RhTestDaemon *daemon)
{
  GHashTable *ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) events = rh_test_daemon_events (daemon, NULL);
  for (guint i = 0; i < events->len; i++)
    g_hash_table_add (ids, g_strdup (json_object_get_string_member (object (events, i), "id")));
  return ids;
}

static guint
count_logged (const RhTestRedis *redis, GHashTable *ids)
{
  guint found = 0;
  for (guint shard = 0; shard < SHARDS; shard++)
    {
      g_autoptr (GPtrArray) events = logged_events (redis, shard);
      for (guint i = 0; i < events->len; i++)
        found += g_hash_table_contains (ids, json_object_get_string_member (object (events, i), "id"));
    }
  return found;
}

static double
metric (guint16 http_port, const char *series)
{
  g_autofree char *text = rh_test_http_get (http_port, "/metrics");
  return rh_test_metric (text, series);
}

typedef struct {
  guint16 http_port;
  const char *series;
  double value;
} MetricWait;

static gboolean
metric_reached (gpointer data)
{
  const MetricWait *wait = data;
  return metric (wait->http_port, wait->series) >= wait->value;
}

/* Count connections that shake hands and leave: three events each
 * (connection_accept, handshake_complete, connection_close). */
static void
connect_and_leave (const Node *node, guint count)
{
  for (guint i = 0; i < count; i++)
    {
      g_autoptr (GSocketConnection) connection = rh_test_connect (node->port);
      g_assert_true (rh_test_client_handshake (connection));
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
    }
}

/* A stream's life on one node: every event in Redis, in its key's shard
 * in order, with node_id, increasing seq and the claim's epoch. */
static void
test_every_event_in_order (void)
{
  RhTestRedis *redis = rh_test_redis_start (0, NULL);
  Node node = start_node (redis->port, NULL, NULL);
  g_assert_true (rh_test_daemon_wait_log (node.daemon, "connected to Redis", 10000));
  g_autofree char *url = rh_test_daemon_url (node.daemon, "live/cam");
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 2, "160x120", NULL, NULL);
  g_assert_cmpint (rh_test_wait (publisher, 30000), ==, 0);
  g_assert_true (rh_test_daemon_wait_log (node.daemon, "stream live/cam deleted", 10000));
  g_autoptr (GHashTable) ids = printed_ids (node.daemon);
  MetricWait all = { node.http_port, "rtmphooks_cluster_events_appended_total", g_hash_table_size (ids) };
  g_assert_true (rh_test_poll_until (metric_reached, &all, 10000));
  g_assert_cmpuint (count_logged (redis, ids), ==, g_hash_table_size (ids));

  /* The stream's events, in its shard, in the order they happened. */
  const char *const expected[] = { "stream_create", "publish_start", "codec_detected", "media_start",
                                   "codec_detected", "publish_stop", "stream_delete" };
  guint shard = 0;
  guint seen = 0;
  gint64 last_seq = 0;
  for (shard = 0; shard < SHARDS && seen == 0; shard++)
    {
      g_autoptr (GPtrArray) events = logged_events (redis, shard);
      for (guint i = 0; i < events->len; i++)
        {
          JsonObject *event = object (events, i);
          g_assert_cmpstr (json_object_get_string_member (event, "node_id"), ==, "n1");
          gint64 seq = json_object_get_int_member (event, "seq");
          g_assert_cmpint (seq, >, last_seq);
          last_seq = seq;
          if (g_strcmp0 (json_object_get_string_member_with_default (event, "stream_key", ""), "live/cam") != 0)
            continue;
          g_assert_cmpuint (seen, <, G_N_ELEMENTS (expected));
          g_assert_cmpstr (json_object_get_string_member (event, "type"), ==, expected[seen]);
          gint64 epoch = json_object_get_int_member (event, "epoch");
          /* The claim is there from publish_start to publish_stop. */
          if (seen >= 1 && seen <= 5)
            g_assert_cmpint (epoch, ==, 1);
          seen++;
        }
      last_seq = 0;
    }
  g_assert_cmpuint (seen, ==, G_N_ELEMENTS (expected));
  stop_node (&node);
  rh_test_redis_free (redis);
}

/* Redis away while events happen: within the spool every one arrives
 * when it is back; past the spool, what is missing is what
 * rtmphooks_cluster_events_dropped_total says, and the log says so. */
static void
test_spool_and_drops (void)
{
  guint16 redis_port = rh_test_free_port ();
  RhTestRedis *redis = rh_test_redis_start (redis_port, NULL);
  Node node = start_node (redis_port, "spool = 12;", NULL);
  g_assert_true (rh_test_daemon_wait_log (node.daemon, "connected to Redis", 10000));
  rh_test_redis_kill (redis);
  MetricWait down = { node.http_port, "rtmphooks_cluster_errors_total{kind=\"connect\"}", 1 };
  g_assert_true (rh_test_poll_until (metric_reached, &down, 10000));

  connect_and_leave (&node, 3);
  g_assert_true (rh_test_daemon_wait_log_count (node.daemon, "closed: client_disconnect", 3, 10000));
  g_assert_cmpfloat (metric (node.http_port, "rtmphooks_cluster_events_spooled"), ==, 9);
  g_assert_cmpfloat (metric (node.http_port, "rtmphooks_cluster_events_dropped_total"), ==, 0);
  connect_and_leave (&node, 3);
  g_assert_true (rh_test_daemon_wait_log_count (node.daemon, "closed: client_disconnect", 6, 10000));
  g_assert_cmpfloat (metric (node.http_port, "rtmphooks_cluster_events_spooled"), ==, 12);
  g_assert_cmpfloat (metric (node.http_port, "rtmphooks_cluster_events_dropped_total"), ==, 6);
  g_assert_true (rh_test_daemon_wait_log (node.daemon, "not appended to the event log: the spool", 10000));

  rh_test_redis_free (redis);
  redis = rh_test_redis_start (redis_port, NULL);
  MetricWait sent = { node.http_port, "rtmphooks_cluster_events_appended_total", 12 };
  g_assert_true (rh_test_poll_until (metric_reached, &sent, 10000));
  g_autoptr (GHashTable) ids = printed_ids (node.daemon);
  g_assert_cmpuint (g_hash_table_size (ids), ==, 18);
  g_assert_cmpuint (count_logged (redis, ids), ==, 18 - 6);
  stop_node (&node);
  rh_test_redis_free (redis);
}

/* An event with a 1 MiB field (a publish's query) is appended whole. */
static void
test_large_field (void)
{
  RhTestRedis *redis = rh_test_redis_start (0, NULL);
  Node node = start_node (redis->port, NULL, NULL);
  g_assert_true (rh_test_daemon_wait_log (node.daemon, "connected to Redis", 10000));
  g_autofree char *value = g_strnfill (1024 * 1024, 'q');
  g_autofree char *name = g_strdup_printf ("big?pad=%s", value);
  g_autoptr (GSocketConnection) connection = rh_test_raw_publish (node.port, "live", name);
  g_assert_nonnull (connection);
  g_assert_true (rh_test_daemon_wait_log (node.daemon, "publish_start live/big ", 10000));
  MetricWait sent = { node.http_port, "rtmphooks_cluster_events_appended_total", 4 };
  g_assert_true (rh_test_poll_until (metric_reached, &sent, 10000));
  gboolean found = FALSE;
  for (guint shard = 0; shard < SHARDS; shard++)
    {
      g_autoptr (GPtrArray) events = logged_events (redis, shard);
      for (guint i = 0; i < events->len; i++)
        {
          JsonObject *event = object (events, i);
          if (g_strcmp0 (json_object_get_string_member (event, "type"), "publish_start") != 0)
            continue;
          JsonObject *data = json_object_get_object_member (event, "data");
          g_assert_cmpuint (strlen (json_object_get_string_member (data, "query")), ==, strlen ("pad=") + 1024 * 1024);
          found = TRUE;
        }
    }
  g_assert_true (found);
  g_assert_cmpfloat (metric (node.http_port, "rtmphooks_cluster_events_dropped_total"), ==, 0);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  stop_node (&node);
  rh_test_redis_free (redis);
}

/* local_hooks = false: the node appends its events and runs no rule. */
static void
test_pure_producer (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *marker = g_build_filename (dir, "ran", NULL);
  g_autofree char *rules = g_strdup_printf ("rules = ( { name = \"touch\"; on = [ \"connection_accept\" ];\n"
                                            "  exec = { command = [ \"/usr/bin/touch\", \"%s\" ]; }; } );\n", marker);
  RhTestRedis *redis = rh_test_redis_start (0, NULL);
  Node node = start_node (redis->port, "local_hooks = false;", rules);
  g_assert_true (rh_test_daemon_wait_log (node.daemon, "rules do not run on this node", 10000));
  g_assert_true (rh_test_daemon_wait_log (node.daemon, "connected to Redis", 10000));
  connect_and_leave (&node, 1);
  MetricWait sent = { node.http_port, "rtmphooks_cluster_events_appended_total", 3 };
  g_assert_true (rh_test_poll_until (metric_reached, &sent, 10000));
  g_assert_cmpfloat (metric (node.http_port, "rtmphooks_hook_actions_started_total"), ==, 0);
  g_assert_false (g_file_test (marker, G_FILE_TEST_EXISTS));
  stop_node (&node);
  rh_test_redis_free (redis);
  rh_test_remove_tree (dir);
}

static void
test_config_errors (void)
{
  rh_test_assert_config_error ("cluster = {\n  redis = \"h:1\";\n  advertise = \"rtmp://n1\";\n"
                               "  events = { shards = 0; };\n};\n", 4, "shards = 0 is out of range");
  rh_test_assert_config_error ("cluster = {\n  redis = \"h:1\";\n  advertise = \"rtmp://n1\";\n"
                               "  events = { local_hooks = 1; };\n};\n", 4,
                               "cluster.events.local_hooks must be true or false");
  rh_test_assert_config_error ("cluster = {\n  redis = \"h:1\";\n  advertise = \"rtmp://n1\";\n"
                               "  events = { shard = 3; };\n};\n", 4, "unknown setting cluster.events.shard");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/eventlog/config-errors", test_config_errors);
  g_test_add_func ("/eventlog/every-event-in-order", test_every_event_in_order);
  g_test_add_func ("/eventlog/spool-and-drops", test_spool_and_drops);
  g_test_add_func ("/eventlog/pure-producer", test_pure_producer);
  g_test_add_func ("/eventlog/large-field", test_large_field);
  return g_test_run ();
}
