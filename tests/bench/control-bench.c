/* control-bench: what decision checks and the HTTP API cost, against the
 * real daemon on loopback.
 *   - the publish handshake (publish sent -> NetStream.Publish.Start
 *     received) without a check, with an exec check (/bin/true) and with a
 *     webhook check to a local server: medians, and what a check adds;
 *     and on a fleet node, what claiming the key in Redis adds
 *   - a /metrics scrape with 1000 players connected: its latency, an upper
 *     bound of the main-loop time it takes
 * Bounded in count and time. Needs RH_DAEMON (make bench sets it). */
#include "config.h"

#include <libsoup/soup.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "protocol/amf0.h"
#include "protocol/command.h"
#include "tests/test-redis.h"
#include "tests/testutil.h"

#define PUBLISHES 200
#define PLAYERS 1000
#define SCRAPES 100

static int
compare_gint64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

/* Reads until needle shows up in what arrived; FALSE on a timeout or EOF. */
static gboolean
read_until (GSocketConnection *connection, const char *needle)
{
  GSocket *socket = g_socket_connection_get_socket (connection);
  g_socket_set_timeout (socket, 10);
  g_autoptr (GByteArray) seen = g_byte_array_new ();
  guint8 buffer[4096];
  for (;;)
    {
      gssize n = g_socket_receive (socket, (char *) buffer, sizeof buffer, NULL, NULL);
      if (n <= 0)
        return FALSE;
      g_byte_array_append (seen, buffer, (guint) n);
      if (g_strstr_len ((const char *) seen->data, seen->len, needle) != NULL
          || memmem (seen->data, seen->len, needle, strlen (needle)) != NULL)
        return TRUE;
    }
}

/* Handshake, connect to "live", createStream: a session ready to publish or play. */
static GSocketConnection *
open_session (guint16 port)
{
  GSocketConnection *connection = rh_test_connect (port);
  g_assert_true (rh_test_client_handshake (connection));
  RhAmf0Value *object = rh_amf0_object_new ();
  rh_amf0_object_set (object, "app", rh_amf0_string_new ("live"));
  rh_amf0_object_set (object, "tcUrl", rh_amf0_string_new ("rtmp://127.0.0.1/live"));
  g_assert_true (rh_test_send_command (connection, 0, "connect", 1, object, NULL));
  g_assert_true (rh_test_send_command (connection, 0, "createStream", 2, NULL, NULL));
  g_assert_true (read_until (connection, "_result"));
  return connection;
}

/* Median microseconds from publish sent to NetStream.Publish.Start. */
static gint64
publish_latency (guint16 port, const char *prefix, gint64 *p90)
{
  static gint64 took[PUBLISHES];
  for (int i = 0; i < PUBLISHES; i++)
    {
      g_autoptr (GSocketConnection) connection = open_session (port);
      g_autofree char *name = g_strdup_printf ("%s%d", prefix, i);
      gint64 start = g_get_monotonic_time ();
      g_assert_true (rh_test_send_command (connection, 1, "publish", 3, NULL, rh_amf0_string_new (name)));
      g_assert_true (read_until (connection, "NetStream.Publish.Start"));
      took[i] = g_get_monotonic_time () - start;
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
    }
  qsort (took, PUBLISHES, sizeof took[0], compare_gint64);
  *p90 = took[PUBLISHES * 9 / 10];
  return took[PUBLISHES / 2];
}

static char *
scrape (SoupSession *session, const char *url, gint64 *took)
{
  g_autoptr (SoupMessage) message = soup_message_new ("GET", url);
  gint64 start = g_get_monotonic_time ();
  g_autoptr (GBytes) body = soup_session_send_and_read (session, message, NULL, NULL);
  *took = g_get_monotonic_time () - start;
  g_assert_nonnull (body);
  return g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
}

