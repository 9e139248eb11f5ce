/* eventlog-bench: what appending events to Redis Streams costs a node,
 * in-process against a private redis-server on loopback:
 *   - events per second appended (acknowledged by Redis), EVENTS events
 *     given as fast as the main loop takes them (goal: 100k/s);
 *   - the main-loop time one event costs (goal: under 5 µs): the time
 *     spent inside rh_event_log_append, per event; and all of this
 *     process's CPU per event, the acknowledgements' handling included
 *     (redis-server is another process).
 * Each event is a publish_start as the server makes it, on one of 1000
 * stream keys. Bounded in count and time. */
#include "config.h"

#include <stdio.h>
#include <sys/resource.h>

#include "cluster/event-log.h"
#include "tests/test-player.h"
#include "tests/test-redis.h"
#include "tests/testutil.h"

#define EVENTS 200000
#define BATCH 500
#define KEYS 1000

typedef struct {
  RhEventLog *log;
  RhEvent *events[KEYS];
  guint given;
  gint64 inside;     /* microseconds spent in rh_event_log_append */
} Feed;

static gboolean
give (gpointer data)
{
  Feed *feed = data;
  RhEventLogStats stats;
  rh_event_log_get_stats (feed->log, &stats);
  /* Keep the pipeline full, never the spool. */
  if (stats.in_flight + BATCH > RH_EVENT_LOG_MAX_IN_FLIGHT)
    return G_SOURCE_CONTINUE;
  gint64 start = g_get_monotonic_time ();
  for (guint i = 0; i < BATCH && feed->given < EVENTS; i++, feed->given++)
    rh_event_log_append (feed->log, feed->events[feed->given % KEYS]);
  feed->inside += g_get_monotonic_time () - start;
  return feed->given < EVENTS ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean
all_appended (gpointer data)
{
  RhEventLogStats stats;
  rh_event_log_get_stats (data, &stats);
  return stats.appended + stats.dropped >= EVENTS;
}

static gboolean
link_up (gpointer data)
{
  return rh_redis_link_is_up (rh_event_log_get_link (data));
}

int
main (int argc, char **argv)
{
  setvbuf (stdout, NULL, _IOLBF, 0);
  RhTestRedis *redis = rh_test_redis_start (0, NULL);
  RhClusterConfig config;
  rh_cluster_config_init (&config);
  config.redis_host = g_strdup ("127.0.0.1");
  config.redis_port = redis->port;
  config.events = TRUE;
  rh_event_set_node_id ("bench");
  Feed feed = { rh_event_log_new (&config, NULL, NULL), { NULL }, 0, 0 };
  for (guint i = 0; i < KEYS; i++)
    {
      g_autofree char *key = g_strdup_printf ("live/stream%u", i);
      RhEvent *event = rh_event_new (RH_EVENT_PUBLISH_START, "c000042", key);
      rh_event_add_string (event, "app", "live");
      rh_event_add_string (event, "stream_name", key + 5);
      rh_event_add_string (event, "publish_type", "live");
      rh_event_add_string (event, "client_ip", "203.0.113.7");
      rh_event_add_string (event, "tc_url", "rtmp://ingest.example.com/live");
      rh_event_add_string (event, "query", "key=0123456789abcdef");
      rh_event_add_boolean (event, "tls", FALSE);
      feed.events[i] = event;
    }
  rh_event_log_start (feed.log);
  g_assert_true (rh_test_iterate_until (link_up, feed.log, 10000));

  struct rusage before, after;
  getrusage (RUSAGE_SELF, &before);
  gint64 start = g_get_monotonic_time ();
  g_idle_add (give, &feed);
  g_assert_true (rh_test_iterate_until (all_appended, feed.log, 120000));
  double seconds = (g_get_monotonic_time () - start) / 1e6;
  getrusage (RUSAGE_SELF, &after);
  double cpu_us = (after.ru_utime.tv_sec - before.ru_utime.tv_sec + after.ru_stime.tv_sec - before.ru_stime.tv_sec) * 1e6
                  + (after.ru_utime.tv_usec - before.ru_utime.tv_usec + after.ru_stime.tv_usec - before.ru_stime.tv_usec);
  RhEventLogStats stats;
  rh_event_log_get_stats (feed.log, &stats);
  printf ("eventlog: %u events appended in %.2f s: %.0f events/s (goal >= 100000); dropped %" G_GUINT64_FORMAT "\n",
          EVENTS, seconds, EVENTS / seconds, stats.dropped);
  printf ("eventlog: main-loop time per event: %.2f us in the append (goal < 5 us), %.2f us of CPU with its "
          "acknowledgement\n", (double) feed.inside / EVENTS, cpu_us / EVENTS);
  g_autofree char *lengths = rh_test_redis_command (redis, "XLEN rtmphooks:events:0");
  printf ("eventlog: shard 0 holds %s entries (16 shards)\n", lengths);

  for (guint i = 0; i < KEYS; i++)
    rh_event_unref (feed.events[i]);
  rh_event_log_free (feed.log);
  rh_cluster_config_clear (&config);
  rh_test_redis_free (redis);
  return 0;
}
