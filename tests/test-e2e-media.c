/* Media end to end: what codec_detected says about a stream ffmpeg
 * publishes is what ffprobe says about the file it came from. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>

#include "test-player.h"
#include "testutil.h"
#include "protocol/amf0.h"
#include "protocol/chunk-reader.h"
#include "protocol/chunk-writer.h"
#include "protocol/command.h"

/* The codec_detected events on the daemon's stdout (jsonl), by track. */
static JsonNode *
codec_event (RhTestDaemon *daemon, const char *track)
{
  g_autoptr (GPtrArray) events = rh_test_daemon_events (daemon, "codec_detected");
  JsonNode *found = NULL;
  for (guint i = 0; i < events->len; i++)
    {
      JsonObject *data = json_object_get_object_member (json_node_get_object (g_ptr_array_index (events, i)), "data");
      if (g_strcmp0 (json_object_get_string_member (data, "track"), track) == 0)
        {
          g_assert_null (found);   /* once per track: the configuration did not change */
          found = json_node_ref (g_ptr_array_index (events, i));
        }
    }
  g_assert_nonnull (found);
  return found;
}

/* The clip's video bits per second, from ffprobe's packet sizes and
 * duration. */
static double
video_bitrate (const char *clip)
{
  const char *const argv[] = { "ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                               "packet=size:format=duration", "-of", "default=noprint_wrappers=1", clip, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  g_autofree char *out = NULL;
  g_assert_true (g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error));
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  double bytes = 0, duration = 0;
  for (char **line = lines; *line != NULL; line++)
    if (g_str_has_prefix (*line, "size="))
      bytes += g_ascii_strtod (*line + 5, NULL);
    else if (g_str_has_prefix (*line, "duration="))
      duration = g_ascii_strtod (*line + 9, NULL);
  g_assert_cmpfloat (duration, >, 0);
  return bytes * 8 / duration;
}

typedef struct {
  guint16 http_port;
  JsonNode *root;
  JsonObject *stream;     /* in root */
} ApiTracks;

/* /api/v1/streams has the stream, and both its tracks have a measured
 * rate over the full window (5 s of media). */
static gboolean
tracks_measured (gpointer data)
{
  ApiTracks *api = data;
  g_autofree char *body = rh_test_http_get (api->http_port, "/api/v1/streams");
  g_clear_pointer (&api->root, json_node_unref);
  api->root = json_from_string (body, NULL);
  JsonArray *streams = json_object_get_array_member (json_node_get_object (api->root), "streams");
  if (json_array_get_length (streams) == 0)
    return FALSE;
  api->stream = json_array_get_object_element (streams, 0);
  JsonObject *publisher = json_object_get_object_member (api->stream, "publisher");
  JsonObject *tracks = json_object_get_object_member (api->stream, "tracks");
  return publisher != NULL && json_object_get_int_member_with_default (publisher, "uptime_seconds", 0) >= 6
         && json_object_has_member (tracks, "video") && json_object_has_member (tracks, "audio")
         && json_object_has_member (json_object_get_object_member (tracks, "video"), "bitrate")
         && json_object_has_member (json_object_get_object_member (tracks, "audio"), "bitrate");
}

