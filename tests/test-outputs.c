/* The pure parts of recordings and relays: FLV framing and the file's
 * onMetaData, the paths a template may produce, relay URLs. */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "protocol/amf0.h"
#include "protocol/flv-writer.h"
#include "protocol/rtmp-url.h"
#include "util/relative-path.h"

static void
test_framing (void)
{
  guint8 header[RH_FLV_FILE_HEADER_SIZE];
  rh_flv_write_file_header (header, TRUE, TRUE);
  static const guint8 expected_header[] = { 'F', 'L', 'V', 1, 5, 0, 0, 0, 9, 0, 0, 0, 0 };
  g_assert_cmpmem (header, sizeof header, expected_header, sizeof expected_header);
  rh_flv_write_file_header (header, TRUE, FALSE);
  g_assert_cmpuint (header[4], ==, 4);

  /* A timestamp past 2^24 ms (4.6 hours) puts its top byte in
   * TimestampExtended. */
  guint8 tag[RH_FLV_TAG_HEADER_SIZE];
  rh_flv_write_tag_header (tag, RH_FLV_TAG_VIDEO, 0x012345, 0x89abcdef);
  static const guint8 expected_tag[] = { 9, 0x01, 0x23, 0x45, 0xab, 0xcd, 0xef, 0x89, 0, 0, 0 };
  g_assert_cmpmem (tag, sizeof tag, expected_tag, sizeof expected_tag);
  guint8 trailer[RH_FLV_TAG_TRAILER_SIZE];
  rh_flv_write_tag_trailer (trailer, 0x012345);
  static const guint8 expected_trailer[] = { 0, 0x01, 0x23, 0x50 };
  g_assert_cmpmem (trailer, sizeof trailer, expected_trailer, sizeof expected_trailer);
}

static RhAmf0Value *
decode_metadata (GBytes *body)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (body, &len);
  g_autoptr (GPtrArray) values = rh_amf0_decode_all (data, len, NULL);
  g_assert_nonnull (values);
  g_assert_cmpuint (values->len, ==, 2);
  g_assert_cmpstr (((RhAmf0Value *) g_ptr_array_index (values, 0))->v.string.data, ==, "onMetaData");
  return rh_amf0_value_copy (g_ptr_array_index (values, 1));
}

/* The publisher's fields stay, its duration and filesize go, and the
 * file's own are where the offsets say: patched, they decode. */
static void
test_file_metadata (void)
{
  g_autoptr (GByteArray) publisher = g_byte_array_new ();
  rh_amf0_encode_string (publisher, "onMetaData");
  g_autoptr (RhAmf0Value) fields = rh_amf0_ecma_array_new ();
  rh_amf0_object_set (fields, "width", rh_amf0_number_new (640));
  rh_amf0_object_set (fields, "duration", rh_amf0_number_new (0));
  rh_amf0_object_set (fields, "encoder", rh_amf0_string_new ("Lavf60"));
  rh_amf0_object_set (fields, "fileSize", rh_amf0_number_new (0));
  rh_amf0_encode (publisher, fields);
  g_autoptr (GBytes) publisher_bytes = g_bytes_new (publisher->data, publisher->len);

  gsize duration_at, filesize_at;
  g_autoptr (GBytes) body = rh_flv_file_metadata (publisher_bytes, &duration_at, &filesize_at);
  gsize len;
  guint8 *patched = g_memdup2 (g_bytes_get_data (body, &len), g_bytes_get_size (body));
  g_assert_cmpuint (filesize_at + 8 + 3, ==, len);
  rh_flv_write_double (patched + duration_at, 12.5);
  rh_flv_write_double (patched + filesize_at, 123456);
  g_autoptr (GBytes) patched_bytes = g_bytes_new_take (patched, len);
  g_autoptr (RhAmf0Value) file = decode_metadata (patched_bytes);
  g_assert_cmpint (file->type, ==, RH_AMF0_ECMA_ARRAY);
  g_assert_cmpuint (file->items->len, ==, 4);
  g_assert_cmpfloat (rh_amf0_object_get_number (file, "width", 0), ==, 640);
  g_assert_cmpstr (rh_amf0_object_get_string (file, "encoder"), ==, "Lavf60");
  g_assert_cmpfloat (rh_amf0_object_get_number (file, "duration", 0), ==, 12.5);
  g_assert_cmpfloat (rh_amf0_object_get_number (file, "filesize", 0), ==, 123456);
  g_assert_null (rh_amf0_object_get (file, "fileSize"));

  /* No metadata, or garbage: just the two numbers. */
  static const guint8 garbage[] = { 0x02, 0xff, 0xff };
  g_autoptr (GBytes) garbage_bytes = g_bytes_new_static (garbage, sizeof garbage);
  GBytes *inputs[] = { NULL, garbage_bytes };
  for (gsize i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autoptr (GBytes) bare = rh_flv_file_metadata (inputs[i], &duration_at, &filesize_at);
      g_autoptr (RhAmf0Value) decoded = decode_metadata (bare);
      g_assert_cmpuint (decoded->items->len, ==, 2);
      const guint8 *data = g_bytes_get_data (bare, NULL);
      g_assert_cmpmem (data + duration_at - 11, 10, "\0\x08" "duration", 10);
    }
}

