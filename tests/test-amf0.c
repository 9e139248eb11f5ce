#include "config.h"

#include <string.h>

#include "protocol/amf0.h"

static RhAmf0Value *
sample_value (void)
{
  RhAmf0Value *object = rh_amf0_object_new ();
  rh_amf0_object_set (object, "app", rh_amf0_string_new ("live"));
  rh_amf0_object_set (object, "number", rh_amf0_number_new (-12.5));
  rh_amf0_object_set (object, "flag", rh_amf0_boolean_new (TRUE));
  rh_amf0_object_set (object, "nothing", rh_amf0_null_new ());
  rh_amf0_object_set (object, "undef", rh_amf0_undefined_new ());
  rh_amf0_object_set (object, "when", rh_amf0_date_new (1697635200000.0, -60));
  RhAmf0Value *ecma = rh_amf0_ecma_array_new ();
  rh_amf0_object_set (ecma, "width", rh_amf0_number_new (640));
  rh_amf0_object_set (object, "meta", ecma);
  RhAmf0Value *list = rh_amf0_strict_array_new ();
  rh_amf0_array_append (list, rh_amf0_string_new ("avc1"));
  rh_amf0_array_append (list, rh_amf0_string_new ("*"));
  rh_amf0_object_set (object, "fourCcList", list);
  rh_amf0_object_set (object, "binary", rh_amf0_string_new_len ("a\0b", 3));
  return object;
}

static void
test_round_trip (void)
{
  g_autoptr (RhAmf0Value) value = sample_value ();
  g_autoptr (GByteArray) out = g_byte_array_new ();
  rh_amf0_encode (out, value);

  gsize pos = 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (RhAmf0Value) decoded = rh_amf0_decode (out->data, out->len, &pos, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pos, ==, out->len);
  g_assert_true (rh_amf0_value_equal (value, decoded));
  g_assert_cmpstr (rh_amf0_object_get_string (decoded, "app"), ==, "live");
  g_assert_cmpfloat (rh_amf0_object_get_number (decoded, "number", 0), ==, -12.5);
  const RhAmf0Value *when = rh_amf0_object_get (decoded, "when");
  g_assert_cmpint (when->date_timezone, ==, -60);

  g_autoptr (RhAmf0Value) copy = rh_amf0_value_copy (value);
  g_assert_true (rh_amf0_value_equal (value, copy));
}

static void
test_known_bytes (void)
{
  /* "connect" as ffmpeg encodes it: marker 2, length 7. */
  static const guint8 connect[] = { 0x02, 0x00, 0x07, 'c', 'o', 'n', 'n', 'e', 'c', 't' };
  /* 1.0 as an AMF0 number. */
  static const guint8 one[] = { 0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0 };
  g_autoptr (GByteArray) out = g_byte_array_new ();
  rh_amf0_encode_string (out, "connect");
  rh_amf0_encode_number (out, 1.0);
  g_assert_cmpmem (out->data, sizeof connect, connect, sizeof connect);
  g_assert_cmpmem (out->data + sizeof connect, sizeof one, one, sizeof one);
}

