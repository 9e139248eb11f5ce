/* The fan-out's pure parts: wire bytes built once and shared, and the
 * slow-player policy. */
#include "config.h"

#include "protocol/chunk-writer.h"
#include "protocol/message.h"
#include "server/send-queue.h"
#include "server/slow-player.h"
#include "server/wire-cache.h"

static GBytes *
make_payload (gsize len)
{
  guint8 *data = g_malloc (len);
  for (gsize i = 0; i < len; i++)
    data[i] = (guint8) (i * 31 + 7);
  return g_bytes_new_take (data, len);
}

/* The shared buffer is byte for byte what the chunk writer produces, for
 * sizes around chunk boundaries and extended timestamps. */
static void
test_wire_matches_writer (void)
{
  static const gsize lengths[] = { 0, 1, 127, 128, 129, 4095, 4096, 4097, 100000 };
  static const guint32 chunk_sizes[] = { 128, 4096, 60000 };
  static const guint32 timestamps[] = { 0, 0xFFFFFE, 0xFFFFFF, 0x12345678 };
  for (gsize l = 0; l < G_N_ELEMENTS (lengths); l++)
    for (gsize c = 0; c < G_N_ELEMENTS (chunk_sizes); c++)
      for (gsize t = 0; t < G_N_ELEMENTS (timestamps); t++)
        {
          g_autoptr (GBytes) payload = make_payload (lengths[l]);
          g_autoptr (GByteArray) expected = g_byte_array_new ();
          rh_chunk_write_message (expected, chunk_sizes[c], RH_CSID_VIDEO, timestamps[t],
                                  RH_MSG_VIDEO, 1, g_bytes_get_data (payload, NULL), lengths[l]);
          RhWireCache cache;
          rh_wire_cache_init (&cache, RH_CSID_VIDEO, RH_MSG_VIDEO, timestamps[t], payload);
          GBytes *wire = rh_wire_cache_get (&cache, chunk_sizes[c], 1);
          gsize len;
          const guint8 *data = g_bytes_get_data (wire, &len);
          g_assert_cmpmem (data, len, expected->data, expected->len);
          rh_wire_cache_clear (&cache);
        }
}

/* Players with the same parameters get the same buffer; other parameters
 * get their own, up to the variant cap, then NULL (per-player chunking). */
static void
test_wire_shared_per_parameters (void)
{
  g_autoptr (GBytes) payload = make_payload (10000);
  RhWireCache cache;
  rh_wire_cache_init (&cache, RH_CSID_AUDIO, RH_MSG_AUDIO, 40, payload);

  GBytes *a = rh_wire_cache_get (&cache, 4096, 1);
  g_assert_true (rh_wire_cache_get (&cache, 4096, 1) == a);
  GBytes *b = rh_wire_cache_get (&cache, 4096, 2);
  GBytes *c = rh_wire_cache_get (&cache, 128, 1);
  g_assert_true (a != b && a != c && b != c);
  g_assert_cmpuint (g_bytes_get_size (c), >, g_bytes_get_size (a));  /* more chunk headers */
  g_assert_nonnull (rh_wire_cache_get (&cache, 128, 2));
  g_assert_null (rh_wire_cache_get (&cache, 60000, 1));
  g_assert_true (rh_wire_cache_get (&cache, 4096, 1) == a);

  /* A player's queue holds a reference that outlives the cache. */
  RhSendQueue *queue = rh_send_queue_new ();
  rh_send_queue_push_raw (queue, a, 1);
  rh_wire_cache_clear (&cache);
  GOutputVector vectors[4];
  g_assert_cmpuint (rh_send_queue_gather (queue, vectors, 4), ==, 1);  /* one vector */
  g_autoptr (GByteArray) expected = g_byte_array_new ();
  rh_chunk_write_message (expected, 4096, RH_CSID_AUDIO, 40, RH_MSG_AUDIO, 1,
                          g_bytes_get_data (payload, NULL), 10000);
  g_assert_cmpmem (vectors[0].buffer, vectors[0].size, expected->data, expected->len);
  rh_send_queue_free (queue);
}

