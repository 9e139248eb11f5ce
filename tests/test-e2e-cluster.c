/* A fleet end to end: a private redis-server on a free loopback port and
 * real daemons sharing it. ffmpeg publishes on one node; ffmpeg,
 * rtmpdump, GStreamer and in-process players play from the others, which
 * pull the stream from its owner. Then the faults: the same key on two
 * nodes at once, the owner killed or stopped, Redis absent, killed and
 * restarted empty, garbage in the directory, odd stream keys, a wrong
 * password. */
#include "config.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>

#include "test-player.h"
#include "test-redis.h"
#include "testutil.h"

/* Short timings so that faults play out in seconds. */
#define LEASE_S 2.0
#define HEARTBEAT_S 0.5

typedef struct {
  RhTestDaemon *daemon;
  guint16 port;
  guint16 http_port;
  char *id;
} Node;

static char *
node_config (const char *id, guint16 port, guint16 http_port, const char *redis, const char *cluster_extra,
             const char *rest)
{
  return g_strdup_printf ("server = { listen = [ \"127.0.0.1:%u\" ]; applications = [ \"live\" ]; };\n"
                          "http = { listen = [ \"127.0.0.1:%u\" ]; };\n"
                          "cluster = {\n"
                          "  node_id = \"%s\";\n"
                          "  redis = \"%s\";\n"
                          "  advertise = \"rtmp://127.0.0.1:%u\";\n"
                          "  lease = %g; heartbeat = %g; pull_idle = 1;\n"
                          "%s"
                          "};\n%s",
                          port, http_port, id, redis, port, LEASE_S, HEARTBEAT_S,
                          cluster_extra != NULL ? cluster_extra : "", rest != NULL ? rest : "");
}

static Node *
start_node (const char *id, const char *redis, const char *cluster_extra)
{
  Node *node = g_new0 (Node, 1);
  node->id = g_strdup (id);
  node->port = rh_test_free_port ();
  node->http_port = rh_test_free_port ();
  g_autofree char *config = node_config (id, node->port, node->http_port, redis, cluster_extra, NULL);
  const char *const args[] = { "--hook-stdio-format", "jsonl", NULL };
  node->daemon = rh_test_daemon_start_port (config, node->port, args);
  g_assert_true (rh_test_wait_port (node->port, 10000));
  return node;
}

static Node *
start_node_on (const char *id, const RhTestRedis *redis, const char *cluster_extra)
{
  g_autofree char *address = rh_test_redis_address (redis);
  Node *node = start_node (id, address, cluster_extra);
  g_assert_true (rh_test_daemon_wait_log (node->daemon, "connected to Redis", 10000));
  return node;
}

/* Stops the node as an operator would (SIGTERM): it must exit cleanly,
 * which under the sanitizers also means without a leak. */
static void
node_free (Node *node)
{
  if (node == NULL)
    return;
  if (g_subprocess_get_identifier (node->daemon->process) != NULL)
    g_assert_cmpint (rh_test_daemon_stop (node->daemon), ==, 0);
  rh_test_daemon_free (node->daemon);
  g_free (node->id);
  g_free (node);
}

static char *
node_url (const Node *node, const char *key)
{
  return g_strdup_printf ("rtmp://127.0.0.1:%u/%s", node->port, key);
}

static void
signal_node (const Node *node, int signal_number)
{
  g_assert_cmpint (kill (rh_test_daemon_pid (node->daemon), signal_number), ==, 0);
}

/* A clip with one keyframe: every player that joins while it plays gets
 * it whole from the GOP cache, so players on every node receive the very
 * same messages. */
static char *
make_long_gop_clip (const char *dir, guint seconds)
{
  g_autofree char *duration = g_strdup_printf ("%u", seconds);
  char *path = g_build_filename (dir, "clip.flv", NULL);
  const char *const argv[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                               "testsrc=size=320x240:rate=30", "-f", "lavfi", "-i", "sine=frequency=440",
                               "-t", duration, "-c:v", "libx264", "-preset", "ultrafast", "-g", "100000",
                               "-keyint_min", "100000", "-sc_threshold", "0", "-b:v", "300k", "-c:a", "aac",
                               "-y", "-f", "flv", path, NULL };
  g_autoptr (GSubprocess) ffmpeg = rh_test_spawn (argv, NULL);
  g_assert_cmpint (rh_test_wait (ffmpeg, 60000), ==, 0);
  return path;
}

/* ffmpeg sending path at its own pace to url (looping when loop). */
static GSubprocess *
publish_file (const char *path, const char *url, gboolean loop)
{
  const char *const once[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-i", path, "-c", "copy",
                               "-f", "flv", url, NULL };
  const char *const looping[] = { "timeout", "120", "ffmpeg", "-nostdin", "-loglevel", "error", "-re",
                                  "-stream_loop", "-1", "-i", path, "-c", "copy", "-f", "flv", url, NULL };
  return rh_test_spawn (loop ? looping : once, NULL);
}

static JsonObject *
event_object (GPtrArray *events, guint i)
{
  return json_node_get_object (g_ptr_array_index (events, i));
}

