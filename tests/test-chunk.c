#include "config.h"

#include <string.h>

#include "protocol/chunk-reader.h"
#include "protocol/chunk-writer.h"
#include "protocol/command.h"

typedef struct {
  guint32 csid;
  guint8 type;
  guint32 stream_id;
  guint32 timestamp;
  GBytes *payload;
} Expected;

static void
expected_clear (gpointer data)
{
  Expected *e = data;
  g_bytes_unref (e->payload);
}

static gboolean
collect (const RhMessage *message, gpointer user_data)
{
  GArray *got = user_data;
  Expected e = { message->csid, message->type, message->stream_id, message->timestamp,
                 g_bytes_ref (message->payload) };
  g_array_append_val (got, e);
  return TRUE;
}

static GArray *
new_list (void)
{
  GArray *list = g_array_new (FALSE, FALSE, sizeof (Expected));
  g_array_set_clear_func (list, expected_clear);
  return list;
}

static GBytes *
pattern (gsize len, guint8 seed)
{
  guint8 *data = g_malloc (len);
  for (gsize i = 0; i < len; i++)
    data[i] = (guint8) (seed + i * 7);
  return g_bytes_new_take (data, len);
}

static void
add (GArray *list, GByteArray *wire, guint32 *chunk_size, guint32 csid, guint8 type,
     guint32 stream_id, guint32 timestamp, GBytes *payload)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (payload, &len);
  rh_chunk_write_message (wire, *chunk_size, csid, timestamp, type, stream_id, data, len);
  Expected e = { csid, type, stream_id, timestamp, payload };
  g_array_append_val (list, e);
  if (type == RH_MSG_SET_CHUNK_SIZE)
    *chunk_size = rh_read_u32_be (data);
}

static void
assert_same (GArray *got, GArray *expected)
{
  g_assert_cmpuint (got->len, ==, expected->len);
  for (guint i = 0; i < got->len; i++)
    {
      Expected *a = &g_array_index (got, Expected, i);
      Expected *b = &g_array_index (expected, Expected, i);
      g_assert_cmpuint (a->csid, ==, b->csid);
      g_assert_cmpuint (a->type, ==, b->type);
      g_assert_cmpuint (a->stream_id, ==, b->stream_id);
      g_assert_cmpuint (a->timestamp, ==, b->timestamp);
      g_assert_true (g_bytes_equal (a->payload, b->payload));
    }
}

/* A stream exercising chunk sizes, csid widths and extended timestamps. */
static GByteArray *
build_stream (GArray *expected)
{
  GByteArray *wire = g_byte_array_new ();
  guint32 chunk_size = RH_CHUNK_DEFAULT_SIZE;

  add (expected, wire, &chunk_size, 3, RH_MSG_COMMAND_AMF0, 0, 0, pattern (300, 1));
  add (expected, wire, &chunk_size, 6, RH_MSG_AUDIO, 1, 23, pattern (50, 2));
  add (expected, wire, &chunk_size, 7, RH_MSG_VIDEO, 1, 0x1000000, pattern (1000, 3));
  add (expected, wire, &chunk_size, 2, RH_MSG_SET_CHUNK_SIZE, 0, 0, rh_control_u32 (4096));
  add (expected, wire, &chunk_size, 7, RH_MSG_VIDEO, 1, 0x1000021, pattern (9000, 4));
  add (expected, wire, &chunk_size, 100, RH_MSG_DATA_AMF0, 1, 40, pattern (10, 5));
  add (expected, wire, &chunk_size, 400, RH_MSG_AUDIO, 1, 41, pattern (5000, 6));
  add (expected, wire, &chunk_size, 65599, RH_MSG_AUDIO, 1, 42, pattern (1, 7));
  add (expected, wire, &chunk_size, 2, RH_MSG_SET_CHUNK_SIZE, 0, 0, rh_control_u32 (100));
  add (expected, wire, &chunk_size, 7, RH_MSG_VIDEO, 1, 0xFFFFFFFF, pattern (333, 8));
  return wire;
}

