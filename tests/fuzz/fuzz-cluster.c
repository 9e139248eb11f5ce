/* libFuzzer harness for what a node reads back from the stream directory:
 * a stream's entry, as any program with access to Redis may have written
 * it ("EPOCH NODE_ID ADVERTISE_URL", or anything else). A record the
 * parser accepts must hold what every node relies on. */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "cluster/directory-record.h"
#include "config/cluster-settings.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  RhDirectoryRecord record;
  if (!rh_directory_record_parse ((const char *) data, size, &record))
    return 0;
  if (record.epoch < 1 || !rh_cluster_node_id_is_valid (record.node_id)
      || (!g_str_has_prefix (record.advertise, "rtmp://") && !g_str_has_prefix (record.advertise, "rtmps://"))
      || strchr (record.advertise, ' ') != NULL || strlen (record.advertise) >= sizeof record.advertise)
    __builtin_trap ();
  return 0;
}
