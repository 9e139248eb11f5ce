/* Video decoder configurations: H.264 avcC and its SPS (ISO/IEC 14496-15
 * 5.3.3 and 14496-10 7.3.2.1.1), HEVC hvcC and its SPS (14496-15 8.3.3,
 * H.265 7.3.2.2), AV1 av1C and its sequence header OBU (AV1 ISOBMFF
 * binding 2.3, AV1 5.5), VP9 vpcC (VP codec ISO media file format). */
#include "config.h"

#include "codec-details.h"

#include <string.h>

#include "bit-reader.h"

static const char *
chroma_name (guint chroma_format_idc)
{
  static const char *const names[] = { "4:0:0", "4:2:0", "4:2:2", "4:4:4" };
  return chroma_format_idc < 4 ? names[chroma_format_idc] : "";
}

/* SubWidthC and SubHeightC of H.264 and HEVC: 4:2:0 halves both, 4:2:2
 * the width, 4:4:4 and monochrome neither. */
static void
chroma_subsampling (guint chroma_array_type, guint *sub_width, guint *sub_height)
{
  *sub_width = chroma_array_type == 1 || chroma_array_type == 2 ? 2 : 1;
  *sub_height = chroma_array_type == 1 ? 2 : 1;
}

/* The picture inside the cropping window (offsets left, right, top,
 * bottom, in units of unit_x/unit_y samples); FALSE when nothing would be
 * left. */
static gboolean
crop_picture (guint64 coded_width, guint64 coded_height, guint unit_x, guint unit_y, const guint offsets[4],
              RhCodecDetails *d)
{
  guint64 cut_x = (guint64) unit_x * ((guint64) offsets[0] + offsets[1]);
  guint64 cut_y = (guint64) unit_y * ((guint64) offsets[2] + offsets[3]);
  if (cut_x >= coded_width || cut_y >= coded_height)
    return FALSE;
  d->width = (guint) (coded_width - cut_x);
  d->height = (guint) (coded_height - cut_y);
  return TRUE;
}

/* "3.1" for 31, "3.0" for 30: always the dotted number, so that a level
 * compares and sorts as written in the codec's tables. */
static void
tenths_level (char *out, gsize size, guint tenths)
{
  g_snprintf (out, size, "%u.%u", tenths / 10, tenths % 10);
}

/* ---- H.264 ---- */

static const char *
avc_profile_name (guint profile_idc, guint constraints)
{
  gboolean set1 = constraints & 0x40, set3 = constraints & 0x10;
  switch (profile_idc)
    {
    case 66: return set1 ? "Constrained Baseline" : "Baseline";
    case 77: return "Main";
    case 88: return "Extended";
    case 100: return "High";
    case 110: return set3 ? "High 10 Intra" : "High 10";
    case 122: return set3 ? "High 4:2:2 Intra" : "High 4:2:2";
    case 244: return set3 ? "High 4:4:4 Intra" : "High 4:4:4 Predictive";
    case 44: return "CAVLC 4:4:4";
    default: return "";
    }
}

/* delta_scale is -128..127; a larger one is a broken SPS (and would
 * overflow the sum), so it ends the read as an overrun does. */
static void
skip_scaling_list (RhBitReader *r, guint size)
{
  gint32 last = 8, next = 8;
  for (guint j = 0; j < size && !r->overrun; j++)
    {
      if (next != 0)
        {
          gint32 delta = rh_bit_read_se (r);
          if (delta < -128 || delta > 127)
            {
              r->overrun = TRUE;
              return;
            }
          next = (last + delta + 256) % 256;
        }
      last = next == 0 ? last : next;
    }
}

