/* The server's events, built with their data fields and handed to one
 * sink. This is the one place that lists what each event carries. */
#pragma once

#include <glib.h>

#include "output.h"
#include "reason.h"
#include "types.h"
#include "hooks/check-runner.h"
#include "hooks/event.h"
#include "protocol/codec-details.h"

G_BEGIN_DECLS

/* Where events leave the server (the hook dispatcher). The sink gets a
 * borrowed reference. */
typedef struct {
  void (*func) (RhEvent *event, gpointer user_data);
  /* Decision checks on a connect, publish or play request: NULL when no
   * check applies (allowed at once); otherwise done comes later, unless
   * the request is cancelled. NULL func: nothing is ever checked. */
  RhCheckRequest *(*check) (RhEvent *request, RhVerdictFunc done, gpointer done_data, gpointer user_data);
  gpointer user_data;
} RhEventSink;

void rh_emit_connection_accept (const RhEventSink *sink, RhConnection *connection);
void rh_emit_handshake_complete (const RhEventSink *sink, RhConnection *connection, const char *scheme);
void rh_emit_connection_close (const RhEventSink *sink, RhConnection *connection, RhReason reason,
                               gint64 duration_seconds);
void rh_emit_stream_create (const RhEventSink *sink, RhStream *stream);
void rh_emit_stream_delete (const RhEventSink *sink, RhStream *stream);
void rh_emit_publish_start (const RhEventSink *sink, RhPublisher *publisher, const char *tc_url);
void rh_emit_publish_stop (const RhEventSink *sink, RhPublisher *publisher, RhReason reason);
/* In a fleet: a survivor's publish_stop (reason node_lost) for a stream
 * that was live on owner_node, which died. */
void rh_emit_publish_lost (const RhEventSink *sink, const char *app, const char *name, const char *owner_node,
                           gint64 epoch);
/* An edge's pull of a stream from the node that owns it (url without
 * its query). */
void rh_emit_pull_start (const RhEventSink *sink, RhStream *stream, const char *url, const char *origin_node);
void rh_emit_pull_stop (const RhEventSink *sink, RhStream *stream, const char *url, const char *origin_node,
                        gint64 duration_seconds, guint64 bytes_received, const char *reason);
void rh_emit_play_start (const RhEventSink *sink, RhPlayer *player);
void rh_emit_play_stop (const RhEventSink *sink, RhPlayer *player, RhReason reason);
/* Media flow: the first media of a publish, none for a while (a frozen
 * encoder), and media again. */
void rh_emit_media_start (const RhEventSink *sink, RhPublisher *publisher);
void rh_emit_media_stall (const RhEventSink *sink, RhPublisher *publisher, gint64 seconds);
void rh_emit_media_resume (const RhEventSink *sink, RhPublisher *publisher, gint64 stalled_seconds);
/* The requests decision checks answer (same fields as the *_start
 * events they precede). */
RhCheckRequest *rh_emit_connect_request (const RhEventSink *sink, RhConnection *connection, const char *app,
                                         const char *tc_url, const char *flash_ver, const char *query,
                                         RhVerdictFunc done, gpointer done_data);
RhCheckRequest *rh_emit_publish_request (const RhEventSink *sink, RhConnection *connection, const char *app,
                                         const char *name, const char *publish_type, const char *tc_url,
                                         const char *query, RhVerdictFunc done, gpointer done_data);
RhCheckRequest *rh_emit_play_request (const RhEventSink *sink, RhConnection *connection, const char *app,
                                      const char *name, const char *tc_url, const char *query,
                                      RhVerdictFunc done, gpointer done_data);
/* Recordings (path relative to the recording directory) and relays (the
 * URL without its query). */
void rh_emit_record_start (const RhEventSink *sink, const RhOutput *output, const char *path);
void rh_emit_record_stop (const RhEventSink *sink, const RhOutput *output, const char *path,
                          gint64 duration_seconds, guint64 bytes, const char *reason);
void rh_emit_relay_start (const RhEventSink *sink, const RhOutput *output, const char *url);
void rh_emit_relay_stop (const RhEventSink *sink, const RhOutput *output, const char *url,
                         gint64 duration_seconds, guint64 bytes_sent, const char *reason);
void rh_emit_codec_detected (const RhEventSink *sink, RhStream *stream, const char *track,
                             const char *codec, const RhCodecDetails *details);

G_END_DECLS
