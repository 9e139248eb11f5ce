/* Hook workers end to end: a private redis-server, fleet nodes that
 * append their events to it (pure producers), and rtmphooksd --worker
 * processes that run exec hooks (a real script) and webhooks (to a real
 * HTTP server) on them. Every event arrives exactly once when nothing
 * fails, in order per key; a worker killed mid-hook has its events run
 * by another, with the same webhook-id; a node killed loses nothing it
 * appended; Redis away and back loses nothing within the spool; an event
 * that fails forever and entries that are not events go to the dead
 * letters and the rest goes on; a 1 MiB field arrives whole. */
#include "config.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>

#include "test-redis.h"
#include "testutil.h"

#define SHARDS 4

/* Appends "WORKER ID TYPE KEY" for every event it runs; with "hang" as
 * its third argument it then waits until its worker is gone. */
static const char hook_script[] =
  "#!/bin/sh\n"
  "printf '%s %s %s %s\\n' \"$2\" \"$RTMP_EVENT_ID\" \"$RTMP_EVENT_TYPE\" \"${RTMP_STREAM_KEY:-$RTMP_CONN_ID}\" >> \"$1\"\n"
  "if [ \"$3\" = hang ]; then\n"
  "  while kill -0 \"$PPID\" 2>/dev/null; do sleep 0.05; done\n"
  "fi\n";

typedef struct {
  char *dir;
  char *script;
  char *hook_log;
  RhTestRedis *redis;
  RhTestHttp *http;
} Fleet;

typedef struct {
  RhTestDaemon *daemon;
  guint16 port;
  guint16 http_port;
} Process;

static void
fleet_init (Fleet *fleet)
{
  fleet->dir = rh_test_make_dir ();
  fleet->script = rh_test_write_script (fleet->dir, "hook.sh", hook_script);
  fleet->hook_log = g_build_filename (fleet->dir, "hooks.txt", NULL);
  fleet->redis = rh_test_redis_start (0, NULL);
  fleet->http = rh_test_http_start ();
}

static void
fleet_clear (Fleet *fleet)
{
  rh_test_http_stop (fleet->http);
  rh_test_redis_free (fleet->redis);
  rh_test_remove_tree (fleet->dir);
  g_free (fleet->dir);
  g_free (fleet->script);
  g_free (fleet->hook_log);
}

/* A node that appends every event and prints it (it has no rules). */
static Process
start_node (const Fleet *fleet, const char *id, const char *events_extra)
{
  Process node = { NULL, rh_test_free_port (), rh_test_free_port () };
  g_autofree char *config = g_strdup_printf (
    "server = { listen = [ \"127.0.0.1:%u\" ]; applications = [ \"live\" ]; };\n"
    "http = { listen = [ \"127.0.0.1:%u\" ]; };\n"
    "cluster = { node_id = \"%s\"; redis = \"127.0.0.1:%u\"; advertise = \"rtmp://127.0.0.1:%u\";\n"
    "  lease = 2; heartbeat = 0.5; events = { shards = %d; %s }; };\n",
    node.port, node.http_port, id, fleet->redis->port, node.port, SHARDS, events_extra != NULL ? events_extra : "");
  const char *const args[] = { "--hook-stdio-format", "jsonl", NULL };
  node.daemon = rh_test_daemon_start_port (config, node.port, args);
  g_assert_true (rh_test_daemon_wait_log (node.daemon, "connected to Redis", 10000));
  return node;
}

/* A worker running the hook script and a webhook to webhook_path on
 * every event; rules replaces both when not NULL. */
static Process
start_worker (const Fleet *fleet, const char *id, const char *worker_extra, const char *script_extra,
              const char *webhook_path)
{
  Process worker = { NULL, 0, rh_test_free_port () };
  g_autofree char *rules = g_strdup_printf (
    "rules = (\n"
    "  { name = \"log\"; on = \"*\"; exec = { command = [ \"%s\", \"%s\", \"%s\", \"%s\" ]; }; },\n"
    "  { name = \"post\"; on = \"*\"; webhook = { url = \"http://127.0.0.1:%u%s\"; retries = 0; }; }\n"
    ");\n",
    fleet->script, fleet->hook_log, id, script_extra != NULL ? script_extra : "", rh_test_http_port (fleet->http),
    webhook_path != NULL ? webhook_path : "/ok");
  g_autofree char *config = g_strdup_printf (
    "http = { listen = [ \"127.0.0.1:%u\" ]; };\n"
    "cluster = { node_id = \"%s\"; redis = \"127.0.0.1:%u\"; events = { shards = %d; }; };\n"
    "worker = { %s %s };\n"
    "hooks = { concurrency = 8; };\n%s",
    worker.http_port, id, fleet->redis->port, SHARDS,
    worker_extra != NULL && strstr (worker_extra, "claim_after") != NULL ? "" : "claim_after = 2;",
    worker_extra != NULL ? worker_extra : "", rules);
  const char *const args[] = { "--hook-stdio-format", "jsonl", NULL };
  worker.daemon = rh_test_daemon_start_port (config, worker.http_port, args);
  return worker;
}

