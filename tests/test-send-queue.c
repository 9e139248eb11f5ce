#include "config.h"

#include <limits.h>

#include "protocol/chunk-writer.h"
#include "server/send-queue.h"

/* Drains the queue writing at most `step` bytes per round, as a socket
 * accepting partial writes would. */
static GByteArray *
drain (RhSendQueue *queue, gsize step)
{
  GByteArray *out = g_byte_array_new ();
  GOutputVector vectors[4];  /* few vectors: forces gather to stop mid-entry */
  while (rh_send_queue_get_length (queue) > 0)
    {
      guint n = rh_send_queue_gather (queue, vectors, G_N_ELEMENTS (vectors));
      gsize budget = step;
      gsize written = 0;
      for (guint i = 0; i < n && budget > 0; i++)
        {
          gsize take = MIN (budget, vectors[i].size);
          g_byte_array_append (out, vectors[i].buffer, (guint) take);
          budget -= take;
          written += take;
        }
      rh_send_queue_advance (queue, written);
    }
  return out;
}

static void
test_matches_writer (void)
{
  guint8 payload[10000];
  for (gsize i = 0; i < sizeof payload; i++)
    payload[i] = (guint8) (i * 13);
  g_autoptr (GBytes) big = g_bytes_new_static (payload, sizeof payload);
  g_autoptr (GBytes) small = g_bytes_new_static (payload, 3);
  g_autoptr (GBytes) raw = g_bytes_new_static ("RAW", 3);
  g_autoptr (GBytes) empty = g_bytes_new_static (payload, 0);

  g_autoptr (GByteArray) expected = g_byte_array_new ();
  g_byte_array_append (expected, (const guint8 *) "RAW", 3);
  rh_chunk_write_message (expected, 128, 7, 1000, 9, 1, payload, sizeof payload);
  rh_chunk_write_message (expected, 4096, 6, 0x1000000, 8, 1, payload, 3);
  rh_chunk_write_message (expected, 4096, 7, 0x1000001, 9, 1, payload, sizeof payload);
  rh_chunk_write_message (expected, 4096, 5, 0, 18, 1, payload, 0);

  static const gsize steps[] = { 1, 3, 128, 1000, 100000 };
  for (gsize s = 0; s < G_N_ELEMENTS (steps); s++)
    {
      RhSendQueue *queue = rh_send_queue_new ();
      rh_send_queue_push_raw (queue, raw, 0);
      rh_send_queue_push (queue, 7, 9, 1, 1000, big, 128, 0);
      rh_send_queue_push (queue, 6, 8, 1, 0x1000000, small, 4096, 0);
      rh_send_queue_push (queue, 7, 9, 1, 0x1000001, big, 4096, 0);
      rh_send_queue_push (queue, 5, 18, 1, 0, empty, 4096, 0);
      g_assert_cmpuint (rh_send_queue_get_bytes (queue), ==, expected->len);
      g_autoptr (GByteArray) out = drain (queue, steps[s]);
      g_assert_cmpmem (out->data, out->len, expected->data, expected->len);
      g_assert_cmpuint (rh_send_queue_get_bytes (queue), ==, 0);
      rh_send_queue_free (queue);
    }
}

/* Writes up to budget bytes from the queue into out. */
static void
consume (RhSendQueue *queue, GByteArray *out, gsize budget)
{
  GOutputVector vectors[8];
  guint n = rh_send_queue_gather (queue, vectors, G_N_ELEMENTS (vectors));
  gsize written = 0;
  for (guint i = 0; i < n && written < budget; i++)
    {
      gsize take = MIN (budget - written, vectors[i].size);
      g_byte_array_append (out, vectors[i].buffer, (guint) take);
      written += take;
    }
  rh_send_queue_advance (queue, written);
}

static void
test_ring_growth_keeps_order (void)
{
  RhSendQueue *queue = rh_send_queue_new ();
  g_autoptr (GByteArray) expected = g_byte_array_new ();
  g_autoptr (GByteArray) out = g_byte_array_new ();
  for (guint i = 0; i < 100; i++)
    {
      guint8 byte = (guint8) i;
      g_autoptr (GBytes) payload = g_bytes_new (&byte, 1);
      rh_send_queue_push (queue, 6, 8, 1, i, payload, 128, 0);
      rh_chunk_write_message (expected, 128, 6, i, 8, 1, &byte, 1);
      /* Consume some in between so the head wraps around the ring. */
      if (i % 10 == 9)
        consume (queue, out, 50);
    }
  while (rh_send_queue_get_length (queue) > 0)
    consume (queue, out, 7);
  g_assert_cmpmem (out->data, out->len, expected->data, expected->len);
  rh_send_queue_free (queue);
}

