/* RTMP handshake, server side. The digest scheme follows librtmp's
 * handshake.h: a client whose C1 carries a non-zero version and a valid
 * digest gets S1 with our digest and S2 keyed from its digest; anything
 * else gets the plain handshake, which every client accepts. */
#include "config.h"

#include <glib/gi18n.h>

#include "handshake.h"

#include <string.h>

G_DEFINE_QUARK (rh-handshake-error-quark, rh_handshake_error)

#define FMS_KEY_TEXT_LEN 36
#define FP_KEY_TEXT_LEN 30

const guint8 rh_handshake_fms_key[68] = {
  'G', 'e', 'n', 'u', 'i', 'n', 'e', ' ', 'A', 'd', 'o', 'b', 'e', ' ',
  'F', 'l', 'a', 's', 'h', ' ', 'M', 'e', 'd', 'i', 'a', ' ',
  'S', 'e', 'r', 'v', 'e', 'r', ' ', '0', '0', '1',
  0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1,
  0x02, 0x9E, 0x7E, 0x57, 0x6E, 0xEC, 0x5D, 0x2D, 0x29, 0x80, 0x6F, 0xAB,
  0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE
};

const guint8 rh_handshake_fp_key[62] = {
  'G', 'e', 'n', 'u', 'i', 'n', 'e', ' ', 'A', 'd', 'o', 'b', 'e', ' ',
  'F', 'l', 'a', 's', 'h', ' ', 'P', 'l', 'a', 'y', 'e', 'r', ' ', '0', '0', '1',
  0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1,
  0x02, 0x9E, 0x7E, 0x57, 0x6E, 0xEC, 0x5D, 0x2D, 0x29, 0x80, 0x6F, 0xAB,
  0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE
};

/* The version we announce in S1 when answering the digest scheme (the
 * value nginx-rtmp sends). */
static const guint8 server_version[4] = { 0x0D, 0x0E, 0x0A, 0x0D };

struct _RhHandshake {
  RhHandshakeState state;
  RhHandshakeScheme scheme;
  guint8 buffer[1 + RH_HANDSHAKE_SIZE];
  gsize filled;
};

RhHandshake *
rh_handshake_new (void)
{
  return g_new0 (RhHandshake, 1);
}

void
rh_handshake_free (RhHandshake *hs)
{
  g_free (hs);
}

RhHandshakeState
rh_handshake_get_state (const RhHandshake *hs)
{
  return hs->state;
}

RhHandshakeScheme
rh_handshake_get_scheme (const RhHandshake *hs)
{
  return hs->scheme;
}

const char *
rh_handshake_scheme_to_string (RhHandshakeScheme scheme)
{
  return scheme == RH_HANDSHAKE_DIGEST ? "digest" : "simple";
}

gsize
rh_handshake_digest_offset (const guint8 packet[RH_HANDSHAKE_SIZE], guint scheme)
{
  gsize base = scheme == 0 ? 8 : 772;
  guint sum = packet[base] + packet[base + 1] + packet[base + 2] + packet[base + 3];
  return (sum % 728) + base + 4;
}

static void
hmac_sha256 (const guint8 *key, gsize key_len, const guint8 *a, gsize a_len,
             const guint8 *b, gsize b_len, guint8 out[32])
{
  g_autoptr (GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256, key, key_len);
  gsize out_len = 32;
  g_hmac_update (hmac, a, (gssize) a_len);
  if (b_len > 0)
    g_hmac_update (hmac, b, (gssize) b_len);
  g_hmac_get_digest (hmac, out, &out_len);
}

void
rh_handshake_compute_digest (const guint8 packet[RH_HANDSHAKE_SIZE], gsize digest_offset,
                             const guint8 *key, gsize key_len, guint8 digest[32])
{
  hmac_sha256 (key, key_len, packet, digest_offset,
               packet + digest_offset + 32, RH_HANDSHAKE_SIZE - digest_offset - 32, digest);
}

