#include "config.h"

#include "slow-player.h"

static gboolean
is_behind (const RhSlowPlayerLimits *limits, gsize queued_bytes, gint64 oldest_queued_at, gint64 now)
{
  if (queued_bytes > limits->queue_soft_limit)
    return TRUE;
  return oldest_queued_at != 0 && now - oldest_queued_at > limits->max_delay;
}

RhPlayerVerdict
rh_slow_player_judge (RhPlayerPacing *pacing, const RhSlowPlayerLimits *limits,
                      gsize queued_bytes, gint64 oldest_queued_at, gint64 now, RhMediaFlags flags)
{
  if (queued_bytes > limits->queue_hard_limit)
    return RH_PLAYER_CLOSE_QUEUE_FULL;

  gboolean behind = is_behind (limits, queued_bytes, oldest_queued_at, now);
  if (!behind)
    pacing->behind_since = 0;
  else if (pacing->behind_since == 0)
    pacing->behind_since = now;
  if (behind && now - pacing->behind_since > limits->behind_timeout)
    return RH_PLAYER_CLOSE_BEHIND;

  /* Decoder configuration is tiny and every later frame needs it. */
  if (flags & (RH_MEDIA_SEQUENCE_HEADER | RH_MEDIA_SEQUENCE_END))
    return RH_PLAYER_SEND;

  if (pacing->skipping && (flags & RH_MEDIA_KEYFRAME) && !behind)
    {
      pacing->skipping = FALSE;
      return RH_PLAYER_SEND;
    }
  if (!pacing->skipping && behind)
    {
      pacing->skipping = TRUE;
      pacing->skips++;
      pacing->skip_dropped = 0;
    }
  if (pacing->skipping)
    {
      pacing->dropped++;
      pacing->skip_dropped++;
      return RH_PLAYER_DROP;
    }
  return RH_PLAYER_SEND;
}

void
rh_slow_player_skip_to_keyframe (RhPlayerPacing *pacing)
{
  pacing->skipping = TRUE;
  pacing->skip_dropped = 0;
}
