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
  /* Which decoder configuration a sequence header is, so that a stream
   * keeps one of each: 0 for the main one; track id + 1 for an Enhanced
   * RTMP multitrack packet's; RH_MEDIA_CONFIG_MULTICHANNEL added for an
   * audio MultichannelConfig. */
  guint16 config_key;
} RhMediaInfo;

#define RH_MEDIA_CONFIG_MULTICHANNEL 0x100

RhMediaInfo rh_media_inspect_video (const guint8 *data, gsize len);
RhMediaInfo rh_media_inspect_audio (const guint8 *data, gsize len);

G_END_DECLS
