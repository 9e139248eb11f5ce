/* End to end: the real daemon, real encoders and players; assertions on
 * what the players wrote to disk, read back with ffprobe. */
#include "config.h"

#include <string.h>

#include "test-player.h"
#include "testutil.h"

typedef struct {
  RhTestDaemon *daemon;
  char *dir;
} Fixture;


static gboolean
player_has_frames (gpointer data)
{
  RhTestPlayer *player = data;
  return rh_test_player_video_messages (player) >= 45;
}

/* Returns once app/name has carried 45 video frames (past the second
 * keyframe at one every 30): a client that joins now joins mid-stream,
 * whatever the machine's speed. */
static void
wait_mid_stream (RhTestDaemon *daemon, const char *app, const char *name)
{
  RhTestPlayer *watcher = rh_test_player_new (daemon->port, app, name, 0, NULL);
  g_assert_true (rh_test_iterate_until (player_has_frames, watcher, 20000));
  rh_test_player_free (watcher);
}

static void
setup (Fixture *f, gconstpointer data)
{
  f->daemon = rh_test_daemon_start (data, NULL);
  f->dir = rh_test_make_dir ();
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (rh_test_daemon_stop (f->daemon), ==, 0);
  rh_test_daemon_free (f->daemon);
  rh_test_remove_tree (f->dir);
  g_free (f->dir);
}

static char *
path_in (Fixture *f, const char *name)
{
  return g_build_filename (f->dir, name, NULL);
}

static void
assert_probe (const char *path, const char *video, const char *audio, guint min_video,
              guint max_video, RhTestProbe *out)
{
  RhTestProbe probe;
  g_assert_true (rh_test_probe (path, &probe));
  g_test_message ("%s: %s %u frames %ux%u, %s %u frames, first video key=%d pts=%.3f", path,
                  probe.video_codec, probe.video_frames, probe.width, probe.height,
                  probe.audio_codec, probe.audio_frames, probe.first_video_is_key,
                  probe.first_video_pts);
  g_assert_cmpstr (probe.video_codec, ==, video);
  g_assert_cmpstr (probe.audio_codec, ==, audio);
  g_assert_cmpuint (probe.video_frames, >=, min_video);
  g_assert_cmpuint (probe.video_frames, <=, max_video);
  g_assert_cmpuint (probe.audio_frames, >, 0);
  /* Joining mid-stream, every player must start on a keyframe. */
  g_assert_true (probe.first_video_is_key);
  if (out != NULL)
    *out = probe;
  else
    rh_test_probe_clear (&probe);
}

/* ffmpeg publishes; ffmpeg, rtmpdump and GStreamer join a second later.
 * rtmpdump and GStreamer play until the publisher ends (UnpublishNotify),
 * so nothing here depends on how fast a client starts. */
static void
test_three_players (Fixture *f, gconstpointer data)
{
  g_autofree char *url = rh_test_daemon_url (f->daemon, "live/test");
  g_autofree char *ffmpeg_out = path_in (f, "ffmpeg.flv");
  g_autofree char *rtmpdump_out = path_in (f, "rtmpdump.flv");
  g_autofree char *gst_out = path_in (f, "gst.flv");
  g_autofree char *gst_location = g_strdup_printf ("location=%s", gst_out);
  g_autofree char *gst_source = g_strdup_printf ("location=%s", url);
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 7, "640x360", NULL, NULL);

  g_assert_true (rh_test_daemon_wait_log (f->daemon, "publish_start live/test", 10000));
  /* Join mid-stream: the GOP cache must start them on a keyframe. */
  wait_mid_stream (f->daemon, "live", "test");
  const char *const ffmpeg_argv[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-i", url, "-t", "3",
                                      "-c", "copy", "-y", ffmpeg_out, NULL };
  const char *const rtmpdump_argv[] = { "timeout", "60", "rtmpdump", "--live", "-q", "-r", url,
                                        "-o", rtmpdump_out, NULL };
  const char *const gst_argv[] = { "timeout", "60", "gst-launch-1.0", "-q", "-e",
                                   "rtmp2src", gst_source, "!", "filesink", gst_location, NULL };
  g_autoptr (GSubprocess) p1 = rh_test_spawn (ffmpeg_argv, NULL);
  g_autoptr (GSubprocess) p2 = rh_test_spawn (rtmpdump_argv, NULL);
  g_autoptr (GSubprocess) p3 = rh_test_spawn (gst_argv, NULL);
  g_assert_cmpint (rh_test_wait (publisher, 60000), ==, 0);
  g_assert_cmpint (rh_test_wait (p1, 60000), ==, 0);
  g_assert_cmpint (rh_test_wait (p2, 60000), !=, 124);  /* ended at unpublish, not by timeout */
  g_assert_cmpint (rh_test_wait (p3, 60000), ==, 0);

  /* -t 3 at 30 fps: exactly 90 frames; the others from their join (at
   * least 3 s before the end of the 7 s stream) to the end. */
  assert_probe (ffmpeg_out, "h264", "aac", 90, 90, NULL);
  assert_probe (rtmpdump_out, "h264", "aac", 90, 240, NULL);
  assert_probe (gst_out, "h264", "aac", 90, 240, NULL);
  RhTestProbe probe;
  g_assert_true (rh_test_probe (ffmpeg_out, &probe));
  g_assert_cmpuint (probe.width, ==, 640);
  g_assert_cmpuint (probe.height, ==, 360);
  rh_test_probe_clear (&probe);
}

