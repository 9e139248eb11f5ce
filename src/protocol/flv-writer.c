#include "config.h"

#include "flv-writer.h"

#include <string.h>

#include "amf0.h"

static void
put_u24 (guint8 *out, guint32 value)
{
  out[0] = (guint8) (value >> 16);
  out[1] = (guint8) (value >> 8);
  out[2] = (guint8) value;
}

static void
put_u32 (guint8 *out, guint32 value)
{
  out[0] = (guint8) (value >> 24);
  put_u24 (out + 1, value);
}

void
rh_flv_write_file_header (guint8 out[RH_FLV_FILE_HEADER_SIZE], gboolean has_audio, gboolean has_video)
{
  out[0] = 'F';
  out[1] = 'L';
  out[2] = 'V';
  out[3] = 1;
  out[4] = (guint8) ((has_audio ? 0x04 : 0) | (has_video ? 0x01 : 0));
  put_u32 (out + 5, 9);     /* the header's own size */
  put_u32 (out + 9, 0);     /* PreviousTagSize0 */
}

void
rh_flv_write_tag_header (guint8 out[RH_FLV_TAG_HEADER_SIZE], guint8 type, gsize body_size, guint32 timestamp)
{
  out[0] = type;
  put_u24 (out + 1, (guint32) body_size);
  put_u24 (out + 4, timestamp & 0xffffff);
  out[7] = (guint8) (timestamp >> 24);
  put_u24 (out + 8, 0);     /* StreamID */
}

void
rh_flv_write_tag_trailer (guint8 out[RH_FLV_TAG_TRAILER_SIZE], gsize body_size)
{
  put_u32 (out, (guint32) (RH_FLV_TAG_HEADER_SIZE + body_size));
}

void
rh_flv_write_double (guint8 out[8], double value)
{
  guint64 bits;
  memcpy (&bits, &value, sizeof bits);
  for (int i = 0; i < 8; i++)
    out[i] = (guint8) (bits >> (56 - 8 * i));
}

/* The properties of the publisher's metadata, or NULL. */
static const RhAmf0Value *
metadata_properties (GPtrArray *values)
{
  if (values == NULL || values->len < 2)
    return NULL;
  const RhAmf0Value *name = g_ptr_array_index (values, 0);
  const RhAmf0Value *properties = g_ptr_array_index (values, 1);
  if (name->type != RH_AMF0_STRING || strcmp (name->v.string.data, "onMetaData") != 0)
    return NULL;
  if (properties->type != RH_AMF0_ECMA_ARRAY && properties->type != RH_AMF0_OBJECT)
    return NULL;
  return properties;
}

GBytes *
rh_flv_file_metadata (GBytes *publisher_metadata, gsize *duration_at, gsize *filesize_at)
{
  g_autoptr (GPtrArray) values = NULL;
  if (publisher_metadata != NULL)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (publisher_metadata, &len);
      values = rh_amf0_decode_all (data, len, NULL);
    }
  const RhAmf0Value *from = metadata_properties (values);

  g_autoptr (RhAmf0Value) array = rh_amf0_ecma_array_new ();
  for (guint i = 0; from != NULL && i < from->items->len; i++)
    {
      const RhAmf0Property *property = g_ptr_array_index (from->items, i);
      /* What describes the live stream, not this file, is left out. */
      if (g_ascii_strcasecmp (property->name, "duration") == 0 || g_ascii_strcasecmp (property->name, "filesize") == 0)
        continue;
      rh_amf0_object_set (array, property->name, rh_amf0_value_copy (property->value));
    }
  rh_amf0_object_set (array, "duration", rh_amf0_number_new (0));
  rh_amf0_object_set (array, "filesize", rh_amf0_number_new (0));

  GByteArray *out = g_byte_array_sized_new (512);
  rh_amf0_encode_string (out, "onMetaData");
  rh_amf0_encode (out, array);
  /* The array ends ... "duration" 0x00 <8> "filesize" 0x00 <8> 00 00 09:
   * a name is 2 bytes of length and its text. */
  gsize end = out->len - 3;
  *filesize_at = end - 8;
  *duration_at = *filesize_at - 1 - (2 + strlen ("filesize")) - 8;
  return g_byte_array_free_to_bytes (out);
}
