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

RhMediaInfo
rh_media_inspect_video (const guint8 *data, gsize len)
{
  RhMediaInfo info = { 0, NULL, 0 };

  if (len < 1)
    return info;

  if (data[0] & 0x80)
    {
      /* Enhanced RTMP: IsExHeader | FrameType(3) | PacketType(4) | FourCC */
      guint frame_type = (data[0] >> 4) & 0x07;
      guint packet_type = data[0] & 0x0f;
      if (len >= 5 && packet_type != 6 /* Multitrack */ && packet_type != 7 /* ModEx */)
        info.codec = video_codec_from_fourcc (data + 1);
      if (frame_type == 5 || packet_type == 4 /* Metadata */)
        info.flags |= RH_MEDIA_COMMAND;
      else if (packet_type == 0 || packet_type == 5)
        {
          info.flags |= RH_MEDIA_SEQUENCE_HEADER;
          info.config_offset = 5;
        }
      else if (packet_type == 2)
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
  RhMediaInfo info = { 0, NULL, 0 };

  if (len < 1)
    return info;

  guint sound_format = data[0] >> 4;
  if (sound_format == 9)
    {
      /* Enhanced RTMP audio: SoundFormat 9 | PacketType(4) | FourCC */
      guint packet_type = data[0] & 0x0f;
      if (len >= 5 && packet_type != 5 /* Multitrack */ && packet_type != 7 /* ModEx */)
        info.codec = audio_codec_from_fourcc (data + 1);
      if (packet_type == 0 || packet_type == 4)
        {
          info.flags |= RH_MEDIA_SEQUENCE_HEADER;
          info.config_offset = 5;
        }
      else if (packet_type == 2)
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
