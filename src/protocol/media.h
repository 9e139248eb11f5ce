/* What the server needs to know about an FLV audio/video tag body, legacy
 * or Enhanced RTMP: keyframes, sequence headers and the codec. Bytes are
 * forwarded verbatim; only the first few are read. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  RH_MEDIA_KEYFRAME = 1 << 0,         /* a video frame a decoder can start on */
  RH_MEDIA_SEQUENCE_HEADER = 1 << 1,  /* decoder configuration (avcC, ASC, ...) */
  RH_MEDIA_SEQUENCE_END = 1 << 2,
  RH_MEDIA_COMMAND = 1 << 3,          /* video info/command frame, no picture */
} RhMediaFlags;

typedef struct {
  RhMediaFlags flags;
  const char *codec;  /* static string, e.g. "h264", "aac"; NULL if unknown */
  /* Where the codec configuration starts in the tag body, for codec
   * parsers (0 when not a sequence header). */
  gsize config_offset;
} RhMediaInfo;

RhMediaInfo rh_media_inspect_video (const guint8 *data, gsize len);
RhMediaInfo rh_media_inspect_audio (const guint8 *data, gsize len);

G_END_DECLS
