/* Media end to end: what codec_detected says about a stream ffmpeg
 * publishes is what ffprobe says about the file it came from. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "testutil.h"

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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media-e2e/codec-details-high", test_codec_details_high);
  g_test_add_func ("/media-e2e/codec-details-baseline", test_codec_details_baseline);
  return g_test_run ();
}