static void
test_split_everywhere (void)
{
  g_autoptr (GArray) expected = new_list ();
  g_autoptr (GByteArray) wire = build_stream (expected);

  /* Two feeds split at every byte boundary. */
  for (gsize split = 0; split <= wire->len; split++)
    {
      g_autoptr (GArray) got = new_list ();
      g_autoptr (RhChunkReader) reader = rh_chunk_reader_new (1024 * 1024);
      g_autoptr (GError) error = NULL;
      g_assert_true (rh_chunk_reader_feed (reader, wire->data, split, collect, got, &error));
      g_assert_true (rh_chunk_reader_feed (reader, wire->data + split, wire->len - split, collect,
                                           got, &error));
      g_assert_no_error (error);
      assert_same (got, expected);
    }

  /* And one byte at a time. */
  g_autoptr (GArray) got = new_list ();
  g_autoptr (RhChunkReader) reader = rh_chunk_reader_new (1024 * 1024);
  for (gsize i = 0; i < wire->len; i++)
    g_assert_true (rh_chunk_reader_feed (reader, wire->data + i, 1, collect, got, NULL));
  assert_same (got, expected);
  g_assert_cmpuint (rh_chunk_reader_get_chunk_size (reader), ==, 100);
}

static GArray *
feed_all (const guint8 *data, gsize len, gsize max_message, GError **error)
{
  GArray *got = new_list ();
  g_autoptr (RhChunkReader) reader = rh_chunk_reader_new (max_message);
  rh_chunk_reader_feed (reader, data, len, collect, got, error);
  return got;
}