static gboolean
parse_avc_sps (const guint8 *nal, gsize len, RhCodecDetails *d)
{
  if (len < 4 || (nal[0] & 0x1f) != 7)
    return FALSE;
  g_autoptr (GByteArray) rbsp = rh_nal_to_rbsp (nal + 1, len - 1);
  RhBitReader r;
  rh_bit_reader_init (&r, rbsp->data, rbsp->len);
  guint profile_idc = rh_bit_read (&r, 8);
  guint constraints = rh_bit_read (&r, 8);
  guint level_idc = rh_bit_read (&r, 8);
  rh_bit_read_ue (&r);  /* seq_parameter_set_id */
  guint chroma_format_idc = 1, separate_planes = 0, depth_luma = 0;
  static const guint high_profiles[] = { 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135 };
  for (gsize i = 0; i < G_N_ELEMENTS (high_profiles); i++)
    if (profile_idc == high_profiles[i])
      {
        chroma_format_idc = rh_bit_read_ue (&r);
        if (chroma_format_idc == 3)
          separate_planes = rh_bit_read (&r, 1);
        depth_luma = rh_bit_read_ue (&r);
        rh_bit_read_ue (&r);  /* bit_depth_chroma_minus8 */
        rh_bit_read (&r, 1);  /* qpprime_y_zero_transform_bypass_flag */
        if (rh_bit_read (&r, 1))  /* seq_scaling_matrix_present_flag */
          for (guint k = 0; k < (chroma_format_idc != 3 ? 8u : 12u) && !r.overrun; k++)
            if (rh_bit_read (&r, 1))
              skip_scaling_list (&r, k < 6 ? 16 : 64);
        break;
      }
  if (chroma_format_idc > 3 || depth_luma > 6)
    return FALSE;
  rh_bit_read_ue (&r);  /* log2_max_frame_num_minus4 */
  guint poc_type = rh_bit_read_ue (&r);
  if (poc_type == 0)
    rh_bit_read_ue (&r);
  else if (poc_type == 1)
    {
      rh_bit_read (&r, 1);
      rh_bit_read_se (&r);
      rh_bit_read_se (&r);
      guint cycle = rh_bit_read_ue (&r);
      if (cycle > 255)
        return FALSE;
      for (guint i = 0; i < cycle; i++)
        rh_bit_read_se (&r);
    }
  rh_bit_read_ue (&r);  /* max_num_ref_frames */
  rh_bit_read (&r, 1);  /* gaps_in_frame_num_value_allowed_flag */
  guint width_mbs = rh_bit_read_ue (&r) + 1;
  guint height_units = rh_bit_read_ue (&r) + 1;
  guint frame_mbs_only = rh_bit_read (&r, 1);
  if (!frame_mbs_only)
    rh_bit_read (&r, 1);
  rh_bit_read (&r, 1);  /* direct_8x8_inference_flag */
  guint crop[4] = { 0, 0, 0, 0 };
  if (rh_bit_read (&r, 1))
    for (int i = 0; i < 4; i++)
      crop[i] = rh_bit_read_ue (&r);
  if (r.overrun || width_mbs > 1024 || height_units > 1024)
    return FALSE;

  guint chroma_array_type = separate_planes ? 0 : chroma_format_idc, sub_width, sub_height;
  chroma_subsampling (chroma_array_type, &sub_width, &sub_height);
  guint crop_x = chroma_array_type == 0 ? 1 : sub_width;
  guint crop_y = (chroma_array_type == 0 ? 1 : sub_height) * (2 - frame_mbs_only);
  if (!crop_picture ((guint64) width_mbs * 16, (guint64) (2 - frame_mbs_only) * height_units * 16, crop_x, crop_y,
                     crop, d))
    return FALSE;
  g_strlcpy (d->profile, avc_profile_name (profile_idc, constraints), sizeof d->profile);
  /* Level 1b: 11 with constraint_set3 in the Baseline/Main/Extended profiles. */
  if (level_idc == 11 && (constraints & 0x10) && (profile_idc == 66 || profile_idc == 77 || profile_idc == 88))
    g_strlcpy (d->level, "1b", sizeof d->level);
  else if (level_idc > 0)
    tenths_level (d->level, sizeof d->level, level_idc);
  d->bit_depth = 8 + depth_luma;
  g_strlcpy (d->chroma_format, chroma_name (chroma_format_idc), sizeof d->chroma_format);
  return TRUE;
}

