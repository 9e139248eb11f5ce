/* A track's measured bitrate and frame rate over the last few seconds of
 * its media, counted per whole second of the packets' timestamps: no
 * clock is read and nothing is allocated per packet, and a stream whose
 * timestamps jump starts counting again. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Complete seconds a reading covers. */
#define RH_TRACK_RATE_SECONDS 5

typedef struct {
  guint32 second[RH_TRACK_RATE_SECONDS + 1];   /* which media second each slot counts */
  guint64 bytes[RH_TRACK_RATE_SECONDS + 1];
  guint32 frames[RH_TRACK_RATE_SECONDS + 1];
  guint32 newest;                              /* the latest second seen */
  gboolean started;
} RhTrackRate;

void rh_track_rate_reset (RhTrackRate *rate);
/* One media packet (a frame) of bytes at timestamp_ms. */
void rh_track_rate_add (RhTrackRate *rate, guint32 timestamp_ms, gsize bytes);
/* Bits and frames per second over the complete seconds before the
 * newest (up to RH_TRACK_RATE_SECONDS); FALSE before one has passed. */
gboolean rh_track_rate_read (const RhTrackRate *rate, double *bits_per_second, double *frames_per_second);

G_END_DECLS
