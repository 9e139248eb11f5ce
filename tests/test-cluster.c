/* The cluster layer's parts alone: the directory record parser, and the
 * Redis link against a real private redis-server and against a peer
 * that never answers (the link's own deadlines). */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "cluster/directory-record.h"
#include "cluster/redis-link.h"
#include "test-player.h"
#include "test-redis.h"
#include "testutil.h"

static void
test_record_parse (void)
{
  RhDirectoryRecord record;
  const char *good = "12 edge-1.example rtmps://edge-1.example:443";
  g_assert_true (rh_directory_record_parse (good, strlen (good), &record));
  g_assert_cmpint (record.epoch, ==, 12);
  g_assert_cmpstr (record.node_id, ==, "edge-1.example");
  g_assert_cmpstr (record.advertise, ==, "rtmps://edge-1.example:443");

  g_autofree char *node = g_strnfill (65, 'n');
  g_autofree char *long_node = g_strdup_printf ("1 %s rtmp://h", node);
  g_autofree char *huge = g_strnfill (RH_DIRECTORY_RECORD_MAX, '1');
  const char *const bad[] = {
    "", "1", "1 a", "1 a ", "0 a rtmp://h", "01 a rtmp://h", "-1 a rtmp://h", "1  a rtmp://h",
    "1 a http://h", "1 a rtmp://h x", "1 b@d rtmp://h", "1234567890123456789 a rtmp://h", "x a rtmp://h",
    "1 a rtmp://h\n", long_node, huge,
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (rh_directory_record_parse (bad[i], strlen (bad[i]), &record));
  /* A NUL inside is not a record either. */
  g_assert_false (rh_directory_record_parse ("1 a rtmp://h\0x", 14, &record));
}

typedef struct {
  gboolean done;
  RhRedisResult result;
  char *text;
  gint64 at;
  RhRedisLink *link;
} Reply;

static void
on_reply (RhRedisResult result, const redisReply *reply, gpointer user_data)
{
  Reply *out = user_data;
  out->done = TRUE;
  out->result = result;
  out->at = g_get_monotonic_time ();
  if (reply != NULL && reply->str != NULL)
    out->text = g_strndup (reply->str, reply->len);
}

static gboolean
reply_done (gpointer data)
{
  return ((Reply *) data)->done;
}

typedef struct {
  gboolean up;
  guint ups, downs;
} LinkState;

static void on_up (RhRedisLink *link, gpointer data) { ((LinkState *) data)->up = TRUE; ((LinkState *) data)->ups++; }
static void on_down (RhRedisLink *link, gpointer data) { ((LinkState *) data)->up = FALSE; ((LinkState *) data)->downs++; }
static const RhRedisLinkOwner owner = { on_up, on_down };

static gboolean
link_up (gpointer data)
{
  return ((LinkState *) data)->up;
}

static gboolean
link_down (gpointer data)
{
  return !((LinkState *) data)->up;
}

static RhClusterConfig
config_for (guint16 port, double timeout, const char *password)
{
  RhClusterConfig config;
  rh_cluster_config_init (&config);
  config.redis_host = g_strdup ("127.0.0.1");
  config.redis_port = port;
  config.redis_timeout = timeout;
  config.redis_password = g_strdup (password);
  return config;
}

/* Commands reach a real Redis; while it is away they fail at once (down),
 * and the link comes back by itself. */
static void
test_link_real_redis (void)
{
  RhTestRedis *redis = rh_test_redis_start (0, NULL);
  RhClusterConfig config = config_for (redis->port, 1, NULL);
  LinkState state = { 0 };
  RhRedisLink *link = rh_redis_link_new (&config, &owner, &state);
  rh_redis_link_start (link);
  g_assert_true (rh_test_iterate_until (link_up, &state, 10000));

  const char *argv[] = { "SET", "k", "v\0x" };
  const size_t lengths[] = { 3, 1, 3 };
  Reply set = { 0 };
  rh_redis_link_command (link, 3, argv, lengths, on_reply, &set);
  g_assert_true (rh_test_iterate_until (reply_done, &set, 5000));
  g_assert_cmpint (set.result, ==, RH_REDIS_OK);
  g_free (set.text);
  g_autofree char *value = rh_test_redis_command (redis, "STRLEN k");
  g_assert_cmpstr (value, ==, "3");

  const char *bad[] = { "INCR", "k" };
  Reply error = { 0 };
  rh_redis_link_command (link, 2, bad, NULL, on_reply, &error);
  g_assert_true (rh_test_iterate_until (reply_done, &error, 5000));
  g_assert_cmpint (error.result, ==, RH_REDIS_REPLY_ERROR);
  g_assert_nonnull (error.text);
  g_free (error.text);

  guint16 port = redis->port;
  rh_test_redis_free (redis);
  g_assert_true (rh_test_iterate_until (link_down, &state, 10000));
  Reply down = { 0 };
  rh_redis_link_command (link, 2, bad, NULL, on_reply, &down);
  g_assert_true (down.done);
  g_assert_cmpint (down.result, ==, RH_REDIS_DOWN);

  redis = rh_test_redis_start (port, NULL);
  g_assert_true (rh_test_iterate_until (link_up, &state, 10000));
  g_assert_cmpuint (state.ups, ==, 2);
  RhRedisStats stats;
  rh_redis_link_get_stats (link, &stats);
  g_assert_cmpuint (stats.connects, ==, 2);
  g_assert_cmpuint (stats.results[RH_REDIS_DOWN], ==, 1);
  g_assert_cmpuint (stats.results[RH_REDIS_REPLY_ERROR], ==, 1);
  g_assert_cmpuint (stats.latency_count, >=, 3);
  rh_redis_link_free (link);
  rh_cluster_config_clear (&config);
  rh_test_redis_free (redis);
}

typedef struct {
  GSocketListener *listener;
  GPtrArray *accepted;   /* GSocketConnection* */
} Peer;

static void
on_accepted (GObject *source, GAsyncResult *result, gpointer data)
{
  Peer *peer = data;
  GSocketConnection *connection = g_socket_listener_accept_finish (G_SOCKET_LISTENER (source), result, NULL, NULL);
  if (connection == NULL)
    return;
  g_ptr_array_add (peer->accepted, connection);
  g_socket_listener_accept_async (peer->listener, NULL, on_accepted, peer);
}

static gboolean
accepted_twice (gpointer data)
{
  return ((Peer *) data)->accepted->len >= 2;
}

/* A peer that takes the connection and the PING and never answers: the
 * link gives up on its own deadline and connects again. */
static void
test_link_deadline (void)
{
  Peer peer = { g_socket_listener_new (), g_ptr_array_new_with_free_func (g_object_unref) };
  g_autoptr (GError) error = NULL;
  guint16 port = g_socket_listener_add_any_inet_port (peer.listener, NULL, &error);
  g_assert_no_error (error);
  g_socket_listener_accept_async (peer.listener, NULL, on_accepted, &peer);
  RhClusterConfig config = config_for (port, 0.3, NULL);
  LinkState state = { 0 };
  RhRedisLink *link = rh_redis_link_new (&config, &owner, &state);
  gint64 started = g_get_monotonic_time ();
  rh_redis_link_start (link);
  /* Two connections: the first timed out, the second is the retry. */
  g_assert_true (rh_test_iterate_until (accepted_twice, &peer, 10000));
  g_assert_cmpint (g_get_monotonic_time () - started, >=, 300000);
  g_assert_false (state.up);
  RhRedisStats stats;
  rh_redis_link_get_stats (link, &stats);
  g_assert_cmpuint (stats.fails[RH_REDIS_FAIL_CONNECT], >=, 1);
  g_assert_nonnull (strstr (rh_redis_link_get_problem (link), "no connection within 0.3 s"));
  rh_redis_link_free (link);
  rh_cluster_config_clear (&config);
  g_socket_listener_close (peer.listener);
  g_object_unref (peer.listener);
  g_ptr_array_unref (peer.accepted);
}

/* A peer that answers the PING, then closes the connection on the next
 * command (Redis shutting down with a command in flight). */
static gpointer
close_after_pong (gpointer data)
{
  GSocketListener *listener = data;
  g_autoptr (GSocketConnection) connection = g_socket_listener_accept (listener, NULL, NULL, NULL);
  g_assert_nonnull (connection);
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  char buffer[256];
  g_assert_cmpint (g_input_stream_read (in, buffer, sizeof buffer, NULL, NULL), >, 0);
  g_assert_true (g_output_stream_write_all (out, "+PONG\r\n", 7, NULL, NULL, NULL));
  g_assert_cmpint (g_input_stream_read (in, buffer, sizeof buffer, NULL, NULL), >, 0);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  return NULL;
}

/* A connection the server closes with a command in flight: the command
 * fails as a lost connection (never as a reply without one), and
 * nothing may be sent on the dying connection from its callback. */
static void
on_lost_reply (RhRedisResult result, const redisReply *reply, gpointer user_data)
{
  Reply *out = user_data;
  on_reply (result, reply, user_data);
  /* Sending from here must fail at once, not recurse. */
  const char *argv[] = { "PING" };
  Reply again = { 0 };
  rh_redis_link_command (out->link, 1, argv, NULL, on_reply, &again);
  g_assert_true (again.done);
  g_assert_cmpint (again.result, ==, RH_REDIS_DOWN);
}

static void
test_link_server_closes (void)
{
  g_autoptr (GSocketListener) listener = g_socket_listener_new ();
  g_autoptr (GError) error = NULL;
  guint16 port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_assert_no_error (error);
  GThread *peer = g_thread_new ("peer", close_after_pong, listener);
  RhClusterConfig config = config_for (port, 5, NULL);
  LinkState state = { 0 };
  RhRedisLink *link = rh_redis_link_new (&config, &owner, &state);
  rh_redis_link_start (link);
  g_assert_true (rh_test_iterate_until (link_up, &state, 10000));
  const char *argv[] = { "GET", "k" };
  Reply lost = { .link = link };
  rh_redis_link_command (link, 2, argv, NULL, on_lost_reply, &lost);
  g_assert_true (rh_test_iterate_until (reply_done, &lost, 10000));
  g_assert_cmpint (lost.result, ==, RH_REDIS_CONNECTION);
  g_assert_null (lost.text);
  g_assert_true (rh_test_iterate_until (link_down, &state, 10000));
  g_thread_join (peer);
  rh_redis_link_free (link);
  rh_cluster_config_clear (&config);
}

static gboolean
auth_failed (gpointer link)
{
  RhRedisStats stats;
  rh_redis_link_get_stats (link, &stats);
  return stats.fails[RH_REDIS_FAIL_AUTH] > 0;
}

/* A wrong password is an auth failure, named as such. */
static void
test_link_wrong_password (void)
{
  RhTestRedis *redis = rh_test_redis_start (0, "right");
  RhClusterConfig config = config_for (redis->port, 1, "wrong");
  LinkState state = { 0 };
  RhRedisLink *link = rh_redis_link_new (&config, &owner, &state);
  rh_redis_link_start (link);
  g_assert_true (rh_test_iterate_until (auth_failed, link, 10000));
  g_assert_false (state.up);
  g_assert_nonnull (strstr (rh_redis_link_get_problem (link), "refused the password"));
  g_assert_null (strstr (rh_redis_link_get_problem (link), "wrong"));
  rh_redis_link_free (link);
  rh_cluster_config_clear (&config);
  rh_test_redis_free (redis);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* The link logs its connection problems as warnings: they are what
   * these tests cause. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_test_add_func ("/cluster/record-parse", test_record_parse);
  g_test_add_func ("/cluster/link-real-redis", test_link_real_redis);
  g_test_add_func ("/cluster/link-deadline", test_link_deadline);
  g_test_add_func ("/cluster/link-wrong-password", test_link_wrong_password);
  g_test_add_func ("/cluster/link-server-closes", test_link_server_closes);
  return g_test_run ();
}