/* GStreamer publishes (x264enc's High 4:4:4, voaacenc); ffmpeg plays. */
static void
test_gstreamer_publish (Fixture *f, gconstpointer data)
{
  g_autofree char *url = rh_test_daemon_url (f->daemon, "live/gst");
  g_autofree char *sink = g_strdup_printf ("location=%s", url);
  g_autofree char *out = path_in (f, "from-gst.flv");
  const char *const gst_argv[] = {
    "gst-launch-1.0", "-q", "-e", "videotestsrc", "is-live=true", "num-buffers=180", "!",
    "video/x-raw,width=640,height=360,framerate=30/1", "!", "x264enc", "tune=zerolatency",
    "key-int-max=30", "speed-preset=veryfast", "!", "h264parse", "!", "flvmux", "name=m",
    "streamable=true", "!", "rtmp2sink", sink, "audiotestsrc", "is-live=true", "num-buffers=258",
    "!", "audioconvert", "!", "audioresample", "!", "audio/x-raw,rate=44100,channels=2", "!",
    "voaacenc", "bitrate=128000", "!", "aacparse", "!", "m.", NULL
  };
  g_autoptr (GSubprocess) publisher = rh_test_spawn (gst_argv, NULL);
  g_assert_true (rh_test_daemon_wait_log (f->daemon, "publish_start live/gst", 10000));
  wait_mid_stream (f->daemon, "live", "gst");
  const char *const ffmpeg_argv[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-i", url, "-t", "2",
                                      "-c", "copy", "-y", out, NULL };
  g_autoptr (GSubprocess) player = rh_test_spawn (ffmpeg_argv, NULL);
  g_assert_cmpint (rh_test_wait (player, 20000), ==, 0);
  g_assert_cmpint (rh_test_wait (publisher, 30000), ==, 0);

  RhTestProbe probe;
  assert_probe (out, "h264", "aac", 60, 60, &probe);
  g_assert_cmpstr (probe.video_profile, ==, "High 4:4:4 Predictive");
  rh_test_probe_clear (&probe);
  g_assert_true (rh_test_daemon_wait_log (f->daemon, "publish_stop live/gst reason=unpublish", 5000));
}

/* A second publisher on a live key is refused; the first goes on. */
static void
test_duplicate_publish (Fixture *f, gconstpointer data)
{
  g_autofree char *url = rh_test_daemon_url (f->daemon, "live/dup");
  g_autofree char *out = path_in (f, "dup.flv");
  g_autofree char *second_log = path_in (f, "second.log");
  g_autoptr (GSubprocess) first = rh_test_publish_ffmpeg (url, 7, "320x180", NULL, NULL);
  g_assert_true (rh_test_daemon_wait_log (f->daemon, "publish_start live/dup", 10000));
  const char *const player_argv[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-i", url, "-t", "4",
                                      "-c", "copy", "-y", out, NULL };
  g_autoptr (GSubprocess) player = rh_test_spawn (player_argv, NULL);
  g_assert_true (rh_test_daemon_wait_log (f->daemon, "play_start live/dup", 10000));
  g_autoptr (GSubprocess) second = rh_test_publish_ffmpeg (url, 3, "320x180", NULL, second_log);
  g_assert_cmpint (rh_test_wait (second, 15000), !=, 0);
  g_assert_true (rh_test_daemon_wait_log (f->daemon, "live/dup is already being published", 1000));
  g_assert_cmpint (rh_test_wait (player, 20000), ==, 0);
  g_assert_cmpint (rh_test_wait (first, 20000), ==, 0);
  assert_probe (out, "h264", "aac", 120, 120, NULL);

  g_autofree char *log = rh_test_daemon_log (f->daemon);
  g_assert_nonnull (strstr (log, "closed: rejected (live/dup is already being published)"));
  /* The first publisher was never interrupted: one publish_stop, at its end. */
  g_assert_cmpuint (rh_test_count (log, "publish_stop live/dup"), ==, 1);
  g_assert_cmpuint (rh_test_count (log, "publish_stop live/dup reason=unpublish"), ==, 1);
}