static void
stop (Process *process)
{
  g_assert_cmpint (rh_test_daemon_stop (process->daemon), ==, 0);
  rh_test_daemon_free (process->daemon);
  process->daemon = NULL;
}

static void
kill_process (Process *process)
{
  g_subprocess_force_exit (process->daemon->process);
  rh_test_wait (process->daemon->process, 10000);
  rh_test_daemon_free (process->daemon);
  process->daemon = NULL;
}

static double
metric (const Process *process, const char *series)
{
  g_autofree char *text = rh_test_http_get (process->http_port, "/metrics");
  return rh_test_metric (text, series);
}

typedef struct {
  const Process *processes[2];
  const char *series;
  double value;
} MetricWait;

static gboolean
metric_sum_reached (gpointer data)
{
  const MetricWait *wait = data;
  double sum = 0;
  for (guint i = 0; i < G_N_ELEMENTS (wait->processes) && wait->processes[i] != NULL; i++)
    sum += metric (wait->processes[i], wait->series);
  return sum == wait->value;
}

static void
wait_metric (const Process *a, const Process *b, const char *series, double value, guint timeout_ms)
{
  MetricWait wait = { { a, b }, series, value };
  if (!rh_test_poll_until (metric_sum_reached, &wait, timeout_ms))
    g_error ("%s: %g, not %g", series, metric (a, series) + (b != NULL ? metric (b, series) : 0), value);
}

/* Connections that shake hands and leave: three events each, one key. */
static void
connect_and_leave (const Process *node, guint count)
{
  for (guint i = 0; i < count; i++)
    {
      g_autoptr (GSocketConnection) connection = rh_test_connect (node->port);
      g_assert_true (rh_test_client_handshake (connection));
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
    }
}

typedef struct {
  char *worker;
  char *id;
  char *type;
  char *key;
} HookRun;

static void
hook_run_free (HookRun *run)
{
  g_free (run->worker);
  g_free (run->id);
  g_free (run->type);
  g_free (run->key);
  g_free (run);
}

/* What the hook script wrote, in order. */
static GPtrArray *
hook_runs (const Fleet *fleet)
{
  GPtrArray *runs = g_ptr_array_new_with_free_func ((GDestroyNotify) hook_run_free);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (fleet->hook_log, &text, NULL, NULL))
    return runs;
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (char **line = lines; *line != NULL; line++)
    {
      g_auto (GStrv) parts = g_strsplit (*line, " ", 4);
      if (g_strv_length (parts) != 4)
        continue;
      HookRun *run = g_new0 (HookRun, 1);
      run->worker = g_strdup (parts[0]);
      run->id = g_strdup (parts[1]);
      run->type = g_strdup (parts[2]);
      run->key = g_strdup (parts[3]);
      g_ptr_array_add (runs, run);
    }
  return runs;
}

static const char *
member (JsonNode *node, const char *name)
{
  return json_object_get_string_member_with_default (json_node_get_object (node), name, NULL);
}

/* The key an event is ordered by: its stream key, else its connection. */
static const char *
order_key (JsonNode *node)
{
  const char *key = member (node, "stream_key");
  return key != NULL ? key : member (node, "conn_id");
}

/* Every event the nodes printed ran exactly once, and the runs of each
 * key came in the order the node printed them; returns the events. */
