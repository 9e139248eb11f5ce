/* A recording in process, fed as a stream feeds it: the file it writes,
 * and the bound on what may wait for the disk. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "protocol/amf0.h"
#include "protocol/message.h"
#include "server/recording.h"
#include "test-player.h"
#include "testutil.h"

typedef struct {
  char *started_path;
  char *stopped_path;
  char *reason;
  guint64 bytes;
  gint64 duration;
  gboolean stopped;
} Outcome;

static void
on_started (RhRecording *recording, const char *path, gpointer owner)
{
  Outcome *outcome = owner;
  outcome->started_path = g_strdup (path);
}

static void
on_stopped (RhRecording *recording, const char *path, gint64 duration_seconds, guint64 bytes, const char *reason,
            const char *detail, gpointer owner)
{
  Outcome *outcome = owner;
  outcome->stopped_path = g_strdup (path);
  outcome->reason = g_strdup (reason);
  outcome->bytes = bytes;
  outcome->duration = duration_seconds;
  outcome->stopped = TRUE;
}

static const RhRecordingOwner owner = { on_started, on_stopped };

static gboolean
is_stopped (gpointer data)
{
  return ((Outcome *) data)->stopped;
}

static void
feed (RhOutput *output, guint8 type, guint32 timestamp, GBytes *payload, RhMediaFlags flags)
{
  RhOutputPacket packet = { type, timestamp, payload, flags, 0 };
  output->funcs->packet (output, &packet);
}

static GBytes *
metadata (void)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  rh_amf0_encode_string (out, "onMetaData");
  g_autoptr (RhAmf0Value) fields = rh_amf0_ecma_array_new ();
  rh_amf0_object_set (fields, "width", rh_amf0_number_new (320));
  rh_amf0_encode (out, fields);
  return g_bytes_new (out->data, out->len);
}

/* One file: FLV header, onMetaData (with the real duration and size),
 * the sequence header, then frames from the first keyframe on with
 * timestamps from 0; what came before the keyframe is not in it. */
