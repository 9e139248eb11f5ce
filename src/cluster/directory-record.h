/* The value of a stream's entry in the directory, as every node writes
 * it: "EPOCH NODE_ID ADVERTISE_URL". Anything else found there (a value
 * someone wrote by hand, a truncated one) is not a record. Pure. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RH_DIRECTORY_RECORD_MAX 1024

typedef struct {
  gint64 epoch;          /* >= 1 */
  char node_id[65];
  char advertise[RH_DIRECTORY_RECORD_MAX];
} RhDirectoryRecord;

/* FALSE when data is not a record (out is then undefined). */
gboolean rh_directory_record_parse (const char *data, gsize len, RhDirectoryRecord *out);

G_END_DECLS