static guint
count_events (RhTestDaemon *daemon, const char *type, const char *reason)
{
  g_autoptr (GPtrArray) events = rh_test_daemon_events (daemon, type);
  guint n = 0;
  for (guint i = 0; i < events->len; i++)
    {
      JsonObject *data = json_object_get_object_member (event_object (events, i), "data");
      if (reason == NULL || g_strcmp0 (json_object_get_string_member_with_default (data, "reason", ""), reason) == 0)
        n++;
    }
  return n;
}

static guint
log_count (const Node *node, const char *needle)
{
  g_autofree char *log = rh_test_daemon_log (node->daemon);
  return rh_test_count (log, needle);
}

/* ---- edge pull ---- */

/* Every event an edge gives carries its node_id; it shows pulls, never a
 * publish, and codecs are the owner's to announce. */
static void
assert_edge_events (const Node *edge, guint expected_plays)
{
  g_autoptr (GPtrArray) events = rh_test_daemon_events (edge->daemon, NULL);
  guint plays = 0, pull_starts = 0, pull_stops = 0;
  for (guint i = 0; i < events->len; i++)
    {
      JsonObject *event = event_object (events, i);
      const char *type = json_object_get_string_member (event, "type");
      g_assert_cmpstr (json_object_get_string_member (event, "node_id"), ==, edge->id);
      g_assert_cmpstr (type, !=, "publish_start");
      g_assert_cmpstr (type, !=, "codec_detected");
      g_assert_cmpstr (type, !=, "media_start");
      JsonObject *data = json_object_get_object_member (event, "data");
      if (strcmp (type, "play_start") == 0)
        plays++;
      else if (strcmp (type, "pull_start") == 0)
        {
          pull_starts++;
          g_assert_cmpstr (json_object_get_string_member (data, "origin_node"), ==, "a");
        }
      else if (strcmp (type, "pull_stop") == 0)
        {
          pull_stops++;
          g_assert_cmpstr (json_object_get_string_member (data, "reason"), ==, "publish_stop");
          g_assert_cmpint (json_object_get_int_member (data, "bytes_received"), >, 0);
        }
    }
  g_assert_cmpuint (plays, ==, expected_plays);
  g_assert_cmpuint (pull_starts, ==, 1);
  g_assert_cmpuint (pull_stops, ==, 1);
}

/* /api/v1/cluster on node lists owner with key among its streams. */
static void
assert_cluster_lists (const Node *node, const char *owner, const char *key)
{
  g_autofree char *body = rh_test_http_get (node->http_port, "/api/v1/cluster");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, body, -1, NULL));
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  g_assert_true (json_object_get_boolean_member (root, "enabled"));
  g_assert_true (json_object_get_boolean_member (root, "backend_up"));
  g_assert_cmpstr (json_object_get_string_member (root, "node_id"), ==, node->id);
  JsonArray *nodes = json_object_get_array_member (root, "nodes");
  gboolean found = FALSE;
  for (guint i = 0; i < json_array_get_length (nodes); i++)
    {
      JsonObject *entry = json_array_get_object_element (nodes, i);
      if (g_strcmp0 (json_object_get_string_member (entry, "node_id"), owner) != 0)
        continue;
      g_assert_true (json_object_get_boolean_member (entry, "alive"));
      JsonArray *streams = json_object_get_array_member (entry, "streams");
      for (guint s = 0; s < json_array_get_length (streams); s++)
        found |= g_strcmp0 (json_array_get_string_element (streams, s), key) == 0;
    }
  g_assert_true (found);
}

/* ffmpeg publishes on A; on B and on C ffmpeg, rtmpdump, GStreamer and
 * two in-process players each play it: each gets every frame, the
 * in-process ones the very messages a player on A gets, and each edge
 * opens one upstream connection for all of its players. */
