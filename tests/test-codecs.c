/* Codec configuration parsers on records made by ffmpeg's encoders
 * (tests/fixtures/codecs, see make-fixtures.sh there), hand-made edge
 * cases, and every truncation of each. */
#include "config.h"

#include <string.h>

#include "protocol/codec-details.h"
#include "testutil.h"

typedef struct {
  const char *file;
  const char *codec;
  const char *profile;
  const char *level;
  guint width, height, bit_depth;
  const char *chroma;
  guint sample_rate, channels;
} Case;

/* What ffprobe says about the files these records came from. */
static const Case cases[] = {
  { "h264-baseline-320x180.bin", "h264", "Constrained Baseline", "3.0", 320, 180, 8, "4:2:0", 0, 0 },
  { "h264-high-640x360.bin", "h264", "High", "3.1", 640, 360, 8, "4:2:0", 0, 0 },
  { "h264-high444-1280x720.bin", "h264", "High 4:4:4 Predictive", "4.0", 1280, 720, 8, "4:4:4", 0, 0 },
  { "h264-high10-426x240.bin", "h264", "High 10", "2.1", 426, 240, 10, "4:2:0", 0, 0 },
  { "hevc-main-426x240.bin", "hevc", "Main", "2.0", 426, 240, 8, "4:2:0", 0, 0 },
  { "hevc-main10-1280x720.bin", "hevc", "Main 10", "3.1", 1280, 720, 10, "4:2:0", 0, 0 },
  { "av1-main-320x240.bin", "av1", "Main", "2.0", 320, 240, 8, "4:2:0", 0, 0 },
  { "av1-main10-640x360.bin", "av1", "Main", "2.1", 640, 360, 10, "4:2:0", 0, 0 },
  /* ffprobe gives no VP9 level; the record's is the one ffmpeg computed
   * from the picture size and rate (20: level 2). vpcC has no size. */
  { "vp9-profile0-320x240.bin", "vp9", "Profile 0", "2.0", 0, 0, 8, "4:2:0", 0, 0 },
  { "vp9-profile2-320x240.bin", "vp9", "Profile 2", "2.0", 0, 0, 10, "4:2:0", 0, 0 },
  { "aac-lc-44100-2.bin", "aac", "LC", "", 0, 0, 0, "", 44100, 2 },
  { "aac-lc-48000-1.bin", "aac", "LC", "", 0, 0, 0, "", 48000, 1 },
  { "aac-lc-48000-8.bin", "aac", "LC", "", 0, 0, 0, "", 48000, 8 },
  { "opus-48000-2.bin", "opus", "", "", 0, 0, 0, "", 48000, 2 },
  { "mp3-22050-1.bin", "mp3", "", "", 0, 0, 0, "", 22050, 1 },
};

static gboolean
parse (const char *codec, const guint8 *data, gsize len, RhCodecDetails *details)
{
  if (g_str_equal (codec, "mp3"))
    return rh_codec_details_mp3 (data, len, details);
  if (g_str_equal (codec, "aac") || g_str_equal (codec, "opus"))
    return rh_codec_details_audio_config (codec, data, len, details);
  return rh_codec_details_video (codec, data, len, details);
}

static void
assert_details (const RhCodecDetails *d, const Case *c)
{
  g_assert_cmpstr (d->profile, ==, c->profile);
  g_assert_cmpstr (d->level, ==, c->level);
  g_assert_cmpuint (d->width, ==, c->width);
  g_assert_cmpuint (d->height, ==, c->height);
  g_assert_cmpuint (d->bit_depth, ==, c->bit_depth);
  g_assert_cmpstr (d->chroma_format, ==, c->chroma);
  g_assert_cmpuint (d->sample_rate, ==, c->sample_rate);
  g_assert_cmpuint (d->channels, ==, c->channels);
}

static void
test_fixtures (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_build_filename (rh_test_env ("RH_FIXTURES"), "codecs", cases[i].file, NULL);
      g_autofree char *data = NULL;
      gsize len;
      g_assert_true (g_file_get_contents (path, &data, &len, NULL));
      RhCodecDetails details;
      g_test_message ("%s", cases[i].file);
      g_assert_true (parse (cases[i].codec, (const guint8 *) data, len, &details));
      assert_details (&details, &cases[i]);

      /* Every truncation: refused or partial, never past the end (the
       * sanitizer run watches), never a field that was not there. */
      for (gsize cut = 0; cut < len; cut++)
        {
          guint8 *copy = g_memdup2 (data, cut);
          RhCodecDetails partial;
          if (parse (cases[i].codec, copy, cut, &partial))
            {
              g_assert_true (partial.width == 0 || partial.width == cases[i].width);
              g_assert_true (partial.sample_rate == 0 || partial.sample_rate == cases[i].sample_rate);
            }
          g_free (copy);
        }
    }
}

