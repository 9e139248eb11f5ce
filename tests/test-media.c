#include "config.h"

#include <string.h>

#include "protocol/aggregate.h"
#include "protocol/amf0.h"
#include "protocol/data-message.h"
#include "protocol/media.h"
#include "protocol/message.h"

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

/* Enhanced RTMP v2: SequenceEnd, ModEx prefixes (short and long), and
 * multitrack packets, whose configurations are kept per track. */
static void
test_enhanced_v2 (void)
{
  /* key frame | SequenceEnd, "hvc1" */
  static const guint8 end[] = { 0x92, 'h', 'v', 'c', '1' };
  /* key frame | ModEx: 1 byte of data (TimestampOffsetNano), then
   * ModExType 0 | CodedFramesX, "av01" */
  static const guint8 modex_key[] = { 0x97, 0x00, 0x2a, 0x03, 'a', 'v', '0', '1', 0x12 };
  /* ModEx with a 16-bit size (255 then 299: 300 bytes of data), then
   * SequenceStart */
  guint8 modex_long[4 + 300 + 1 + 4 + 2] = { 0x97, 0xff, 0x01, 0x2b };
  modex_long[4 + 300] = 0x00;
  memcpy (modex_long + 4 + 300 + 1, "hvc1", 4);
  /* Multitrack, OneTrack | SequenceStart, "avc1", track 2, then the avcC */
  static const guint8 track_start[] = { 0x96, 0x00, 'a', 'v', 'c', '1', 2, 0x01, 0x64 };
  /* Multitrack, ManyTracksManyCodecs | CodedFrames: FourCC per track */
  static const guint8 many_codecs[] = { 0x96, 0x21, 'h', 'v', 'c', '1', 1, 0, 0, 4, 0, 0, 0, 0 };
  /* inter frame, Multitrack ManyTracks | SequenceEnd */
  static const guint8 many_end[] = { 0xa6, 0x12, 'a', 'v', '0', '1', 0, 0, 0, 0 };

  RhMediaInfo info = rh_media_inspect_video (end, sizeof end);
  g_assert_cmpint (info.flags, ==, RH_MEDIA_SEQUENCE_END);
  g_assert_cmpstr (info.codec, ==, "hevc");
  info = rh_media_inspect_video (modex_key, sizeof modex_key);
  g_assert_cmpint (info.flags, ==, RH_MEDIA_KEYFRAME);
  g_assert_cmpstr (info.codec, ==, "av1");
  info = rh_media_inspect_video (modex_long, sizeof modex_long);
  g_assert_cmpint (info.flags, ==, RH_MEDIA_SEQUENCE_HEADER);
  g_assert_cmpstr (info.codec, ==, "hevc");
  g_assert_cmpuint (info.config_offset, ==, 4 + 300 + 1 + 4);
  g_assert_cmpuint (info.config_key, ==, 0);
  info = rh_media_inspect_video (track_start, sizeof track_start);
  g_assert_cmpint (info.flags, ==, RH_MEDIA_SEQUENCE_HEADER);
  g_assert_null (info.codec);   /* a track's codec is not the stream's */
  g_assert_cmpuint (info.config_key, ==, 3);
  g_assert_cmpuint (info.config_offset, ==, 7);
  info = rh_media_inspect_video (many_codecs, sizeof many_codecs);
  g_assert_cmpint (info.flags, ==, RH_MEDIA_KEYFRAME);
  g_assert_null (info.codec);
  info = rh_media_inspect_video (many_end, sizeof many_end);
  g_assert_cmpint (info.flags, ==, RH_MEDIA_SEQUENCE_END);

  /* Audio: MultichannelConfig beside SequenceStart, multitrack, ModEx. */
  static const guint8 opus_start[] = { 0x90, 'O', 'p', 'u', 's', 0 };
  static const guint8 opus_channels[] = { 0x94, 'O', 'p', 'u', 's', 1, 2, 0, 0, 0, 3 };
  static const guint8 track_aac[] = { 0x95, 0x00, 'm', 'p', '4', 'a', 1, 0x12, 0x10 };
  static const guint8 modex_end[] = { 0x97, 0x00, 0x01, 0x02, 'f', 'L', 'a', 'C' };
  info = rh_media_inspect_audio (opus_start, sizeof opus_start);
  g_assert_cmpuint (info.config_key, ==, 0);
  info = rh_media_inspect_audio (opus_channels, sizeof opus_channels);
  g_assert_cmpint (info.flags, ==, RH_MEDIA_SEQUENCE_HEADER);
  g_assert_cmpuint (info.config_key, ==, RH_MEDIA_CONFIG_MULTICHANNEL);
  info = rh_media_inspect_audio (track_aac, sizeof track_aac);
  g_assert_cmpint (info.flags, ==, RH_MEDIA_SEQUENCE_HEADER);
  g_assert_cmpuint (info.config_key, ==, 2);
  g_assert_cmpuint (info.config_offset, ==, 7);
  info = rh_media_inspect_audio (modex_end, sizeof modex_end);
  g_assert_cmpint (info.flags, ==, RH_MEDIA_SEQUENCE_END);
  g_assert_cmpstr (info.codec, ==, "flac");

  /* Every truncation: nothing read past the end, nothing made up. */
  const struct { const guint8 *data; gsize len; gboolean video; } all[] = {
    { modex_key, sizeof modex_key, TRUE }, { modex_long, sizeof modex_long, TRUE },
    { track_start, sizeof track_start, TRUE }, { many_codecs, sizeof many_codecs, TRUE },
    { track_aac, sizeof track_aac, FALSE }, { modex_end, sizeof modex_end, FALSE },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (all); i++)
    for (gsize n = 1; n < all[i].len; n++)
      {
        guint8 *cut = g_memdup2 (all[i].data, n);
        info = all[i].video ? rh_media_inspect_video (cut, n) : rh_media_inspect_audio (cut, n);
        g_assert_true (info.config_offset <= n);
        g_free (cut);
      }
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

static void
append_tag (GByteArray *out, guint8 type, guint32 timestamp, const char *body)
{
  guint8 header[11] = { type };
  gsize len = strlen (body);
  rh_write_u24_be (header + 1, (guint32) len);
  rh_write_u24_be (header + 4, timestamp & 0xFFFFFF);
  header[7] = (guint8) (timestamp >> 24);
  guint8 previous[4];
  rh_write_u32_be (previous, (guint32) (len + 11));
  g_byte_array_append (out, header, sizeof header);
  g_byte_array_append (out, (const guint8 *) body, (guint) len);
  g_byte_array_append (out, previous, sizeof previous);
}

static void
collect_tag (guint8 type, guint32 timestamp, GBytes *body, gpointer user_data)
{
  GString *seen = user_data;
  gsize len;
  const char *data = g_bytes_get_data (body, &len);
  g_string_append_printf (seen, "%u@%u:%.*s;", type, timestamp, (int) len, data);
}

/* Tags come out on the message's clock, offsets kept, bodies intact. */
static void
test_aggregate (void)
{
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  append_tag (wire, 9, 0x01000000, "key");
  append_tag (wire, 8, 0x01000015, "aac");
  append_tag (wire, 9, 0x01000021, "");
  g_autoptr (GBytes) payload = g_byte_array_free_to_bytes (g_steal_pointer (&wire));
  g_autoptr (GString) seen = g_string_new (NULL);
  g_assert_true (rh_aggregate_foreach (payload, 5000, collect_tag, seen, NULL));
  g_assert_cmpstr (seen->str, ==, "9@5000:key;8@5021:aac;9@5033:;");
}

/* A tag that claims more bytes than are left is refused, whatever the
 * size field says (up to 2^24-1), after the tags before it. */
static void
test_aggregate_truncated (void)
{
  static const guint32 sizes[] = { 8, 100, 0xFFFFFF };
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr (GByteArray) wire = g_byte_array_new ();
      append_tag (wire, 9, 0, "ok");
      append_tag (wire, 9, 40, "abc");
      rh_write_u24_be (wire->data + 17 + 1, sizes[i]);
      g_autoptr (GBytes) payload = g_byte_array_free_to_bytes (g_steal_pointer (&wire));
      g_autoptr (GString) seen = g_string_new (NULL);
      g_autoptr (GError) error = NULL;
      g_assert_false (rh_aggregate_foreach (payload, 0, collect_tag, seen, &error));
      g_assert_error (error, RH_AGGREGATE_ERROR, RH_AGGREGATE_ERROR_TRUNCATED);
      g_assert_cmpstr (seen->str, ==, "9@0:ok;");
    }
}

