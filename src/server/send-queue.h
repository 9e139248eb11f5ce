/* A connection's outgoing messages. Each entry keeps a reference to a
 * payload shared with other connections and the chunk headers to put
 * between its slices; the bytes are gathered into iovecs at write time, so
 * a payload is never copied per player. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _RhSendQueue RhSendQueue;

RhSendQueue *rh_send_queue_new (void);
void rh_send_queue_free (RhSendQueue *queue);

/* Queues one RTMP message, chunked at chunk_size. Takes a new reference
 * to payload. queued_at (monotonic microseconds) times media for the
 * slow-player limits; 0 for messages that are not timed. */
void rh_send_queue_push (RhSendQueue *queue, guint32 csid, guint8 type, guint32 stream_id,
                         guint32 timestamp, GBytes *payload, guint32 chunk_size,
                         gint64 queued_at);
/* Queues bytes sent as they are: the handshake, or a message already
 * chunked (wire bytes shared between players). */
void rh_send_queue_push_raw (RhSendQueue *queue, GBytes *bytes, gint64 queued_at);

/* Fills at most max vectors with the next bytes to send; returns how many. */
guint rh_send_queue_gather (RhSendQueue *queue, GOutputVector *vectors, guint max);
/* Drops n bytes that were written. */
void rh_send_queue_advance (RhSendQueue *queue, gsize n);

gsize rh_send_queue_get_bytes (const RhSendQueue *queue);  /* bytes still to send */
/* Of those, the bytes of untimed entries (replies and control): what a
 * peer that does not read makes us hold apart from media, which has
 * limits of its own. */
gsize rh_send_queue_get_untimed_bytes (const RhSendQueue *queue);
guint rh_send_queue_get_length (const RhSendQueue *queue); /* messages still queued */
/* When the oldest timed entry still (partly) queued was queued; 0 if none. */
gint64 rh_send_queue_get_oldest_queued_at (const RhSendQueue *queue);

G_END_DECLS