static void
test_header_types (void)
{
  /* csid 4: type 0 (ts 100), type 1 (+10, new length/type), type 2 (+5),
   * type 3 starting a new message (+5 again). */
  static const guint8 wire[] = {
    0x04, 0, 0, 100, 0, 0, 3, 8, 1, 0, 0, 0, 'a', 'b', 'c',
    0x44, 0, 0, 10, 0, 0, 2, 9, 'd', 'e',
    0x84, 0, 0, 5, 'f', 'g',
    0xC4, 'h', 'i',
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) got = feed_all (wire, sizeof wire, 1024, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (got->len, ==, 4);
  static const guint32 timestamps[] = { 100, 110, 115, 120 };
  static const guint8 types[] = { 8, 9, 9, 9 };
  for (guint i = 0; i < 4; i++)
    {
      Expected *e = &g_array_index (got, Expected, i);
      g_assert_cmpuint (e->timestamp, ==, timestamps[i]);
      g_assert_cmpuint (e->type, ==, types[i]);
      g_assert_cmpuint (e->stream_id, ==, 1);
    }
  g_assert_cmpmem (g_bytes_get_data (g_array_index (got, Expected, 3).payload, NULL), 2, "hi", 2);

  /* A type 3 right after a type 0 reuses the type 0 timestamp as delta. */
  static const guint8 after_type0[] = {
    0x05, 0, 0, 40, 0, 0, 1, 8, 1, 0, 0, 0, 'x',
    0xC5, 'y',
  };
  g_autoptr (GArray) got2 = feed_all (after_type0, sizeof after_type0, 1024, NULL);
  g_assert_cmpuint (got2->len, ==, 2);
  g_assert_cmpuint (g_array_index (got2, Expected, 1).timestamp, ==, 80);
}

static void
test_interleaved (void)
{
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  g_autoptr (GBytes) a = pattern (200, 10);
  g_autoptr (GBytes) b = pattern (200, 20);
  const guint8 *pa = g_bytes_get_data (a, NULL);
  const guint8 *pb = g_bytes_get_data (b, NULL);
  guint8 header[RH_CHUNK_HEADER_MAX];
  guint8 cont[] = { 0xC4 }, cont_b[] = { 0xC5 };

  gsize n = rh_chunk_write_header (header, 4, 10, 200, 9, 1);
  g_byte_array_append (wire, header, (guint) n);
  g_byte_array_append (wire, pa, 128);
  n = rh_chunk_write_header (header, 5, 11, 200, 8, 1);
  g_byte_array_append (wire, header, (guint) n);
  g_byte_array_append (wire, pb, 128);
  g_byte_array_append (wire, cont, 1);
  g_byte_array_append (wire, pa + 128, 72);
  g_byte_array_append (wire, cont_b, 1);
  g_byte_array_append (wire, pb + 128, 72);

  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) got = feed_all (wire->data, wire->len, 1024, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (got->len, ==, 2);
  g_assert_true (g_bytes_equal (g_array_index (got, Expected, 0).payload, a));
  g_assert_true (g_bytes_equal (g_array_index (got, Expected, 1).payload, b));
}

static void
test_extended_timestamp_tolerant (void)
{
  /* Old OBS: type 0 with an extended timestamp, but the type 3
   * continuation does not repeat it. */
  g_autoptr (GBytes) payload = pattern (200, 30);
  const guint8 *p = g_bytes_get_data (payload, NULL);
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  guint8 header[RH_CHUNK_HEADER_MAX];
  guint8 cont = 0xC6;
  gsize n = rh_chunk_write_header (header, 6, 0x01234567, 200, 9, 1);
  g_byte_array_append (wire, header, (guint) n);
  g_byte_array_append (wire, p, 128);
  g_byte_array_append (wire, &cont, 1);
  g_byte_array_append (wire, p + 128, 72);

  for (gsize split = 0; split <= wire->len; split++)
    {
      g_autoptr (GArray) got = new_list ();
      g_autoptr (RhChunkReader) reader = rh_chunk_reader_new (1024);
      g_assert_true (rh_chunk_reader_feed (reader, wire->data, split, collect, got, NULL));
      g_assert_true (rh_chunk_reader_feed (reader, wire->data + split, wire->len - split, collect, got, NULL));
      g_assert_cmpuint (got->len, ==, 1);
      g_assert_cmpuint (g_array_index (got, Expected, 0).timestamp, ==, 0x01234567);
      g_assert_true (g_bytes_equal (g_array_index (got, Expected, 0).payload, payload));
    }

  /* The writer repeats it on every continuation (what ffmpeg expects). */
  g_autoptr (GByteArray) written = g_byte_array_new ();
  rh_chunk_write_message (written, 128, 6, 0x01234567, 9, 1, p, 200);
  g_assert_cmpuint (written->len, ==, 1 + 11 + 4 + 128 + 1 + 4 + 72);
  g_assert_cmpmem (written->data + 1 + 11 + 4 + 128 + 1, 4, "\x01\x23\x45\x67", 4);
}

static void
test_errors (void)
{
  g_autoptr (GError) error = NULL;

  /* A header announcing a 16 MB message, over a 1 MB limit. */
  static const guint8 huge[] = { 0x04, 0, 0, 0, 0xff, 0xff, 0xff, 9, 1, 0, 0, 0 };
  g_autoptr (GArray) got G_GNUC_UNUSED = feed_all (huge, sizeof huge, 1024 * 1024, &error);
  g_assert_error (error, RH_CHUNK_ERROR, RH_CHUNK_ERROR_MESSAGE_TOO_LARGE);
  g_clear_error (&error);

  /* Type 1 on a chunk stream that never had a type 0. */
  static const guint8 orphan[] = { 0x44, 0, 0, 10, 0, 0, 2, 9, 'd', 'e' };
  g_autoptr (GArray) got2 G_GNUC_UNUSED = feed_all (orphan, sizeof orphan, 1024, &error);
  g_assert_error (error, RH_CHUNK_ERROR, RH_CHUNK_ERROR_NO_PREVIOUS_HEADER);
  g_clear_error (&error);

  /* Set Chunk Size 0. */
  static const guint8 zero_size[] = { 0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0 };
  g_autoptr (GArray) got3 G_GNUC_UNUSED = feed_all (zero_size, sizeof zero_size, 1024, &error);
  g_assert_error (error, RH_CHUNK_ERROR, RH_CHUNK_ERROR_BAD_CHUNK_SIZE);
  g_clear_error (&error);

  /* Too many chunk streams. */
  g_autoptr (GByteArray) many = g_byte_array_new ();
  for (guint csid = 3; csid < 3 + RH_CHUNK_MAX_STREAMS + 1; csid++)
    {
      guint8 header[RH_CHUNK_HEADER_MAX];
      guint8 first_chunk[RH_CHUNK_DEFAULT_SIZE] = { 0 };
      gsize n = rh_chunk_write_header (header, csid, 0, 200, 9, 1);
      g_byte_array_append (many, header, (guint) n);
      /* One chunk of each: the messages stay partial. */
      g_byte_array_append (many, first_chunk, sizeof first_chunk);
    }
  g_autoptr (GArray) got4 G_GNUC_UNUSED = feed_all (many->data, many->len, 1024, &error);
  g_assert_error (error, RH_CHUNK_ERROR, RH_CHUNK_ERROR_TOO_MANY_STREAMS);
}

static void
test_abort (void)
{
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  g_autoptr (GBytes) big = pattern (200, 1);
  g_autoptr (GBytes) small = pattern (5, 2);
  guint8 header[RH_CHUNK_HEADER_MAX];
  gsize n = rh_chunk_write_header (header, 4, 0, 200, 9, 1);
  g_byte_array_append (wire, header, (guint) n);
  g_byte_array_append (wire, g_bytes_get_data (big, NULL), 128);
  g_autoptr (GBytes) abort_payload = rh_control_u32 (4);
  rh_chunk_write_message (wire, 128, 2, 0, RH_MSG_ABORT, 0, g_bytes_get_data (abort_payload, NULL), 4);
  rh_chunk_write_message (wire, 128, 4, 50, 9, 1, g_bytes_get_data (small, NULL), 5);

  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) got = feed_all (wire->data, wire->len, 1024, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (got->len, ==, 2);
  g_assert_cmpuint (g_array_index (got, Expected, 0).type, ==, RH_MSG_ABORT);
  g_assert_true (g_bytes_equal (g_array_index (got, Expected, 1).payload, small));
}

/* Bytes of unfinished messages are bounded per reader and across readers,
 * and given back when a message completes or is abandoned. */
static void
test_budget (void)
{
  g_autoptr (GError) error = NULL;
  gsize shared = 0;
  /* Three partial 2000-byte messages on three chunk streams: 1 KiB each so far. */
  g_autoptr (GByteArray) partial = g_byte_array_new ();
  for (guint csid = 3; csid < 6; csid++)
    {
      guint8 header[RH_CHUNK_HEADER_MAX];
      guint8 chunk[RH_CHUNK_DEFAULT_SIZE] = { 0 };
      gsize n = rh_chunk_write_header (header, csid, 0, 2000, 9, 1);
      g_byte_array_append (partial, header, (guint) n);
      g_byte_array_append (partial, chunk, sizeof chunk);
    }
  g_autoptr (GArray) got = new_list ();

  /* Per reader: two 128-byte buffers fit in 300 bytes; the third would
   * pass the budget, and the feed stops with an error. */
  RhChunkReader *reader = rh_chunk_reader_new (1 << 20);
  rh_chunk_reader_set_budget (reader, 300, &shared, 0);
  g_assert_false (rh_chunk_reader_feed (reader, partial->data, partial->len, collect, got, &error));
  g_assert_error (error, RH_CHUNK_ERROR, RH_CHUNK_ERROR_OVER_BUDGET);
  g_clear_error (&error);
  g_assert_cmpuint (rh_chunk_reader_get_held (reader), ==, 256);
  g_assert_cmpuint (shared, ==, 256);
  rh_chunk_reader_free (reader);
  g_assert_cmpuint (shared, ==, 0);

  /* Across readers: the second one hits the shared limit. */
  RhChunkReader *first = rh_chunk_reader_new (1 << 20);
  RhChunkReader *second = rh_chunk_reader_new (1 << 20);
  rh_chunk_reader_set_budget (first, 0, &shared, 500);
  rh_chunk_reader_set_budget (second, 0, &shared, 500);
  g_assert_true (rh_chunk_reader_feed (first, partial->data, partial->len, collect, got, &error));
  g_assert_cmpuint (shared, ==, 384);
  g_assert_false (rh_chunk_reader_feed (second, partial->data, partial->len, collect, got, &error));
  g_assert_error (error, RH_CHUNK_ERROR, RH_CHUNK_ERROR_OVER_BUDGET);
  g_clear_error (&error);
  rh_chunk_reader_free (second);
  g_assert_cmpuint (shared, ==, 384);

  /* A new type 0 header on csid 3 abandons its message: its buffer goes;
   * a complete message leaves nothing held. */
  g_autoptr (GBytes) small = pattern (10, 9);
  g_autoptr (GByteArray) more = g_byte_array_new ();
  rh_chunk_write_message (more, RH_CHUNK_DEFAULT_SIZE, 3, 0, 9, 1, g_bytes_get_data (small, NULL), 10);
  g_assert_true (rh_chunk_reader_feed (first, more->data, more->len, collect, got, &error));
  g_assert_cmpuint (got->len, ==, 1);
  g_assert_cmpuint (rh_chunk_reader_get_held (first), ==, 256);
  g_assert_cmpuint (shared, ==, 256);
  rh_chunk_reader_free (first);
  g_assert_cmpuint (shared, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/chunk/split-everywhere", test_split_everywhere);
  g_test_add_func ("/chunk/header-types", test_header_types);
  g_test_add_func ("/chunk/interleaved", test_interleaved);
  g_test_add_func ("/chunk/extended-timestamp-tolerant", test_extended_timestamp_tolerant);
  g_test_add_func ("/chunk/errors", test_errors);
  g_test_add_func ("/chunk/abort", test_abort);
  g_test_add_func ("/chunk/budget", test_budget);
  return g_test_run ();
}