/* The oldest timed entry is what the time limit looks at; untimed control
 * messages in front of it are passed over, and written entries leave. */
static void
test_queue_oldest_timed_entry (void)
{
  g_autoptr (GBytes) control = g_bytes_new_static ("CTRL", 4);
  g_autoptr (GBytes) media = g_bytes_new_static ("MEDIA", 5);
  RhSendQueue *queue = rh_send_queue_new ();
  g_assert_cmpint (rh_send_queue_get_oldest_queued_at (queue), ==, 0);
  rh_send_queue_push_raw (queue, control, 0);
  g_assert_cmpint (rh_send_queue_get_oldest_queued_at (queue), ==, 0);
  rh_send_queue_push_raw (queue, media, 1000);
  rh_send_queue_push_raw (queue, media, 2000);
  g_assert_cmpint (rh_send_queue_get_oldest_queued_at (queue), ==, 1000);
  rh_send_queue_advance (queue, 4 + 3);  /* the control and part of the first media */
  g_assert_cmpint (rh_send_queue_get_oldest_queued_at (queue), ==, 1000);
  rh_send_queue_advance (queue, 2);
  g_assert_cmpint (rh_send_queue_get_oldest_queued_at (queue), ==, 2000);
  rh_send_queue_advance (queue, 5);
  g_assert_cmpint (rh_send_queue_get_oldest_queued_at (queue), ==, 0);
  rh_send_queue_free (queue);
}

static const RhSlowPlayerLimits limits = {
  .queue_soft_limit = 1000,
  .queue_hard_limit = 5000,
  .max_delay = 2 * G_USEC_PER_SEC,
  .behind_timeout = 10 * G_USEC_PER_SEC,
};

#define S G_USEC_PER_SEC

/* Over the byte limit: frames are skipped until a keyframe finds the queue
 * back under it; sequence headers pass throughout. */
static void
test_slow_player_skips_to_keyframe_on_bytes (void)
{
  RhPlayerPacing pacing = { 0 };
  gint64 now = 100 * S;
  g_assert_cmpint (rh_slow_player_judge (&pacing, &limits, 500, now, now, 0), ==, RH_PLAYER_SEND);
  g_assert_cmpint (rh_slow_player_judge (&pacing, &limits, 1500, now, now, 0), ==, RH_PLAYER_DROP);
  g_assert_true (pacing.skipping);
  g_assert_cmpuint (pacing.skips, ==, 1);
  /* Still over at a keyframe: skipped too. */
  g_assert_cmpint (rh_slow_player_judge (&pacing, &limits, 1500, now, now, RH_MEDIA_KEYFRAME), ==,
                   RH_PLAYER_DROP);
  g_assert_cmpint (rh_slow_player_judge (&pacing, &limits, 1500, now, now, RH_MEDIA_SEQUENCE_HEADER),
                   ==, RH_PLAYER_SEND);
  /* Under the limit but not at a keyframe: still skipping. */
  g_assert_cmpint (rh_slow_player_judge (&pacing, &limits, 100, now, now, 0), ==, RH_PLAYER_DROP);
  g_assert_cmpint (rh_slow_player_judge (&pacing, &limits, 100, now, now, RH_MEDIA_KEYFRAME), ==,
                   RH_PLAYER_SEND);
  g_assert_false (pacing.skipping);
  g_assert_cmpuint (pacing.dropped, ==, 3);
  g_assert_cmpuint (pacing.skip_dropped, ==, 3);
  g_assert_cmpint (rh_slow_player_judge (&pacing, &limits, 100, now, now, 0), ==, RH_PLAYER_SEND);
  g_assert_cmpuint (pacing.skips, ==, 1);
}

