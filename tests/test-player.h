/* An RTMP player inside the test process: many of them share the test's
 * main context, each reading its socket as data arrives (or not, to play
 * a player that stopped reading). It records what a test asserts on: a
 * digest of every media message, counts, the arrival time of each video
 * message, and optionally an FLV file of what it received for ffprobe. */
#pragma once

#include <gio/gio.h>

#include "testutil.h"

G_BEGIN_DECLS

typedef struct _RhTestPlayer RhTestPlayer;

/* Connects to 127.0.0.1:port and plays app/name. receive_buffer > 0 sets
 * SO_RCVBUF before connecting (which turns off the kernel's autotuning);
 * flv_path, when not NULL, receives what arrives as an FLV file. */
RhTestPlayer *rh_test_player_new (guint16 port, const char *app, const char *name,
                                  gint receive_buffer, const char *flv_path);
void rh_test_player_free (RhTestPlayer *player);

/* Stops or resumes reading the socket. */
void rh_test_player_set_reading (RhTestPlayer *player, gboolean reading);

/* The stream ended for it (StreamEOF), or its connection closed. */
gboolean rh_test_player_ended (const RhTestPlayer *player);
gboolean rh_test_player_closed (const RhTestPlayer *player);
guint rh_test_player_video_messages (const RhTestPlayer *player);
guint rh_test_player_audio_messages (const RhTestPlayer *player);
/* SHA-256 over every audio, video and data message (type, timestamp,
 * payload) in order of arrival; valid once ended. */
const char *rh_test_player_digest (RhTestPlayer *player);
/* Arrival times (monotonic microseconds) and timestamps (ms) of each
 * video message, in order. */
const GArray *rh_test_player_video_arrivals (const RhTestPlayer *player);
const GArray *rh_test_player_video_timestamps (const RhTestPlayer *player);
/* The largest gap between two video messages that arrived between from
 * and to (monotonic microseconds; to = G_MAXINT64: until now). */
gint64 rh_test_player_largest_gap (const RhTestPlayer *player, gint64 from, gint64 to);

/* Runs the default main context until func (data) is TRUE; FALSE when
 * timeout_ms passed first. */
gboolean rh_test_iterate_until (gboolean (*func) (gpointer data), gpointer data, guint timeout_ms);
/* The same, until the daemon's log has needle count times. */
gboolean rh_test_iterate_until_log (RhTestDaemon *daemon, const char *needle, guint count, guint timeout_ms);
/* The same, until the stream ended for player, or until it got count
 * video messages. */
gboolean rh_test_player_wait_ended (RhTestPlayer *player, guint timeout_ms);
/* ... until the stream ended for each of n players. */
gboolean rh_test_players_wait_ended (RhTestPlayer *const *players, guint n, guint timeout_ms);
gboolean rh_test_player_wait_video (RhTestPlayer *player, guint count, guint timeout_ms);

G_END_DECLS
