/* RTMP aggregate messages (type 22): a run of FLV tags, each type(1),
 * size(3), timestamp(3+1), stream id(3), body, previous tag size(4). The
 * first tag's timestamp maps to the message's; the others keep their
 * offsets from it. Bodies are slices of the message, never copies. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RH_AGGREGATE_ERROR (rh_aggregate_error_quark ())
GQuark rh_aggregate_error_quark (void);

typedef enum {
  RH_AGGREGATE_ERROR_TRUNCATED,   /* a tag runs past the message's end */
} RhAggregateError;

/* Called per tag with its type, its timestamp on the message's clock and
 * its body (borrowed). */
typedef void (*RhAggregateTagFunc) (guint8 type, guint32 timestamp, GBytes *body, gpointer user_data);

/* Calls func for each tag of payload, in order; FALSE with error at the
 * first malformed tag (those before it were delivered). */
gboolean rh_aggregate_foreach (GBytes *payload, guint32 message_timestamp, RhAggregateTagFunc func,
                               gpointer user_data, GError **error);

G_END_DECLS