static void
check_setting (const char *size, const char *const *video_args, const char *rate, const char *channels)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *clip = g_build_filename (dir, "clip.flv", NULL);
  g_autofree char *size_source = g_strdup_printf ("testsrc=size=%s:rate=30", size);
  g_autofree char *sine = g_strdup_printf ("sine=frequency=440:sample_rate=%s", rate);
  g_autoptr (GPtrArray) encode = g_ptr_array_new ();
  const char *const head[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", size_source,
                               "-f", "lavfi", "-i", sine, "-t", "2", "-c:v", "libx264", "-g", "30", NULL };
  for (const char *const *a = head; *a != NULL; a++)
    g_ptr_array_add (encode, (gpointer) *a);
  for (const char *const *a = video_args; *a != NULL; a++)
    g_ptr_array_add (encode, (gpointer) *a);
  const char *const tail[] = { "-c:a", "aac", "-ac", channels, "-y", clip, NULL };
  for (const char *const *a = tail; *a != NULL; a++)
    g_ptr_array_add (encode, (gpointer) *a);
  g_ptr_array_add (encode, NULL);
  g_autoptr (GSubprocess) encoder = rh_test_spawn ((const char *const *) encode->pdata, NULL);
  g_assert_cmpint (rh_test_wait (encoder, 60000), ==, 0);
  RhTestProbe probe;
  g_assert_true (rh_test_probe (clip, &probe));

  guint16 http_port = rh_test_free_port ();
  g_autofree char *config = g_strdup_printf ("http = { listen = [ \"127.0.0.1:%u\" ]; };\n", http_port);
  const char *const args[] = { "--hook-stdio-format", "jsonl", NULL };
  RhTestDaemon *daemon = rh_test_daemon_start (config, args);
  g_autofree char *url = rh_test_daemon_url (daemon, "live/probe");
  /* In a loop at its own pace, so that the API sees it live. */
  const char *const publish[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", clip,
                                  "-c", "copy", "-f", "flv", url, NULL };
  g_autoptr (GSubprocess) publisher = rh_test_spawn (publish, NULL);
  ApiTracks api = { http_port, NULL };
  g_assert_true (rh_test_poll_until (tracks_measured, &api, 20000));
  g_subprocess_send_signal (publisher, SIGINT);
  rh_test_wait (publisher, 10000);
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish_stop live/probe", 10000));
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);

  g_autoptr (JsonNode) video = codec_event (daemon, "video");
  JsonObject *v = json_object_get_object_member (json_node_get_object (video), "data");
  g_autofree char *level = g_strdup_printf ("%d.%d", probe.video_level / 10, probe.video_level % 10);
  g_test_message ("ffprobe: %s %s level %s %ux%u; %s %u Hz %u ch", probe.video_codec, probe.video_profile, level,
                  probe.width, probe.height, probe.audio_profile, probe.sample_rate, probe.channels);
  g_assert_cmpstr (json_object_get_string_member (v, "codec"), ==, probe.video_codec);
  g_assert_cmpstr (json_object_get_string_member (v, "profile"), ==, probe.video_profile);
  g_assert_cmpstr (json_object_get_string_member (v, "level"), ==, level);
  g_assert_cmpint (json_object_get_int_member (v, "width"), ==, probe.width);
  g_assert_cmpint (json_object_get_int_member (v, "height"), ==, probe.height);
  g_assert_cmpint (json_object_get_int_member (v, "bit_depth"), ==, 8);
  g_assert_cmpstr (json_object_get_string_member (v, "chroma_format"), ==, "4:2:0");

  g_autoptr (JsonNode) audio = codec_event (daemon, "audio");
  JsonObject *a = json_object_get_object_member (json_node_get_object (audio), "data");
  g_assert_cmpstr (json_object_get_string_member (a, "codec"), ==, probe.audio_codec);
  g_assert_cmpstr (json_object_get_string_member (a, "profile"), ==, probe.audio_profile);
  g_assert_cmpint (json_object_get_int_member (a, "sample_rate"), ==, probe.sample_rate);
  g_assert_cmpint (json_object_get_int_member (a, "channels"), ==, probe.channels);
  g_assert_false (json_object_has_member (a, "width"));
  g_assert_false (json_object_has_member (v, "sample_rate"));

  /* /api/v1/streams says per track what codec_detected said, and what
   * it measures: 30 frames a second (give or take a loop of the clip),
   * the clip's own video bitrate. */
  JsonObject *tracks = json_object_get_object_member (api.stream, "tracks");
  JsonObject *api_video = json_object_get_object_member (tracks, "video");
  JsonObject *api_audio = json_object_get_object_member (tracks, "audio");
  g_assert_cmpstr (json_object_get_string_member (api_video, "codec"), ==, probe.video_codec);
  g_assert_cmpstr (json_object_get_string_member (api_video, "profile"), ==, probe.video_profile);
  g_assert_cmpstr (json_object_get_string_member (api_video, "level"), ==, level);
  g_assert_cmpint (json_object_get_int_member (api_video, "width"), ==, probe.width);
  g_assert_cmpint (json_object_get_int_member (api_video, "height"), ==, probe.height);
  g_assert_cmpstr (json_object_get_string_member (api_audio, "codec"), ==, probe.audio_codec);
  g_assert_cmpint (json_object_get_int_member (api_audio, "sample_rate"), ==, probe.sample_rate);
  g_assert_cmpint (json_object_get_int_member (api_audio, "channels"), ==, probe.channels);
  double frame_rate = json_object_get_double_member (api_video, "frame_rate");
  gint64 bitrate = json_object_get_int_member (api_video, "bitrate");
  double clip_bitrate = video_bitrate (clip);
  g_test_message ("API: %.2f fps, %" G_GINT64_FORMAT " bit/s; the clip's video: %.0f bit/s", frame_rate, bitrate,
                  clip_bitrate);
  g_assert_cmpfloat (frame_rate, >=, 28);
  g_assert_cmpfloat (frame_rate, <=, 32);
  g_assert_cmpfloat ((double) bitrate, >=, clip_bitrate * 0.7);
  g_assert_cmpfloat ((double) bitrate, <=, clip_bitrate * 1.3);
  g_assert_cmpint (json_object_get_int_member (api_audio, "bitrate"), >, 0);
  g_clear_pointer (&api.root, json_node_unref);

  rh_test_probe_clear (&probe);
  rh_test_daemon_free (daemon);
  rh_test_remove_tree (dir);
}