static GBytes *
encode_values (const char *first, const char *second, gboolean with_object)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  rh_amf0_encode_string (out, first);
  if (second != NULL)
    rh_amf0_encode_string (out, second);
  if (with_object)
    {
      RhAmf0Value *object = rh_amf0_object_new ();
      rh_amf0_object_set (object, "width", rh_amf0_number_new (1280));
      rh_amf0_encode (out, object);
      rh_amf0_value_free (object);
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

/* @setDataFrame is stripped and the object becomes an ECMA array; other
 * data passes through as the same bytes; bad AMF is an error. */
static void
test_data_message (void)
{
  g_autoptr (GBytes) set_frame = encode_values ("@setDataFrame", "onMetaData", TRUE);
  RhDataMessage message = { NULL, FALSE };
  g_assert_true (rh_data_message_parse (RH_MSG_DATA_AMF0, set_frame, &message, NULL));
  g_assert_true (message.is_metadata);
  gsize len;
  const guint8 *data = g_bytes_get_data (message.payload, &len);
  g_autoptr (GPtrArray) values = rh_amf0_decode_all (data, len, NULL);
  g_assert_cmpuint (values->len, ==, 2);
  g_assert_cmpstr (((RhAmf0Value *) g_ptr_array_index (values, 0))->v.string.data, ==, "onMetaData");
  g_assert_cmpint (((RhAmf0Value *) g_ptr_array_index (values, 1))->type, ==, RH_AMF0_ECMA_ARRAY);
  rh_data_message_clear (&message);

  g_autoptr (GBytes) cue = encode_values ("onCuePoint", NULL, TRUE);
  g_assert_true (rh_data_message_parse (RH_MSG_DATA_AMF0, cue, &message, NULL));
  g_assert_false (message.is_metadata);
  g_assert_true (message.payload == cue);
  rh_data_message_clear (&message);

  static const guint8 bad[] = { 0x02, 0x00, 0x10, 'o', 'n' };
  g_autoptr (GBytes) truncated = g_bytes_new_static (bad, sizeof bad);
  g_autoptr (GError) error = NULL;
  g_assert_false (rh_data_message_parse (RH_MSG_DATA_AMF0, truncated, &message, &error));
  g_assert_nonnull (error);
  g_assert_null (message.payload);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media/legacy-video", test_legacy_video);
  g_test_add_func ("/media/enhanced-video", test_enhanced_video);
  g_test_add_func ("/media/enhanced-v2", test_enhanced_v2);
  g_test_add_func ("/media/audio", test_audio);
  g_test_add_func ("/media/aggregate", test_aggregate);
  g_test_add_func ("/media/aggregate-truncated", test_aggregate_truncated);
  g_test_add_func ("/media/data-message", test_data_message);
  return g_test_run ();
}