/* A merge window queues many messages: one gather fills exactly IOV_MAX
 * vectors (what one sendmsg takes), and draining in IOV_MAX-vector rounds
 * with partial writes at odd offsets gives the chunk writer's bytes. */
static void
test_iov_max_rounds (void)
{
  static guint8 payload[4096 * 3 + 17];
  for (gsize i = 0; i < sizeof payload; i++)
    payload[i] = (guint8) (i * 7);
  g_autoptr (GBytes) frame = g_bytes_new_static (payload, sizeof payload);
  g_autoptr (GByteArray) expected = g_byte_array_new ();
  RhSendQueue *queue = rh_send_queue_new ();
  /* Each message is 4 chunks: 8 vectors (header + slice); 300 of them. */
  for (guint i = 0; i < 300; i++)
    {
      rh_send_queue_push (queue, 6, 9, 1, i * 33, frame, 4096, 0);
      rh_chunk_write_message (expected, 4096, 6, i * 33, 9, 1, payload, sizeof payload);
    }
  static GOutputVector vectors[IOV_MAX];
  g_autoptr (GByteArray) out = g_byte_array_new ();
  guint round = 0;
  while (rh_send_queue_get_length (queue) > 0)
    {
      guint n = rh_send_queue_gather (queue, vectors, IOV_MAX);
      if (round == 0)
        g_assert_cmpuint (n, ==, IOV_MAX);
      g_assert_cmpuint (n, >, 0);
      /* The socket takes all but an odd tail of what was offered. */
      gsize offered = 0;
      for (guint i = 0; i < n; i++)
        offered += vectors[i].size;
      gsize take = offered > 1000 ? offered - 997 - round % 5 : offered;
      gsize left = take;
      for (guint i = 0; i < n && left > 0; i++)
        {
          gsize part = MIN (left, vectors[i].size);
          g_byte_array_append (out, vectors[i].buffer, (guint) part);
          left -= part;
        }
      rh_send_queue_advance (queue, take);
      round++;
    }
  g_assert_cmpuint (round, >, 2);
  g_assert_cmpmem (out->data, out->len, expected->data, expected->len);
  rh_send_queue_free (queue);
}

/* Replies and control (untimed) are counted apart from media, through
 * partial writes that end inside either kind. */
static void
test_untimed_bytes (void)
{
  guint8 payload[300] = { 0 };
  g_autoptr (GBytes) reply = g_bytes_new_static (payload, 6);
  g_autoptr (GBytes) media = g_bytes_new_static (payload, sizeof payload);
  RhSendQueue *queue = rh_send_queue_new ();
  rh_send_queue_push (queue, 2, 4, 0, 0, reply, 128, 0);
  rh_send_queue_push (queue, 6, 9, 1, 40, media, 128, 1);
  rh_send_queue_push_raw (queue, reply, 0);
  gsize reply_wire = 12 + 6;
  gsize all = rh_send_queue_get_bytes (queue);
  g_assert_cmpuint (rh_send_queue_get_untimed_bytes (queue), ==, reply_wire + 6);

  rh_send_queue_advance (queue, 5);
  g_assert_cmpuint (rh_send_queue_get_untimed_bytes (queue), ==, reply_wire + 6 - 5);
  /* Through the rest of the reply and into the media. */
  rh_send_queue_advance (queue, reply_wire - 5 + 100);
  g_assert_cmpuint (rh_send_queue_get_untimed_bytes (queue), ==, 6);
  rh_send_queue_advance (queue, all - reply_wire - 100 - 2);
  g_assert_cmpuint (rh_send_queue_get_untimed_bytes (queue), ==, 2);
  rh_send_queue_advance (queue, 2);
  g_assert_cmpuint (rh_send_queue_get_untimed_bytes (queue), ==, 0);
  g_assert_cmpuint (rh_send_queue_get_length (queue), ==, 0);
  rh_send_queue_free (queue);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/send-queue/matches-writer", test_matches_writer);
  g_test_add_func ("/send-queue/ring-growth", test_ring_growth_keeps_order);
  g_test_add_func ("/send-queue/iov-max-rounds", test_iov_max_rounds);
  g_test_add_func ("/send-queue/untimed-bytes", test_untimed_bytes);
  return g_test_run ();
}
