#include "config.h"

#include "test-media-tools.h"

#include <json-glib/json-glib.h>

#include "testutil.h"

GSubprocess *
rh_test_publish_ffmpeg (const char *url, guint seconds, const char *size,
                        const char *const *extra_output_args, const char *log_path)
{
  g_autofree char *source = g_strdup_printf ("testsrc=size=%s:rate=30", size);
  g_autofree char *duration = g_strdup_printf ("%u", seconds);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  const char *const head[] = {
    "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-re",
    "-f", "lavfi", "-i", source, "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=44100",
    "-t", duration, "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency",
    "-g", "30", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", NULL
  };
  for (gsize i = 0; head[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) head[i]);
  for (gsize i = 0; extra_output_args != NULL && extra_output_args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) extra_output_args[i]);
  g_ptr_array_add (argv, (gpointer) "-f");
  g_ptr_array_add (argv, (gpointer) "flv");
  g_ptr_array_add (argv, (gpointer) url);
  g_ptr_array_add (argv, NULL);
  return rh_test_spawn ((const char *const *) argv->pdata, log_path);
}

void
rh_test_encode_clip (const char *path, guint seconds, const char *size, const char *video_bitrate,
                     gboolean with_audio)
{
  g_autofree char *source = g_strdup_printf ("testsrc=size=%s:rate=30", size);
  g_autofree char *duration = g_strdup_printf ("%u", seconds);
  const char *const video[] = {
    "ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", source, "-t", duration,
    "-c:v", "libx264", "-preset", "ultrafast", "-b:v", video_bitrate, "-g", "30", "-pix_fmt", "yuv420p",
    "-y", path, NULL
  };
  const char *const audio_and_video[] = {
    "ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", source,
    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", duration,
    "-c:v", "libx264", "-preset", "ultrafast", "-b:v", video_bitrate, "-g", "30", "-pix_fmt", "yuv420p",
    "-c:a", "aac", "-y", path, NULL
  };
  g_autoptr (GSubprocess) encoder = rh_test_spawn (with_audio ? audio_and_video : video, NULL);
  g_assert_cmpint (rh_test_wait (encoder, 60000), ==, 0);
}

static char *
run_capture (const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                                       | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
  char *out = NULL;
  g_assert_no_error (error);
  if (!g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error))
    return NULL;
  return out;
}

gboolean
rh_test_probe (const char *path, RhTestProbe *probe)
{
  memset (probe, 0, sizeof *probe);
  const char *const streams_argv[] = {
    "ffprobe", "-v", "error", "-count_frames", "-show_streams", "-show_format", "-of", "json", path, NULL
  };
  g_autofree char *streams_json = run_capture (streams_argv);
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (streams_json == NULL || !json_parser_load_from_data (parser, streams_json, -1, NULL))
    return FALSE;
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  if (!json_object_has_member (root, "streams"))
    return FALSE;
  JsonArray *streams = json_object_get_array_member (root, "streams");
  if (json_object_has_member (root, "format"))
    probe->duration = g_ascii_strtod (json_object_get_string_member_with_default (
                                        json_object_get_object_member (root, "format"), "duration", "0"), NULL);
  for (guint i = 0; i < json_array_get_length (streams); i++)
    {
      JsonObject *s = json_array_get_object_element (streams, i);
      const char *type = json_object_get_string_member_with_default (s, "codec_type", "");
      const char *codec = json_object_get_string_member_with_default (s, "codec_name", "");
      guint frames = (guint) g_ascii_strtoull (json_object_get_string_member_with_default (s, "nb_read_frames", "0"),
                                               NULL, 10);
      if (strcmp (type, "video") == 0)
        {
          probe->video_codec = g_strdup (codec);
          probe->video_profile = g_strdup (json_object_get_string_member_with_default (s, "profile", ""));
          probe->video_frames = frames;
          probe->width = (guint) json_object_get_int_member_with_default (s, "width", 0);
          probe->height = (guint) json_object_get_int_member_with_default (s, "height", 0);
          probe->video_level = (gint) json_object_get_int_member_with_default (s, "level", 0);
        }
      else if (strcmp (type, "audio") == 0)
        {
          probe->audio_codec = g_strdup (codec);
          probe->audio_frames = frames;
          probe->audio_profile = g_strdup (json_object_get_string_member_with_default (s, "profile", ""));
          probe->sample_rate = (guint) g_ascii_strtoull (json_object_get_string_member_with_default (s, "sample_rate",
                                                                                                   "0"), NULL, 10);
          probe->channels = (guint) json_object_get_int_member_with_default (s, "channels", 0);
        }
    }

  const char *const packets_argv[] = {
    "ffprobe", "-v", "error", "-select_streams", "v:0", "-read_intervals", "%+#1",
    "-show_entries", "packet=pts_time,flags", "-of", "json", path, NULL
  };
  g_autofree char *packets_json = run_capture (packets_argv);
  g_autoptr (JsonParser) packets_parser = json_parser_new ();
  if (packets_json != NULL && json_parser_load_from_data (packets_parser, packets_json, -1, NULL))
    {
      JsonObject *proot = json_node_get_object (json_parser_get_root (packets_parser));
      JsonArray *packets = json_object_has_member (proot, "packets")
                           ? json_object_get_array_member (proot, "packets") : NULL;
      if (packets != NULL && json_array_get_length (packets) > 0)
        {
          JsonObject *first = json_array_get_object_element (packets, 0);
          const char *flags = json_object_get_string_member_with_default (first, "flags", "");
          probe->first_video_is_key = flags[0] == 'K';
          probe->first_video_pts = g_ascii_strtod (json_object_get_string_member_with_default (first, "pts_time", "0"),
                                                   NULL);
        }
    }
  return TRUE;
}

void
rh_test_probe_clear (RhTestProbe *probe)
{
  g_clear_pointer (&probe->video_codec, g_free);
  g_clear_pointer (&probe->audio_codec, g_free);
  g_clear_pointer (&probe->video_profile, g_free);
  g_clear_pointer (&probe->audio_profile, g_free);
}

guint
rh_test_h264_aac_frames (const char *path)
{
  RhTestProbe probe;
  g_assert_true (rh_test_probe (path, &probe));
  g_assert_cmpstr (probe.video_codec, ==, "h264");
  g_assert_cmpstr (probe.audio_codec, ==, "aac");
  guint frames = probe.video_frames;
  rh_test_probe_clear (&probe);
  return frames;
}
