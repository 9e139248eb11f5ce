/* Real media tools for the tests: ffmpeg publishing, ffprobe reading. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* ffmpeg publishing a test pattern with H.264 + AAC for `seconds`. */
GSubprocess *rh_test_publish_ffmpeg (const char *url, guint seconds, const char *size,
                                     const char *const *extra_output_args, const char *log_path);

/* Encodes a test pattern of seconds at size (30 fps, a keyframe a second,
 * H.264 at video_bitrate such as "2M") into the FLV file path, with AAC
 * audio when with_audio; asserts it worked. */
void rh_test_encode_clip (const char *path, guint seconds, const char *size, const char *video_bitrate,
                          gboolean with_audio);

typedef struct {
  char *video_codec;
  char *audio_codec;
  char *video_profile;
  gint video_level;          /* as ffprobe gives it: 31 for 3.1 */
  char *audio_profile;
  guint sample_rate;
  guint channels;
  guint video_frames;
  guint audio_frames;
  guint width, height;
  gboolean first_video_is_key;
  double first_video_pts;    /* seconds */
  double duration;           /* seconds, as the container says */
} RhTestProbe;

/* Runs ffprobe on path; FALSE if it could not be read. */
gboolean rh_test_probe (const char *path, RhTestProbe *probe);
void rh_test_probe_clear (RhTestProbe *probe);
/* The video frames of path, asserted to hold H.264 and AAC. */
guint rh_test_h264_aac_frames (const char *path);

G_END_DECLS