static void
test_edge_pull (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *clip = make_long_gop_clip (dir, 6);
  RhTestRedis *redis = rh_test_redis_start (0, NULL);
  Node *a = start_node_on ("a", redis, NULL);
  Node *b = start_node_on ("b", redis, NULL);
  Node *c = start_node_on ("c", redis, NULL);

  g_autofree char *url_a = node_url (a, "live/cam");
  g_autoptr (GSubprocess) publisher = publish_file (clip, url_a, FALSE);
  g_assert_true (rh_test_daemon_wait_log (a->daemon, "media_start live/cam", 20000));
  /* B and C learn the owner from the directory. */
  g_autofree char *record = rh_test_redis_command (redis, "GET rtmphooks:owner:live/cam");
  g_assert_true (g_str_has_prefix (record, "1 a rtmp://"));

  /* On each edge: ffmpeg, rtmpdump and GStreamer. */
  const Node *edges[] = { b, c };
  char *outputs[2][3];
  GSubprocess *tools[2][3];
  for (guint e = 0; e < 2; e++)
    {
      g_autofree char *url = node_url (edges[e], "live/cam");
      for (guint t = 0; t < 3; t++)
        outputs[e][t] = g_strdup_printf ("%s/%s-%s.flv", dir, edges[e]->id, (const char *[]) { "ffmpeg", "rtmpdump", "gst" }[t]);
      g_autofree char *gst_source = g_strdup_printf ("location=%s", url);
      g_autofree char *gst_sink = g_strdup_printf ("location=%s", outputs[e][2]);
      const char *const ffmpeg_argv[] = { "timeout", "60", "ffmpeg", "-nostdin", "-loglevel", "error", "-i", url,
                                          "-c", "copy", "-y", outputs[e][0], NULL };
      const char *const rtmpdump_argv[] = { "timeout", "60", "rtmpdump", "--live", "-q", "-r", url, "-o",
                                            outputs[e][1], NULL };
      const char *const gst_argv[] = { "timeout", "60", "gst-launch-1.0", "-q", "-e", "rtmp2src", gst_source, "!",
                                       "filesink", gst_sink, NULL };
      tools[e][0] = rh_test_spawn (ffmpeg_argv, NULL);
      tools[e][1] = rh_test_spawn (rtmpdump_argv, NULL);
      tools[e][2] = rh_test_spawn (gst_argv, NULL);
    }
  RhTestPlayer *players[] = {
    rh_test_player_new (a->port, "live", "cam", 0, NULL),
    rh_test_player_new (b->port, "live", "cam", 0, NULL),
    rh_test_player_new (b->port, "live", "cam", 0, NULL),
    rh_test_player_new (c->port, "live", "cam", 0, NULL),
    rh_test_player_new (c->port, "live", "cam", 0, NULL),
  };
  g_assert_true (rh_test_iterate_until_log (b->daemon, "play_start live/cam", 5, 20000));
  g_assert_true (rh_test_iterate_until_log (c->daemon, "play_start live/cam", 5, 20000));
  assert_cluster_lists (b, "a", "live/cam");

  g_assert_true (rh_test_players_wait_ended (players, G_N_ELEMENTS (players), 60000));
  g_assert_cmpint (rh_test_wait (publisher, 60000), ==, 0);
  for (guint e = 0; e < 2; e++)
    {
      g_assert_cmpint (rh_test_wait (tools[e][0], 60000), ==, 0);
      g_assert_cmpint (rh_test_wait (tools[e][1], 60000), !=, 124);  /* rtmpdump --live ends with a status of its own */
      g_assert_cmpint (rh_test_wait (tools[e][2], 60000), ==, 0);
    }
  g_assert_true (rh_test_daemon_wait_log (b->daemon, "pull_stop live/cam", 10000));
  g_assert_true (rh_test_daemon_wait_log (c->daemon, "pull_stop live/cam", 10000));

  GPtrArray *keep;
  JsonObject *stopped = rh_test_daemon_only_event (a->daemon, "publish_stop", &keep);
  guint sent = (guint) json_object_get_int_member (stopped, "video_packets");
  g_assert_cmpint (json_object_get_int_member (stopped, "epoch"), ==, 1);
  g_ptr_array_unref (keep);
  g_test_message ("published %u video messages", sent);
  for (guint e = 0; e < 2; e++)
    for (guint t = 0; t < 3; t++)
      {
        g_assert_cmpuint (rh_test_h264_aac_frames (outputs[e][t]), ==, sent - 2);
        g_free (outputs[e][t]);
        g_object_unref (tools[e][t]);
      }
  for (guint i = 0; i < G_N_ELEMENTS (players); i++)
    {
      g_test_message ("player %u: %u video %u audio %s", i, rh_test_player_video_messages (players[i]),
                      rh_test_player_audio_messages (players[i]), rh_test_player_digest (players[i]));
      g_assert_cmpuint (rh_test_player_video_messages (players[i]), ==, sent);
      g_assert_cmpstr (rh_test_player_digest (players[i]), ==, rh_test_player_digest (players[0]));
    }

  /* One upstream connection per edge; pulls are no audience on A. */
  g_assert_cmpuint (log_count (a, "pull_serve live/cam"), ==, 2);
  g_assert_cmpuint (count_events (a->daemon, "play_start", NULL), ==, 1);
  g_assert_cmpuint (count_events (a->daemon, "publish_start", NULL), ==, 1);
  assert_edge_events (b, 5);
  assert_edge_events (c, 5);

  for (guint i = 0; i < G_N_ELEMENTS (players); i++)
    rh_test_player_free (players[i]);
  node_free (a);
  node_free (b);
  node_free (c);
  rh_test_redis_free (redis);
  rh_test_remove_tree (dir);
}

/* A pull closes pull_idle after its last player left, and the owner sees
 * its connection go. */
static void
test_pull_idle (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *clip = make_long_gop_clip (dir, 3);
  RhTestRedis *redis = rh_test_redis_start (0, NULL);
  Node *a = start_node_on ("a", redis, NULL);
  Node *b = start_node_on ("b", redis, NULL);
  g_autofree char *url_a = node_url (a, "live/idle");
  g_autoptr (GSubprocess) publisher = publish_file (clip, url_a, TRUE);
  g_assert_true (rh_test_daemon_wait_log (a->daemon, "media_start live/idle", 20000));

  RhTestPlayer *player = rh_test_player_new (b->port, "live", "idle", 0, NULL);
  g_assert_true (rh_test_player_wait_video (player, 30, 20000));
  rh_test_player_free (player);
  g_assert_true (rh_test_daemon_wait_log (b->daemon, "reason=idle", 10000));
  g_assert_true (rh_test_daemon_wait_log (a->daemon, "closed: client_disconnect", 10000));
  g_assert_cmpuint (count_events (b->daemon, "pull_stop", "idle"), ==, 1);
  g_assert_true (rh_test_daemon_log_has (a->daemon, "pull_serve live/idle"));

  g_subprocess_force_exit (publisher);
  rh_test_wait (publisher, 10000);
  node_free (a);
  node_free (b);
  rh_test_redis_free (redis);
  rh_test_remove_tree (dir);
}