/* High at 640x360 (cropped from 368 coded lines), 48 kHz stereo. */
static void
test_codec_details_high (void)
{
  const char *const video[] = { "-profile:v", "high", "-level", "3.1", "-pix_fmt", "yuv420p", NULL };
  check_setting ("640x360", video, "48000", "2");
}

/* Baseline at 426x240 (cropped from 432 coded columns), 22.05 kHz mono. */
static void
test_codec_details_baseline (void)
{
  const char *const video[] = { "-profile:v", "baseline", "-pix_fmt", "yuv420p", NULL };
  check_setting ("426x240", video, "22050", "1");
}

/* One FLV video message: an AVC sequence header, then key frames. */
static void
send_video (GSocketConnection *connection, guint32 timestamp, gboolean header)
{
  static const guint8 sequence_header[] = { 0x17, 0x00, 0, 0, 0, 0x01, 0x64, 0x00, 0x1f, 0xff, 0xe0, 0x00 };
  static const guint8 key_frame[] = { 0x17, 0x01, 0, 0, 0, 0, 0, 0, 1, 0x65 };
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  const guint8 *payload = header ? sequence_header : key_frame;
  gsize len = header ? sizeof sequence_header : sizeof key_frame;
  rh_chunk_write_message (wire, 128, 6, timestamp, 9, 1, payload, len);
  g_assert_true (rh_test_write (connection, wire->data, wire->len));
}

static JsonObject *
only_event (GPtrArray *nodes, const char *type, guint *count)
{
  JsonObject *found = NULL;
  *count = 0;
  for (guint i = 0; i < nodes->len; i++)
    {
      JsonObject *event = json_node_get_object (g_ptr_array_index (nodes, i));
      if (g_strcmp0 (json_object_get_string_member (event, "type"), type) == 0)
        {
          found = json_object_get_object_member (event, "data");
          (*count)++;
        }
    }
  return found;
}

/* A publisher whose media stops while its connection stays up (a frozen
 * encoder): media_start at its first media, media_stall after
 * stall_timeout, media_resume when media comes back; once each. */