static void
test_file (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  Outcome outcome = { 0 };
  RhRecording *recording = rh_recording_new (dir, "live/cam.flv", 1 << 20, "c000001", "live", "cam", &owner,
                                             &outcome);
  RhOutput *output = rh_recording_get_output (recording);
  static const guint8 header[] = { 0x17, 0x00, 0, 0, 0, 0x01, 0x64, 0x00, 0x1f, 0xff };
  static const guint8 inter[] = { 0x27, 0x01, 0, 0, 0, 0xaa };
  static const guint8 key[] = { 0x17, 0x01, 0, 0, 0, 0xbb };
  g_autoptr (GBytes) meta = metadata ();
  g_autoptr (GBytes) header_bytes = g_bytes_new_static (header, sizeof header);
  g_autoptr (GBytes) inter_bytes = g_bytes_new_static (inter, sizeof inter);
  g_autoptr (GBytes) key_bytes = g_bytes_new_static (key, sizeof key);
  feed (output, RH_MSG_DATA_AMF0, 0, meta, RH_MEDIA_SEQUENCE_HEADER);
  feed (output, RH_MSG_VIDEO, 0, header_bytes, RH_MEDIA_SEQUENCE_HEADER);
  feed (output, RH_MSG_VIDEO, 1000, inter_bytes, 0);             /* before any keyframe: left out */
  feed (output, RH_MSG_VIDEO, 2000, key_bytes, RH_MEDIA_KEYFRAME);
  for (guint i = 1; i <= 75; i++)
    feed (output, RH_MSG_VIDEO, 2000 + i * 40, inter_bytes, 0);   /* 3 s at 25 fps */
  output->funcs->ended (output, RH_REASON_UNPUBLISH);
  g_assert_true (rh_test_iterate_until (is_stopped, &outcome, 10000));
  rh_recording_free (recording);

  g_autofree char *path = g_build_filename (dir, "live", "cam.flv", NULL);
  g_assert_cmpstr (outcome.started_path, ==, path);
  g_assert_cmpstr (outcome.stopped_path, ==, path);
  g_assert_cmpstr (outcome.reason, ==, "publish_stop");
  g_assert_cmpint (outcome.duration, ==, 3);
  g_autofree char *contents = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpuint (len, ==, outcome.bytes);
  const guint8 *p = (const guint8 *) contents;
  g_assert_cmpmem (p, 3, "FLV", 3);
  g_assert_cmpuint (p[4], ==, 0x01);   /* video only */
  /* Tags: data, video header, the keyframe at 0, 75 frames. */
  gsize pos = 13;
  guint tags = 0;
  gboolean checked_metadata = FALSE;
  while (pos + 11 <= len)
    {
      guint8 type = p[pos];
      gsize size = rh_read_u24_be (p + pos + 1);
      guint32 timestamp = rh_read_u24_be (p + pos + 4) | ((guint32) p[pos + 7] << 24);
      g_assert_cmpuint (pos + 11 + size + 4, <=, len);
      g_assert_cmpuint (rh_read_u32_be (p + pos + 11 + size), ==, 11 + size);
      if (tags == 0)
        {
          g_assert_cmpuint (type, ==, 18);
          g_autoptr (GPtrArray) values = rh_amf0_decode_all (p + pos + 11, size, NULL);
          const RhAmf0Value *fields = g_ptr_array_index (values, 1);
          g_assert_cmpfloat (rh_amf0_object_get_number (fields, "width", 0), ==, 320);
          g_assert_cmpfloat (rh_amf0_object_get_number (fields, "duration", 0), ==, 3.0);
          g_assert_cmpfloat (rh_amf0_object_get_number (fields, "filesize", 0), ==, (double) len);
          checked_metadata = TRUE;
        }
      else if (tags == 1)
        g_assert_cmpmem (p + pos + 11, size, header, sizeof header);
      else if (tags == 2)
        {
          g_assert_cmpmem (p + pos + 11, size, key, sizeof key);
          g_assert_cmpuint (timestamp, ==, 0);
        }
      else
        g_assert_cmpuint (timestamp, ==, (tags - 2) * 40);
      pos += 11 + size + 4;
      tags++;
    }
  g_assert_true (checked_metadata);
  g_assert_cmpuint (pos, ==, len);
  g_assert_cmpuint (tags, ==, 3 + 75);
  g_free (outcome.started_path);
  g_free (outcome.stopped_path);
  g_free (outcome.reason);
  rh_test_remove_tree (dir);
}

/* A disk slower than the stream: what waits for the writer passes
 * max_buffer (the writer drains every 0.1 s; 2 MB arrive at once), and
 * the recording ends with reason too_slow. The stream would go on: a
 * packet is never refused to anyone else. */
static void
test_too_slow (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  Outcome outcome = { 0 };
  RhRecording *recording = rh_recording_new (dir, "slow.flv", 64 * 1024, "c000001", "live", "slow", &owner,
                                             &outcome);
  RhOutput *output = rh_recording_get_output (recording);
  g_autofree guint8 *frame = g_malloc0 (4096);
  frame[0] = 0x17;
  frame[1] = 0x01;
  g_autoptr (GBytes) key = g_bytes_new (frame, 4096);
  frame[0] = 0x27;
  g_autoptr (GBytes) inter = g_bytes_new (frame, 4096);
  feed (output, RH_MSG_VIDEO, 0, key, RH_MEDIA_KEYFRAME);
  for (guint i = 1; i < 500; i++)
    feed (output, RH_MSG_VIDEO, i * 40, inter, 0);
  g_assert_cmpuint (rh_recording_get_queued_bytes (recording), <=, 64 * 1024);
  g_assert_true (rh_test_iterate_until (is_stopped, &outcome, 10000));
  rh_recording_free (recording);
  g_assert_cmpstr (outcome.reason, ==, "too_slow");
  g_assert_cmpuint (outcome.bytes, <=, 64 * 1024);   /* the backlog is dropped, not written late */
  g_free (outcome.started_path);
  g_free (outcome.stopped_path);
  g_free (outcome.reason);
  rh_test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/recording/file", test_file);
  g_test_add_func ("/recording/too-slow", test_too_slow);
  return g_test_run ();
}
