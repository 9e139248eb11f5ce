/* A track's bitrate and frame rate from its packets' timestamps. */
#include "config.h"

#include "server/track-rate.h"

/* 25 frames of 1000 bytes a second: 200 kbit/s, 25 fps, once a whole
 * second has passed and not before. */
static void
test_steady (void)
{
  RhTrackRate rate;
  rh_track_rate_reset (&rate);
  double bits = 0, frames = 0;
  for (guint32 t = 0; t < 1000; t += 40)
    rh_track_rate_add (&rate, t, 1000);
  g_assert_false (rh_track_rate_read (&rate, &bits, &frames));
  for (guint32 t = 1000; t < 10000; t += 40)
    rh_track_rate_add (&rate, t, 1000);
  g_assert_true (rh_track_rate_read (&rate, &bits, &frames));
  g_assert_cmpfloat (bits, ==, 200000);
  g_assert_cmpfloat (frames, ==, 25);
}

/* The window follows the stream: a rate change shows within the window,
 * and only the last seconds count. */
static void
test_follows_changes (void)
{
  RhTrackRate rate;
  rh_track_rate_reset (&rate);
  double bits = 0, frames = 0;
  for (guint32 t = 0; t < 20000; t += 40)
    rh_track_rate_add (&rate, t, 1000);
  for (guint32 t = 20000; t < 30000; t += 20)
    rh_track_rate_add (&rate, t, 500);
  g_assert_true (rh_track_rate_read (&rate, &bits, &frames));
  g_assert_cmpfloat (bits, ==, 200000);
  g_assert_cmpfloat (frames, ==, 50);
}

/* Timestamps that jump ahead by a minute, or back: counting starts again
 * from the new second rather than mixing old slots in. */
static void
test_jumps (void)
{
  RhTrackRate rate;
  rh_track_rate_reset (&rate);
  double bits = 0, frames = 0;
  for (guint32 t = 0; t < 10000; t += 40)
    rh_track_rate_add (&rate, t, 1000);
  for (guint32 t = 70000; t < 72000; t += 100)
    rh_track_rate_add (&rate, t, 100);
  g_assert_true (rh_track_rate_read (&rate, &bits, &frames));
  g_assert_cmpfloat (frames, ==, 10);
  g_assert_cmpfloat (bits, ==, 8000);
  for (guint32 t = 5000; t < 7000; t += 50)
    rh_track_rate_add (&rate, t, 100);
  g_assert_true (rh_track_rate_read (&rate, &bits, &frames));
  g_assert_cmpfloat (frames, ==, 20);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/track-rate/steady", test_steady);
  g_test_add_func ("/track-rate/follows-changes", test_follows_changes);
  g_test_add_func ("/track-rate/jumps", test_jumps);
  return g_test_run ();
}
