#include "config.h"

#include "chunk-writer.h"

static gsize
write_basic_header (guint8 *out, guint8 fmt, guint32 csid)
{
  if (csid < 64)
    {
      out[0] = (guint8) ((fmt << 6) | csid);
      return 1;
    }
  if (csid < 320)
    {
      out[0] = (guint8) (fmt << 6);
      out[1] = (guint8) (csid - 64);
      return 2;
    }
  out[0] = (guint8) ((fmt << 6) | 1);
  out[1] = (guint8) ((csid - 64) & 0xff);
  out[2] = (guint8) ((csid - 64) >> 8);
  return 3;
}

gsize
rh_chunk_write_header (guint8 out[RH_CHUNK_HEADER_MAX], guint32 csid, guint32 timestamp,
                       guint32 length, guint8 type, guint32 stream_id)
{
  gsize n = write_basic_header (out, 0, csid);
  gboolean extended = timestamp >= 0xFFFFFF;

  rh_write_u24_be (out + n, extended ? 0xFFFFFF : timestamp);
  rh_write_u24_be (out + n + 3, length);
  out[n + 6] = type;
  /* The message stream id is the one little-endian field of RTMP. */
  out[n + 7] = (guint8) stream_id;
  out[n + 8] = (guint8) (stream_id >> 8);
  out[n + 9] = (guint8) (stream_id >> 16);
  out[n + 10] = (guint8) (stream_id >> 24);
  n += 11;
  if (extended)
    {
      rh_write_u32_be (out + n, timestamp);
      n += 4;
    }
  return n;
}

gsize
rh_chunk_write_continuation (guint8 out[RH_CHUNK_CONTINUATION_MAX], guint32 csid, guint32 timestamp)
{
  gsize n = write_basic_header (out, 3, csid);
  if (timestamp >= 0xFFFFFF)
    {
      rh_write_u32_be (out + n, timestamp);
      n += 4;
    }
  return n;
}

gsize
rh_chunk_serialized_size (gsize header_len, gsize continuation_len, gsize payload_len,
                          guint32 chunk_size)
{
  gsize chunks = payload_len == 0 ? 1 : (payload_len + chunk_size - 1) / chunk_size;
  return header_len + payload_len + (chunks - 1) * continuation_len;
}

void
rh_chunk_write_message (GByteArray *out, guint32 chunk_size, guint32 csid, guint32 timestamp,
                        guint8 type, guint32 stream_id, const guint8 *payload, gsize len)
{
  guint8 header[RH_CHUNK_HEADER_MAX];
  guint8 continuation[RH_CHUNK_CONTINUATION_MAX];
  gsize header_len = rh_chunk_write_header (header, csid, timestamp, (guint32) len, type, stream_id);
  gsize continuation_len = rh_chunk_write_continuation (continuation, csid, timestamp);

  g_byte_array_append (out, header, (guint) header_len);
  for (gsize sent = 0; sent < len; sent += chunk_size)
    {
      if (sent > 0)
        g_byte_array_append (out, continuation, (guint) continuation_len);
      g_byte_array_append (out, payload + sent, (guint) MIN (chunk_size, len - sent));
    }
}

GBytes *
rh_chunk_serialize (guint32 chunk_size, guint32 csid, guint32 timestamp, guint8 type,
                    guint32 stream_id, GBytes *payload)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (payload, &len);
  guint8 header[RH_CHUNK_HEADER_MAX];
  guint8 continuation[RH_CHUNK_CONTINUATION_MAX];
  gsize header_len = rh_chunk_write_header (header, csid, timestamp, (guint32) len, type, stream_id);
  gsize continuation_len = rh_chunk_write_continuation (continuation, csid, timestamp);
  gsize size = rh_chunk_serialized_size (header_len, continuation_len, len, chunk_size);

  GByteArray *out = g_byte_array_sized_new ((guint) size);
  rh_chunk_write_message (out, chunk_size, csid, timestamp, type, stream_id, data, len);
  g_assert (out->len == size);
  return g_byte_array_free_to_bytes (out);
}