int
main (int argc, char **argv)
{
  setvbuf (stdout, NULL, _IOLBF, 0);
  /* 1000 players need as many descriptors here and in the daemon. */
  struct rlimit limit;
  getrlimit (RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit (RLIMIT_NOFILE, &limit);

  RhTestHttp *http = rh_test_http_start ();
  guint16 api_port = rh_test_free_port ();
  g_autofree char *config = g_strdup_printf (
    "server = { max_connections = 5000; };\n"
    "http = { listen = \"127.0.0.1:%u\"; };\n"
    "checks = (\n"
    "  { name = \"exec\"; on = [ \"publish\" ]; where = { stream_name = \"exec*\"; };\n"
    "    exec = { command = [ \"/bin/true\" ]; }; },\n"
    "  { name = \"web\"; on = [ \"publish\" ]; where = { stream_name = \"web*\"; };\n"
    "    webhook = { url = \"http://127.0.0.1:%u/ok\"; }; }\n"
    ");\n", api_port, rh_test_http_port (http));
  RhTestDaemon *daemon = rh_test_daemon_start (config, NULL);

  gint64 none_p90, exec_p90, web_p90;
  gint64 none = publish_latency (daemon->port, "none", &none_p90);
  gint64 exec = publish_latency (daemon->port, "exec", &exec_p90);
  gint64 web = publish_latency (daemon->port, "web", &web_p90);
  printf ("checks: publish handshake median (p90), %d each: no check %.2f ms (%.2f), exec check %.2f ms "
          "(%.2f), webhook check %.2f ms (%.2f)\n", PUBLISHES, none / 1000.0, none_p90 / 1000.0,
          exec / 1000.0, exec_p90 / 1000.0, web / 1000.0, web_p90 / 1000.0);
  printf ("checks: added to the publish handshake (median): exec %.2f ms (target < 5), webhook %.2f ms "
          "(target < 2)\n", (exec - none) / 1000.0, (web - none) / 1000.0);

  /* The same on a fleet node: the claim is one script in Redis. */
  RhTestRedis *redis = rh_test_redis_start (0, NULL);
  guint16 node_port = rh_test_free_port ();
  g_autofree char *node_config = g_strdup_printf (
    "server = { listen = \"127.0.0.1:%u\"; };\n"
    "cluster = { node_id = \"bench\"; redis = \"127.0.0.1:%u\"; advertise = \"rtmp://127.0.0.1:%u\"; };\n",
    node_port, redis->port, node_port);
  RhTestDaemon *node = rh_test_daemon_start_port (node_config, node_port, NULL);
  g_assert_true (rh_test_daemon_wait_log (node, "connected to Redis", 10000));
  gint64 claimed_p90;
  gint64 claimed = publish_latency (node->port, "claimed", &claimed_p90);
  printf ("cluster: publish handshake on a fleet node, median (p90), %d: %.2f ms (%.2f); the claim adds %.2f ms "
          "(goal < 2)\n", PUBLISHES, claimed / 1000.0, claimed_p90 / 1000.0, (claimed - none) / 1000.0);
  rh_test_daemon_stop (node);
  rh_test_daemon_free (node);
  rh_test_redis_free (redis);

  /* Players waiting for a stream: each is a connection, a session and a
   * player the metrics count. */
  GPtrArray *players = g_ptr_array_new_with_free_func (g_object_unref);
  for (int i = 0; i < PLAYERS; i++)
    {
      GSocketConnection *connection = open_session (daemon->port);
      g_assert_true (rh_test_send_command (connection, 1, "play", 3, NULL, rh_amf0_string_new (i % 2 ? "idle-a" : "idle-b")));
      g_ptr_array_add (players, connection);
    }
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autofree char *metrics_url = g_strdup_printf ("http://127.0.0.1:%u/metrics", api_port);
  g_autofree char *players_line = g_strdup_printf ("\nrtmphooks_players %d\n", PLAYERS);
  gint64 took = 0;
  for (int waited = 0;; waited++)
    {
      g_autofree char *text = scrape (session, metrics_url, &took);
      if (strstr (text, players_line) != NULL)
        break;
      g_assert_cmpint (waited, <, 200);
      g_usleep (50 * 1000);
    }
  static gint64 scrapes[SCRAPES];
  gsize size = 0;
  for (int i = 0; i < SCRAPES; i++)
    {
      g_autofree char *text = scrape (session, metrics_url, &scrapes[i]);
      size = strlen (text);
    }
  qsort (scrapes, SCRAPES, sizeof scrapes[0], compare_gint64);
  printf ("metrics: /metrics with %d players (%zu bytes), %d scrapes: median %.2f ms, p99 %.2f ms, "
          "max %.2f ms (the whole request; target < 2 ms of main-loop time)\n", PLAYERS, size, SCRAPES,
          scrapes[SCRAPES / 2] / 1000.0, scrapes[SCRAPES * 99 / 100] / 1000.0, scrapes[SCRAPES - 1] / 1000.0);

  g_ptr_array_unref (players);
  rh_test_daemon_stop (daemon);
  rh_test_daemon_free (daemon);
  rh_test_http_stop (http);
  return 0;
}