/* Bit strings of AudioSpecificConfigs the Debian encoders do not make. */
static void
test_aac_signalling (void)
{
  static const struct {
    guint8 bytes[8];
    gsize len;
    const char *profile;
    guint rate, channels;
  } asc[] = {
    /* Explicit SBR: AOT 5, 24 kHz core, stereo, 48 kHz out, core AOT 2. */
    { { 0x2b, 0x11, 0x88, 0x00 }, 4, "HE-AAC", 48000, 2 },
    /* Explicit PS: AOT 29, 24 kHz core, mono (PS: two out), 48 kHz out. */
    { { 0xeb, 0x09, 0x88, 0x00 }, 4, "HE-AACv2", 48000, 2 },
    /* Backward compatible: LC 22.05 kHz stereo, then 0x2b7, AOT 5, SBR on, 44.1 kHz. */
    { { 0x13, 0x90, 0x56, 0xe5, 0xa0 }, 5, "HE-AAC", 44100, 2 },
    /* The same with 0x548 and PS on. */
    { { 0x13, 0x90, 0x56, 0xe5, 0xa5, 0x48, 0x80 }, 7, "HE-AACv2", 44100, 2 },
    /* LC with a reserved sample rate index: refused. */
    { { 0x16, 0x90 }, 2, NULL, 0, 0 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (asc); i++)
    {
      RhCodecDetails d;
      gboolean ok = rh_codec_details_audio_config ("aac", asc[i].bytes, asc[i].len, &d);
      g_test_message ("case %" G_GSIZE_FORMAT, i);
      g_assert_cmpint (ok, ==, asc[i].profile != NULL);
      if (!ok)
        continue;
      g_assert_cmpstr (d.profile, ==, asc[i].profile);
      g_assert_cmpuint (d.sample_rate, ==, asc[i].rate);
      g_assert_cmpuint (d.channels, ==, asc[i].channels);
    }
}

static void
test_flv_audio_flags (void)
{
  RhCodecDetails d;
  /* PCM LE, 44 kHz, 16 bit, stereo. */
  g_assert_true (rh_codec_details_flv_audio (0x3f, &d));
  g_assert_cmpuint (d.sample_rate, ==, 44100);
  g_assert_cmpuint (d.channels, ==, 2);
  /* G.711 mu-law: 8 kHz whatever the rate bits say. */
  g_assert_true (rh_codec_details_flv_audio (0x82, &d));
  g_assert_cmpuint (d.sample_rate, ==, 8000);
  g_assert_cmpuint (d.channels, ==, 1);
  /* Speex: 16 kHz mono. */
  g_assert_true (rh_codec_details_flv_audio (0xb2, &d));
  g_assert_cmpuint (d.sample_rate, ==, 16000);
  /* AAC and MP3 have their own descriptions: the flags say nothing. */
  g_assert_false (rh_codec_details_flv_audio (0xaf, &d));
  g_assert_false (rh_codec_details_flv_audio (0x2f, &d));
}

static void
test_garbage (void)
{
  RhCodecDetails d;
  static const guint8 zeros[64] = { 0 };
  static const guint8 ones[64] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  };
  const char *const video[] = { "h264", "hevc", "av1", "vp9", "vp8", NULL };
  for (const char *const *codec = video; *codec != NULL; codec++)
    {
      g_assert_false (rh_codec_details_video (*codec, zeros, sizeof zeros, &d));
      rh_codec_details_video (*codec, ones, sizeof ones, &d);
    }
  g_assert_false (rh_codec_details_audio_config ("aac", zeros, sizeof zeros, &d));
  g_assert_false (rh_codec_details_audio_config ("opus", zeros, sizeof zeros, &d));
  g_assert_false (rh_codec_details_mp3 (zeros, 4, &d));
  /* Found by fuzz-protocol: an avcC that ends right after the SPS count
   * (the SPS length was read past the end). */
  static const guint8 no_sps_length[] = { 0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00 };
  guint8 *exact = g_memdup2 (no_sps_length, sizeof no_sps_length);
  g_assert_false (rh_codec_details_video ("h264", exact, sizeof no_sps_length, &d));
  g_free (exact);
  /* Found by fuzz-protocol: a scaling list whose delta_scale is near
   * 2^31 (the running sum overflowed). */
  static const guint8 huge_delta_scale[] = {
    0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0x8b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xc7, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0x9c, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0x00, 0x00, 0x24, 0x03, 0x00, 0x01, 0x00, 0x0f, 0x30, 0x96, 0x18, 0x01, 0x00,
  };
  g_assert_false (rh_codec_details_video ("h264", huge_delta_scale, sizeof huge_delta_scale, &d));
  /* A 16x16 picture whose SPS crops 16 pixels off its left: nothing
   * would be left, so it is refused. */
  static const guint8 cropped_away[] = {
    0x01, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0x00, 0x08, 0x67, 0x42, 0xc0, 0x1e, 0xda, 0x7c, 0x4f, 0x40,
  };
  g_assert_false (rh_codec_details_video ("h264", cropped_away, sizeof cropped_away, &d));
  g_assert_cmpuint (d.width, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/codecs/fixtures", test_fixtures);
  g_test_add_func ("/codecs/aac-signalling", test_aac_signalling);
  g_test_add_func ("/codecs/flv-audio-flags", test_flv_audio_flags);
  g_test_add_func ("/codecs/garbage", test_garbage);
  return g_test_run ();
}
