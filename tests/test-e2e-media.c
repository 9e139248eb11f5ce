/* Media end to end: what codec_detected says about a stream ffmpeg
 * publishes is what ffprobe says about the file it came from. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "testutil.h"
#include "protocol/amf0.h"
#include "protocol/chunk-writer.h"
#include "protocol/command.h"

/* The codec_detected events on the daemon's stdout (jsonl), by track. */
static JsonNode *
codec_event (RhTestDaemon *daemon, const char *track)
{
  g_autofree char *out = rh_test_daemon_stdout (daemon);
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  JsonNode *found = NULL;
  for (char **line = lines; *line != NULL; line++)
    {
      if (**line == '\0')
        continue;
      g_autoptr (JsonNode) node = json_from_string (*line, NULL);
      g_assert_nonnull (node);
      JsonObject *event = json_node_get_object (node);
      if (g_strcmp0 (json_object_get_string_member (event, "type"), "codec_detected") != 0)
        continue;
      JsonObject *data = json_object_get_object_member (event, "data");
      if (g_strcmp0 (json_object_get_string_member (data, "track"), track) == 0)
        {
          g_assert_null (found);   /* once per track: the configuration did not change */
          found = json_node_ref (node);
        }
    }
  g_assert_nonnull (found);
  return found;
}

static void
check_setting (const char *size, const char *const *video_args, const char *rate, const char *channels)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *clip = g_build_filename (dir, "clip.flv", NULL);
  g_autofree char *size_source = g_strdup_printf ("testsrc=size=%s:rate=30", size);
  g_autofree char *sine = g_strdup_printf ("sine=frequency=440:sample_rate=%s", rate);
  g_autoptr (GPtrArray) encode = g_ptr_array_new ();
  const char *const head[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", size_source,
                               "-f", "lavfi", "-i", sine, "-t", "2", "-c:v", "libx264", "-g", "30", NULL };
  for (const char *const *a = head; *a != NULL; a++)
    g_ptr_array_add (encode, (gpointer) *a);
  for (const char *const *a = video_args; *a != NULL; a++)
    g_ptr_array_add (encode, (gpointer) *a);
  const char *const tail[] = { "-c:a", "aac", "-ac", channels, "-y", clip, NULL };
  for (const char *const *a = tail; *a != NULL; a++)
    g_ptr_array_add (encode, (gpointer) *a);
  g_ptr_array_add (encode, NULL);
  g_autoptr (GSubprocess) encoder = rh_test_spawn ((const char *const *) encode->pdata, NULL);
  g_assert_cmpint (rh_test_wait (encoder, 60000), ==, 0);
  RhTestProbe probe;
  g_assert_true (rh_test_probe (clip, &probe));

  const char *const args[] = { "--hook-stdio-format", "jsonl", NULL };
  RhTestDaemon *daemon = rh_test_daemon_start (NULL, args);
  g_autofree char *url = rh_test_daemon_url (daemon, "live/probe");
  const char *const publish[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-i", clip, "-c", "copy",
                                  "-f", "flv", url, NULL };
  g_autoptr (GSubprocess) publisher = rh_test_spawn (publish, NULL);
  g_assert_cmpint (rh_test_wait (publisher, 30000), ==, 0);
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish_stop live/probe", 10000));
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);

  g_autoptr (JsonNode) video = codec_event (daemon, "video");
  JsonObject *v = json_object_get_object_member (json_node_get_object (video), "data");
  g_autofree char *level = probe.video_level % 10 == 0 ? g_strdup_printf ("%d", probe.video_level / 10)
                                                        : g_strdup_printf ("%d.%d", probe.video_level / 10,
                                                                           probe.video_level % 10);
  g_test_message ("ffprobe: %s %s level %s %ux%u; %s %u Hz %u ch", probe.video_codec, probe.video_profile, level,
                  probe.width, probe.height, probe.audio_profile, probe.sample_rate, probe.channels);
  g_assert_cmpstr (json_object_get_string_member (v, "codec"), ==, probe.video_codec);
  g_assert_cmpstr (json_object_get_string_member (v, "profile"), ==, probe.video_profile);
  g_assert_cmpstr (json_object_get_string_member (v, "level"), ==, level);
  g_assert_cmpint (json_object_get_int_member (v, "width"), ==, probe.width);
  g_assert_cmpint (json_object_get_int_member (v, "height"), ==, probe.height);
  g_assert_cmpint (json_object_get_int_member (v, "bit_depth"), ==, 8);
  g_assert_cmpstr (json_object_get_string_member (v, "chroma_format"), ==, "4:2:0");

  g_autoptr (JsonNode) audio = codec_event (daemon, "audio");
  JsonObject *a = json_object_get_object_member (json_node_get_object (audio), "data");
  g_assert_cmpstr (json_object_get_string_member (a, "codec"), ==, probe.audio_codec);
  g_assert_cmpstr (json_object_get_string_member (a, "profile"), ==, probe.audio_profile);
  g_assert_cmpint (json_object_get_int_member (a, "sample_rate"), ==, probe.sample_rate);
  g_assert_cmpint (json_object_get_int_member (a, "channels"), ==, probe.channels);
  g_assert_false (json_object_has_member (a, "width"));
  g_assert_false (json_object_has_member (v, "sample_rate"));

  rh_test_probe_clear (&probe);
  rh_test_daemon_free (daemon);
  rh_test_remove_tree (dir);
}

