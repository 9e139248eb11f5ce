/* Serializes RTMP messages into chunks. The header helpers let a send queue
 * interleave headers with slices of a shared payload instead of copying it. */
#pragma once

#include "message.h"

G_BEGIN_DECLS

#define RH_CHUNK_HEADER_MAX 18        /* 3-byte basic + 11 + 4 extended */
#define RH_CHUNK_CONTINUATION_MAX 7   /* 3-byte basic + 4 extended */

/* A type 0 header starting a message. Returns its length. */
gsize rh_chunk_write_header (guint8 out[RH_CHUNK_HEADER_MAX], guint32 csid, guint32 timestamp,
                             guint32 length, guint8 type, guint32 stream_id);
/* The type 3 header before each further chunk of the message; it repeats
 * the extended timestamp, which ffmpeg, librtmp and GStreamer expect. */
gsize rh_chunk_write_continuation (guint8 out[RH_CHUNK_CONTINUATION_MAX], guint32 csid,
                                   guint32 timestamp);
/* The bytes a whole message takes on the wire. */
gsize rh_chunk_serialized_size (gsize header_len, gsize continuation_len, gsize payload_len,
                                guint32 chunk_size);
/* Appends the whole chunked message to out (control messages, tests). */
void rh_chunk_write_message (GByteArray *out, guint32 chunk_size, guint32 csid, guint32 timestamp,
                             guint8 type, guint32 stream_id, const guint8 *payload, gsize len);
/* The whole chunked message as one buffer, allocated once at its exact
 * size: the wire bytes many players can share. */
GBytes *rh_chunk_serialize (guint32 chunk_size, guint32 csid, guint32 timestamp, guint8 type,
                            guint32 stream_id, GBytes *payload);

G_END_DECLS
