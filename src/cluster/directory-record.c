#include "config.h"

#include "directory-record.h"

#include <string.h>

#include "config/cluster-settings.h"

gboolean
rh_directory_record_parse (const char *data, gsize len, RhDirectoryRecord *out)
{
  if (data == NULL || len == 0 || len >= RH_DIRECTORY_RECORD_MAX)
    return FALSE;
  /* EPOCH: 1 to 18 digits (it cannot overflow), no leading zero. */
  gsize i = 0;
  gint64 epoch = 0;
  while (i < len && i < 18 && g_ascii_isdigit (data[i]))
    epoch = epoch * 10 + (data[i++] - '0');
  if (i == 0 || data[0] == '0' || i >= len || data[i] != ' ')
    return FALSE;
  i++;
  gsize node_start = i;
  while (i < len && data[i] != ' ')
    i++;
  gsize node_len = i - node_start;
  if (node_len == 0 || node_len > RH_CLUSTER_NODE_ID_MAX || i >= len)
    return FALSE;
  memcpy (out->node_id, data + node_start, node_len);
  out->node_id[node_len] = '\0';
  if (!rh_cluster_node_id_is_valid (out->node_id))
    return FALSE;
  i++;
  gsize url_len = len - i;
  if (url_len == 0 || url_len >= sizeof out->advertise)
    return FALSE;
  for (gsize j = i; j < len; j++)
    if ((guchar) data[j] <= ' ' || (guchar) data[j] >= 0x7f)
      return FALSE;
  memcpy (out->advertise, data + i, url_len);
  out->advertise[url_len] = '\0';
  if (!g_str_has_prefix (out->advertise, "rtmp://") && !g_str_has_prefix (out->advertise, "rtmps://"))
    return FALSE;
  out->epoch = epoch;
  return TRUE;
}
