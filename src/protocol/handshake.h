/* The server side of the RTMP handshake, as a feed-style state machine:
 * bytes in, bytes to send out, no sockets. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RH_HANDSHAKE_SIZE 1536

#define RH_HANDSHAKE_ERROR (rh_handshake_error_quark ())
GQuark rh_handshake_error_quark (void);

typedef enum {
  RH_HANDSHAKE_ERROR_BAD_VERSION,  /* C0 is not 3 (6 = RTMPE, or not RTMP at all) */
} RhHandshakeError;

typedef enum {
  RH_HANDSHAKE_WAIT_C0C1,
  RH_HANDSHAKE_WAIT_C2,
  RH_HANDSHAKE_DONE,
} RhHandshakeState;

typedef enum {
  RH_HANDSHAKE_SIMPLE,  /* version 0: S2 echoes C1 */
  RH_HANDSHAKE_DIGEST,  /* Flash Player 9 HMAC-SHA256 digests */
} RhHandshakeScheme;

typedef struct _RhHandshake RhHandshake;

RhHandshake *rh_handshake_new (void);
void rh_handshake_free (RhHandshake *hs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RhHandshake, rh_handshake_free)

/* Consumes bytes of C0/C1/C2 and appends S0+S1+S2 to out as soon as C0+C1
 * are complete (never waiting for C2). Returns how many bytes it consumed:
 * once the state is DONE, what follows belongs to the chunk stream.
 * Returns -1 with error set on a bad C0. */
gssize rh_handshake_feed (RhHandshake *hs, const guint8 *data, gsize len,
                          GByteArray *out, GError **error);

RhHandshakeState rh_handshake_get_state (const RhHandshake *hs);
RhHandshakeScheme rh_handshake_get_scheme (const RhHandshake *hs);
const char *rh_handshake_scheme_to_string (RhHandshakeScheme scheme);

/* The digest algorithm, shared with tests and the RTMP client. key is one
 * of the well-known keys below; the 32 digest bytes at digest_offset are
 * left out of the message. */
void rh_handshake_compute_digest (const guint8 packet[RH_HANDSHAKE_SIZE], gsize digest_offset,
                                  const guint8 *key, gsize key_len, guint8 digest[32]);
/* Where scheme 0 (offset base 8) or scheme 1 (base 772) puts the digest. */
gsize rh_handshake_digest_offset (const guint8 packet[RH_HANDSHAKE_SIZE], guint scheme);

extern const guint8 rh_handshake_fms_key[68];  /* "Genuine Adobe Flash Media Server 001" + 32 */
extern const guint8 rh_handshake_fp_key[62];   /* "Genuine Adobe Flash Player 001" + 32 */

G_END_DECLS