/* ---- one owner per key ---- */

static GSocketConnection *
prepare_publish (guint16 port)
{
  GSocketConnection *connection = rh_test_connect (port);
  g_assert_nonnull (connection);
  g_assert_true (rh_test_client_handshake (connection));
  RhAmf0Value *object = rh_amf0_object_new ();
  rh_amf0_object_set (object, "app", rh_amf0_string_new ("live"));
  g_assert_true (rh_test_send_command (connection, 0, "connect", 1, object, NULL));
  g_assert_true (rh_test_send_command (connection, 0, "createStream", 2, NULL, NULL));
  return connection;
}

typedef struct {
  const Node *a, *b;
  const char *started;
  const char *refused;
} Outcome;

static gboolean
decided (gpointer data)
{
  const Outcome *outcome = data;
  g_autofree char *log_a = rh_test_daemon_log (outcome->a->daemon);
  g_autofree char *log_b = rh_test_daemon_log (outcome->b->daemon);
  return rh_test_count (log_a, outcome->started) + rh_test_count (log_a, outcome->refused)
         + rh_test_count (log_b, outcome->started) + rh_test_count (log_b, outcome->refused) >= 2;
}

/* The same key published on A and B at once, 100 times: exactly one
 * publish starts each time; the other is refused naming the winner. */
static void
test_same_key_race (void)
{
  RhTestRedis *redis = rh_test_redis_start (0, NULL);
  Node *a = start_node_on ("a", redis, NULL);
  Node *b = start_node_on ("b", redis, NULL);
  guint wins_a = 0, wins_b = 0;
  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *name = g_strdup_printf ("race-%u", i);
      g_autoptr (GSocketConnection) on_a = prepare_publish (a->port);
      g_autoptr (GSocketConnection) on_b = prepare_publish (b->port);
      g_assert_true (rh_test_send_command (on_a, 1, "publish", 3, NULL, rh_amf0_string_new (name)));
      g_assert_true (rh_test_send_command (on_b, 1, "publish", 3, NULL, rh_amf0_string_new (name)));
      g_autofree char *started = g_strdup_printf ("publish_start live/%s ", name);
      g_autofree char *refused = g_strdup_printf ("cluster: publish of live/%s refused: already published on node ", name);
      Outcome outcome = { a, b, started, refused };
      g_assert_true (rh_test_poll_until (decided, &outcome, 10000));
      guint started_a = log_count (a, started), started_b = log_count (b, started);
      g_assert_cmpuint (started_a + started_b, ==, 1);
      g_assert_cmpuint (log_count (a, refused) + log_count (b, refused), ==, 1);
      wins_a += started_a;
      wins_b += started_b;
      g_autofree char *owner = rh_test_redis_command (redis, "GET rtmphooks:owner:live/%s", name);
      g_assert_nonnull (strstr (owner, started_a ? " a rtmp://" : " b rtmp://"));
    }
  g_test_message ("A won %u, B won %u", wins_a, wins_b);
  node_free (a);
  node_free (b);
  rh_test_redis_free (redis);
}

/* ---- the owner dies or stops ---- */

static gboolean
published_on (gpointer data)
{
  const Node *node = data;
  g_autofree char *url = node_url (node, "live/own");
  const char *const argv[] = { "ffmpeg", "-nostdin", "-loglevel", "quiet", "-f", "lavfi", "-i",
                               "testsrc=size=160x120:rate=10", "-t", "0.3", "-c:v", "libx264", "-preset",
                               "ultrafast", "-f", "flv", url, NULL };
  g_autoptr (GSubprocess) ffmpeg = rh_test_spawn (argv, NULL);
  return rh_test_wait (ffmpeg, 20000) == 0;
}

typedef struct {
  RhTestRedis *redis;
  const char *node;
} NodeGone;

static gboolean
node_forgotten (gpointer data)
{
  const NodeGone *gone = data;
  g_autofree char *listed = rh_test_redis_command (gone->redis, "SISMEMBER rtmphooks:nodes %s", gone->node);
  g_autofree char *streams = rh_test_redis_command (gone->redis, "EXISTS rtmphooks:streams:%s", gone->node);
  return strcmp (listed, "0") == 0 && strcmp (streams, "0") == 0;
}

/* A SIGKILLed owner: within lease + heartbeat another node takes a new
 * publish of its key, and exactly one survivor reports the lost stream
 * (publish_stop, node_lost). */
