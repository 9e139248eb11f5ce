#include "config.h"

#include "protocol/media.h"

static void
test_legacy_video (void)
{
  static const guint8 avc_header[] = { 0x17, 0x00, 0, 0, 0, 0x01 };
  static const guint8 avc_key[] = { 0x17, 0x01, 0, 0, 0, 0xAA };
  static const guint8 avc_inter[] = { 0x27, 0x01, 0, 0, 0, 0xAA };
  static const guint8 avc_end[] = { 0x17, 0x02, 0, 0, 0 };
  static const guint8 vp6[] = { 0x14, 0x00 };

  RhMediaInfo info = rh_media_inspect_video (avc_header, sizeof avc_header);
  g_assert_cmpstr (info.codec, ==, "h264");
  g_assert_cmpint (info.flags, ==, RH_MEDIA_SEQUENCE_HEADER);
  g_assert_cmpuint (info.config_offset, ==, 5);
  info = rh_media_inspect_video (avc_key, sizeof avc_key);
  g_assert_cmpint (info.flags, ==, RH_MEDIA_KEYFRAME);
  info = rh_media_inspect_video (avc_inter, sizeof avc_inter);
  g_assert_cmpint (info.flags, ==, 0);
  info = rh_media_inspect_video (avc_end, sizeof avc_end);
  g_assert_cmpint (info.flags, ==, RH_MEDIA_SEQUENCE_END);
  info = rh_media_inspect_video (vp6, sizeof vp6);
  g_assert_cmpstr (info.codec, ==, "vp6");
  g_assert_cmpint (info.flags, ==, RH_MEDIA_KEYFRAME);
  info = rh_media_inspect_video (NULL, 0);
  g_assert_null (info.codec);
}

static void
test_enhanced_video (void)
{
  /* IsExHeader | key frame | SequenceStart, "hvc1" */
  static const guint8 hevc_start[] = { 0x90, 'h', 'v', 'c', '1', 1 };
  /* key frame | CodedFramesX, "av01" */
  static const guint8 av1_key[] = { 0x93, 'a', 'v', '0', '1', 0 };
  /* inter frame | CodedFrames, "vp09" */
  static const guint8 vp9_inter[] = { 0xA1, 'v', 'p', '0', '9', 0 };

  RhMediaInfo info = rh_media_inspect_video (hevc_start, sizeof hevc_start);
  g_assert_cmpstr (info.codec, ==, "hevc");
  g_assert_cmpint (info.flags, ==, RH_MEDIA_SEQUENCE_HEADER);
  info = rh_media_inspect_video (av1_key, sizeof av1_key);
  g_assert_cmpstr (info.codec, ==, "av1");
  g_assert_cmpint (info.flags, ==, RH_MEDIA_KEYFRAME);
  info = rh_media_inspect_video (vp9_inter, sizeof vp9_inter);
  g_assert_cmpstr (info.codec, ==, "vp9");
  g_assert_cmpint (info.flags, ==, 0);
}

static void
test_audio (void)
{
  static const guint8 aac_header[] = { 0xAF, 0x00, 0x12, 0x10 };
  static const guint8 aac_raw[] = { 0xAF, 0x01, 0x21 };
  static const guint8 mp3[] = { 0x2F, 0xFF };
  static const guint8 opus_start[] = { 0x90, 'O', 'p', 'u', 's', 0 };

  RhMediaInfo info = rh_media_inspect_audio (aac_header, sizeof aac_header);
  g_assert_cmpstr (info.codec, ==, "aac");
  g_assert_cmpint (info.flags, ==, RH_MEDIA_SEQUENCE_HEADER);
  g_assert_cmpuint (info.config_offset, ==, 2);
  info = rh_media_inspect_audio (aac_raw, sizeof aac_raw);
  g_assert_cmpint (info.flags, ==, 0);
  info = rh_media_inspect_audio (mp3, sizeof mp3);
  g_assert_cmpstr (info.codec, ==, "mp3");
  info = rh_media_inspect_audio (opus_start, sizeof opus_start);
  g_assert_cmpstr (info.codec, ==, "opus");
  g_assert_cmpint (info.flags, ==, RH_MEDIA_SEQUENCE_HEADER);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media/legacy-video", test_legacy_video);
  g_test_add_func ("/media/enhanced-video", test_enhanced_video);
  g_test_add_func ("/media/audio", test_audio);
  return g_test_run ();
}
