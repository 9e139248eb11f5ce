/* The slow-player policy, pure so it can be tested without sockets.
 * A player is behind when its send queue holds more than a byte limit or
 * its oldest queued media has waited longer than a time limit. A player
 * that falls behind skips audio and video until the next keyframe that
 * finds it caught up (sequence headers always go through), so what it
 * gets stays decodable; one that stays behind for behind_timeout, or whose
 * queue passes the hard limit, is closed. */
#pragma once

#include <glib.h>

#include "protocol/media.h"

G_BEGIN_DECLS

typedef struct {
  gsize queue_soft_limit;     /* bytes: behind above this */
  gsize queue_hard_limit;     /* bytes: closed above this */
  gint64 max_delay;           /* microseconds: behind when the oldest media waited longer */
  gint64 behind_timeout;      /* microseconds: closed when behind this long without a break */
} RhSlowPlayerLimits;

/* Per player; zero-initialised. */
typedef struct {
  gboolean skipping;          /* dropping media until a keyframe finds it caught up */
  gint64 behind_since;        /* start of the current behind streak; 0 = not behind */
  guint64 dropped;            /* media messages skipped, in all */
  guint64 skips;              /* times it started skipping */
  guint64 skip_dropped;       /* dropped in the current (or last) skip */
} RhPlayerPacing;

typedef enum {
  RH_PLAYER_SEND,
  RH_PLAYER_DROP,
  RH_PLAYER_CLOSE_QUEUE_FULL,   /* over the hard limit */
  RH_PLAYER_CLOSE_BEHIND,       /* behind for behind_timeout */
} RhPlayerVerdict;

/* What to do with one media message for a player whose queue holds
 * queued_bytes, the oldest timed entry queued at oldest_queued_at (0 when
 * none), at monotonic time now. */
RhPlayerVerdict rh_slow_player_judge (RhPlayerPacing *pacing, const RhSlowPlayerLimits *limits,
                                      gsize queued_bytes, gint64 oldest_queued_at, gint64 now,
                                      RhMediaFlags flags);

/* Skip until the next keyframe that finds the player caught up (after an
 * unpause: frames in between would not decode). */
void rh_slow_player_skip_to_keyframe (RhPlayerPacing *pacing);

G_END_DECLS