static void
test_owner_killed (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *clip = make_long_gop_clip (dir, 3);
  RhTestRedis *redis = rh_test_redis_start (0, NULL);
  Node *a = start_node_on ("a", redis, NULL);
  Node *b = start_node_on ("b", redis, NULL);
  Node *c = start_node_on ("c", redis, NULL);
  g_autofree char *url_a = node_url (a, "live/own");
  g_autoptr (GSubprocess) publisher = publish_file (clip, url_a, TRUE);
  g_assert_true (rh_test_daemon_wait_log (a->daemon, "media_start live/own", 20000));
  /* Reports wait until the survivors have been up for a lease and more. */
  g_assert_true (rh_test_daemon_wait_log (b->daemon, "dead nodes are reported from now on", 20000));
  g_assert_true (rh_test_daemon_wait_log (c->daemon, "dead nodes are reported from now on", 20000));

  gint64 killed_at = g_get_monotonic_time ();
  g_subprocess_force_exit (a->daemon->process);
  rh_test_wait (a->daemon->process, 10000);
  g_assert_true (rh_test_poll_until (published_on, b, 20000));
  double takeover = (double) (g_get_monotonic_time () - killed_at) / G_USEC_PER_SEC;
  g_test_message ("B took the key %.2f s after A was killed (lease %g s, heartbeat %g s)", takeover, LEASE_S,
                  HEARTBEAT_S);
  g_assert_cmpfloat (takeover, <, LEASE_S + HEARTBEAT_S + 1.0);

  /* One report, by B or C; once A is out of the directory there is
   * nothing left to report. */
  NodeGone gone = { redis, "a" };
  g_assert_true (rh_test_poll_until (node_forgotten, &gone, 20000));
  guint reports = count_events (b->daemon, "publish_stop", "node_lost") + count_events (c->daemon, "publish_stop",
                                                                                         "node_lost");
  g_assert_cmpuint (reports, ==, 1);
  RhTestDaemon *reporter = count_events (b->daemon, "publish_stop", "node_lost") == 1 ? b->daemon : c->daemon;
  g_autoptr (GPtrArray) stops = rh_test_daemon_events (reporter, "publish_stop");
  for (guint i = 0; i < stops->len; i++)
    {
      JsonObject *event = event_object (stops, i);
      JsonObject *data = json_object_get_object_member (event, "data");
      if (g_strcmp0 (json_object_get_string_member (data, "reason"), "node_lost") != 0)
        continue;
      g_assert_cmpstr (json_object_get_string_member (data, "owner_node"), ==, "a");
      g_assert_cmpstr (json_object_get_string_member (data, "stream_name"), ==, "own");
      g_assert_cmpstr (json_object_get_string_member (event, "stream_key"), ==, "live/own");
    }

  g_subprocess_force_exit (publisher);
  rh_test_wait (publisher, 10000);
  node_free (a);
  node_free (b);
  node_free (c);
  rh_test_redis_free (redis);
  rh_test_remove_tree (dir);
}

typedef struct {
  RhTestRedis *redis;
  const char *key;
} KeyGone;

static gboolean
owner_key_gone (gpointer data)
{
  const KeyGone *gone = data;
  g_autofree char *value = rh_test_redis_command (gone->redis, "GET rtmphooks:owner:%s", gone->key);
  return strcmp (value, "(nil)") == 0;
}

/* An owner stopped past its lease while another node takes its key: once
 * resumed, it drops its own publisher (lease_lost); never two owners. */
static void
test_owner_stopped (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *clip = make_long_gop_clip (dir, 3);
  RhTestRedis *redis = rh_test_redis_start (0, NULL);
  Node *a = start_node_on ("a", redis, NULL);
  Node *b = start_node_on ("b", redis, NULL);
  g_autofree char *url_a = node_url (a, "live/own");
  g_autoptr (GSubprocess) publisher = publish_file (clip, url_a, TRUE);
  g_assert_true (rh_test_daemon_wait_log (a->daemon, "media_start live/own", 20000));

  signal_node (a, SIGSTOP);
  KeyGone gone = { redis, "live/own" };
  g_assert_true (rh_test_poll_until (owner_key_gone, &gone, 20000));
  g_autofree char *url_b = node_url (b, "live/own");
  g_autoptr (GSubprocess) taker = publish_file (clip, url_b, TRUE);
  g_assert_true (rh_test_daemon_wait_log (b->daemon, "publish_start live/own ", 20000));
  signal_node (a, SIGCONT);
  g_assert_true (rh_test_daemon_wait_log (a->daemon, "lease_lost", 10000));
  g_assert_cmpuint (count_events (a->daemon, "publish_stop", "lease_lost"), ==, 1);
  g_autofree char *owner = rh_test_redis_command (redis, "GET rtmphooks:owner:live/own");
  g_assert_nonnull (strstr (owner, " b rtmp://"));
  /* The resumed node dropped its claim: it never takes the key back. */
  g_assert_false (rh_test_daemon_log_has (a->daemon, "claimed again"));
  g_assert_false (rh_test_daemon_log_has (b->daemon, "lease_lost"));

  g_subprocess_force_exit (publisher);
  g_subprocess_force_exit (taker);
  rh_test_wait (publisher, 10000);
  rh_test_wait (taker, 10000);
  node_free (a);
  node_free (b);
  rh_test_redis_free (redis);
  rh_test_remove_tree (dir);
}