/* Timestamps past 0xFFFFFF ms: extended timestamps on every chunk. */
static void
test_extended_timestamps (Fixture *f, gconstpointer data)
{
  g_autofree char *url = rh_test_daemon_url (f->daemon, "live/late");
  g_autofree char *out = path_in (f, "late.flv");
  g_autofree char *rd_out = path_in (f, "late-rtmpdump.flv");
  /* Players wait for the stream, so they see the 0xFFFFFF crossing, and
   * end by themselves at unpublish. */
  const char *const player_argv[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-i", url,
                                      "-copyts", "-c", "copy", "-y", out, NULL };
  const char *const rtmpdump_argv[] = { "timeout", "20", "rtmpdump", "--live", "-q", "-r", url,
                                        "-o", rd_out, NULL };
  g_autoptr (GSubprocess) player = rh_test_spawn (player_argv, NULL);
  g_autoptr (GSubprocess) rtmpdump = rh_test_spawn (rtmpdump_argv, NULL);
  g_assert_true (rh_test_daemon_wait_log_count (f->daemon, "(waiting for a publisher)", 2, 30000));
  const char *const offset[] = { "-output_ts_offset", "16777", NULL };
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 5, "640x360", offset, NULL);
  g_assert_cmpint (rh_test_wait (publisher, 20000), ==, 0);
  g_assert_cmpint (rh_test_wait (player, 20000), ==, 0);
  g_assert_cmpint (rh_test_wait (rtmpdump, 20000), !=, 124);

  /* 5 s at 30 fps, every frame, with the original timestamps. */
  RhTestProbe probe;
  assert_probe (out, "h264", "aac", 150, 150, &probe);
  g_assert_cmpfloat (probe.first_video_pts, >=, 16776.9);
  g_assert_cmpfloat (probe.first_video_pts, <, 16777.5);
  rh_test_probe_clear (&probe);
  assert_probe (rd_out, "h264", "aac", 150, 150, NULL);
}

/* 20 players waiting before the publisher starts each get every frame. */
static void
test_twenty_players (Fixture *f, gconstpointer data)
{
  enum { N_PLAYERS = 20 };
  g_autofree char *url = rh_test_daemon_url (f->daemon, "live/many");
  GSubprocess *players[N_PLAYERS];
  char *outputs[N_PLAYERS];

  for (int i = 0; i < N_PLAYERS; i++)
    {
      g_autofree char *name = g_strdup_printf ("player-%02d.flv", i);
      outputs[i] = path_in (f, name);
      const char *const argv[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-i", url,
                                   "-c", "copy", "-y", outputs[i], NULL };
      players[i] = rh_test_spawn (argv, NULL);
    }
  g_assert_true (rh_test_daemon_wait_log_count (f->daemon, "(waiting for a publisher)", N_PLAYERS, 60000));
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 4, "320x180", NULL, NULL);
  g_assert_cmpint (rh_test_wait (publisher, 20000), ==, 0);

  guint audio_frames = 0;
  for (int i = 0; i < N_PLAYERS; i++)
    {
      /* Unpublish ends every player (StreamEOF + UnpublishNotify). */
      g_assert_cmpint (rh_test_wait (players[i], 15000), ==, 0);
      RhTestProbe probe;
      assert_probe (outputs[i], "h264", "aac", 120, 120, &probe);
      if (i == 0)
        audio_frames = probe.audio_frames;
      g_assert_cmpuint (probe.audio_frames, ==, audio_frames);
      rh_test_probe_clear (&probe);
      g_object_unref (players[i]);
      g_free (outputs[i]);
    }
  g_assert_cmpuint (audio_frames, >=, 170);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/e2e/three-players", Fixture, NULL, setup, test_three_players, teardown);
  g_test_add ("/e2e/gstreamer-publish", Fixture, NULL, setup, test_gstreamer_publish, teardown);
  g_test_add ("/e2e/duplicate-publish", Fixture, NULL, setup, test_duplicate_publish, teardown);
  g_test_add ("/e2e/extended-timestamps", Fixture, NULL, setup, test_extended_timestamps, teardown);
  g_test_add ("/e2e/twenty-players", Fixture, NULL, setup, test_twenty_players, teardown);
  return g_test_run ();
}