static gboolean
parse_avcc (const guint8 *p, gsize len, RhCodecDetails *d)
{
  if (len < 8 || p[0] != 1)
    return FALSE;
  guint n_sps = p[5] & 0x1f;
  if (n_sps == 0)
    return FALSE;
  gsize sps_len = ((gsize) p[6] << 8) | p[7];
  if (len < 8 + sps_len)
    return FALSE;
  return parse_avc_sps (p + 8, sps_len, d);
}

/* ---- HEVC ---- */

static const char *
hevc_profile_name (guint profile_idc)
{
  switch (profile_idc)
    {
    case 1: return "Main";
    case 2: return "Main 10";
    case 3: return "Main Still Picture";
    case 4: return "Rext";
    case 9: return "SCC";
    default: return "";
    }
}

static void
hevc_level (char *out, gsize size, guint level_idc)
{
  /* general_level_idc is 30 times the level. */
  tenths_level (out, size, level_idc / 3);
}

static gboolean
parse_hevc_sps (const guint8 *nal, gsize len, RhCodecDetails *d)
{
  if (len < 3 || ((nal[0] >> 1) & 0x3f) != 33)
    return FALSE;
  g_autoptr (GByteArray) rbsp = rh_nal_to_rbsp (nal + 2, len - 2);
  RhBitReader r;
  rh_bit_reader_init (&r, rbsp->data, rbsp->len);
  rh_bit_read (&r, 4);  /* sps_video_parameter_set_id */
  guint sub_layers = rh_bit_read (&r, 3);
  rh_bit_read (&r, 1);  /* sps_temporal_id_nesting_flag */
  /* profile_tier_level: the general part, then what each sub-layer has. */
  rh_bit_skip (&r, 2 + 1 + 5 + 32 + 48 + 8);
  guint profile_present[8] = { 0 }, level_present[8] = { 0 };
  for (guint i = 0; i < sub_layers; i++)
    {
      profile_present[i] = rh_bit_read (&r, 1);
      level_present[i] = rh_bit_read (&r, 1);
    }
  if (sub_layers > 0)
    for (guint i = sub_layers; i < 8; i++)
      rh_bit_skip (&r, 2);
  for (guint i = 0; i < sub_layers; i++)
    {
      if (profile_present[i])
        rh_bit_skip (&r, 88);
      if (level_present[i])
        rh_bit_skip (&r, 8);
    }
  rh_bit_read_ue (&r);  /* sps_seq_parameter_set_id */
  guint chroma_format_idc = rh_bit_read_ue (&r);
  guint separate_planes = chroma_format_idc == 3 ? rh_bit_read (&r, 1) : 0;
  guint width = rh_bit_read_ue (&r);
  guint height = rh_bit_read_ue (&r);
  guint window[4] = { 0, 0, 0, 0 };
  if (rh_bit_read (&r, 1))
    for (int i = 0; i < 4; i++)
      window[i] = rh_bit_read_ue (&r);
  guint depth_luma = rh_bit_read_ue (&r);
  if (r.overrun || chroma_format_idc > 3 || depth_luma > 8 || width == 0 || height == 0 || width > 65536
      || height > 65536)
    return FALSE;
  guint sub_width, sub_height;
  chroma_subsampling (separate_planes ? 0 : chroma_format_idc, &sub_width, &sub_height);
  if (!crop_picture (width, height, sub_width, sub_height, window, d))
    return FALSE;
  d->bit_depth = 8 + depth_luma;
  g_strlcpy (d->chroma_format, chroma_name (chroma_format_idc), sizeof d->chroma_format);
  return TRUE;
}

