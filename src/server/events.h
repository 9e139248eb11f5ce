/* Builds the server's events with the data fields of SPEC section 4 and
 * hands them to the event sink. One place lists what each event carries. */
#pragma once

#include <glib.h>

#include "types.h"

G_BEGIN_DECLS

void rh_events_connection_accept (RhConnection *connection);
void rh_events_handshake_complete (RhConnection *connection, const char *scheme);
void rh_events_connection_close (RhConnection *connection, RhReason reason, gint64 duration_seconds,
                                 guint64 bytes_received, guint64 bytes_sent);
void rh_events_stream_create (RhStream *stream);
void rh_events_stream_delete (RhStream *stream);
void rh_events_publish_start (RhPublisher *publisher, const char *tc_url);
void rh_events_publish_stop (RhPublisher *publisher, RhReason reason);
void rh_events_play_start (RhPlayer *player);
void rh_events_play_stop (RhPlayer *player, RhReason reason);
void rh_events_codec_detected (RhStream *stream, const char *track, const char *codec);

G_END_DECLS
