/* End to end, fan-out: many players in this process read one stream from
 * the real daemon, published by ffmpeg; assertions on the bytes each one
 * received, on when they arrived, and on what a player that stopped
 * reading got once it read again (decoded by ffmpeg). */
#include "config.h"

#include <string.h>

#include "test-player.h"
#include "testutil.h"

/* The worst lateness of a player: how much later than its best-delivered
 * video message (arrival time minus timestamp) any other one arrived. */
static double
worst_lateness_ms (const RhTestPlayer *player)
{
  const GArray *arrivals = rh_test_player_video_arrivals (player);
  const GArray *timestamps = rh_test_player_video_timestamps (player);
  double best = G_MAXDOUBLE, worst = -G_MAXDOUBLE;
  for (guint i = 0; i < arrivals->len; i++)
    {
      double delay = g_array_index (arrivals, gint64, i) / 1000.0 - g_array_index (timestamps, guint32, i);
      best = MIN (best, delay);
      worst = MAX (worst, delay);
    }
  return arrivals->len > 0 ? worst - best : 0;
}

/* 200 players waiting before the publisher starts receive the same bytes:
 * every audio, video and data message, identical in content, timestamp
 * and order; one of them, written to FLV, has all 120 frames. */
static void
test_two_hundred_identical (void)
{
  enum { N_PLAYERS = 200 };
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *flv = g_build_filename (dir, "player-0.flv", NULL);
  RhTestDaemon *daemon = rh_test_daemon_start ("server = { max_connections = 400; };", NULL);
  RhTestPlayer *players[N_PLAYERS];
  for (guint i = 0; i < N_PLAYERS; i++)
    players[i] = rh_test_player_new (daemon->port, "live", "fan", 0, i == 0 ? flv : NULL);
  g_assert_true (rh_test_daemon_wait_log_count (daemon, "(waiting for a publisher)", N_PLAYERS, 60000));

  g_autofree char *url = rh_test_daemon_url (daemon, "live/fan");
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 4, "320x180", NULL, NULL);
  g_assert_true (rh_test_players_wait_ended (players, N_PLAYERS, 60000));
  g_assert_cmpint (rh_test_wait (publisher, 20000), ==, 0);

  const char *digest = rh_test_player_digest (players[0]);
  guint video = rh_test_player_video_messages (players[0]);
  guint audio = rh_test_player_audio_messages (players[0]);
  g_test_message ("player 0: %u video, %u audio messages, sha256 %s", video, audio, digest);
  g_assert_cmpuint (video, >=, 121);  /* the sequence header and 120 frames */
  g_assert_cmpuint (audio, >=, 170);  /* 4 s of AAC at 44.1 kHz */
  for (guint i = 0; i < N_PLAYERS; i++)
    {
      g_assert_false (rh_test_player_closed (players[i]));
      g_assert_cmpuint (rh_test_player_video_messages (players[i]), ==, video);
      g_assert_cmpuint (rh_test_player_audio_messages (players[i]), ==, audio);
      g_assert_cmpstr (rh_test_player_digest (players[i]), ==, digest);
    }
  for (guint i = 0; i < N_PLAYERS; i++)
    rh_test_player_free (players[i]);

  RhTestProbe probe;
  g_assert_true (rh_test_probe (flv, &probe));
  g_assert_cmpstr (probe.video_codec, ==, "h264");
  g_assert_cmpuint (probe.video_frames, ==, 120);
  g_assert_true (probe.first_video_is_key);
  rh_test_probe_clear (&probe);
  rh_test_daemon_finish (daemon);
  rh_test_remove_tree (dir);
}

static gboolean
has_video (gpointer data)
{
  return rh_test_player_video_messages (data) > 0 || rh_test_player_ended (data);
}

/* A player that stops reading falls behind, skips to a keyframe, and once
 * it reads again gets a stream ffmpeg decodes without an error; the
 * players beside it get every frame, on time, meanwhile. */
