/* What the server says to a client besides media, written once for the
 * session and the stream: onStatus, user control events, command results
 * and |RtmpSampleAccess. */
#pragma once

#include <glib.h>

#include "types.h"

G_BEGIN_DECLS

/* A command message (_result, _error, onStatus): on the command chunk
 * stream for stream 0, on the stream's status chunk stream otherwise. */
void rh_replies_command (RhConnection *connection, guint32 stream_id, GBytes *payload);
/* onStatus { level, code, description } on stream_id. */
void rh_replies_status (RhConnection *connection, guint32 stream_id, const char *level,
                        const char *code, const char *description);
/* User control event (StreamBegin, StreamEOF, PingResponse, ...). */
void rh_replies_user_event (RhConnection *connection, guint16 event, guint32 value);
/* ["|RtmpSampleAccess", true, true]: lets Flash-era players read the
 * samples; nginx-rtmp sends it too. */
void rh_replies_sample_access (RhConnection *connection, guint32 stream_id);

G_END_DECLS
