/* FLV tag bodies (FLV spec v10.1, annex E) and Enhanced RTMP (veovera v2). */
#include "config.h"

#include "media.h"

#include <string.h>

static const char *
video_codec_from_fourcc (const guint8 *f)
{
  static const struct { char fourcc[5]; const char *name; } table[] = {
    { "avc1", "h264" }, { "hvc1", "hevc" }, { "av01", "av1" },
    { "vp09", "vp9" }, { "vp08", "vp8" }, { "vvc1", "vvc" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (table); i++)
    if (memcmp (f, table[i].fourcc, 4) == 0)
      return table[i].name;
  return "unknown";
}

static const char *
audio_codec_from_fourcc (const guint8 *f)
{
  static const struct { char fourcc[5]; const char *name; } table[] = {
    { "mp4a", "aac" }, { "Opus", "opus" }, { "fLaC", "flac" },
    { "ac-3", "ac3" }, { "ec-3", "eac3" }, { ".mp3", "mp3" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (table); i++)
    if (memcmp (f, table[i].fourcc, 4) == 0)
      return table[i].name;
  return "unknown";
}

/* Enhanced RTMP (v2) packet types shared by audio and video. */
enum {
  EX_SEQUENCE_START = 0,
  EX_SEQUENCE_END = 2,
  EX_MODEX = 7,
};
enum { MULTITRACK_ONE_TRACK = 0, MULTITRACK_MANY_TRACKS_MANY_CODECS = 2 };

/* What follows an enhanced header's first byte: ModEx prefixes (each
 * ending in a byte whose low nibble is the packet type), then for a
 * multitrack packet (multitrack_type) a byte of multitrack type and packet
 * type, the FourCC (per track with many codecs) and the first track's id
 * (and size). FALSE when the bytes end first. */
typedef struct {
  guint packet_type;
  gboolean multitrack;
  const guint8 *fourcc;
  guint track_id;
  gsize body_offset;     /* where the (first track's) body starts */
} ExHeader;

static gboolean
parse_ex_header (const guint8 *data, gsize len, guint multitrack_type, ExHeader *ex)
{
  gsize pos = 1;
  ex->packet_type = data[0] & 0x0f;
  while (ex->packet_type == EX_MODEX)
    {
      if (pos >= len)
        return FALSE;
      gsize size = (gsize) data[pos++] + 1;
      if (size == 256)
        {
          if (pos + 2 > len)
            return FALSE;
          size = (((gsize) data[pos] << 8) | data[pos + 1]) + 1;
          pos += 2;
        }
      if (pos + size >= len)
        return FALSE;
      pos += size;
      ex->packet_type = data[pos++] & 0x0f;   /* after the ModEx type nibble */
    }
  guint tracks = MULTITRACK_ONE_TRACK;
  ex->multitrack = ex->packet_type == multitrack_type;
  if (ex->multitrack)
    {
      if (pos >= len)
        return FALSE;
      tracks = data[pos] >> 4;
      ex->packet_type = data[pos++] & 0x0f;
    }
  if (pos + 4 > len)
    return FALSE;
  ex->fourcc = data + pos;
  pos += 4;
  if (ex->multitrack)
    {
      if (pos + 1 > len)
        return FALSE;
      ex->track_id = data[pos++];
      if (tracks != MULTITRACK_ONE_TRACK)
        pos += 3;   /* the track's size */
      if (pos > len)
        return FALSE;
    }
  ex->body_offset = pos;
  return TRUE;
}

RhMediaInfo
rh_media_inspect_video (const guint8 *data, gsize len)
{
  RhMediaInfo info = { 0, NULL, 0, 0 };

  if (len < 1)
    return info;

  if (data[0] & 0x80)
    {
      /* Enhanced RTMP: IsExHeader | FrameType(3) | PacketType(4), then
       * ModEx prefixes, a multitrack header, the FourCC. */
      guint frame_type = (data[0] >> 4) & 0x07;
      ExHeader ex = { 0 };
      if (!parse_ex_header (data, len, 6 /* Multitrack */, &ex))
        return info;
      /* A multitrack packet's codec is its track's: codec_detected
       * describes the main track only. */
      if (!ex.multitrack)
        info.codec = video_codec_from_fourcc (ex.fourcc);
      if (frame_type == 5 || ex.packet_type == 4 /* Metadata */)
        info.flags |= RH_MEDIA_COMMAND;
      else if (ex.packet_type == EX_SEQUENCE_START || ex.packet_type == 5 /* MPEG2TSSequenceStart */)
        {
          info.flags |= RH_MEDIA_SEQUENCE_HEADER;
          info.config_offset = ex.body_offset;
          info.config_key = ex.multitrack ? (guint16) (ex.track_id + 1) : 0;
        }
      else if (ex.packet_type == EX_SEQUENCE_END)
        info.flags |= RH_MEDIA_SEQUENCE_END;
      else if (frame_type == 1)
        info.flags |= RH_MEDIA_KEYFRAME;
      return info;
    }

  guint frame_type = data[0] >> 4;
  guint codec_id = data[0] & 0x0f;
  static const char *const legacy[16] = {
    [2] = "h263", [3] = "screen", [4] = "vp6", [5] = "vp6a",
    [6] = "screen2", [7] = "h264", [12] = "hevc", [13] = "av1",
  };
  info.codec = legacy[codec_id] != NULL ? legacy[codec_id] : "unknown";
  if (frame_type == 5)
    {
      info.flags |= RH_MEDIA_COMMAND;
      return info;
    }
  /* AVC (and the HEVC/AV1 extensions of codec ids 12/13) carry a packet type. */
  if ((codec_id == 7 || codec_id == 12 || codec_id == 13) && len >= 2)
    {
      if (data[1] == 0)
        {
          info.flags |= RH_MEDIA_SEQUENCE_HEADER;
          info.config_offset = 5;
          return info;
        }
      if (data[1] == 2)
        {
          info.flags |= RH_MEDIA_SEQUENCE_END;
          return info;
        }
    }
  if (frame_type == 1)
    info.flags |= RH_MEDIA_KEYFRAME;
  return info;
}

RhMediaInfo
rh_media_inspect_audio (const guint8 *data, gsize len)
{
  RhMediaInfo info = { 0, NULL, 0, 0 };

  if (len < 1)
    return info;

  guint sound_format = data[0] >> 4;
  if (sound_format == 9)
    {
      /* Enhanced RTMP audio: SoundFormat 9 | PacketType(4), then ModEx
       * prefixes, a multitrack header, the FourCC. */
      ExHeader ex = { 0 };
      if (!parse_ex_header (data, len, 5 /* Multitrack */, &ex))
        return info;
      if (!ex.multitrack)
        info.codec = audio_codec_from_fourcc (ex.fourcc);
      guint16 track_key = ex.multitrack ? (guint16) (ex.track_id + 1) : 0;
      if (ex.packet_type == EX_SEQUENCE_START)
        {
          info.flags |= RH_MEDIA_SEQUENCE_HEADER;
          info.config_offset = ex.body_offset;
          info.config_key = track_key;
        }
      else if (ex.packet_type == 4 /* MultichannelConfig */)
        {
          /* A decoder needs it too, beside the sequence start. */
          info.flags |= RH_MEDIA_SEQUENCE_HEADER;
          info.config_key = track_key | RH_MEDIA_CONFIG_MULTICHANNEL;
        }
      else if (ex.packet_type == EX_SEQUENCE_END)
        info.flags |= RH_MEDIA_SEQUENCE_END;
      return info;
    }

  static const char *const legacy[16] = {
    [0] = "pcm", [1] = "adpcm", [2] = "mp3", [3] = "pcm_le",
    [4] = "nellymoser", [5] = "nellymoser", [6] = "nellymoser",
    [7] = "g711a", [8] = "g711u", [10] = "aac", [11] = "speex",
    [14] = "mp3", [15] = "device",
  };
  info.codec = legacy[sound_format] != NULL ? legacy[sound_format] : "unknown";
  if (sound_format == 10 && len >= 2 && data[1] == 0)
    {
      info.flags |= RH_MEDIA_SEQUENCE_HEADER;
      info.config_offset = 2;
    }
  return info;
}
