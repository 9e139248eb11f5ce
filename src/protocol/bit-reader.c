#include "config.h"

#include "bit-reader.h"

void
rh_bit_reader_init (RhBitReader *reader, const guint8 *data, gsize len)
{
  reader->data = data;
  reader->len = len;
  reader->bit = 0;
  reader->overrun = FALSE;
}

gsize
rh_bit_reader_left (const RhBitReader *reader)
{
  return reader->overrun || reader->bit >= reader->len * 8 ? 0 : reader->len * 8 - reader->bit;
}

guint32
rh_bit_read (RhBitReader *reader, guint n)
{
  guint32 value = 0;
  g_assert (n <= 32);
  if (rh_bit_reader_left (reader) < n)
    {
      reader->overrun = TRUE;
      return 0;
    }
  for (guint i = 0; i < n; i++, reader->bit++)
    value = (value << 1) | ((reader->data[reader->bit / 8] >> (7 - reader->bit % 8)) & 1);
  return value;
}

void
rh_bit_skip (RhBitReader *reader, gsize n)
{
  if (rh_bit_reader_left (reader) < n)
    reader->overrun = TRUE;
  else
    reader->bit += n;
}

guint32
rh_bit_read_ue (RhBitReader *reader)
{
  guint zeros = 0;
  while (rh_bit_read (reader, 1) == 0 && !reader->overrun)
    if (++zeros > 31)
      {
        reader->overrun = TRUE;
        return 0;
      }
  if (reader->overrun)
    return 0;
  return (guint32) ((1ull << zeros) - 1 + rh_bit_read (reader, zeros));
}

gint32
rh_bit_read_se (RhBitReader *reader)
{
  guint32 k = rh_bit_read_ue (reader);
  return (k & 1) ? (gint32) ((k + 1) / 2) : -(gint32) (k / 2);
}

guint32
rh_bit_read_uvlc (RhBitReader *reader)
{
  guint zeros = 0;
  while (rh_bit_read (reader, 1) == 0 && !reader->overrun)
    if (++zeros >= 32)
      return G_MAXUINT32;
  if (reader->overrun)
    return 0;
  return (guint32) ((1ull << zeros) - 1 + rh_bit_read (reader, zeros));
}

GByteArray *
rh_nal_to_rbsp (const guint8 *data, gsize len)
{
  GByteArray *rbsp = g_byte_array_sized_new ((guint) len);
  guint zeros = 0;
  for (gsize i = 0; i < len; i++)
    {
      if (zeros >= 2 && data[i] == 3)
        {
          zeros = 0;
          continue;
        }
      zeros = data[i] == 0 ? zeros + 1 : 0;
      g_byte_array_append (rbsp, &data[i], 1);
    }
  return rbsp;
}
