#include "config.h"

#include "data-message.h"

#include <string.h>

#include "amf0.h"
#include "message.h"

static GBytes *
encode_for_players (GPtrArray *values, guint first)
{
  GByteArray *out = g_byte_array_sized_new (256);
  for (guint i = first; i < values->len; i++)
    {
      RhAmf0Value *value = g_ptr_array_index (values, i);
      if (value->type == RH_AMF0_OBJECT)
        value->type = RH_AMF0_ECMA_ARRAY;
      rh_amf0_encode (out, value);
    }
  return g_byte_array_free_to_bytes (out);
}

gboolean
rh_data_message_parse (guint8 type, GBytes *body, RhDataMessage *out, GError **error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (body, &len);

  /* AMF3 data messages start with a format byte, then AMF0 values. */
  if (type == RH_MSG_DATA_AMF3 && len > 0)
    {
      data++;
      len--;
    }
  g_autoptr (GPtrArray) values = rh_amf0_decode_all (data, len, error);
  if (values == NULL)
    return FALSE;

  const RhAmf0Value *first = values->len > 0 ? g_ptr_array_index (values, 0) : NULL;
  const char *name = first != NULL && first->type == RH_AMF0_STRING ? first->v.string.data : "";
  guint skip = strcmp (name, "@setDataFrame") == 0 ? 1 : 0;
  const RhAmf0Value *inner = values->len > skip ? g_ptr_array_index (values, skip) : NULL;
  out->is_metadata = inner != NULL && inner->type == RH_AMF0_STRING
                     && strcmp (inner->v.string.data, "onMetaData") == 0;
  if (skip == 0 && !out->is_metadata && type == RH_MSG_DATA_AMF0)
    out->payload = g_bytes_ref (body);
  else
    out->payload = encode_for_players (values, skip);
  return TRUE;
}

void
rh_data_message_clear (RhDataMessage *message)
{
  g_clear_pointer (&message->payload, g_bytes_unref);
}
