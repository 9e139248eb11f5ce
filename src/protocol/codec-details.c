#include "config.h"

#include "codec-details.h"

void
rh_codec_details_visit (const RhCodecDetails *details, const RhCodecDetailsVisitor *visitor, gpointer data)
{
  if (details->profile[0] != '\0')
    visitor->string ("profile", details->profile, data);
  if (details->level[0] != '\0')
    visitor->string ("level", details->level, data);
  /* A size is both or neither. */
  if (details->width > 0 && details->height > 0)
    {
      visitor->number ("width", details->width, data);
      visitor->number ("height", details->height, data);
    }
  if (details->bit_depth > 0)
    visitor->number ("bit_depth", details->bit_depth, data);
  if (details->chroma_format[0] != '\0')
    visitor->string ("chroma_format", details->chroma_format, data);
  if (details->sample_rate > 0)
    visitor->number ("sample_rate", details->sample_rate, data);
  if (details->channels > 0)
    visitor->number ("channels", details->channels, data);
}