static void
test_long_string_and_typed_object (void)
{
  g_autofree char *big = g_strnfill (70000, 'x');
  g_autoptr (RhAmf0Value) value = rh_amf0_string_new (big);
  g_autoptr (GByteArray) out = g_byte_array_new ();
  rh_amf0_encode (out, value);
  g_assert_cmpuint (out->data[0], ==, 0x0C);  /* long string */
  gsize pos = 0;
  g_autoptr (RhAmf0Value) decoded = rh_amf0_decode (out->data, out->len, &pos, NULL);
  g_assert_nonnull (decoded);
  g_assert_cmpuint (decoded->v.string.len, ==, 70000);

  /* typed object "Foo" {a: 1} then an XML document and a reference */
  static const guint8 typed[] = {
    0x10, 0, 3, 'F', 'o', 'o', 0, 1, 'a', 0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0, 0, 0x09,
    0x0F, 0, 0, 0, 2, '<', '>',
    0x07, 0, 5,
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) values = rh_amf0_decode_all (typed, sizeof typed, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (values->len, ==, 3);
  RhAmf0Value *object = g_ptr_array_index (values, 0);
  g_assert_cmpint (object->type, ==, RH_AMF0_TYPED_OBJECT);
  g_assert_cmpstr (object->class_name, ==, "Foo");
  g_assert_cmpfloat (rh_amf0_object_get_number (object, "a", 0), ==, 1);
  g_assert_cmpint (((RhAmf0Value *) g_ptr_array_index (values, 1))->type, ==, RH_AMF0_XML_DOCUMENT);
  g_assert_cmpint (((RhAmf0Value *) g_ptr_array_index (values, 2))->v.reference, ==, 5);
  g_autoptr (GByteArray) again = g_byte_array_new ();
  for (guint i = 0; i < values->len; i++)
    rh_amf0_encode (again, g_ptr_array_index (values, i));
  g_assert_cmpmem (again->data, again->len, typed, sizeof typed);
}

static void
test_truncated_everywhere (void)
{
  g_autoptr (RhAmf0Value) value = sample_value ();
  g_autoptr (GByteArray) out = g_byte_array_new ();
  rh_amf0_encode (out, value);
  /* Every strict prefix must fail cleanly, never read past the end. */
  for (gsize len = 0; len < out->len; len++)
    {
      g_autofree guint8 *copy = g_memdup2 (out->data, len);
      gsize pos = 0;
      g_autoptr (GError) error = NULL;
      g_autoptr (RhAmf0Value) decoded = rh_amf0_decode (copy, len, &pos, &error);
      g_assert_null (decoded);
      g_assert_error (error, RH_AMF0_ERROR, RH_AMF0_ERROR_TRUNCATED);
    }
}

static void
test_malformed (void)
{
  /* A string that claims more bytes than the message has. */
  static const guint8 long_claim[] = { 0x02, 0xff, 0xff, 'a', 'b' };
  /* An unknown marker. */
  static const guint8 bad_marker[] = { 0x42 };
  /* AMF3 switch inside AMF0 is not supported. */
  static const guint8 avmplus[] = { 0x11, 0x01 };
  /* A strict array claiming four billion elements. */
  static const guint8 huge_array[] = { 0x0A, 0xff, 0xff, 0xff, 0xff, 0x05 };
  g_autoptr (GError) error = NULL;
  gsize pos = 0;

  g_assert_null (rh_amf0_decode (long_claim, sizeof long_claim, &pos, &error));
  g_assert_error (error, RH_AMF0_ERROR, RH_AMF0_ERROR_TRUNCATED);
  g_clear_error (&error);
  g_assert_null (rh_amf0_decode (bad_marker, sizeof bad_marker, &pos, &error));
  g_assert_error (error, RH_AMF0_ERROR, RH_AMF0_ERROR_BAD_MARKER);
  g_clear_error (&error);
  g_assert_null (rh_amf0_decode (avmplus, sizeof avmplus, &pos, &error));
  g_assert_error (error, RH_AMF0_ERROR, RH_AMF0_ERROR_BAD_MARKER);
  g_clear_error (&error);
  g_assert_null (rh_amf0_decode (huge_array, sizeof huge_array, &pos, &error));
  g_assert_error (error, RH_AMF0_ERROR, RH_AMF0_ERROR_TRUNCATED);
  g_clear_error (&error);
  g_assert_cmpuint (pos, ==, 0);

  /* Objects nested 100 deep: refused, not a stack overflow. */
  g_autoptr (GByteArray) deep = g_byte_array_new ();
  for (int i = 0; i < 100; i++)
    {
      static const guint8 open[] = { 0x03, 0x00, 0x01, 'x' };
      g_byte_array_append (deep, open, sizeof open);
    }
  g_assert_null (rh_amf0_decode (deep->data, deep->len, &pos, &error));
  g_assert_error (error, RH_AMF0_ERROR, RH_AMF0_ERROR_TOO_DEEP);
}

static void
test_ecma_count_is_a_hint (void)
{
  /* ffmpeg may write an ECMA array count of 0 followed by properties. */
  static const guint8 ecma[] = {
    0x08, 0, 0, 0, 0, 0, 8, 'd', 'u', 'r', 'a', 't', 'i', 'o', 'n',
    0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x09
  };
  gsize pos = 0;
  g_autoptr (RhAmf0Value) value = rh_amf0_decode (ecma, sizeof ecma, &pos, NULL);
  g_assert_nonnull (value);
  g_assert_cmpint (value->type, ==, RH_AMF0_ECMA_ARRAY);
  g_assert_nonnull (rh_amf0_object_get (value, "duration"));
  g_assert_cmpuint (pos, ==, sizeof ecma);
}

/* A strict array of nulls costs 1 byte a value on the wire and ~50 bytes
 * decoded: the decoder stops at RH_AMF0_MAX_VALUES values per message. */
static GByteArray *
null_array (guint32 count)
{
  GByteArray *out = g_byte_array_sized_new (count + 5);
  guint8 header[5] = { 0x0A, count >> 24, (count >> 16) & 0xff, (count >> 8) & 0xff, count & 0xff };
  g_byte_array_append (out, header, sizeof header);
  for (guint32 i = 0; i < count; i++)
    g_byte_array_append (out, (const guint8 *) "\x05", 1);
  return out;
}

static void
test_value_budget (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) fits = null_array (RH_AMF0_MAX_VALUES - 1);
  g_autoptr (GPtrArray) values = rh_amf0_decode_all (fits->data, fits->len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (values->len, ==, 1);

  g_autoptr (GByteArray) lie = null_array (4 * 1024 * 1024);
  g_assert_null (rh_amf0_decode_all (lie->data, lie->len, &error));
  g_assert_error (error, RH_AMF0_ERROR, RH_AMF0_ERROR_TOO_MANY);
  g_clear_error (&error);

  /* The budget is per message, not per top-level value. */
  g_autoptr (GByteArray) many = g_byte_array_new ();
  for (guint i = 0; i < RH_AMF0_MAX_VALUES + 1; i++)
    g_byte_array_append (many, (const guint8 *) "\x05", 1);
  g_assert_null (rh_amf0_decode_all (many->data, many->len, &error));
  g_assert_error (error, RH_AMF0_ERROR, RH_AMF0_ERROR_TOO_MANY);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/amf0/round-trip", test_round_trip);
  g_test_add_func ("/amf0/known-bytes", test_known_bytes);
  g_test_add_func ("/amf0/long-string-typed-object", test_long_string_and_typed_object);
  g_test_add_func ("/amf0/truncated-everywhere", test_truncated_everywhere);
  g_test_add_func ("/amf0/malformed", test_malformed);
  g_test_add_func ("/amf0/ecma-count-hint", test_ecma_count_is_a_hint);
  g_test_add_func ("/amf0/value-budget", test_value_budget);
  return g_test_run ();
}