static void
test_media_flow (void)
{
  const char *const args[] = { "--hook-stdio-format", "jsonl", NULL };
  RhTestDaemon *daemon = rh_test_daemon_start ("server = { stall_timeout = 1.0; };", args);
  g_autoptr (GSocketConnection) publisher = rh_test_connect (daemon->port);
  g_assert_true (rh_test_client_handshake (publisher));
  RhAmf0Value *object = rh_amf0_object_new ();
  rh_amf0_object_set (object, "app", rh_amf0_string_new ("live"));
  g_assert_true (rh_test_send_command (publisher, 0, "connect", 1, object, NULL));
  g_assert_true (rh_test_send_command (publisher, 0, "createStream", 2, NULL, NULL));
  g_assert_true (rh_test_send_command (publisher, 1, "publish", 3, NULL, rh_amf0_string_new ("frozen")));
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish_start live/frozen", 10000));
  send_video (publisher, 0, TRUE);
  send_video (publisher, 0, FALSE);
  g_assert_true (rh_test_daemon_wait_log (daemon, "media_start live/frozen", 5000));
  /* Nothing more: the stall is reported within a tick of the timeout. */
  g_assert_true (rh_test_daemon_wait_log (daemon, "media_stall live/frozen: no media for", 5000));
  send_video (publisher, 2500, FALSE);
  g_assert_true (rh_test_daemon_wait_log (daemon, "media_resume live/frozen after", 5000));
  send_video (publisher, 2533, FALSE);
  g_io_stream_close (G_IO_STREAM (publisher), NULL, NULL);
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish_stop live/frozen", 5000));
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);

  g_autoptr (GPtrArray) nodes = rh_test_daemon_events (daemon, NULL);
  guint n;
  JsonObject *start = only_event (nodes, "media_start", &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpstr (json_object_get_string_member (start, "video_codec"), ==, "h264");
  g_assert_false (json_object_has_member (start, "audio_codec"));
  JsonObject *stall = only_event (nodes, "media_stall", &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpint (json_object_get_int_member (stall, "seconds"), >=, 1);
  g_assert_cmpstr (json_object_get_string_member (stall, "client_ip"), ==, "127.0.0.1");
  JsonObject *resume = only_event (nodes, "media_resume", &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpint (json_object_get_int_member (resume, "stalled_seconds"), >=, 1);
  rh_test_daemon_free (daemon);
}

typedef struct {
  RhCommand *result;
} ConnectReply;

static gboolean
on_reply (const RhMessage *message, gpointer user_data)
{
  ConnectReply *reply = user_data;
  if (message->type != RH_MSG_COMMAND_AMF0 || reply->result != NULL)
    return TRUE;
  gsize len;
  const guint8 *data = g_bytes_get_data (message->payload, &len);
  RhCommand *command = rh_command_parse (message->type, data, len, NULL);
  if (command != NULL && g_str_equal (command->name, "_result") && command->transaction_id == 1)
    reply->result = command;
  else if (command != NULL)
    rh_command_free (command);
  return TRUE;
}

/* The video tag bodies of an FLV file, in order. */
static GPtrArray *
flv_video_tags (const char *path)
{
  g_autofree char *data = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  GPtrArray *tags = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_assert_cmpuint (len, >=, 13);
  gsize at = 13;
  while (at + 11 <= len)
    {
      const guint8 *tag = (const guint8 *) data + at;
      gsize size = ((gsize) tag[1] << 16) | ((gsize) tag[2] << 8) | tag[3];
      g_assert_cmpuint (at + 11 + size + 4, <=, len);
      if (tag[0] == 9)
        g_ptr_array_add (tags, g_bytes_new (tag + 11, size));
      at += 11 + size + 4;
    }
  return tags;
}

typedef struct {
  const char *fourcc;
  const char *config_file;     /* in tests/fixtures/codecs */
  guint8 key_frame_start;      /* the first payload byte of a key frame and of others */
  guint8 inter_frame_start;
  const char *codec_detected;  /* what the event must say */
} EnhancedCase;

/* An Enhanced RTMP publisher: its connect learns what the server does
 * with FourCCs, codec_detected reads the configuration record, a player
 * that waited gets every message and a late one the sequence start, then
 * the last keyframe and what followed, byte for byte. */
static void
check_enhanced_rtmp (const EnhancedCase *c)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *hvcc_path = g_build_filename (rh_test_env ("RH_FIXTURES"), "codecs", c->config_file, NULL);
  g_autofree char *hvcc = NULL;
  gsize hvcc_len;
  g_assert_true (g_file_get_contents (hvcc_path, &hvcc, &hvcc_len, NULL));
  const char *const args[] = { "--hook-stdio-format", "jsonl", NULL };
  RhTestDaemon *daemon = rh_test_daemon_start (NULL, args);
  g_autofree char *early_flv = g_build_filename (dir, "early.flv", NULL);
  g_autofree char *late_flv = g_build_filename (dir, "late.flv", NULL);
  RhTestPlayer *early = rh_test_player_new (daemon->port, "live", "ehevc", 0, early_flv);
  g_assert_true (rh_test_daemon_wait_log (daemon, "play_start live/ehevc", 5000));

  g_autoptr (GSocketConnection) publisher = rh_test_connect (daemon->port);
  g_assert_true (rh_test_client_handshake (publisher));
  RhAmf0Value *object = rh_amf0_object_new ();
  rh_amf0_object_set (object, "app", rh_amf0_string_new ("live"));
  RhAmf0Value *list = rh_amf0_strict_array_new ();
  rh_amf0_array_append (list, rh_amf0_string_new ("hvc1"));
  rh_amf0_array_append (list, rh_amf0_string_new ("av01"));
  rh_amf0_object_set (object, "fourCcList", list);
  rh_amf0_object_set (object, "capsEx", rh_amf0_number_new (0));
  g_assert_true (rh_test_send_command (publisher, 0, "connect", 1, object, NULL));

  /* The connect's _result says what the server does with FourCCs. */
  g_autoptr (RhChunkReader) reader = rh_chunk_reader_new (1 << 20);
  ConnectReply reply = { NULL };
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (publisher));
  while (reply.result == NULL)
    {
      guint8 buffer[4096];
      gssize n = g_input_stream_read (in, buffer, sizeof buffer, NULL, NULL);
      g_assert_cmpint (n, >, 0);
      g_assert_true (rh_chunk_reader_feed (reader, buffer, (gsize) n, on_reply, &reply, NULL));
    }
  const RhAmf0Value *properties = rh_command_get (reply.result, 0);
  const RhAmf0Value *fourccs = rh_amf0_object_get (properties, "fourCcList");
  g_assert_nonnull (fourccs);
  g_assert_cmpuint (fourccs->items->len, ==, 2);
  g_assert_cmpstr (((RhAmf0Value *) g_ptr_array_index (fourccs->items, 0))->v.string.data, ==, "hvc1");
  g_assert_cmpfloat (rh_amf0_object_get_number (rh_amf0_object_get (properties, "videoFourCcInfoMap"), "*", 0), ==, 4);
  g_assert_cmpfloat (rh_amf0_object_get_number (rh_amf0_object_get (properties, "audioFourCcInfoMap"), "*", 0), ==, 4);
  g_assert_cmpfloat (rh_amf0_object_get_number (properties, "capsEx", -1), ==, 0);
  rh_command_free (reply.result);

  g_assert_true (rh_test_send_command (publisher, 0, "createStream", 2, NULL, NULL));
  g_assert_true (rh_test_send_command (publisher, 1, "publish", 3, NULL, rh_amf0_string_new ("ehevc")));
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish_start live/ehevc", 5000));

  /* SequenceStart with the configuration record, a second track's
   * (multitrack, OneTrack), then two GOPs of CodedFramesX: a key frame
   * (IDR NAL, type 19) and four inter frames each; the second key frame
   * wrapped in a ModEx prefix, one inter frame the second track's. After
   * the late player joined, SequenceEnd. */
  g_autoptr (GPtrArray) sent = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GByteArray) start = g_byte_array_new ();
  g_byte_array_append (start, (const guint8 *) "\x90", 1);
  g_byte_array_append (start, (const guint8 *) c->fourcc, 4);
  g_byte_array_append (start, (const guint8 *) hvcc, (guint) hvcc_len);
  g_ptr_array_add (sent, g_bytes_new (start->data, start->len));
  g_autoptr (GByteArray) track_start = g_byte_array_new ();
  g_byte_array_append (track_start, (const guint8 *) "\x96\x00", 2);   /* Multitrack; OneTrack | SequenceStart */
  g_byte_array_append (track_start, (const guint8 *) c->fourcc, 4);
  g_byte_array_append (track_start, (const guint8 *) "\x01", 1);        /* track 1 */
  g_byte_array_append (track_start, (const guint8 *) hvcc, (guint) hvcc_len);
  g_ptr_array_add (sent, g_bytes_new (track_start->data, track_start->len));
  for (int i = 0; i < 10; i++)
    {
      gboolean key = i % 5 == 0;
      g_autoptr (GByteArray) frame = g_byte_array_new ();
      guint8 first = key ? 0x93 : 0xa3;   /* key or inter frame, CodedFramesX */
      if (i == 5)
        {
          /* The second key frame behind ModEx: one byte of data (a
           * TimestampOffsetNano), then the packet type. */
          first = 0x97;
          g_byte_array_append (frame, &first, 1);
          g_byte_array_append (frame, (const guint8 *) "\x00\x2a\x03", 3);
        }
      else if (i == 7)
        {
          first = 0xa6;
          g_byte_array_append (frame, &first, 1);
          g_byte_array_append (frame, (const guint8 *) "\x03", 1);      /* OneTrack | CodedFramesX */
        }
      else
        g_byte_array_append (frame, &first, 1);
      g_byte_array_append (frame, (const guint8 *) c->fourcc, 4);
      if (i == 7)
        g_byte_array_append (frame, (const guint8 *) "\x01", 1);
      guint8 body[4 + 40] = { 0, 0, 0, 40 };
      body[4] = key ? c->key_frame_start : c->inter_frame_start;
      for (int b = 5; b < (int) sizeof body; b++)
        body[b] = (guint8) (i * 7 + b);
      g_byte_array_append (frame, body, sizeof body);
      g_ptr_array_add (sent, g_bytes_new (frame->data, frame->len));
    }
  g_autoptr (GByteArray) end = g_byte_array_new ();
  g_byte_array_append (end, (const guint8 *) "\x92", 1);                 /* SequenceEnd */
  g_byte_array_append (end, (const guint8 *) c->fourcc, 4);
  g_ptr_array_add (sent, g_bytes_new (end->data, end->len));
  guint before_end = sent->len - 1;
  for (guint i = 0; i < before_end; i++)
    {
      gsize len;
      const guint8 *payload = g_bytes_get_data (g_ptr_array_index (sent, i), &len);
      g_autoptr (GByteArray) wire = g_byte_array_new ();
      rh_chunk_write_message (wire, 128, 6, i * 33, 9, 1, payload, len);
      g_assert_true (rh_test_write (publisher, wire->data, wire->len));
    }
  g_assert_true (rh_test_player_wait_video (early, before_end, 10000));
  RhTestPlayer *late = rh_test_player_new (daemon->port, "live", "ehevc", 0, late_flv);
  g_assert_true (rh_test_player_wait_video (late, 7, 10000));
  {
    gsize len;
    const guint8 *payload = g_bytes_get_data (g_ptr_array_index (sent, before_end), &len);
    g_autoptr (GByteArray) wire = g_byte_array_new ();
    rh_chunk_write_message (wire, 128, 6, before_end * 33, 9, 1, payload, len);
    g_assert_true (rh_test_write (publisher, wire->data, wire->len));
  }
  g_assert_true (rh_test_player_wait_video (early, sent->len, 10000));
  g_assert_true (rh_test_player_wait_video (late, 8, 10000));
  rh_test_player_free (early);
  rh_test_player_free (late);
  g_io_stream_close (G_IO_STREAM (publisher), NULL, NULL);
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish_stop live/ehevc", 5000));
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);

  g_autoptr (GPtrArray) early_tags = flv_video_tags (early_flv);
  g_assert_cmpuint (early_tags->len, ==, sent->len);
  for (guint i = 0; i < sent->len; i++)
    g_assert_true (g_bytes_equal (g_ptr_array_index (early_tags, i), g_ptr_array_index (sent, i)));
  /* Late: both tracks' sequence starts, then the second GOP from its
   * (ModEx) key frame, the second track's frame among it, then
   * SequenceEnd. */
  g_autoptr (GPtrArray) late_tags = flv_video_tags (late_flv);
  g_assert_cmpuint (late_tags->len, ==, 8);
  g_assert_true (g_bytes_equal (g_ptr_array_index (late_tags, 0), g_ptr_array_index (sent, 0)));
  g_assert_true (g_bytes_equal (g_ptr_array_index (late_tags, 1), g_ptr_array_index (sent, 1)));
  for (guint i = 2; i < 8; i++)
    g_assert_true (g_bytes_equal (g_ptr_array_index (late_tags, i), g_ptr_array_index (sent, 5 + i)));

  g_autofree char *out = rh_test_daemon_stdout (daemon);
  g_assert_nonnull (strstr (out, c->codec_detected));
  rh_test_daemon_free (daemon);
  rh_test_remove_tree (dir);
}

