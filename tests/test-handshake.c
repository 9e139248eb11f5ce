#include "config.h"

#include <string.h>

#include "protocol/handshake.h"
#include "protocol/tls-record.h"

static void
make_c1 (guint8 c1[RH_HANDSHAKE_SIZE], gboolean digest, guint scheme)
{
  for (gsize i = 0; i < RH_HANDSHAKE_SIZE; i++)
    c1[i] = (guint8) g_test_rand_int ();
  memset (c1, 0, 4);
  if (!digest)
    {
      memset (c1 + 4, 0, 4);
      return;
    }
  /* ffmpeg announces 9.0.124.2 and signs with the Flash Player key. */
  c1[4] = 9, c1[5] = 0, c1[6] = 124, c1[7] = 2;
  gsize at = rh_handshake_digest_offset (c1, scheme);
  rh_handshake_compute_digest (c1, at, rh_handshake_fp_key, 30, c1 + at);
}

/* Feeds C0+C1+C2+extra in pieces of `step` bytes. */
static GByteArray *
run (RhHandshake *hs, const guint8 *c1, gsize step, gsize *leftover)
{
  g_autoptr (GByteArray) input = g_byte_array_new ();
  GByteArray *out = g_byte_array_new ();
  guint8 c0 = 3;
  static const guint8 extra[] = { 0xAA, 0xBB };
  g_byte_array_append (input, &c0, 1);
  g_byte_array_append (input, c1, RH_HANDSHAKE_SIZE);
  g_byte_array_append (input, c1, RH_HANDSHAKE_SIZE);  /* C2: content is not checked */
  g_byte_array_append (input, extra, sizeof extra);

  *leftover = 0;
  for (gsize pos = 0; pos < input->len; pos += step)
    {
      gsize len = MIN (step, input->len - pos);
      g_autoptr (GError) error = NULL;
      gssize used = rh_handshake_feed (hs, input->data + pos, len, out, &error);
      g_assert_no_error (error);
      /* S0S1S2 must be out as soon as C0C1 are in: never wait for C2. */
      if (pos + len >= 1 + RH_HANDSHAKE_SIZE)
        g_assert_cmpuint (out->len, ==, 1 + 2 * RH_HANDSHAKE_SIZE);
      else
        g_assert_cmpuint (out->len, ==, 0);
      *leftover += len - (gsize) used;
    }
  return out;
}

static void
test_simple (void)
{
  static const gsize steps[] = { 1, 7, 1536, 1537, 5000 };
  for (gsize s = 0; s < G_N_ELEMENTS (steps); s++)
    {
      guint8 c1[RH_HANDSHAKE_SIZE];
      make_c1 (c1, FALSE, 0);
      g_autoptr (RhHandshake) hs = rh_handshake_new ();
      gsize leftover;
      g_autoptr (GByteArray) out = run (hs, c1, steps[s], &leftover);
      g_assert_cmpint (rh_handshake_get_state (hs), ==, RH_HANDSHAKE_DONE);
      g_assert_cmpint (rh_handshake_get_scheme (hs), ==, RH_HANDSHAKE_SIMPLE);
      g_assert_cmpuint (leftover, ==, 2);  /* the chunk stream's first bytes */
      g_assert_cmpuint (out->data[0], ==, 3);
      g_assert_cmpmem (out->data + 5, 4, "\0\0\0\0", 4);  /* S1 version 0 */
      g_assert_cmpmem (out->data + 1 + RH_HANDSHAKE_SIZE, RH_HANDSHAKE_SIZE, c1, RH_HANDSHAKE_SIZE);
    }
}

static void
test_digest (gconstpointer data)
{
  guint scheme = GPOINTER_TO_UINT (data);
  guint8 c1[RH_HANDSHAKE_SIZE];
  make_c1 (c1, TRUE, scheme);
  g_autoptr (RhHandshake) hs = rh_handshake_new ();
  gsize leftover;
  g_autoptr (GByteArray) out = run (hs, c1, 100, &leftover);

  g_assert_cmpint (rh_handshake_get_scheme (hs), ==, RH_HANDSHAKE_DIGEST);
  const guint8 *s1 = out->data + 1;
  const guint8 *s2 = out->data + 1 + RH_HANDSHAKE_SIZE;
  g_assert_cmpuint (s1[4], >=, 3);  /* ffmpeg validates the digest only then */

  /* S1 carries a digest keyed with the server key, in the client's scheme. */
  guint8 expected[32];
  gsize at = rh_handshake_digest_offset (s1, scheme);
  rh_handshake_compute_digest (s1, at, rh_handshake_fms_key, 36, expected);
  g_assert_cmpmem (s1 + at, 32, expected, 32);

  /* S2's last 32 bytes: HMAC keyed from the client's digest (librtmp). */
  gsize client_at = rh_handshake_digest_offset (c1, scheme);
  guint8 key[32];
  gsize key_len = 32;
  g_autoptr (GHmac) key_hmac = g_hmac_new (G_CHECKSUM_SHA256, rh_handshake_fms_key, 68);
  g_hmac_update (key_hmac, c1 + client_at, 32);
  g_hmac_get_digest (key_hmac, key, &key_len);
  g_autoptr (GHmac) s2_hmac = g_hmac_new (G_CHECKSUM_SHA256, key, 32);
  g_hmac_update (s2_hmac, s2, RH_HANDSHAKE_SIZE - 32);
  gsize len = 32;
  g_hmac_get_digest (s2_hmac, expected, &len);
  g_assert_cmpmem (s2 + RH_HANDSHAKE_SIZE - 32, 32, expected, 32);
}