/* High at 640x360 (cropped from 368 coded lines), 48 kHz stereo. */
static void
test_codec_details_high (void)
{
  const char *const video[] = { "-profile:v", "high", "-level", "3.1", "-pix_fmt", "yuv420p", NULL };
  check_setting ("640x360", video, "48000", "2");
}

/* Baseline at 426x240 (cropped from 432 coded columns), 22.05 kHz mono. */
static void
test_codec_details_baseline (void)
{
  const char *const video[] = { "-profile:v", "baseline", "-pix_fmt", "yuv420p", NULL };
  check_setting ("426x240", video, "22050", "1");
}

static void
send_command (GSocketConnection *connection, guint32 stream_id, const char *name, double tid,
              RhAmf0Value *object, RhAmf0Value *argument)
{
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  rh_command_write_client (wire, stream_id, name, tid, object, argument);
  g_assert_true (rh_test_write (connection, wire->data, wire->len));
}

/* One FLV video message: an AVC sequence header, then key frames. */
static void
send_video (GSocketConnection *connection, guint32 timestamp, gboolean header)
{
  static const guint8 sequence_header[] = { 0x17, 0x00, 0, 0, 0, 0x01, 0x64, 0x00, 0x1f, 0xff, 0xe0, 0x00 };
  static const guint8 key_frame[] = { 0x17, 0x01, 0, 0, 0, 0, 0, 0, 1, 0x65 };
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  const guint8 *payload = header ? sequence_header : key_frame;
  gsize len = header ? sizeof sequence_header : sizeof key_frame;
  rh_chunk_write_message (wire, 128, 6, timestamp, 9, 1, payload, len);
  g_assert_true (rh_test_write (connection, wire->data, wire->len));
}

static JsonObject *
only_event (GPtrArray *nodes, const char *type, guint *count)
{
  JsonObject *found = NULL;
  *count = 0;
  for (guint i = 0; i < nodes->len; i++)
    {
      JsonObject *event = json_node_get_object (g_ptr_array_index (nodes, i));
      if (g_strcmp0 (json_object_get_string_member (event, "type"), type) == 0)
        {
          found = json_object_get_object_member (event, "data");
          (*count)++;
        }
    }
  return found;
}

/* A publisher whose media stops while its connection stays up (a frozen
 * encoder): media_start at its first media, media_stall after
 * stall_timeout, media_resume when media comes back; once each. */
static void
test_media_flow (void)
{
  const char *const args[] = { "--hook-stdio-format", "jsonl", NULL };
  RhTestDaemon *daemon = rh_test_daemon_start ("server = { stall_timeout = 1.0; };", args);
  g_autoptr (GSocketConnection) publisher = rh_test_connect (daemon->port);
  g_assert_true (rh_test_client_handshake (publisher));
  RhAmf0Value *object = rh_amf0_object_new ();
  rh_amf0_object_set (object, "app", rh_amf0_string_new ("live"));
  send_command (publisher, 0, "connect", 1, object, NULL);
  send_command (publisher, 0, "createStream", 2, NULL, NULL);
  send_command (publisher, 1, "publish", 3, NULL, rh_amf0_string_new ("frozen"));
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish_start live/frozen", 10000));
  send_video (publisher, 0, TRUE);
  send_video (publisher, 0, FALSE);
  g_assert_true (rh_test_daemon_wait_log (daemon, "media_start live/frozen", 5000));
  /* Nothing more: the stall is reported within a tick of the timeout. */
  g_assert_true (rh_test_daemon_wait_log (daemon, "media_stall live/frozen: no media for", 5000));
  send_video (publisher, 2500, FALSE);
  g_assert_true (rh_test_daemon_wait_log (daemon, "media_resume live/frozen after", 5000));
  send_video (publisher, 2533, FALSE);
  g_io_stream_close (G_IO_STREAM (publisher), NULL, NULL);
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish_stop live/frozen", 5000));
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);

  g_autofree char *out = rh_test_daemon_stdout (daemon);
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  g_autoptr (GPtrArray) nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  for (char **line = lines; *line != NULL; line++)
    if (**line != '\0')
      g_ptr_array_add (nodes, json_from_string (*line, NULL));
  guint n;
  JsonObject *start = only_event (nodes, "media_start", &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpstr (json_object_get_string_member (start, "video_codec"), ==, "h264");
  g_assert_false (json_object_has_member (start, "audio_codec"));
  JsonObject *stall = only_event (nodes, "media_stall", &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpint (json_object_get_int_member (stall, "seconds"), >=, 1);
  g_assert_cmpstr (json_object_get_string_member (stall, "client_ip"), ==, "127.0.0.1");
  JsonObject *resume = only_event (nodes, "media_resume", &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpint (json_object_get_int_member (resume, "stalled_seconds"), >=, 1);
  rh_test_daemon_free (daemon);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media-e2e/codec-details-high", test_codec_details_high);
  g_test_add_func ("/media-e2e/codec-details-baseline", test_codec_details_baseline);
  g_test_add_func ("/media-e2e/media-flow", test_media_flow);
  return g_test_run ();
}