static void
test_enhanced_rtmp_hevc (void)
{
  /* NAL headers: IDR_W_RADL (19), TRAIL_R (1). */
  const EnhancedCase c = { "hvc1", "hevc-main-426x240.bin", 0x26, 0x02,
                           "\"codec\":\"hevc\",\"profile\":\"Main\",\"level\":\"2.0\",\"width\":426,\"height\":240" };
  check_enhanced_rtmp (&c);
}

static void
test_enhanced_rtmp_av1 (void)
{
  /* OBU headers: a frame OBU (6) with its size field, key or not alike. */
  const EnhancedCase c = { "av01", "av1-main10-640x360.bin", 0x32, 0x32,
                           "\"codec\":\"av1\",\"profile\":\"Main\",\"level\":\"2.1\",\"width\":640,\"height\":360,"
                           "\"bit_depth\":10" };
  check_enhanced_rtmp (&c);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media-e2e/codec-details-high", test_codec_details_high);
  g_test_add_func ("/media-e2e/codec-details-baseline", test_codec_details_baseline);
  g_test_add_func ("/media-e2e/media-flow", test_media_flow);
  g_test_add_func ("/media-e2e/enhanced-rtmp-hevc", test_enhanced_rtmp_hevc);
  g_test_add_func ("/media-e2e/enhanced-rtmp-av1", test_enhanced_rtmp_av1);
  return g_test_run ();
}