/* ---- Redis faults ---- */

typedef struct {
  RhTestRedis *redis;
  const char *key;
  const char *needle;
} OwnedBy;

static gboolean
owned_by (gpointer data)
{
  const OwnedBy *owned = data;
  g_autofree char *value = rh_test_redis_command (owned->redis, "GET rtmphooks:owner:%s", owned->key);
  return strstr (value, owned->needle) != NULL;
}

static gboolean
publish_refused (const Node *node, const char *name, const char *log_needle)
{
  g_autoptr (GSocketConnection) connection = rh_test_raw_publish (node->port, "live", name);
  g_assert_nonnull (connection);
  return rh_test_wait_closed (connection, 10000) && rh_test_daemon_wait_log (node->daemon, log_needle, 10000);
}

/* Redis absent at start: nodes serve and refuse new publishes (or accept
 * them locally, by choice); Redis up: claims work; killed mid-stream: the
 * live stream and its edge go on; restarted empty: every node puts its
 * claims back, and a key two nodes took while Redis was away stays with
 * the one that had it first. */
static void
test_redis_faults (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *clip = make_long_gop_clip (dir, 3);
  guint16 redis_port = rh_test_free_port ();
  g_autofree char *address = g_strdup_printf ("127.0.0.1:%u", redis_port);
  Node *a = start_node ("a", address, NULL);
  Node *b = start_node ("b", address, NULL);
  Node *c = start_node ("c", address, "  when_backend_down = \"local\";\n");

  /* Absent: the nodes say so and refuse new publishes. */
  g_assert_true (rh_test_daemon_wait_log (a->daemon, "cluster: Redis: cannot connect", 10000));
  g_autofree char *health = rh_test_http_get (a->http_port, "/healthz");
  g_assert_nonnull (strstr (health, "cluster: Redis unreachable"));
  g_assert_true (publish_refused (a, "early", "publish of live/early refused (cluster.when_backend_down"));

  /* Up: A publishes, B's player pulls. */
  RhTestRedis *redis = rh_test_redis_start (redis_port, NULL);
  g_assert_true (rh_test_daemon_wait_log (a->daemon, "Redis is reachable again", 10000));
  g_assert_true (rh_test_daemon_wait_log (b->daemon, "Redis is reachable again", 10000));
  g_assert_true (rh_test_daemon_wait_log (c->daemon, "Redis is reachable again", 10000));
  g_autofree char *url_a = node_url (a, "live/keep");
  g_autoptr (GSubprocess) publisher = publish_file (clip, url_a, TRUE);
  g_assert_true (rh_test_daemon_wait_log (a->daemon, "media_start live/keep", 20000));
  RhTestPlayer *edge = rh_test_player_new (b->port, "live", "keep", 0, NULL);
  g_assert_true (rh_test_player_wait_video (edge, 10, 20000));

  /* Killed: everything live goes on. */
  rh_test_redis_kill (redis);
  g_assert_true (rh_test_iterate_until_log (a->daemon, "Redis is unreachable: live streams go on", 1, 10000));
  guint before = rh_test_player_video_messages (edge);
  g_assert_true (rh_test_player_wait_video (edge, before + 3 * 30, 20000));
  g_assert_false (rh_test_player_ended (edge));
  g_assert_cmpuint (count_events (a->daemon, "publish_stop", NULL), ==, 0);
  g_assert_true (publish_refused (b, "down", "publish of live/down refused (cluster.when_backend_down"));
  /* C accepts locally, even a key A owns: the risk of "local". */
  g_autofree char *url_c = node_url (c, "live/keep");
  g_autoptr (GSubprocess) second = publish_file (clip, url_c, TRUE);
  g_assert_true (rh_test_iterate_until_log (c->daemon, "publish of live/keep accepted locally", 1, 20000));
  g_assert_true (rh_test_iterate_until_log (c->daemon, "publish_start live/keep ", 1, 20000));

  /* Restarted empty: A puts its claim back, C's later publish yields. */
  rh_test_redis_free (redis);
  redis = rh_test_redis_start (redis_port, NULL);
  g_assert_true (rh_test_iterate_until_log (a->daemon, "live/keep was missing from the directory", 1, 20000));
  g_assert_true (rh_test_iterate_until_log (c->daemon, "lease_lost", 1, 20000));
  g_assert_cmpuint (count_events (c->daemon, "publish_stop", "lease_lost"), ==, 1);
  g_assert_cmpuint (count_events (a->daemon, "publish_stop", NULL), ==, 0);
  OwnedBy owned = { redis, "live/keep", " a rtmp://" };
  g_assert_true (rh_test_poll_until (owned_by, &owned, 10000));
  before = rh_test_player_video_messages (edge);
  g_assert_true (rh_test_player_wait_video (edge, before + 30, 20000));

  g_subprocess_force_exit (publisher);
  g_subprocess_force_exit (second);
  rh_test_wait (publisher, 10000);
  rh_test_wait (second, 10000);
  rh_test_player_free (edge);
  node_free (a);
  node_free (b);
  node_free (c);
  rh_test_redis_free (redis);
  rh_test_remove_tree (dir);
}