static gboolean
parse_hvcc (const guint8 *p, gsize len, RhCodecDetails *d)
{
  if (len < 23 || p[0] != 1)
    return FALSE;
  guint profile_idc = p[1] & 0x1f;
  guint level_idc = p[12];
  g_strlcpy (d->profile, hevc_profile_name (profile_idc), sizeof d->profile);
  if (level_idc > 0)
    hevc_level (d->level, sizeof d->level, level_idc);
  g_strlcpy (d->chroma_format, chroma_name (p[16] & 0x03), sizeof d->chroma_format);
  d->bit_depth = 8 + (p[17] & 0x07);
  /* The arrays of parameter sets: the size comes from the SPS. */
  guint arrays = p[22];
  gsize at = 23;
  for (guint a = 0; a < arrays; a++)
    {
      if (at + 3 > len)
        return TRUE;
      guint type = p[at] & 0x3f;
      guint count = ((guint) p[at + 1] << 8) | p[at + 2];
      at += 3;
      for (guint n = 0; n < count; n++)
        {
          if (at + 2 > len)
            return TRUE;
          gsize nal_len = ((gsize) p[at] << 8) | p[at + 1];
          at += 2;
          if (at + nal_len > len)
            return TRUE;
          if (type == 33)
            {
              RhCodecDetails sps = { { 0 } };
              if (parse_hevc_sps (p + at, nal_len, &sps))
                {
                  d->width = sps.width;
                  d->height = sps.height;
                }
              return TRUE;
            }
          at += nal_len;
        }
    }
  return TRUE;
}

/* ---- AV1 ---- */

static gsize
read_leb128 (const guint8 *p, gsize len, gsize *value)
{
  guint64 v = 0;
  for (gsize i = 0; i < len && i < 8; i++)
    {
      v |= (guint64) (p[i] & 0x7f) << (7 * i);
      if (!(p[i] & 0x80))
        {
          *value = (gsize) MIN (v, G_MAXSIZE);
          return i + 1;
        }
    }
  return 0;
}

/* The size of the largest frame, from a sequence header OBU's payload. */
static gboolean
parse_av1_sequence_header (const guint8 *p, gsize len, RhCodecDetails *d)
{
  RhBitReader r;
  rh_bit_reader_init (&r, p, len);
  rh_bit_read (&r, 3);  /* seq_profile */
  rh_bit_read (&r, 1);  /* still_picture */
  guint reduced = rh_bit_read (&r, 1);
  if (reduced)
    rh_bit_skip (&r, 5);
  else
    {
      guint decoder_model_info = 0, buffer_delay_length = 0;
      if (rh_bit_read (&r, 1))  /* timing_info_present_flag */
        {
          rh_bit_skip (&r, 64);
          if (rh_bit_read (&r, 1))  /* equal_picture_interval */
            rh_bit_read_uvlc (&r);
          decoder_model_info = rh_bit_read (&r, 1);
          if (decoder_model_info)
            {
              buffer_delay_length = rh_bit_read (&r, 5) + 1;
              rh_bit_skip (&r, 32 + 5 + 5);
            }
        }
      guint initial_display_delay = rh_bit_read (&r, 1);
      guint points = rh_bit_read (&r, 5) + 1;
      for (guint i = 0; i < points && !r.overrun; i++)
        {
          rh_bit_skip (&r, 12);
          if (rh_bit_read (&r, 5) > 7)
            rh_bit_skip (&r, 1);
          if (decoder_model_info && rh_bit_read (&r, 1))
            rh_bit_skip (&r, 2 * buffer_delay_length + 1);
          if (initial_display_delay && rh_bit_read (&r, 1))
            rh_bit_skip (&r, 4);
        }
    }
  guint width_bits = rh_bit_read (&r, 4) + 1;
  guint height_bits = rh_bit_read (&r, 4) + 1;
  guint64 width = (guint64) rh_bit_read (&r, width_bits) + 1;
  guint64 height = (guint64) rh_bit_read (&r, height_bits) + 1;
  if (r.overrun)
    return FALSE;
  d->width = (guint) width;
  d->height = (guint) height;
  return TRUE;
}

