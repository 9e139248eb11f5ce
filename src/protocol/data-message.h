/* A publisher's data messages (AMF0 type 18, AMF3 type 15). Metadata comes
 * as @setDataFrame("onMetaData", {...}) from encoders and goes to players
 * as ("onMetaData", ECMA array): ffmpeg looks for has_audio/has_video only
 * in an ECMA array. Other data messages pass through unchanged. No I/O. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  GBytes *payload;        /* what players get (a new reference) */
  gboolean is_metadata;   /* onMetaData: what a late joiner needs first */
} RhDataMessage;

/* Parses the message body (type 18 or 15); FALSE with error on bad AMF. */
gboolean rh_data_message_parse (guint8 type, GBytes *body, RhDataMessage *out, GError **error);
void rh_data_message_clear (RhDataMessage *message);

G_END_DECLS