/* ---- what others write into the directory ---- */

static void
assert_publishes (const Node *node, const char *name)
{
  g_autoptr (GSocketConnection) connection = rh_test_raw_publish (node->port, "live", name);
  g_assert_nonnull (connection);
  g_autofree char *needle = g_strdup_printf ("publish_start live/%s ", name);
  g_assert_true (rh_test_daemon_wait_log (node->daemon, needle, 10000));
}

/* Garbage, huge and wrong-typed values in the directory's keys are
 * replaced, never trusted; odd stream keys are refused or served as
 * any other; the nodes serve throughout. */
static void
test_garbage (void)
{
  RhTestRedis *redis = rh_test_redis_start (0, NULL);
  g_free (rh_test_redis_command (redis, "SET rtmphooks:nodes not-a-set"));
  g_free (rh_test_redis_command (redis, "SET rtmphooks:streams:a not-a-set"));
  Node *a = start_node_on ("a", redis, NULL);
  Node *b = start_node_on ("b", redis, NULL);

  g_free (rh_test_redis_command (redis, "SET rtmphooks:owner:live/g1 %s", "not a record"));
  g_free (rh_test_redis_command (redis, "RPUSH rtmphooks:owner:live/g2 x"));
  g_autofree char *huge = g_strnfill (1024 * 1024, 'x');
  g_free (rh_test_redis_command (redis, "SET rtmphooks:owner:live/g3 %s", huge));
  g_free (rh_test_redis_command (redis, "SET rtmphooks:epoch:live/g4 abc"));
  g_free (rh_test_redis_command (redis, "HSET rtmphooks:epoch:live/g5 x y"));
  assert_publishes (a, "g1");
  assert_publishes (a, "g2");
  assert_publishes (a, "g3");
  assert_publishes (a, "g4");
  assert_publishes (a, "g5");
  g_assert_cmpuint (log_count (a, "that no node wrote: replaced"), ==, 5);
  /* The garbage counter started over (the publish has ended since). */
  g_autofree char *g4 = rh_test_redis_command (redis, "GET rtmphooks:epoch:live/g4");
  g_assert_cmpstr (g4, ==, "1");
  g_autofree char *members = rh_test_redis_command (redis, "SMEMBERS rtmphooks:nodes");
  g_assert_nonnull (strstr (members, "a"));

  /* A player on B for keys whose entries are not records: no pull. */
  g_free (rh_test_redis_command (redis, "SET rtmphooks:owner:live/h1 %s", huge));
  g_free (rh_test_redis_command (redis, "SET rtmphooks:owner:live/h2 %s", "5 b@d rtmp://127.0.0.1:1"));
  RhTestPlayer *p1 = rh_test_player_new (b->port, "live", "h1", 0, NULL);
  RhTestPlayer *p2 = rh_test_player_new (b->port, "live", "h2", 0, NULL);
  g_assert_true (rh_test_iterate_until_log (b->daemon, "the directory entry of live/h1 is not a record", 1, 10000));
  g_assert_true (rh_test_iterate_until_log (b->daemon, "the directory entry of live/h2 is not a record", 1, 10000));
  /* A record naming a node that does not answer: the pull fails, counted. */
  g_free (rh_test_redis_command (redis, "SET rtmphooks:owner:live/h3 %s", "7 ghost rtmp://127.0.0.1:1"));
  RhTestPlayer *p3 = rh_test_player_new (b->port, "live", "h3", 0, NULL);
  g_assert_true (rh_test_iterate_until_log (b->daemon, "pull of live/h3 from node ghost", 2, 10000));
  g_autofree char *metrics = rh_test_http_get (b->http_port, "/metrics");
  g_assert_null (strstr (metrics, "rtmphooks_cluster_pulls_failed_total 0\n"));
  rh_test_player_free (p1);
  rh_test_player_free (p2);
  rh_test_player_free (p3);

  /* Stream keys: 4 KiB, binary and {} are refused as names; ':' is served. */
  g_autofree char *long_name = g_strnfill (4096, 'k');
  const char *const refused[] = { long_name, "bin\001\002", "{}", "a/b" };
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr (GSocketConnection) connection = rh_test_raw_publish (a->port, "live", refused[i]);
      g_assert_nonnull (connection);
      g_assert_true (rh_test_wait_closed (connection, 10000));
    }
  g_assert_true (rh_test_daemon_wait_log_count (a->daemon, "publish of invalid stream name", 3, 10000));
  assert_publishes (a, "a:b");
  g_autofree char *colon = rh_test_redis_command (redis, "GET rtmphooks:epoch:live/a:b");
  g_assert_cmpstr (colon, ==, "1");
  g_autofree char *keys = rh_test_redis_command (redis, "KEYS rtmphooks:*:live/k*");
  g_assert_cmpstr (keys, ==, "");

  /* Both nodes still serve. */
  assert_publishes (b, "after");
  node_free (a);
  node_free (b);
  rh_test_redis_free (redis);
}

/* ---- credentials and configuration ---- */

/* A wrong password is a clear error in the log and in /metrics; the right
 * one, from a file, works; a password file that cannot be read is a
 * FILE:LINE error of -t. */