static gboolean
parse_av1c (const guint8 *p, gsize len, RhCodecDetails *d)
{
  if (len < 4 || p[0] != 0x81)
    return FALSE;
  static const char *const profiles[] = { "Main", "High", "Professional" };
  guint profile = p[1] >> 5, level_idx = p[1] & 0x1f;
  gboolean high_bitdepth = p[2] & 0x40, twelve_bit = p[2] & 0x20, monochrome = p[2] & 0x10;
  gboolean ss_x = p[2] & 0x08, ss_y = p[2] & 0x04;
  if (profile < 3)
    g_strlcpy (d->profile, profiles[profile], sizeof d->profile);
  /* 31 means no level constraint. */
  if (level_idx < 24)
    g_snprintf (d->level, sizeof d->level, "%u.%u", 2 + (level_idx >> 2), level_idx & 3);
  d->bit_depth = high_bitdepth ? (profile == 2 && twelve_bit ? 12 : 10) : 8;
  g_strlcpy (d->chroma_format, monochrome ? "4:0:0" : ss_x && ss_y ? "4:2:0" : ss_x ? "4:2:2" : "4:4:4",
             sizeof d->chroma_format);
  /* configOBUs: the sequence header, when the encoder put it there. */
  gsize at = 4;
  while (at < len)
    {
      guint8 header = p[at];
      guint type = (header >> 3) & 0x0f;
      gsize size = len - at - 1;
      gsize header_len = 1 + ((header & 0x04) ? 1 : 0);
      if (at + header_len > len)
        break;
      if (header & 0x02)
        {
          gsize n = read_leb128 (p + at + header_len, len - at - header_len, &size);
          if (n == 0)
            break;
          header_len += n;
        }
      if (size > len - at - header_len)
        break;
      if (type == 1)
        {
          RhCodecDetails sequence = { { 0 } };
          if (parse_av1_sequence_header (p + at + header_len, size, &sequence))
            {
              d->width = sequence.width;
              d->height = sequence.height;
            }
          break;
        }
      at += header_len + size;
    }
  return TRUE;
}

/* ---- VP9 ---- */

static gboolean
parse_vpcc (const guint8 *p, gsize len, RhCodecDetails *d)
{
  /* version and flags (a full box's), then the record. */
  if (len < 8 || p[0] != 1)
    return FALSE;
  guint profile = p[4], level = p[5], depth = p[6] >> 4, subsampling = (p[6] >> 1) & 0x07;
  if (profile > 3)
    return FALSE;
  g_snprintf (d->profile, sizeof d->profile, "Profile %u", profile);
  if (level > 0)
    tenths_level (d->level, sizeof d->level, level);
  if (depth == 8 || depth == 10 || depth == 12)
    d->bit_depth = depth;
  static const char *const chroma[] = { "4:2:0", "4:2:0", "4:2:2", "4:4:4" };
  if (subsampling < 4)
    g_strlcpy (d->chroma_format, chroma[subsampling], sizeof d->chroma_format);
  return TRUE;
}

gboolean
rh_codec_details_video (const char *codec, const guint8 *config, gsize len, RhCodecDetails *details)
{
  memset (details, 0, sizeof *details);
  gboolean ok = FALSE;
  if (g_strcmp0 (codec, "h264") == 0)
    ok = parse_avcc (config, len, details);
  else if (g_strcmp0 (codec, "hevc") == 0)
    ok = parse_hvcc (config, len, details);
  else if (g_strcmp0 (codec, "av1") == 0)
    ok = parse_av1c (config, len, details);
  else if (g_strcmp0 (codec, "vp9") == 0)
    ok = parse_vpcc (config, len, details);
  if (!ok)
    memset (details, 0, sizeof *details);
  return ok;
}
