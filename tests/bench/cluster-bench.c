/* cluster-bench: what a fleet costs a player and an owner, against real
 * daemons and a private redis-server on loopback.
 *   - play on an edge to the first video frame, for a stream live on
 *     another node: cold (the edge starts a pull for this player) and warm
 *     (a pull is running), PLAYS each: p50, p95, max (goal: under 300 ms)
 *   - takeover: an owner SIGKILLed while publishing; how long until
 *     another node accepts a new publish of the key (goal: lease + 1 s),
 *     TAKEOVERS times
 * The daemons run with the default lease (5 s) and heartbeat (1 s).
 * Bounded in count and time. Needs RH_DAEMON (make bench sets it). */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "tests/test-player.h"
#include "tests/test-redis.h"
#include "tests/testutil.h"

#define PLAYS 50
#define TAKEOVERS 5
#define LEASE 5.0
#define HEARTBEAT 1.0

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static RhTestDaemon *
start_node (const RhTestRedis *redis, const char *id, const char *extra)
{
  guint16 port = rh_test_free_port ();
  g_autofree char *config = g_strdup_printf ("server = { listen = [ \"127.0.0.1:%u\" ]; applications = [ \"live\" ]; };\n"
                                             "cluster = { node_id = \"%s\"; redis = \"127.0.0.1:%u\";\n"
                                             "  advertise = \"rtmp://127.0.0.1:%u\"; lease = %g; heartbeat = %g; %s };\n",
                                             port, id, redis->port, port, LEASE, HEARTBEAT, extra);
  RhTestDaemon *daemon = rh_test_daemon_start_port (config, port, NULL);
  g_assert_true (rh_test_daemon_wait_log (daemon, "connected to Redis", 10000));
  return daemon;
}

static void
report (const char *what, double *ms, guint n, const char *goal)
{
  qsort (ms, n, sizeof *ms, compare_double);
  printf ("cluster: %s, %u plays: p50 %.1f ms, p95 %.1f ms, max %.1f ms (%s)\n", what, n, ms[n / 2],
          ms[n * 95 / 100], ms[n - 1], goal);
}

/* Milliseconds from connecting a player to its first video message. */
static double
first_frame_ms (guint16 port)
{
  gint64 start = g_get_monotonic_time ();
  RhTestPlayer *player = rh_test_player_new (port, "live", "bench", 0, NULL);
  g_assert_true (rh_test_player_wait_video (player, 1, 10000));
  double ms = (g_array_index (rh_test_player_video_arrivals (player), gint64, 0) - start) / 1000.0;
  rh_test_player_free (player);
  return ms;
}

typedef struct {
  const RhTestDaemon *node;
  gint64 tried_at;     /* monotonic: when the last attempt began */
} Attempt;

/* A publish the node keeps open (a refused one is closed at once). The
 * check of "kept open" takes a while: the attempt's start is what counts. */
static gboolean
published_on (gpointer data)
{
  Attempt *attempt = data;
  attempt->tried_at = g_get_monotonic_time ();
  g_autoptr (GSocketConnection) connection = rh_test_raw_publish (attempt->node->port, "live", "takeover");
  if (connection == NULL)
    return FALSE;
  return !rh_test_wait_closed (connection, 100);
}

int
main (int argc, char **argv)
{
  setvbuf (stdout, NULL, _IOLBF, 0);
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *clip = g_build_filename (dir, "clip.flv", NULL);
  rh_test_encode_clip (clip, 10, "640x360", "1M", TRUE);
  RhTestRedis *redis = rh_test_redis_start (0, NULL);
  RhTestDaemon *origin = start_node (redis, "origin", "");
  RhTestDaemon *edge = start_node (redis, "edge", "pull_idle = 0;");

  g_autofree char *url = rh_test_daemon_url (origin, "live/bench");
  const char *const publish[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i",
                                  clip, "-c", "copy", "-f", "flv", url, NULL };
  g_autoptr (GSubprocess) publisher = rh_test_spawn (publish, NULL);
  g_assert_true (rh_test_daemon_wait_log (origin, "media_start live/bench", 20000));

  /* Cold: each play makes the edge find the owner and pull; the pull
   * closes (pull_idle 0) before the next play. */
  double cold[PLAYS];
  for (guint i = 0; i < PLAYS; i++)
    {
      cold[i] = first_frame_ms (edge->port);
      g_assert_true (rh_test_daemon_wait_log_count (edge, "pull_stop live/bench", i + 1, 10000));
    }
  report ("edge play to first video frame, cold (a pull per play)", cold, PLAYS, "goal < 300 ms");

  /* Warm: a player keeps the pull up. */
  RhTestPlayer *keeper = rh_test_player_new (edge->port, "live", "bench", 0, NULL);
  g_assert_true (rh_test_player_wait_video (keeper, 1, 10000));
  double warm[PLAYS];
  for (guint i = 0; i < PLAYS; i++)
    warm[i] = first_frame_ms (edge->port);
  report ("edge play to first video frame, warm (a pull running)", warm, PLAYS, "for comparison");
  rh_test_player_free (keeper);

  /* Takeover after SIGKILL of the owner. */
  double takeover[TAKEOVERS];
  for (guint i = 0; i < TAKEOVERS; i++)
    {
      g_autofree char *id = g_strdup_printf ("owner%u", i);
      RhTestDaemon *owner = start_node (redis, id, "");
      g_autoptr (GSocketConnection) held = rh_test_raw_publish (owner->port, "live", "takeover");
      g_assert_nonnull (held);
      g_assert_true (rh_test_daemon_wait_log (owner, "publish_start live/takeover ", 10000));
      gint64 killed = g_get_monotonic_time ();
      g_subprocess_force_exit (owner->process);
      rh_test_wait (owner->process, 10000);
      Attempt attempt = { edge, 0 };
      g_assert_true (rh_test_poll_until (published_on, &attempt, 30000));
      takeover[i] = (attempt.tried_at - killed) / 1e6;
      rh_test_daemon_free (owner);
      /* The edge's own publish ended: the key is free for the next owner. */
      g_autofree char *needle = g_strdup_printf ("publish_stop live/takeover");
      g_assert_true (rh_test_daemon_wait_log_count (edge, needle, i + 1, 10000));
    }
  qsort (takeover, TAKEOVERS, sizeof *takeover, compare_double);
  printf ("cluster: takeover after SIGKILL of the owner, %u times: median %.2f s, min %.2f s, max %.2f s "
          "(lease %.0f s, heartbeat %.0f s; goal lease + 1 s = %.0f s)\n", TAKEOVERS, takeover[TAKEOVERS / 2],
          takeover[0], takeover[TAKEOVERS - 1], LEASE, HEARTBEAT, LEASE + 1);

  g_subprocess_force_exit (publisher);
  rh_test_wait (publisher, 10000);
  rh_test_daemon_stop (edge);
  rh_test_daemon_stop (origin);
  rh_test_daemon_free (edge);
  rh_test_daemon_free (origin);
  rh_test_redis_free (redis);
  rh_test_remove_tree (dir);
  return 0;
}
