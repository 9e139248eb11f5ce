#include "config.h"

#include "aggregate.h"

#include <glib/gi18n.h>

#include "message.h"

G_DEFINE_QUARK (rh-aggregate-error-quark, rh_aggregate_error)

gboolean
rh_aggregate_foreach (GBytes *payload, guint32 message_timestamp, RhAggregateTagFunc func,
                      gpointer user_data, GError **error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (payload, &len);
  gsize pos = 0;
  gboolean first = TRUE;
  guint32 base = 0;

  while (pos + 11 <= len)
    {
      guint8 type = data[pos];
      guint32 size = rh_read_u24_be (data + pos + 1);
      guint32 timestamp = rh_read_u24_be (data + pos + 4) | ((guint32) data[pos + 7] << 24);
      if (size > len - pos - 11)
        {
          g_set_error (error, RH_AGGREGATE_ERROR, RH_AGGREGATE_ERROR_TRUNCATED,
                       _("aggregate message tag of %u bytes runs past its end"), size);
          return FALSE;
        }
      if (first)
        base = timestamp;
      first = FALSE;
      g_autoptr (GBytes) body = g_bytes_new_from_bytes (payload, pos + 11, size);
      func (type, message_timestamp + (timestamp - base), body, user_data);
      pos += 11 + (gsize) size + 4;
    }
  return TRUE;
}
