/* What a codec's configuration says about a stream: profile, level,
 * picture size, chroma and bit depth for video; profile, sample rate and
 * channels for audio. Read from the configuration records of FLV and
 * Enhanced RTMP sequence headers (avcC, hvcC, av1C, vpcC,
 * AudioSpecificConfig, OpusHead), an MP3 frame header, or the FLV audio
 * flags. Pure: bytes in, fields out. A field the bytes do not give stays
 * empty (0 or ""): nothing is guessed. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char profile[32];       /* "High", "Main 10", "LC", "HE-AACv2", ... */
  char level[8];          /* "3.1" */
  guint width;            /* the picture after cropping */
  guint height;
  guint bit_depth;
  char chroma_format[8];  /* "4:2:0", "4:2:2", "4:4:4", "4:0:0" */
  guint sample_rate;      /* Hz, what a decoder outputs */
  guint channels;
} RhCodecDetails;

/* codec is RhMediaInfo's name ("h264", "hevc", "av1", "vp9"); config the
 * record. FALSE (details cleared) when the bytes are not one. */
gboolean rh_codec_details_video (const char *codec, const guint8 *config, gsize len, RhCodecDetails *details);
/* codec "aac" (an AudioSpecificConfig) or "opus" (an OpusHead). */
gboolean rh_codec_details_audio_config (const char *codec, const guint8 *config, gsize len,
                                        RhCodecDetails *details);
/* An MP3 (MPEG-1/2/2.5 layer III) frame header. */
gboolean rh_codec_details_mp3 (const guint8 *frame, gsize len, RhCodecDetails *details);
/* The first byte of a legacy FLV audio tag, for the formats whose flags
 * are their only description (PCM, ADPCM, Nellymoser, G.711, Speex). */
gboolean rh_codec_details_flv_audio (guint8 flags, RhCodecDetails *details);

/* The fields details gives, by their event names (profile, level, width,
 * height, bit_depth, chroma_format, sample_rate, channels), in that
 * order; those it leaves empty are skipped, never guessed. */
typedef struct {
  void (*string) (const char *name, const char *value, gpointer data);
  void (*number) (const char *name, guint value, gpointer data);
} RhCodecDetailsVisitor;
void rh_codec_details_visit (const RhCodecDetails *details, const RhCodecDetailsVisitor *visitor, gpointer data);

G_END_DECLS