static void
test_stalled_player (void)
{
  enum { N_PLAYERS = 5 };
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *flv = g_build_filename (dir, "stalled.flv", NULL);
  RhTestDaemon *daemon = rh_test_daemon_start (
    "server = { player_max_delay = 0.5; player_behind_timeout = 60; player_send_buffer = 65536; };", NULL);

  /* The first connection, so its id is c000001. */
  RhTestPlayer *stalled = rh_test_player_new (daemon->port, "live", "stall", 4096, flv);
  RhTestPlayer *players[N_PLAYERS];
  for (guint i = 0; i < N_PLAYERS; i++)
    players[i] = rh_test_player_new (daemon->port, "live", "stall", 0, NULL);
  g_assert_true (rh_test_daemon_wait_log_count (daemon, "(waiting for a publisher)", N_PLAYERS + 1, 20000));

  g_autofree char *url = rh_test_daemon_url (daemon, "live/stall");
  const char *const bitrate[] = { "-b:v", "2M", NULL };
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 8, "640x360", bitrate, NULL);

  /* It stops reading once the stream runs, until the daemon says it fell
   * behind; everyone else reads throughout. */
  g_assert_true (rh_test_iterate_until (has_video, stalled, 20000));
  rh_test_player_set_reading (stalled, FALSE);
  g_assert_true (rh_test_iterate_until_log (daemon, "player c000001 behind (", 1, 20000));
  rh_test_player_set_reading (stalled, TRUE);
  g_assert_true (rh_test_iterate_until_log (daemon, "player c000001 caught up at a keyframe after skipping", 1, 20000));

  RhTestPlayer *everyone[N_PLAYERS + 1];
  memcpy (everyone, players, sizeof players);
  everyone[N_PLAYERS] = stalled;
  g_assert_true (rh_test_players_wait_ended (everyone, N_PLAYERS + 1, 60000));
  g_assert_cmpint (rh_test_wait (publisher, 20000), ==, 0);

  /* The others: every frame, identical, never far behind the stream's
   * pace (a generous bound: the merge window is 50 ms). */
  guint video = rh_test_player_video_messages (players[0]);
  g_assert_cmpuint (video, >=, 241);
  for (guint i = 0; i < N_PLAYERS; i++)
    {
      double late = worst_lateness_ms (players[i]);
      g_test_message ("player %u: %u video messages, worst lateness %.1f ms", i,
                      rh_test_player_video_messages (players[i]), late);
      g_assert_cmpuint (rh_test_player_video_messages (players[i]), ==, video);
      g_assert_cmpstr (rh_test_player_digest (players[i]), ==, rh_test_player_digest (players[0]));
      g_assert_cmpfloat (late, <, 1000);
    }

  /* The stalled one skipped frames and says so, yet decodes cleanly. */
  guint stalled_video = rh_test_player_video_messages (stalled);
  g_test_message ("stalled player: %u video messages", stalled_video);
  g_assert_cmpuint (stalled_video, <, video);
  g_assert_false (rh_test_player_closed (stalled));
  rh_test_player_free (stalled);
  for (guint i = 0; i < N_PLAYERS; i++)
    rh_test_player_free (players[i]);

  const char *const decode[] = { "ffmpeg", "-nostdin", "-v", "error", "-i", flv, "-f", "null", "-", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) decoder = g_subprocess_newv (decode, G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                                       | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_autofree char *errors = NULL;
  g_assert_true (g_subprocess_communicate_utf8 (decoder, NULL, NULL, NULL, &errors, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (errors, ==, "");
  g_assert_cmpint (g_subprocess_get_exit_status (decoder), ==, 0);
  RhTestProbe probe;
  g_assert_true (rh_test_probe (flv, &probe));
  g_assert_true (probe.first_video_is_key);
  g_assert_cmpuint (probe.video_frames, >, 30);
  rh_test_probe_clear (&probe);

  g_autofree char *log = rh_test_daemon_log (daemon);
  const char *stop = strstr (log, "c000001 play_stop live/stall");
  g_assert_nonnull (stop);
  const char *skips = strstr (stop, "skips=");
  g_assert_nonnull (skips);
  g_assert_cmpint (g_ascii_strtoll (skips + strlen ("skips="), NULL, 10), >=, 1);
  const char *dropped = strstr (stop, "dropped=");
  g_assert_cmpint (g_ascii_strtoll (dropped + strlen ("dropped="), NULL, 10), >, 0);
  rh_test_daemon_finish (daemon);
  rh_test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/e2e/fanout/two-hundred-identical", test_two_hundred_identical);
  g_test_add_func ("/e2e/fanout/stalled-player", test_stalled_player);
  return g_test_run ();
}
