/* Reads bits, most significant first, from a byte buffer, with the
 * Exp-Golomb codes of H.264/HEVC and AV1's leb128 and uvlc. Reading past
 * the end sets overrun and returns 0: parsers check once at the end
 * instead of at every field. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const guint8 *data;
  gsize len;
  gsize bit;          /* next bit to read */
  gboolean overrun;
} RhBitReader;

void rh_bit_reader_init (RhBitReader *reader, const guint8 *data, gsize len);
guint32 rh_bit_read (RhBitReader *reader, guint n);   /* n <= 32 */
void rh_bit_skip (RhBitReader *reader, gsize n);
/* ue(v) and se(v); values past 2^31 count as an overrun. */
guint32 rh_bit_read_ue (RhBitReader *reader);
gint32 rh_bit_read_se (RhBitReader *reader);
/* AV1's uvlc(). */
guint32 rh_bit_read_uvlc (RhBitReader *reader);
gsize rh_bit_reader_left (const RhBitReader *reader);

/* An H.264/HEVC NAL unit's payload with the emulation prevention bytes
 * (00 00 03) removed. */
GByteArray *rh_nal_to_rbsp (const guint8 *data, gsize len);

G_END_DECLS