static void
test_unsigned_nonzero_version_falls_back (void)
{
  /* rtmpdump-like C1 with a version but no valid digest: plain answer. */
  guint8 c1[RH_HANDSHAKE_SIZE];
  make_c1 (c1, FALSE, 0);
  c1[4] = 10;
  g_autoptr (RhHandshake) hs = rh_handshake_new ();
  gsize leftover;
  g_autoptr (GByteArray) out = run (hs, c1, 1537, &leftover);
  g_assert_cmpint (rh_handshake_get_scheme (hs), ==, RH_HANDSHAKE_SIMPLE);
  g_assert_cmpmem (out->data + 1 + RH_HANDSHAKE_SIZE, RH_HANDSHAKE_SIZE, c1, RH_HANDSHAKE_SIZE);
}

static void
test_bad_version (void)
{
  static const char http[] = "GET / HTTP/1.1\r\n";
  guint8 rtmpe = 6;
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GError) error = NULL;

  g_autoptr (RhHandshake) hs = rh_handshake_new ();
  g_assert_cmpint (rh_handshake_feed (hs, (const guint8 *) http, sizeof http - 1, out, &error), ==, -1);
  g_assert_error (error, RH_HANDSHAKE_ERROR, RH_HANDSHAKE_ERROR_BAD_VERSION);
  g_clear_error (&error);

  g_autoptr (RhHandshake) hs2 = rh_handshake_new ();
  g_assert_cmpint (rh_handshake_feed (hs2, &rtmpe, 1, out, &error), ==, -1);
  g_assert_error (error, RH_HANDSHAKE_ERROR, RH_HANDSHAKE_ERROR_BAD_VERSION);
  g_assert_nonnull (strstr (error->message, "RTMPE"));
  g_assert_cmpuint (out->len, ==, 0);
}

/* What a TLS port makes of a client's first bytes. */
static void
test_tls_record (void)
{
  gsize needed;
  /* C0 of plain RTMP, and an HTTP request. */
  g_assert_cmpint (rh_tls_record_check ((const guint8 *) "\x03", 1, &needed), ==, RH_TLS_RECORD_NOT_TLS);
  g_assert_cmpint (rh_tls_record_check ((const guint8 *) "GET / HTTP/1.1", 14, &needed), ==, RH_TLS_RECORD_NOT_TLS);
  /* A handshake record, byte by byte. */
  guint8 hello[5 + 300] = { 22, 3, 1, 0x01, 0x2c };
  g_assert_cmpint (rh_tls_record_check (hello, 1, &needed), ==, RH_TLS_RECORD_INCOMPLETE);
  g_assert_cmpuint (needed, ==, 5);
  g_assert_cmpint (rh_tls_record_check (hello, 5, &needed), ==, RH_TLS_RECORD_INCOMPLETE);
  g_assert_cmpuint (needed, ==, 305);
  g_assert_cmpint (rh_tls_record_check (hello, 304, &needed), ==, RH_TLS_RECORD_INCOMPLETE);
  g_assert_cmpint (rh_tls_record_check (hello, 305, &needed), ==, RH_TLS_RECORD_COMPLETE);
  /* Not version 3.x, an empty record, one longer than TLS allows. */
  guint8 bad_version[5] = { 22, 2, 0, 0, 10 };
  guint8 empty[5] = { 22, 3, 3, 0, 0 };
  guint8 huge[5] = { 22, 3, 3, 0xff, 0xff };
  g_assert_cmpint (rh_tls_record_check (bad_version, 5, &needed), ==, RH_TLS_RECORD_NOT_TLS);
  g_assert_cmpint (rh_tls_record_check (empty, 5, &needed), ==, RH_TLS_RECORD_NOT_TLS);
  g_assert_cmpint (rh_tls_record_check (huge, 5, &needed), ==, RH_TLS_RECORD_NOT_TLS);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/handshake/simple", test_simple);
  g_test_add_data_func ("/handshake/digest-scheme0", GUINT_TO_POINTER (0), test_digest);
  g_test_add_data_func ("/handshake/digest-scheme1", GUINT_TO_POINTER (1), test_digest);
  g_test_add_func ("/handshake/unsigned-version", test_unsigned_nonzero_version_falls_back);
  g_test_add_func ("/handshake/bad-version", test_bad_version);
  g_test_add_func ("/handshake/tls-record", test_tls_record);
  return g_test_run ();
}