/* Few bytes but old: the time limit starts a skip too. */
static void
test_slow_player_skips_on_delay (void)
{
  RhPlayerPacing pacing = { 0 };
  gint64 queued_at = 100 * S;
  g_assert_cmpint (rh_slow_player_judge (&pacing, &limits, 10, queued_at, queued_at + 2 * S, 0), ==,
                   RH_PLAYER_SEND);
  g_assert_cmpint (rh_slow_player_judge (&pacing, &limits, 10, queued_at, queued_at + 2 * S + 1, 0),
                   ==, RH_PLAYER_DROP);
  g_assert_cmpuint (pacing.skips, ==, 1);
  /* The queue drained (nothing timed left): the next keyframe resumes. */
  g_assert_cmpint (rh_slow_player_judge (&pacing, &limits, 0, 0, queued_at + 3 * S, RH_MEDIA_KEYFRAME),
                   ==, RH_PLAYER_SEND);
  g_assert_false (pacing.skipping);
  g_assert_cmpint (pacing.behind_since, ==, 0);
}

/* Behind without a break for behind_timeout: closed. A break resets it. */
static void
test_slow_player_closed_when_it_stays_behind (void)
{
  RhPlayerPacing pacing = { 0 };
  gint64 t0 = 100 * S;
  g_assert_cmpint (rh_slow_player_judge (&pacing, &limits, 2000, 0, t0, 0), ==, RH_PLAYER_DROP);
  g_assert_cmpint (rh_slow_player_judge (&pacing, &limits, 2000, 0, t0 + 9 * S, 0), ==, RH_PLAYER_DROP);
  /* A moment under the limits restarts the clock. */
  g_assert_cmpint (rh_slow_player_judge (&pacing, &limits, 10, 0, t0 + 9 * S, 0), ==, RH_PLAYER_DROP);
  g_assert_cmpint (rh_slow_player_judge (&pacing, &limits, 2000, 0, t0 + 15 * S, 0), ==, RH_PLAYER_DROP);
  g_assert_cmpint (rh_slow_player_judge (&pacing, &limits, 2000, 0, t0 + 25 * S, 0), ==,
                   RH_PLAYER_DROP);
  g_assert_cmpint (rh_slow_player_judge (&pacing, &limits, 2000, 0, t0 + 25 * S + 1, 0), ==,
                   RH_PLAYER_CLOSE_BEHIND);
}

static void
test_slow_player_hard_limit (void)
{
  RhPlayerPacing pacing = { 0 };
  g_assert_cmpint (rh_slow_player_judge (&pacing, &limits, 5000, 0, S, RH_MEDIA_SEQUENCE_HEADER), ==,
                   RH_PLAYER_SEND);
  g_assert_cmpint (rh_slow_player_judge (&pacing, &limits, 5001, 0, S, RH_MEDIA_SEQUENCE_HEADER), ==,
                   RH_PLAYER_CLOSE_QUEUE_FULL);
}

/* After an unpause the player waits for a keyframe even when not behind. */
static void
test_slow_player_skip_to_keyframe (void)
{
  RhPlayerPacing pacing = { 0 };
  rh_slow_player_skip_to_keyframe (&pacing);
  g_assert_cmpint (rh_slow_player_judge (&pacing, &limits, 0, 0, S, 0), ==, RH_PLAYER_DROP);
  g_assert_cmpint (rh_slow_player_judge (&pacing, &limits, 0, 0, S, RH_MEDIA_KEYFRAME), ==,
                   RH_PLAYER_SEND);
  g_assert_cmpuint (pacing.skips, ==, 0);  /* not a fall behind */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fanout/wire-matches-writer", test_wire_matches_writer);
  g_test_add_func ("/fanout/wire-shared-per-parameters", test_wire_shared_per_parameters);
  g_test_add_func ("/fanout/queue-oldest-timed-entry", test_queue_oldest_timed_entry);
  g_test_add_func ("/fanout/slow-player-skips-to-keyframe", test_slow_player_skips_to_keyframe_on_bytes);
  g_test_add_func ("/fanout/slow-player-skips-on-delay", test_slow_player_skips_on_delay);
  g_test_add_func ("/fanout/slow-player-closed-when-behind", test_slow_player_closed_when_it_stays_behind);
  g_test_add_func ("/fanout/slow-player-hard-limit", test_slow_player_hard_limit);
  g_test_add_func ("/fanout/slow-player-skip-to-keyframe", test_slow_player_skip_to_keyframe);
  return g_test_run ();
}