static void
test_password (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  RhTestRedis *redis = rh_test_redis_start (0, "s3cret-pass");
  g_autofree char *secret = g_build_filename (dir, "redis.pass", NULL);
  g_assert_true (g_file_set_contents (secret, "s3cret-pass\n", -1, NULL));
  g_autofree char *good_extra = g_strdup_printf ("  password_file = \"%s\";\n", secret);
  Node *good = start_node_on ("good", redis, good_extra);
  assert_publishes (good, "authorized");

  g_autofree char *address = rh_test_redis_address (redis);
  Node *wrong = start_node ("wrong", address, "  password = \"not-it\";\n");
  g_assert_true (rh_test_daemon_wait_log (wrong->daemon, "Redis refused the password", 10000));
  g_assert_false (rh_test_daemon_log_has (wrong->daemon, "not-it"));
  g_autofree char *metrics = rh_test_http_get (wrong->http_port, "/metrics");
  g_assert_nonnull (strstr (metrics, "rtmphooks_cluster_backend_up 0\n"));
  g_assert_null (strstr (metrics, "rtmphooks_cluster_errors_total{kind=\"auth\"} 0\n"));
  Node *none = start_node ("none", address, NULL);
  g_assert_true (rh_test_daemon_wait_log (none->daemon, "Redis requires a password", 10000));

  g_autofree char *missing = g_build_filename (dir, "missing.pass", NULL);
  g_autofree char *text = g_strdup_printf ("cluster = {\n  redis = \"%s\";\n  advertise = \"rtmp://127.0.0.1:1935\";\n"
                                           "  password_file = \"%s\";\n};\n", address, missing);
  rh_test_assert_config_error (text, 4, "cluster.password_file:");
  node_free (good);
  node_free (wrong);
  node_free (none);
  rh_test_redis_free (redis);
  rh_test_remove_tree (dir);
}

static void
test_config_errors (void)
{
  static const struct {
    const char *text;
    guint line;
    const char *message;
  } cases[] = {
    { "cluster = {\n  advertise = \"rtmp://n1:1935\";\n};\n", 1, "cluster.redis is required" },
    { "cluster = {\n  redis = \"127.0.0.1:6379\";\n};\n", 1, "cluster.advertise is required" },
    { "cluster = {\n  redis = \"127.0.0.1:6379\";\n  advertise = \"rtmp://n1:1935\";\n  node_id = \"a b\";\n};\n", 4,
      "cluster.node_id must be" },
    { "cluster = {\n  redis = \"nohost\";\n  advertise = \"rtmp://n1:1935\";\n};\n", 2, "cluster.redis \"nohost\" is not a unix socket path" },
    { "cluster = {\n  redis = \"h:70000\";\n  advertise = \"rtmp://n1:1935\";\n};\n", 2, "cluster.redis \"h:70000\" is not" },
    { "cluster = {\n  redis = \"h:1\";\n  advertise = \"http://n1\";\n};\n", 3, "cluster.advertise must be" },
    { "cluster = {\n  redis = \"h:1\";\n  advertise = \"rtmp://n1:1935/live\";\n};\n", 3, "cluster.advertise must be" },
    { "cluster = {\n  redis = \"h:1\";\n  advertise = \"rtmp://n1\";\n  lease = 1;\n  heartbeat = 1;\n};\n", 4,
      "cluster.lease (1s) must be at least twice cluster.heartbeat" },
    { "cluster = {\n  redis = \"h:1\";\n  advertise = \"rtmp://n1\";\n  when_backend_down = \"maybe\";\n};\n", 4,
      "cluster.when_backend_down must be" },
    { "cluster = {\n  redis = \"h:1\";\n  advertise = \"rtmp://n1\";\n  on_conflict = \"replace\";\n};\n", 4,
      "cluster.on_conflict must be \"refuse\"" },
    { "cluster = {\n  redis = \"h:1\";\n  advertise = \"rtmp://n1\";\n  password = \"${env.RH_NO_SUCH_VAR}\";\n};\n",
      4, "cluster.password: the environment variable RH_NO_SUCH_VAR is not set" },
    { "cluster = {\n  redis = \"h:1\";\n  advertise = \"rtmp://n1\";\n  shards = 3;\n};\n", 4,
      "unknown setting cluster.shards" },
    { "cluster = {\n  redis = \"h:1\";\n  advertise = \"rtmp://n1\";\n  max_hops = 0;\n};\n", 4,
      "max_hops = 0 is out of range" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    rh_test_assert_config_error (cases[i].text, cases[i].line, cases[i].message);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cluster/config-errors", test_config_errors);
  g_test_add_func ("/cluster/edge-pull", test_edge_pull);
  g_test_add_func ("/cluster/pull-idle", test_pull_idle);
  g_test_add_func ("/cluster/same-key-race", test_same_key_race);
  g_test_add_func ("/cluster/owner-killed", test_owner_killed);
  g_test_add_func ("/cluster/owner-stopped", test_owner_stopped);
  g_test_add_func ("/cluster/redis-faults", test_redis_faults);
  g_test_add_func ("/cluster/garbage", test_garbage);
  g_test_add_func ("/cluster/password", test_password);
  return g_test_run ();
}