static GPtrArray *
assert_each_ran_once_in_order (const Fleet *fleet, RhTestDaemon *const *nodes, guint n_nodes, GPtrArray *runs)
{
  GPtrArray *printed = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  for (guint n = 0; n < n_nodes; n++)
    {
      g_autoptr (GPtrArray) events = rh_test_daemon_events (nodes[n], NULL);
      for (guint i = 0; i < events->len; i++)
        g_ptr_array_add (printed, json_node_ref (g_ptr_array_index (events, i)));
    }
  g_autoptr (GHashTable) run_index = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < runs->len; i++)
    {
      HookRun *run = g_ptr_array_index (runs, i);
      if (g_hash_table_contains (run_index, run->id))
        g_error ("event %s (%s) ran twice", run->id, run->type);
      g_hash_table_insert (run_index, run->id, GUINT_TO_POINTER (i + 1));
    }
  g_assert_cmpuint (runs->len, ==, printed->len);
  /* Per key, the runs' positions increase in the node's order. */
  g_autoptr (GHashTable) last_position = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < printed->len; i++)
    {
      JsonNode *event = g_ptr_array_index (printed, i);
      guint position = GPOINTER_TO_UINT (g_hash_table_lookup (run_index, member (event, "id")));
      if (position == 0)
        g_error ("event %s (%s) never ran", member (event, "id"), member (event, "type"));
      HookRun *run = g_ptr_array_index (runs, position - 1);
      g_assert_cmpstr (run->type, ==, member (event, "type"));
      g_assert_cmpstr (run->key, ==, order_key (event));
      g_autofree char *key = g_strdup_printf ("%s %s", member (event, "node_id"), order_key (event));
      guint before = GPOINTER_TO_UINT (g_hash_table_lookup (last_position, key));
      g_assert_cmpuint (position, >, before);
      g_hash_table_insert (last_position, g_strdup (key), GUINT_TO_POINTER (position));
    }
  return printed;
}

/* Two nodes publish and play; two workers share the shards. Every event
 * runs once (exec and webhook), in order per key, each key on one worker,
 * with the event's id as webhook-id. */
static void
test_exactly_once_in_order (void)
{
  Fleet fleet;
  fleet_init (&fleet);
  Process w1 = start_worker (&fleet, "w1", NULL, NULL, NULL);
  wait_metric (&w1, NULL, "rtmphooks_worker_shards_owned", SHARDS, 10000);
  Process w2 = start_worker (&fleet, "w2", NULL, NULL, NULL);
  /* The first gives back half of its shards to the second. */
  wait_metric (&w2, NULL, "rtmphooks_worker_shards_owned", SHARDS / 2, 10000);
  wait_metric (&w1, NULL, "rtmphooks_worker_shards_owned", SHARDS / 2, 10000);
  Process n1 = start_node (&fleet, "n1", NULL);
  Process n2 = start_node (&fleet, "n2", NULL);

  const Process *nodes[] = { &n1, &n2 };
  const char *keys[] = { "live/a", "live/b" };
  GSubprocess *publishers[2], *players[2];
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *url = rh_test_daemon_url (nodes[i]->daemon, keys[i]);
      publishers[i] = rh_test_publish_ffmpeg (url, 3, "160x120", NULL, NULL);
    }
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *started = g_strdup_printf ("publish_start %s", keys[i]);
      g_assert_true (rh_test_daemon_wait_log (nodes[i]->daemon, started, 20000));
      g_autofree char *url = rh_test_daemon_url (nodes[i]->daemon, keys[i]);
      const char *const argv[] = { "timeout", "60", "rtmpdump", "--live", "-q", "-r", url, "-o", "/dev/null", NULL };
      players[i] = rh_test_spawn (argv, NULL);
    }
  for (guint i = 0; i < 2; i++)
    {
      g_assert_cmpint (rh_test_wait (publishers[i], 60000), ==, 0);
      g_assert_cmpint (rh_test_wait (players[i], 60000), !=, 124);
      g_object_unref (publishers[i]);
      g_object_unref (players[i]);
      g_autofree char *deleted = g_strdup_printf ("stream %s deleted", keys[i]);
      g_assert_true (rh_test_daemon_wait_log (nodes[i]->daemon, deleted, 20000));
      g_assert_true (rh_test_daemon_wait_log (nodes[i]->daemon, "play_stop", 20000));
    }
  /* Stopped nodes have appended all they printed. */
  g_assert_cmpint (rh_test_daemon_stop (n1.daemon), ==, 0);
  g_assert_cmpint (rh_test_daemon_stop (n2.daemon), ==, 0);
  RhTestDaemon *node_daemons[] = { n1.daemon, n2.daemon };
  guint total = 0;
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (GPtrArray) events = rh_test_daemon_events (node_daemons[i], NULL);
      total += events->len;
    }
  wait_metric (&w1, &w2, "rtmphooks_worker_acks_total", total, 30000);

  g_autoptr (GPtrArray) runs = hook_runs (&fleet);
  g_autoptr (GPtrArray) printed = assert_each_ran_once_in_order (&fleet, node_daemons, 2, runs);
  /* One worker per key. */
  g_autoptr (GHashTable) key_worker = g_hash_table_new (g_str_hash, g_str_equal);
  guint per_worker[2] = { 0, 0 };
  for (guint i = 0; i < runs->len; i++)
    {
      HookRun *run = g_ptr_array_index (runs, i);
      const char *first = g_hash_table_lookup (key_worker, run->key);
      if (first == NULL)
        g_hash_table_insert (key_worker, run->key, run->worker);
      else
        g_assert_cmpstr (first, ==, run->worker);
      per_worker[strcmp (run->worker, "w1") == 0 ? 0 : 1]++;
    }
  g_test_message ("%u events: %u on w1, %u on w2", total, per_worker[0], per_worker[1]);
  /* The webhooks: each event once, its id as webhook-id. */
  g_autoptr (GPtrArray) posts = rh_test_http_requests (fleet.http, "/ok");
  g_assert_cmpuint (posts->len, ==, total);
  g_autoptr (GHashTable) webhook_ids = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < posts->len; i++)
    {
      RhTestRequest *post = g_ptr_array_index (posts, i);
      const char *webhook_id = g_hash_table_lookup (post->headers, "webhook-id");
      g_assert_nonnull (webhook_id);
      g_assert_false (g_hash_table_contains (webhook_ids, webhook_id));
      g_hash_table_add (webhook_ids, (gpointer) webhook_id);
      g_autoptr (JsonNode) body = json_from_string (post->body, NULL);
      g_assert_cmpstr (member (body, "id"), ==, webhook_id);
    }
  for (guint i = 0; i < printed->len; i++)
    g_assert_true (g_hash_table_contains (webhook_ids, member (g_ptr_array_index (printed, i), "id")));
  for (guint i = 0; i < 2; i++)
    {
      const Process *worker = i == 0 ? &w1 : &w2;
      g_assert_cmpfloat (metric (worker, "rtmphooks_worker_redeliveries_total"), ==, 0);
      g_assert_cmpfloat (metric (worker, "rtmphooks_worker_failures_total"), ==, 0);
      g_assert_cmpfloat (metric (worker, "rtmphooks_worker_dead_letters_total{reason=\"failed\"}"), ==, 0);
      g_assert_cmpfloat (metric (worker, "rtmphooks_worker_events_held"), ==, 0);
    }
  rh_test_daemon_free (n1.daemon);
  rh_test_daemon_free (n2.daemon);
  stop (&w1);
  stop (&w2);
  fleet_clear (&fleet);
}

