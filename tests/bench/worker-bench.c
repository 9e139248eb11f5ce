/* worker-bench: what a hook worker delivers, on this machine, against a
 * private redis-server on loopback and a webhook receiver (libsoup, in
 * this process, on its own thread):
 *   throughput  webhooks per second from one worker (goal: 5000/s),
 *               kept-alive connections, EVENTS publish_start entries
 *               already in the log on 1000 stream keys; counted from the
 *               first POST to the last; the worker's CPU meanwhile.
 *   latency     from an event on a node (an RTMP connection made by this
 *               program: connection_accept) to its webhook arriving from
 *               a worker: the node appends, the worker reads, runs the
 *               rule, posts. p50, p99 and max of CONNECTIONS.
 *   churn PORT RATE SECONDS
 *               connections that shake hands and leave, RATE a second
 *               (three events each), for worker.sh's fan-out point.
 * The daemons run pinned to core 0 (taskset); run this on core 1.
 * RUNS runs of each, the median and the spread. Bounded in count and
 * time. */
#include "config.h"

#include <libsoup/soup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/event-log.h"
#include "tests/test-redis.h"
#include "tests/testutil.h"

#define EVENTS 30000
#define KEYS 1000
#define SHARDS 16
#define CONNECTIONS 300
#define RUNS 3

/* ---- the receiver ---- */

typedef struct {
  GMutex lock;
  guint count;
  gint64 first_at;    /* monotonic */
  gint64 last_at;
} Receiver;

static Receiver receiver;
static GMainLoop *receiver_loop;

static void
on_request (SoupServer *server, SoupServerMessage *message, const char *path, GHashTable *query, gpointer data)
{
  gint64 now = g_get_monotonic_time ();
  g_mutex_lock (&receiver.lock);
  if (receiver.count++ == 0)
    receiver.first_at = now;
  receiver.last_at = now;
  g_mutex_unlock (&receiver.lock);
  soup_server_message_set_status (message, 200, NULL);
}

static gpointer
serve (gpointer data)
{
  g_main_context_push_thread_default (data);
  g_main_loop_run (receiver_loop);
  return NULL;
}

static guint16
start_receiver (void)
{
  GMainContext *context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  SoupServer *server = soup_server_new (NULL, NULL);
  soup_server_add_handler (server, NULL, on_request, NULL, NULL);
  g_assert_true (soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, NULL));
  GSList *uris = soup_server_get_uris (server);
  guint16 port = (guint16) g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  g_main_context_pop_thread_default (context);
  receiver_loop = g_main_loop_new (context, FALSE);
  g_thread_new ("receiver", serve, context);
  return port;
}

static void
reset_receiver (void)
{
  g_mutex_lock (&receiver.lock);
  receiver.count = 0;
  receiver.first_at = receiver.last_at = 0;
  g_mutex_unlock (&receiver.lock);
}

static guint
received (gint64 *first_at, gint64 *last_at)
{
  g_mutex_lock (&receiver.lock);
  guint count = receiver.count;
  if (first_at != NULL)
    *first_at = receiver.first_at;
  if (last_at != NULL)
    *last_at = receiver.last_at;
  g_mutex_unlock (&receiver.lock);
  return count;
}

/* ---- processes ---- */

static RhTestDaemon *
start_pinned (const char *config_text, guint16 port)
{
  char *dir = rh_test_make_dir ();
  g_autofree char *path = g_build_filename (dir, "rtmphooks.conf", NULL);
  g_assert_true (g_file_set_contents (path, config_text, -1, NULL));
  const char *const argv[] = { "taskset", "-c", "0", rh_test_env ("RH_DAEMON"), "-c", path, NULL };
  return rh_test_daemon_spawn (argv, dir, NULL, NULL, port);
}