static void
test_relative_paths (void)
{
  static const char *const safe[] = { "live/cam.flv", "a", "live/cam%2F..%2Fx.flv", "a/b/c/d.flv", "..a/b..", NULL };
  static const char *const unsafe[] = {
    "", "/etc/passwd", "../x", "live/../../x", "live/./x", "live//x", "live/", "a\\b", "a\nb", "a\x7f", "..", ".",
    NULL
  };
  for (const char *const *p = safe; *p != NULL; p++)
    if (!rh_relative_path_is_safe (*p))
      g_error ("refused \"%s\"", *p);
  for (const char *const *p = unsafe; *p != NULL; p++)
    if (rh_relative_path_is_safe (*p))
      g_error ("accepted \"%s\"", *p);
  g_autofree char *long_path = g_strnfill (1025, 'a');
  g_assert_false (rh_relative_path_is_safe (long_path));
}

static void
test_relay_urls (void)
{
  static const struct {
    const char *url, *host;
    guint16 port;
    const char *app, *stream, *tc_url, *public_url;
    gboolean tls;
  } good[] = {
    { "rtmp://127.0.0.1/live/cam", "127.0.0.1", 1935, "live", "cam", "rtmp://127.0.0.1:1935/live",
      "rtmp://127.0.0.1/live/cam", FALSE },
    { "rtmps://live-api-s.facebook.com/rtmp/KEY", "live-api-s.facebook.com", 443, "rtmp", "KEY",
      "rtmps://live-api-s.facebook.com:443/rtmp", "rtmps://live-api-s.facebook.com/rtmp/KEY", TRUE },
    { "RTMPS://h:8443/app/s?k=1", "h", 8443, "app", "s?k=1", "rtmps://h:8443/app", "RTMPS://h:8443/app/s", TRUE },
    { "rtmp://edge1:1936/live/cam?key=s3cret", "edge1", 1936, "live", "cam?key=s3cret", "rtmp://edge1:1936/live",
      "rtmp://edge1:1936/live/cam" },
    { "rtmp://[::1]:1937/a/b/c", "::1", 1937, "a", "b/c", "rtmp://[::1]:1937/a", "rtmp://[::1]:1937/a/b/c" },
    { "RTMP://h/app/my%20stream", "h", 1935, "app", "my stream", "rtmp://h:1935/app", "RTMP://h/app/my%20stream" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      RhRtmpUrl url;
      g_autoptr (GError) error = NULL;
      if (!rh_rtmp_url_parse (good[i].url, &url, &error))
        g_error ("%s: %s", good[i].url, error->message);
      g_assert_cmpstr (url.host, ==, good[i].host);
      g_assert_cmpuint (url.port, ==, good[i].port);
      g_assert_cmpstr (url.app, ==, good[i].app);
      g_assert_cmpstr (url.stream, ==, good[i].stream);
      g_assert_cmpstr (url.tc_url, ==, good[i].tc_url);
      g_assert_cmpstr (url.public_url, ==, good[i].public_url);
      g_assert_cmpint (url.tls, ==, good[i].tls);
      rh_rtmp_url_clear (&url);
    }
  static const char *const bad[] = {
    "http://h/app/s", "rtmpt://h/app/s", "rtmps://h/app", "rtmp://h/app", "rtmp://h/app/", "rtmp:///app/s", "rtmp://h//s", "rtmp://h:0/a/s",
    "rtmp://h:99999/a/s", "not a url", "",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      RhRtmpUrl url;
      g_autoptr (GError) error = NULL;
      if (rh_rtmp_url_parse (bad[i], &url, &error))
        g_error ("accepted \"%s\"", bad[i]);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/outputs/flv-framing", test_framing);
  g_test_add_func ("/outputs/file-metadata", test_file_metadata);
  g_test_add_func ("/outputs/relative-paths", test_relative_paths);
  g_test_add_func ("/outputs/relay-urls", test_relay_urls);
  return g_test_run ();
}