/* The redis-cli style view of the dead letters: entries' "reason"s. */
static GPtrArray *
dead_reasons (const Fleet *fleet)
{
  GPtrArray *reasons = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *listing = rh_test_redis_command (fleet->redis, "XRANGE rtmphooks:dead:hooks - +");
  g_auto (GStrv) lines = g_strsplit (listing, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (strcmp (lines[i], "reason") == 0 && lines[i + 1] != NULL)
      g_ptr_array_add (reasons, g_strdup (lines[i + 1]));
  return reasons;
}

/* A worker killed while its hooks run: once it is silent for claim_after
 * the other takes its shards and its pending events over and runs them,
 * in order, with the same webhook-id the first sent. */
static void
test_worker_killed (void)
{
  Fleet fleet;
  fleet_init (&fleet);
  Process w1 = start_worker (&fleet, "w1", NULL, "hang", NULL);
  wait_metric (&w1, NULL, "rtmphooks_worker_shards_owned", SHARDS, 10000);
  Process node = start_node (&fleet, "n1", NULL);
  connect_and_leave (&node, 2);
  g_assert_true (rh_test_daemon_wait_log_count (node.daemon, "closed: client_disconnect", 2, 10000));
  /* The first event of each connection runs (and hangs); the rest wait. */
  g_assert_true (rh_test_wait_file_count (fleet.hook_log, "connection_accept", 2, 10000));
  g_assert_true (rh_test_http_wait (fleet.http, "/ok", 2, 10000));
  Process w2 = start_worker (&fleet, "w2", NULL, NULL, NULL);
  wait_metric (&w2, NULL, "rtmphooks_worker_workers_alive", 2, 10000);
  /* w1 keeps the shards it is busy with (it may give idle ones back). */
  kill_process (&w1);
  wait_metric (&w2, NULL, "rtmphooks_worker_acks_total", 6, 20000);
  g_assert_cmpfloat (metric (&w2, "rtmphooks_worker_shards_owned"), ==, SHARDS);
  g_assert_cmpfloat (metric (&w2, "rtmphooks_worker_taken_over_total"), ==, 6);

  g_autoptr (GPtrArray) all_runs = hook_runs (&fleet);
  g_autoptr (GPtrArray) runs = g_ptr_array_new ();
  for (guint i = 0; i < all_runs->len; i++)
    {
      HookRun *run = g_ptr_array_index (all_runs, i);
      if (strcmp (run->worker, "w2") == 0)
        g_ptr_array_add (runs, run);
    }
  g_ptr_array_set_free_func (runs, NULL);
  g_assert_cmpuint (all_runs->len, ==, 2 + 6);
  RhTestDaemon *nodes[] = { node.daemon };
  g_ptr_array_unref (assert_each_ran_once_in_order (&fleet, nodes, 1, runs));
  /* The two events w1 had started were posted twice, with one id each. */
  g_autoptr (GPtrArray) posts = rh_test_http_requests (fleet.http, "/ok");
  g_assert_cmpuint (posts->len, ==, 8);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  guint twice = 0;
  for (guint i = 0; i < posts->len; i++)
    {
      const char *id = g_hash_table_lookup (((RhTestRequest *) g_ptr_array_index (posts, i))->headers, "webhook-id");
      if (g_hash_table_contains (seen, id))
        twice++;
      g_hash_table_add (seen, (gpointer) id);
    }
  g_assert_cmpuint (twice, ==, 2);
  g_assert_cmpuint (g_hash_table_size (seen), ==, 6);
  stop (&node);
  stop (&w2);
  fleet_clear (&fleet);
}

/* A worker stopped with SIGTERM leaves its group: the other takes its
 * shards at once, not claim_after (30 s here) later. */
static void
test_worker_stopped (void)
{
  Fleet fleet;
  fleet_init (&fleet);
  Process w1 = start_worker (&fleet, "w1", "claim_after = 30;", NULL, NULL);
  wait_metric (&w1, NULL, "rtmphooks_worker_shards_owned", SHARDS, 10000);
  Process w2 = start_worker (&fleet, "w2", "claim_after = 30;", NULL, NULL);
  wait_metric (&w2, NULL, "rtmphooks_worker_shards_owned", SHARDS / 2, 10000);
  gint64 stopped_at = g_get_monotonic_time ();
  stop (&w1);
  wait_metric (&w2, NULL, "rtmphooks_worker_shards_owned", SHARDS, 10000);
  g_assert_cmpint (g_get_monotonic_time () - stopped_at, <, 10 * G_USEC_PER_SEC);
  g_assert_cmpfloat (metric (&w2, "rtmphooks_worker_workers_alive"), ==, 1);
  Process node = start_node (&fleet, "n1", NULL);
  connect_and_leave (&node, 1);
  wait_metric (&w2, NULL, "rtmphooks_worker_acks_total", 3, 10000);
  g_autoptr (GPtrArray) runs = hook_runs (&fleet);
  RhTestDaemon *nodes[] = { node.daemon };
  g_ptr_array_unref (assert_each_ran_once_in_order (&fleet, nodes, 1, runs));
  stop (&node);
  stop (&w2);
  fleet_clear (&fleet);
}

/* A receiver that always fails: the event is delivered max_deliveries
 * times, then goes to the dead letters, counted; its key's later events
 * still run, in order. */
static void
test_dead_letter (void)
{
  Fleet fleet;
  fleet_init (&fleet);
  Process worker = start_worker (&fleet, "w1", "max_deliveries = 3;", NULL, "/bad");
  wait_metric (&worker, NULL, "rtmphooks_worker_shards_owned", SHARDS, 10000);
  Process node = start_node (&fleet, "n1", NULL);
  connect_and_leave (&node, 1);
  wait_metric (&worker, NULL, "rtmphooks_worker_dead_letters_total{reason=\"failed\"}", 3, 20000);
  wait_metric (&worker, NULL, "rtmphooks_worker_acks_total", 3, 10000);
  /* Each event: three deliveries, three posts of one webhook-id. */
  g_autoptr (GPtrArray) posts = rh_test_http_requests (fleet.http, "/bad");
  g_assert_cmpuint (posts->len, ==, 9);
  /* One after the other, on one kept-alive connection. */
  for (guint i = 1; i < posts->len; i++)
    g_assert_cmpuint (((RhTestRequest *) g_ptr_array_index (posts, i))->client_port, ==,
                      ((RhTestRequest *) g_ptr_array_index (posts, 0))->client_port);
  g_autoptr (GPtrArray) runs = hook_runs (&fleet);
  g_assert_cmpuint (runs->len, ==, 9);
  const char *const order[] = { "connection_accept", "handshake_complete", "connection_close" };
  for (guint i = 0; i < runs->len; i++)
    {
      HookRun *run = g_ptr_array_index (runs, i);
      g_assert_cmpstr (run->type, ==, order[i / 3]);
      const char *webhook_id = g_hash_table_lookup (((RhTestRequest *) g_ptr_array_index (posts, i))->headers,
                                                    "webhook-id");
      g_assert_cmpstr (webhook_id, ==, ((HookRun *) g_ptr_array_index (runs, i - i % 3))->id);
    }
  g_assert_cmpfloat (metric (&worker, "rtmphooks_worker_failures_total"), ==, 9);
  g_assert_cmpfloat (metric (&worker, "rtmphooks_worker_redeliveries_total"), ==, 6);
  g_autoptr (GPtrArray) reasons = dead_reasons (&fleet);
  g_assert_cmpuint (reasons->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (reasons, 0), ==, "failed 3 deliveries: HTTP 400 after 1 attempt(s)");
  g_assert_true (rh_test_daemon_log_has (worker.daemon, "goes to the dead letters"));
  stop (&node);
  stop (&worker);
  fleet_clear (&fleet);
}

/* Entries that are no events, written by hand: logged, moved to the dead
 * letters with the reason, acknowledged; the real events go on. */
static void
test_malformed_entries (void)
{
  Fleet fleet;
  fleet_init (&fleet);
  Process worker = start_worker (&fleet, "w1", NULL, NULL, NULL);
  wait_metric (&worker, NULL, "rtmphooks_worker_shards_owned", SHARDS, 10000);
  g_free (rh_test_redis_command (fleet.redis, "XADD rtmphooks:events:0 * event not-json"));
  g_free (rh_test_redis_command (fleet.redis, "XADD rtmphooks:events:1 * other field"));
  g_free (rh_test_redis_command (fleet.redis, "XADD rtmphooks:events:2 * event {\"type\":\"nope\"}"));
  g_free (rh_test_redis_command (fleet.redis,
                                 "XADD rtmphooks:events:3 * event {\"type\":\"play_stop\",\"id\":\"a\",\"timestamp\":1,"
                                 "\"data\":{\"bytes_sent\":\"many\"}}"));
  /* An event id fit for no header. */
  g_free (rh_test_redis_command (fleet.redis,
                                 "XADD rtmphooks:events:3 * event {\"type\":\"play_stop\",\"id\":\"a\\r\\nX:1\","
                                 "\"timestamp\":1}"));
  wait_metric (&worker, NULL, "rtmphooks_worker_dead_letters_total{reason=\"malformed\"}", 5, 10000);
  g_autoptr (GPtrArray) reasons = dead_reasons (&fleet);
  g_assert_cmpuint (reasons->len, ==, 5);
  for (guint i = 0; i < reasons->len; i++)
    g_assert_true (g_str_has_prefix (g_ptr_array_index (reasons, i), "malformed: "));
  g_assert_true (rh_test_daemon_log_has (worker.daemon, "malformed: not JSON"));
  /* Acknowledged: nothing pending. */
  for (guint shard = 0; shard < SHARDS; shard++)
    {
      g_autofree char *summary = rh_test_redis_command (fleet.redis, "XPENDING rtmphooks:events:%u hooks", shard);
      g_assert_true (g_str_has_prefix (summary, "0\n"));
    }
  Process node = start_node (&fleet, "n1", NULL);
  connect_and_leave (&node, 1);
  wait_metric (&worker, NULL, "rtmphooks_worker_acks_total", 5 + 3, 10000);
  g_assert_true (rh_test_http_wait (fleet.http, "/ok", 3, 10000));
  /* Per shard, from XINFO GROUPS: nothing left behind or pending. */
  for (guint shard = 0; shard < SHARDS; shard++)
    {
      g_autofree char *lag = g_strdup_printf ("rtmphooks_worker_shard_lag{shard=\"%u\"}", shard);
      g_autofree char *pending = g_strdup_printf ("rtmphooks_worker_shard_pending{shard=\"%u\"}", shard);
      wait_metric (&worker, NULL, lag, 0, 10000);
      wait_metric (&worker, NULL, pending, 0, 10000);
    }
  stop (&node);
  stop (&worker);
  fleet_clear (&fleet);
}

/* A node SIGKILLed: every event it appended before it died runs. */
static void
test_node_killed (void)
{
  Fleet fleet;
  fleet_init (&fleet);
  Process worker = start_worker (&fleet, "w1", NULL, NULL, NULL);
  Process node = start_node (&fleet, "n1", NULL);
  g_autoptr (GSocketConnection) publisher = rh_test_raw_publish (node.port, "live", "cam");
  g_assert_nonnull (publisher);
  g_assert_true (rh_test_daemon_wait_log (node.daemon, "publish_start live/cam", 10000));
  connect_and_leave (&node, 2);
  g_assert_true (rh_test_daemon_wait_log_count (node.daemon, "closed: client_disconnect", 2, 10000));
  g_autoptr (GPtrArray) printed = rh_test_daemon_events (node.daemon, NULL);
  wait_metric (&node, NULL, "rtmphooks_cluster_events_appended_total", printed->len, 10000);
  g_subprocess_force_exit (node.daemon->process);
  rh_test_wait (node.daemon->process, 10000);
  wait_metric (&worker, NULL, "rtmphooks_worker_acks_total", printed->len, 10000);
  g_autoptr (GPtrArray) runs = hook_runs (&fleet);
  RhTestDaemon *nodes[] = { node.daemon };
  g_ptr_array_unref (assert_each_ran_once_in_order (&fleet, nodes, 1, runs));
  rh_test_daemon_free (node.daemon);
  stop (&worker);
  fleet_clear (&fleet);
}

/* Redis away for 5 s and back (empty): what the node spooled meanwhile
 * runs; past the spool, what never ran is what the drop counter says. */
static void
test_redis_away (void)
{
  Fleet fleet;
  fleet_init (&fleet);
  guint16 redis_port = fleet.redis->port;
  Process worker = start_worker (&fleet, "w1", NULL, NULL, NULL);
  wait_metric (&worker, NULL, "rtmphooks_worker_shards_owned", SHARDS, 10000);
  Process node = start_node (&fleet, "n1", "spool = 12;");
  connect_and_leave (&node, 1);
  wait_metric (&worker, NULL, "rtmphooks_worker_acks_total", 3, 10000);

  rh_test_redis_kill (fleet.redis);
  rh_test_redis_free (fleet.redis);
  gint64 away_at = g_get_monotonic_time ();
  wait_metric (&node, NULL, "rtmphooks_cluster_events_backend_up", 0, 10000);
  connect_and_leave (&node, 6);
  g_assert_true (rh_test_daemon_wait_log_count (node.daemon, "closed: client_disconnect", 7, 10000));
  g_assert_cmpfloat (metric (&node, "rtmphooks_cluster_events_spooled"), ==, 12);
  g_assert_cmpfloat (metric (&node, "rtmphooks_cluster_events_dropped_total"), ==, 6);
  /* The worker says so on /healthz, and in its metrics. */
  wait_metric (&worker, NULL, "rtmphooks_worker_backend_up", 0, 10000);
  g_autofree char *health = rh_test_http_get (worker.http_port, "/healthz");
  g_assert_true (g_str_has_prefix (health, "ok\nworker: Redis unreachable: "));
  /* Back after 5 s, on the same port, without what it held. */
  while (g_get_monotonic_time () - away_at < 5 * G_USEC_PER_SEC)
    rh_test_sleep (100);
  fleet.redis = rh_test_redis_start (redis_port, NULL);
  wait_metric (&node, NULL, "rtmphooks_cluster_events_spooled", 0, 20000);
  wait_metric (&worker, NULL, "rtmphooks_worker_acks_total", 3 + 12, 20000);
  g_autofree char *healthy = rh_test_http_get (worker.http_port, "/healthz");
  g_assert_cmpstr (healthy, ==, "ok\n");
  g_autoptr (GPtrArray) runs = hook_runs (&fleet);
  g_assert_cmpuint (runs->len, ==, 3 + 12);
  g_autoptr (GPtrArray) printed = rh_test_daemon_events (node.daemon, NULL);
  g_assert_cmpuint (printed->len - runs->len, ==, (guint) metric (&node, "rtmphooks_cluster_events_dropped_total"));
  stop (&node);
  stop (&worker);
  fleet_clear (&fleet);
}

/* An event with a 1 MiB field (a publish's query) reaches a webhook whole. */
static void
test_large_field (void)
{
  Fleet fleet;
  fleet_init (&fleet);
  Process worker = start_worker (&fleet, "w1", NULL, NULL, NULL);
  Process node = start_node (&fleet, "n1", NULL);
  g_autofree char *value = g_strnfill (1024 * 1024, 'q');
  g_autofree char *name = g_strdup_printf ("big?pad=%s", value);
  g_autoptr (GSocketConnection) connection = rh_test_raw_publish (node.port, "live", name);
  g_assert_nonnull (connection);
  g_assert_true (rh_test_daemon_wait_log (node.daemon, "publish_start live/big ", 10000));
  gboolean found = FALSE;
  for (guint attempt = 0; attempt < 200 && !found; attempt++)
    {
      g_autoptr (GPtrArray) posts = rh_test_http_requests (fleet.http, "/ok");
      for (guint i = 0; i < posts->len && !found; i++)
        {
          RhTestRequest *post = g_ptr_array_index (posts, i);
          g_autoptr (JsonNode) body = json_from_string (post->body, NULL);
          if (g_strcmp0 (member (body, "type"), "publish_start") != 0)
            continue;
          JsonObject *data = json_object_get_object_member (json_node_get_object (body), "data");
          g_assert_cmpuint (strlen (json_object_get_string_member (data, "query")), ==, strlen ("pad=") + 1024 * 1024);
          found = TRUE;
        }
      if (!found)
        g_assert_true (rh_test_http_wait (fleet.http, "/ok", posts->len + 1, 10000));
    }
  g_assert_true (found);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  stop (&node);
  stop (&worker);
  fleet_clear (&fleet);
}

/* What -t refuses about a worker, with FILE:LINE. */
static void
test_config_errors (void)
{
  rh_test_assert_config_error ("worker = { group = \"a b\"; };\ncluster = { redis = \"h:1\"; };\n", 1,
                               "worker.group must be 1 to 64 letters");
  rh_test_assert_config_error ("worker = {\n  claim_after = 0.1;\n};\ncluster = { redis = \"h:1\"; };\n", 2,
                               "claim_after = 0.1 is out of range");
  rh_test_assert_config_error ("worker = {\n  max_deliveries = 0;\n};\ncluster = { redis = \"h:1\"; };\n", 2,
                               "max_deliveries");
  rh_test_assert_config_error ("worker = {\n  batch = 10001;\n};\ncluster = { redis = \"h:1\"; };\n", 2, "batch");
  rh_test_assert_config_error ("worker = {\n  colour = 1;\n};\ncluster = { redis = \"h:1\"; };\n", 2,
                               "unknown setting worker.colour");
  rh_test_assert_config_error ("worker = 1;\n", 1, "worker must be a group");
  /* A worker needs Redis, but no advertise. */
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *path = g_build_filename (dir, "worker.conf", NULL);
  g_assert_true (g_file_set_contents (path, "worker = { };\n", -1, NULL));
  g_autofree char *output = NULL;
  g_assert_cmpint (rh_test_check_config_file (path, &output), !=, 0);
  g_assert_nonnull (strstr (output, "a hook worker needs a cluster section"));
  g_assert_true (g_file_set_contents (path, "worker = { };\ncluster = { node_id = \"w\"; redis = \"h:1\"; };\n",
                                      -1, NULL));
  g_clear_pointer (&output, g_free);
  g_assert_cmpint (rh_test_check_config_file (path, &output), ==, 0);
  rh_test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/workers/config-errors", test_config_errors);
  g_test_add_func ("/workers/exactly-once-in-order", test_exactly_once_in_order);
  g_test_add_func ("/workers/worker-killed", test_worker_killed);
  g_test_add_func ("/workers/worker-stopped", test_worker_stopped);
  g_test_add_func ("/workers/dead-letter", test_dead_letter);
  g_test_add_func ("/workers/malformed-entries", test_malformed_entries);
  g_test_add_func ("/workers/node-killed", test_node_killed);
  g_test_add_func ("/workers/redis-away", test_redis_away);
  g_test_add_func ("/workers/large-field", test_large_field);
  return g_test_run ();
}