static double
process_cpu_seconds (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  const char *end = strrchr (text, ')');
  g_auto (GStrv) fields = g_strsplit (end + 2, " ", -1);
  /* utime and stime: fields 14 and 15 of the line, 12 and 13 after the name. */
  return (g_ascii_strtod (fields[11], NULL) + g_ascii_strtod (fields[12], NULL)) / (double) sysconf (_SC_CLK_TCK);
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* ---- throughput ---- */

/* EVENTS publish_start entries as a node writes them, in their shards. */
static void
fill_log (const RhTestRedis *redis)
{
  struct timeval timeout = { 10, 0 };
  redisContext *context = redisConnectWithTimeout ("127.0.0.1", redis->port, timeout);
  g_assert_true (context != NULL && context->err == 0);
  for (guint i = 0; i < EVENTS; i++)
    {
      g_autofree char *key = g_strdup_printf ("live/s%u", i % KEYS);
      g_autofree char *json = g_strdup_printf (
        "{\"type\":\"publish_start\",\"timestamp\":1765000000,\"id\":\"bench-%u\",\"conn_id\":\"c%06u\","
        "\"stream_key\":\"%s\",\"node_id\":\"n1\",\"data\":{\"app\":\"live\",\"stream_name\":\"s%u\","
        "\"publish_type\":\"live\",\"client_ip\":\"127.0.0.1\",\"tc_url\":\"rtmp://127.0.0.1/live\",\"query\":\"\","
        "\"tls\":false,\"epoch\":1},\"seq\":%u,\"epoch\":1}",
        i, i, key, i % KEYS, i + 1);
      g_autofree char *stream = g_strdup_printf ("rtmphooks:events:%u", rh_event_log_shard (key, SHARDS));
      redisAppendCommand (context, "XADD %s * event %s", stream, json);
    }
  for (guint i = 0; i < EVENTS; i++)
    {
      redisReply *reply = NULL;
      g_assert_cmpint (redisGetReply (context, (void **) &reply), ==, REDIS_OK);
      g_assert_true (reply->type == REDIS_REPLY_STRING);
      freeReplyObject (reply);
    }
  redisFree (context);
}

static char *
worker_config (guint16 redis_port, guint16 http_port, guint16 receiver_port, const char *on)
{
  return g_strdup_printf (
    "http = { listen = [ \"127.0.0.1:%u\" ]; };\n"
    "cluster = { node_id = \"bench-worker\"; redis = \"127.0.0.1:%u\"; events = { shards = %d; }; };\n"
    "worker = { batch = 500; };\n"
    "hooks = { concurrency = 64; queue = 10000; };\n"
    "rules = ( { name = \"post\"; on = [ \"%s\" ];\n"
    "            webhook = { url = \"http://127.0.0.1:%u/hook\"; }; } );\n",
    http_port, redis_port, SHARDS, on, receiver_port);
}

static void
bench_throughput (guint16 receiver_port)
{
  double rates[RUNS], cpus[RUNS];
  for (int run = 0; run < RUNS; run++)
    {
      RhTestRedis *redis = rh_test_redis_start (0, NULL);
      fill_log (redis);
      reset_receiver ();
      guint16 http_port = rh_test_free_port ();
      g_autofree char *config = worker_config (redis->port, http_port, receiver_port, "publish_start");
      RhTestDaemon *worker = start_pinned (config, http_port);
      int pid = rh_test_daemon_pid (worker);
      double cpu_first = -1;
      gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
      while (received (NULL, NULL) < EVENTS && g_get_monotonic_time () < deadline)
        {
          if (cpu_first < 0 && received (NULL, NULL) > 0)
            cpu_first = process_cpu_seconds (pid);
          g_usleep (2000);
        }
      double cpu_last = process_cpu_seconds (pid);
      gint64 first_at, last_at;
      guint count = received (&first_at, &last_at);
      g_assert_cmpuint (count, ==, EVENTS);
      double seconds = (double) (last_at - first_at) / G_USEC_PER_SEC;
      rates[run] = (EVENTS - 1) / seconds;
      cpus[run] = (cpu_last - cpu_first) / (EVENTS - 1) * 1e6;
      printf ("worker: run %d: %u webhooks in %.2f s = %.0f/s, worker CPU %.0f us per webhook\n", run + 1, count,
              seconds, rates[run], cpus[run]);
      g_assert_cmpint (rh_test_daemon_stop (worker), ==, 0);
      rh_test_daemon_free (worker);
      rh_test_redis_free (redis);
    }
  qsort (rates, RUNS, sizeof rates[0], compare_doubles);
  qsort (cpus, RUNS, sizeof cpus[0], compare_doubles);
  printf ("worker: webhooks/s from one worker: median %.0f (%.0f-%.0f), goal 5000; worker CPU %.0f us per webhook "
          "(%.0f-%.0f)\n", rates[RUNS / 2], rates[0], rates[RUNS - 1], cpus[RUNS / 2], cpus[0], cpus[RUNS - 1]);
}

/* ---- latency ---- */

static void
bench_latency (guint16 receiver_port)
{
  double p50s[RUNS], p99s[RUNS], maxes[RUNS];
  for (int run = 0; run < RUNS; run++)
    {
      RhTestRedis *redis = rh_test_redis_start (0, NULL);
      reset_receiver ();
      guint16 node_port = rh_test_free_port ();
      g_autofree char *node_config = g_strdup_printf (
        "server = { listen = [ \"127.0.0.1:%u\" ]; };\n"
        "cluster = { node_id = \"n1\"; redis = \"127.0.0.1:%u\"; advertise = \"rtmp://127.0.0.1:%u\";\n"
        "  events = { shards = %d; local_hooks = false; }; };\n",
        node_port, redis->port, node_port, SHARDS);
      RhTestDaemon *node = start_pinned (node_config, node_port);
      guint16 http_port = rh_test_free_port ();
      g_autofree char *config = worker_config (redis->port, http_port, receiver_port, "connection_accept");
      RhTestDaemon *worker = start_pinned (config, http_port);
      /* The worker holds every shard, then a second of warm-up. */
      for (gint64 until = g_get_monotonic_time () + 10 * G_USEC_PER_SEC; g_get_monotonic_time () < until;)
        {
          g_autofree char *metrics = rh_test_http_get (http_port, "/metrics");
          if (rh_test_metric (metrics, "rtmphooks_worker_shards_owned") == SHARDS)
            break;
          g_usleep (20000);
        }
      g_usleep (G_USEC_PER_SEC);
      g_autoptr (GArray) latencies = g_array_new (FALSE, FALSE, sizeof (double));
      for (guint i = 0; i < CONNECTIONS; i++)
        {
          gint64 start = g_get_monotonic_time ();
          g_autoptr (GSocketConnection) connection = rh_test_connect (node_port);
          gint64 deadline = start + 5 * G_USEC_PER_SEC;
          while (received (NULL, NULL) < i + 1 && g_get_monotonic_time () < deadline)
            g_usleep (50);
          gint64 last_at;
          g_assert_cmpuint (received (NULL, &last_at), ==, i + 1);
          double ms = (double) (last_at - start) / 1000;
          g_array_append_val (latencies, ms);
          g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
          g_usleep (10000);
        }
      g_array_sort (latencies, compare_doubles);
      p50s[run] = g_array_index (latencies, double, CONNECTIONS / 2);
      p99s[run] = g_array_index (latencies, double, CONNECTIONS * 99 / 100);
      maxes[run] = g_array_index (latencies, double, CONNECTIONS - 1);
      printf ("latency: run %d: event to webhook from the worker, %u events: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
              run + 1, CONNECTIONS, p50s[run], p99s[run], maxes[run]);
      g_assert_cmpint (rh_test_daemon_stop (worker), ==, 0);
      g_assert_cmpint (rh_test_daemon_stop (node), ==, 0);
      rh_test_daemon_free (worker);
      rh_test_daemon_free (node);
      rh_test_redis_free (redis);
    }
  qsort (p50s, RUNS, sizeof p50s[0], compare_doubles);
  qsort (p99s, RUNS, sizeof p99s[0], compare_doubles);
  qsort (maxes, RUNS, sizeof maxes[0], compare_doubles);
  printf ("latency: event on a node to its webhook from a worker: p50 %.2f ms (%.2f-%.2f), p99 %.2f ms (%.2f-%.2f), "
          "max %.2f ms\n", p50s[RUNS / 2], p50s[0], p50s[RUNS - 1], p99s[RUNS / 2], p99s[0], p99s[RUNS - 1],
          maxes[RUNS - 1]);
}

/* ---- churn ---- */

static int
churn (guint16 port, guint rate, guint seconds)
{
  gint64 start = g_get_monotonic_time ();
  guint made = 0;
  for (guint i = 0; i < rate * seconds; i++)
    {
      gint64 due = start + (gint64) i * G_USEC_PER_SEC / rate;
      gint64 now = g_get_monotonic_time ();
      if (due > now)
        g_usleep ((gulong) (due - now));
      g_autoptr (GSocketConnection) connection = rh_test_connect (port);
      if (connection == NULL || !rh_test_client_handshake (connection))
        continue;
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      made++;
    }
  printf ("churn: %u connections in %.1f s\n", made, (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC);
  return made == rate * seconds ? 0 : 1;
}

int
main (int argc, char **argv)
{
  setvbuf (stdout, NULL, _IOLBF, 0);
  const char *only = argc > 1 ? argv[1] : NULL;
  if (only != NULL && strcmp (only, "churn") == 0)
    {
      if (argc != 5)
        {
          fprintf (stderr, "usage: worker-bench churn PORT RATE SECONDS\n");
          return 2;
        }
      return churn ((guint16) atoi (argv[2]), (guint) atoi (argv[3]), (guint) atoi (argv[4]));
    }
  guint16 receiver_port = start_receiver ();
  if (only == NULL || strcmp (only, "throughput") == 0)
    bench_throughput (receiver_port);
  if (only == NULL || strcmp (only, "latency") == 0)
    bench_latency (receiver_port);
  return 0;
}