/* Returns the scheme (0 or 1) whose digest validates, or -1. */
static int
find_client_digest (const guint8 c1[RH_HANDSHAKE_SIZE], gsize *offset)
{
  for (guint scheme = 0; scheme < 2; scheme++)
    {
      guint8 digest[32];
      gsize at = rh_handshake_digest_offset (c1, scheme);
      rh_handshake_compute_digest (c1, at, rh_handshake_fp_key, FP_KEY_TEXT_LEN, digest);
      if (memcmp (digest, c1 + at, 32) == 0)
        {
          *offset = at;
          return (int) scheme;
        }
    }
  return -1;
}

static void
fill_random (guint8 *data, gsize len)
{
  for (gsize i = 0; i < len; i += 4)
    {
      guint32 r = g_random_int ();
      memcpy (data + i, &r, MIN (4, len - i));
    }
}

static void
write_response (RhHandshake *hs, const guint8 c1[RH_HANDSHAKE_SIZE], GByteArray *out)
{
  guint8 s0 = 3;
  guint8 s1[RH_HANDSHAKE_SIZE];
  guint8 s2[RH_HANDSHAKE_SIZE];
  gsize client_digest_at = 0;
  int scheme = -1;

  fill_random (s1, sizeof s1);
  memset (s1, 0, 8);  /* time 0, version 0 unless we answer the digest scheme */

  if (c1[4] != 0 || c1[5] != 0 || c1[6] != 0 || c1[7] != 0)
    scheme = find_client_digest (c1, &client_digest_at);

  if (scheme < 0)
    {
      hs->scheme = RH_HANDSHAKE_SIMPLE;
      memcpy (s2, c1, RH_HANDSHAKE_SIZE);
    }
  else
    {
      hs->scheme = RH_HANDSHAKE_DIGEST;
      memcpy (s1 + 4, server_version, 4);
      gsize at = rh_handshake_digest_offset (s1, (guint) scheme);
      rh_handshake_compute_digest (s1, at, rh_handshake_fms_key, FMS_KEY_TEXT_LEN, s1 + at);

      guint8 key[32];
      hmac_sha256 (rh_handshake_fms_key, sizeof rh_handshake_fms_key,
                   c1 + client_digest_at, 32, NULL, 0, key);
      fill_random (s2, sizeof s2);
      hmac_sha256 (key, sizeof key, s2, RH_HANDSHAKE_SIZE - 32, NULL, 0,
                   s2 + RH_HANDSHAKE_SIZE - 32);
    }

  g_byte_array_append (out, &s0, 1);
  g_byte_array_append (out, s1, sizeof s1);
  g_byte_array_append (out, s2, sizeof s2);
}

gssize
rh_handshake_feed (RhHandshake *hs, const guint8 *data, gsize len,
                   GByteArray *out, GError **error)
{
  gsize used = 0;

  while (used < len && hs->state != RH_HANDSHAKE_DONE)
    {
      if (hs->state == RH_HANDSHAKE_WAIT_C0C1 && hs->filled == 0 && data[used] != 3)
        {
          g_set_error (error, RH_HANDSHAKE_ERROR, RH_HANDSHAKE_ERROR_BAD_VERSION,
                       _("handshake version %u is not RTMP 3%s"), data[used],
                       data[used] == 6 ? " (RTMPE is not supported)" : "");
          return -1;
        }
      gsize want = (hs->state == RH_HANDSHAKE_WAIT_C0C1 ? 1 + RH_HANDSHAKE_SIZE : RH_HANDSHAKE_SIZE)
                   - hs->filled;
      gsize take = MIN (want, len - used);
      /* C2 is only counted, never checked: clients disagree on its content. */
      if (hs->state == RH_HANDSHAKE_WAIT_C0C1)
        memcpy (hs->buffer + hs->filled, data + used, take);
      hs->filled += take;
      used += take;
      if (take < want)
        break;

      if (hs->state == RH_HANDSHAKE_WAIT_C0C1)
        {
          write_response (hs, hs->buffer + 1, out);
          hs->state = RH_HANDSHAKE_WAIT_C2;
        }
      else
        {
          hs->state = RH_HANDSHAKE_DONE;
        }
      hs->filled = 0;
    }
  return (gssize) used;
}
