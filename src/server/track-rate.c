#include "config.h"

#include "track-rate.h"

#include <string.h>

#define SLOTS (RH_TRACK_RATE_SECONDS + 1)

void
rh_track_rate_reset (RhTrackRate *rate)
{
  memset (rate, 0, sizeof *rate);
}

void
rh_track_rate_add (RhTrackRate *rate, guint32 timestamp_ms, gsize bytes)
{
  guint32 second = timestamp_ms / 1000;
  guint slot = second % SLOTS;
  if (!rate->started || rate->second[slot] != second)
    {
      /* A slot last used for an older (or, after a jump back, a newer)
       * second starts again. */
      rate->second[slot] = second;
      rate->bytes[slot] = 0;
      rate->frames[slot] = 0;
    }
  if (!rate->started || second > rate->newest || rate->newest - second > RH_TRACK_RATE_SECONDS)
    rate->newest = second;
  rate->started = TRUE;
  rate->bytes[slot] += bytes;
  rate->frames[slot]++;
}

gboolean
rh_track_rate_read (const RhTrackRate *rate, double *bits_per_second, double *frames_per_second)
{
  guint64 bytes = 0, frames = 0;
  guint seconds = 0;
  for (guint back = 1; rate->started && back <= RH_TRACK_RATE_SECONDS && back <= rate->newest; back++)
    {
      guint32 second = rate->newest - back;
      guint slot = second % SLOTS;
      if (rate->second[slot] != second)
        continue;   /* no packet in that second, or counted over since */
      bytes += rate->bytes[slot];
      frames += rate->frames[slot];
      seconds = back;
    }
  if (seconds == 0)
    return FALSE;
  /* Seconds with no packet inside the span count as silence. */
  *bits_per_second = (double) bytes * 8 / seconds;
  *frames_per_second = (double) frames / seconds;
  return TRUE;
}
