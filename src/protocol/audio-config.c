/* Audio decoder configurations: the AAC AudioSpecificConfig (ISO/IEC
 * 14496-3 1.6.2.1, with explicit and backward-compatible SBR/PS
 * signalling), Opus's identification header (RFC 7845 5.1), an MP3 frame
 * header (ISO/IEC 11172-3, 13818-3 and MPEG 2.5), the FLV audio flags. */
#include "config.h"

#include "codec-details.h"

#include <string.h>

#include "bit-reader.h"

static const guint aac_rates[13] = {
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
};

static guint
read_object_type (RhBitReader *r)
{
  guint type = rh_bit_read (r, 5);
  return type == 31 ? 32 + rh_bit_read (r, 6) : type;
}

/* 0 when the index is reserved. */
static guint
read_sample_rate (RhBitReader *r)
{
  guint index = rh_bit_read (r, 4);
  if (index == 15)
    return rh_bit_read (r, 24);
  return index < G_N_ELEMENTS (aac_rates) ? aac_rates[index] : 0;
}

static const char *
aac_profile_name (guint object_type)
{
  switch (object_type)
    {
    case 1: return "Main";
    case 2: return "LC";
    case 3: return "SSR";
    case 4: return "LTP";
    case 5: return "HE-AAC";
    case 23: return "LD";
    case 29: return "HE-AACv2";
    case 39: return "ELD";
    default: return "";
    }
}

static gboolean
parse_audio_specific_config (const guint8 *p, gsize len, RhCodecDetails *d)
{
  static const guint channels_by_config[8] = { 0, 1, 2, 3, 4, 5, 6, 8 };
  RhBitReader r;
  rh_bit_reader_init (&r, p, len);
  guint object_type = read_object_type (&r);
  guint sample_rate = read_sample_rate (&r);
  guint channel_config = rh_bit_read (&r, 4);
  guint profile = object_type;
  guint output_rate = sample_rate;
  if (r.overrun || object_type == 0 || sample_rate == 0)
    return FALSE;
  if (object_type == 5 || object_type == 29)
    {
      /* Explicit, hierarchical signalling: the extension's rate is the
       * output; the core (usually LC) follows. */
      output_rate = read_sample_rate (&r);
      if (r.overrun)
        output_rate = 0;   /* cut short: the output rate is not known */
    }
  else if (object_type <= 4 || object_type == 6 || object_type == 7 || object_type == 17
           || (object_type >= 19 && object_type <= 23))
    {
      /* GASpecificConfig, then maybe the backward-compatible extension. */
      rh_bit_read (&r, 1);                 /* frameLengthFlag */
      if (rh_bit_read (&r, 1))             /* dependsOnCoreCoder */
        rh_bit_skip (&r, 14);
      guint extension_flag = rh_bit_read (&r, 1);
      if (channel_config != 0 && extension_flag == 0 && !r.overrun && rh_bit_reader_left (&r) >= 16
          && rh_bit_read (&r, 11) == 0x2b7 && read_object_type (&r) == 5)
        {
          guint extension_rate = rh_bit_read (&r, 1) ? read_sample_rate (&r) : 0;   /* sbrPresentFlag */
          if (!r.overrun && extension_rate != 0)
            {
              profile = 5;
              output_rate = extension_rate;
              if (rh_bit_reader_left (&r) >= 12 && rh_bit_read (&r, 11) == 0x548 && rh_bit_read (&r, 1))
                profile = 29;
            }
        }
    }
  g_strlcpy (d->profile, aac_profile_name (profile), sizeof d->profile);
  d->sample_rate = output_rate;
  /* Parametric stereo makes two channels of one. */
  d->channels = profile == 29 && channel_config == 1 ? 2 : channels_by_config[channel_config & 7];
  if (channel_config > 7)
    d->channels = 0;
  return TRUE;
}

static gboolean
parse_opus_head (const guint8 *p, gsize len, RhCodecDetails *d)
{
  if (len < 19 || memcmp (p, "OpusHead", 8) != 0 || (p[8] >> 4) != 0 || p[9] == 0)
    return FALSE;
  d->channels = p[9];
  /* Opus always decodes at 48 kHz; the header's input rate is only a hint. */
  d->sample_rate = 48000;
  return TRUE;
}

gboolean
rh_codec_details_audio_config (const char *codec, const guint8 *config, gsize len, RhCodecDetails *details)
{
  memset (details, 0, sizeof *details);
  gboolean ok = FALSE;
  if (g_strcmp0 (codec, "aac") == 0)
    ok = parse_audio_specific_config (config, len, details);
  else if (g_strcmp0 (codec, "opus") == 0)
    ok = parse_opus_head (config, len, details);
  if (!ok)
    memset (details, 0, sizeof *details);
  return ok;
}

gboolean
rh_codec_details_mp3 (const guint8 *p, gsize len, RhCodecDetails *details)
{
  static const guint rates[3][3] = {
    { 44100, 48000, 32000 },   /* MPEG-1 */
    { 22050, 24000, 16000 },   /* MPEG-2 */
    { 11025, 12000, 8000 },    /* MPEG-2.5 */
  };
  memset (details, 0, sizeof *details);
  if (len < 4 || p[0] != 0xff || (p[1] & 0xe0) != 0xe0)
    return FALSE;
  guint version = (p[1] >> 3) & 0x03;   /* 0: 2.5, 2: 2, 3: 1 */
  guint layer = (p[1] >> 1) & 0x03;     /* 1: layer III */
  guint rate_index = (p[2] >> 2) & 0x03;
  guint mode = p[3] >> 6;
  if (version == 1 || layer != 1 || rate_index == 3)
    return FALSE;
  details->sample_rate = rates[version == 3 ? 0 : version == 2 ? 1 : 2][rate_index];
  details->channels = mode == 3 ? 1 : 2;
  return TRUE;
}

gboolean
rh_codec_details_flv_audio (guint8 flags, RhCodecDetails *details)
{
  static const guint rates[4] = { 5512, 11025, 22050, 44100 };
  guint format = flags >> 4;
  memset (details, 0, sizeof *details);
  switch (format)
    {
    case 0: case 1: case 3: case 6:   /* PCM, ADPCM, PCM LE, Nellymoser */
      details->sample_rate = rates[(flags >> 2) & 0x03];
      break;
    case 4:                           /* Nellymoser 16 kHz mono */
      details->sample_rate = 16000;
      break;
    case 5: case 7: case 8:           /* Nellymoser 8 kHz mono, G.711 A-law and mu-law */
      details->sample_rate = 8000;
      break;
    case 11:                          /* Speex: 16 kHz mono */
      details->sample_rate = 16000;
      details->channels = 1;
      return TRUE;
    default:
      return FALSE;
    }
  details->channels = format == 4 || format == 5 ? 1 : (flags & 0x01) ? 2 : 1;
  return TRUE;
}
