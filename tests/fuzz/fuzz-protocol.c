/* libFuzzer harness for the RTMP protocol parsers (and the TLS record
 * check of a TLS port), the bytes a client
 * sends and (first byte 0xF0 and above) the bytes a server sends to our
 * client: the first input byte picks the parser, the second how the rest
 * is split into reads (a parser must give the same result whatever the
 * pieces). Built with ./configure --enable-fuzzing (clang). */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "protocol/aggregate.h"
#include "protocol/client.h"
#include "protocol/amf0.h"
#include "protocol/chunk-reader.h"
#include "protocol/codec-details.h"
#include "protocol/command.h"
#include "protocol/data-message.h"
#include "protocol/flv-writer.h"
#include "protocol/handshake.h"
#include "protocol/media.h"
#include "protocol/message.h"
#include "protocol/tls-record.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static gboolean
on_message (const RhMessage *message, gpointer user_data)
{
  gsize len;
  const guint8 *payload = g_bytes_get_data (message->payload, &len);
  /* What the session does with each message a client sends. */
  if (message->type == RH_MSG_COMMAND_AMF0 || message->type == RH_MSG_COMMAND_AMF3)
    {
      RhCommand *command = rh_command_parse (message->type, payload, len, NULL);
      if (command != NULL)
        rh_command_free (command);
    }
  return TRUE;
}

static void
on_tag (guint8 type, guint32 timestamp, GBytes *body, gpointer user_data)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (body, &len);
  if (type == RH_MSG_VIDEO)
    rh_media_inspect_video (data, len);
  else if (type == RH_MSG_AUDIO)
    rh_media_inspect_audio (data, len);
}

static void
fuzz_chunks (const guint8 *data, gsize size, gsize piece)
{
  RhChunkReader *reader = rh_chunk_reader_new (1024 * 1024);
  /* The budget: what unfinished messages hold is counted to the byte. */
  gsize shared = 0;
  rh_chunk_reader_set_budget (reader, 256 * 1024, &shared, 512 * 1024);
  for (gsize offset = 0; offset < size; offset += piece)
    {
      if (!rh_chunk_reader_feed (reader, data + offset, MIN (piece, size - offset), on_message, NULL, NULL))
        break;
      if (shared != rh_chunk_reader_get_held (reader) || shared > 256 * 1024)
        __builtin_trap ();
    }
  rh_chunk_reader_free (reader);
  if (shared != 0)
    __builtin_trap ();
}

static void
fuzz_handshake (const guint8 *data, gsize size, gsize piece)
{
  RhHandshake *handshake = rh_handshake_new ();
  GByteArray *out = g_byte_array_new ();
  gsize offset = 0;
  while (offset < size && rh_handshake_get_state (handshake) != RH_HANDSHAKE_DONE)
    {
      gssize used = rh_handshake_feed (handshake, data + offset, MIN (piece, size - offset), out, NULL);
      if (used <= 0)
        break;
      offset += (gsize) used;
    }
  g_byte_array_unref (out);
  rh_handshake_free (handshake);
}

static void
client_send_raw (GBytes *bytes, gpointer user_data)
{
}

static void
client_send (guint32 csid, guint8 type, guint32 stream_id, guint32 timestamp, GBytes *payload, gpointer user_data)
{
}

static void
client_ready (gpointer user_data)
{
}

/* Our client, publishing or playing, reads what a server sends: its
 * handshake, then replies, pings and media in chunks. */
static void
fuzz_client (const guint8 *data, gsize size, gsize piece)
{
  static const RhClientIo io = { client_send_raw, client_send, NULL, client_ready, NULL };
  RhRtmpUrl url = { .host = (char *) "127.0.0.1", .port = 1935, .app = (char *) "live", .stream = (char *) "cam",
                    .tc_url = (char *) "rtmp://127.0.0.1:1935/live", .public_url = (char *) "rtmp://127.0.0.1/live/cam" };
  RhClient *client = rh_client_new (piece % 2 ? RH_CLIENT_PLAY : RH_CLIENT_PUBLISH, &url, &io, NULL);
  rh_client_start (client);
  for (gsize offset = 0; offset < size; offset += piece)
    if (!rh_client_feed (client, data + offset, MIN (piece, size - offset), NULL))
      break;
  if (rh_client_is_ready (client))
    rh_client_send_teardown (client);
  rh_client_free (client);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  if (size < 2)
    return 0;
  guint8 which = data[0];
  gsize piece = (gsize) data[1] + 1;
  data += 2;
  size -= 2;
  GBytes *bytes = g_bytes_new_static (data, size);

  switch (which >= 0xF0 ? 9 : which % 9)
    {
    case 9:
      fuzz_client (data, size, piece);
      break;
    case 0:
      fuzz_chunks (data, size, piece);
      break;
    case 1:
      /* The first bytes a server sees: a TLS port checks them as a TLS
       * record first, a plain one runs the RTMP handshake. */
      if (size > 0)
        {
          gsize needed;
          RhTlsRecordState state = rh_tls_record_check (data, size, &needed);
          if (needed < RH_TLS_RECORD_HEADER || needed > RH_TLS_RECORD_HEADER + RH_TLS_RECORD_MAX_BODY
              || (state == RH_TLS_RECORD_COMPLETE && size < needed))
            __builtin_trap ();
        }
      fuzz_handshake (data, size, piece);
      break;
    case 2:
      {
        GPtrArray *values = rh_amf0_decode_all (data, size, NULL);
        if (values != NULL)
          {
            /* What decodes must encode again. */
            GByteArray *out = g_byte_array_new ();
            for (guint i = 0; i < values->len; i++)
              rh_amf0_encode (out, g_ptr_array_index (values, i));
            g_byte_array_unref (out);
            g_ptr_array_unref (values);
          }
        break;
      }
    case 3:
    case 4:
      {
        RhCommand *command = rh_command_parse (which % 9 == 3 ? RH_MSG_COMMAND_AMF0 : RH_MSG_COMMAND_AMF3,
                                               data, size, NULL);
        if (command != NULL)
          rh_command_free (command);
        break;
      }
    case 5:
      rh_media_inspect_video (data, size);
      rh_media_inspect_audio (data, size);
      break;
    case 6:
      rh_aggregate_foreach (bytes, 1000, on_tag, NULL, NULL);
      break;
    case 7:
      {
        RhDataMessage message = { NULL, FALSE };
        if (rh_data_message_parse (piece % 2 ? RH_MSG_DATA_AMF0 : RH_MSG_DATA_AMF3, bytes, &message, NULL))
          {
            /* A recording's onMetaData is built from a publisher's: the
             * two numbers it patches lie inside it. */
            gsize duration_at, filesize_at;
            g_autoptr (GBytes) file = rh_flv_file_metadata (message.payload, &duration_at, &filesize_at);
            if (filesize_at + 8 + 3 != g_bytes_get_size (file) || duration_at + 8 > filesize_at)
              __builtin_trap ();
            rh_data_message_clear (&message);
          }
        break;
      }
    case 8:
      {
        /* Codec configurations: the second byte picks the parser. */
        static const char *const codecs[] = { "h264", "hevc", "av1", "vp9", "aac", "opus", "mp3", "flv" };
        const char *codec = codecs[piece % G_N_ELEMENTS (codecs)];
        RhCodecDetails details = { { 0 } };
        gboolean ok;
        if (g_str_equal (codec, "mp3"))
          ok = rh_codec_details_mp3 (data, size, &details);
        else if (g_str_equal (codec, "flv"))
          ok = size > 0 && rh_codec_details_flv_audio (data[0], &details);
        else if (g_str_equal (codec, "aac") || g_str_equal (codec, "opus"))
          ok = rh_codec_details_audio_config (codec, data, size, &details);
        else
          ok = rh_codec_details_video (codec, data, size, &details);
        /* Strings end inside their buffers; a refusal leaves nothing. */
        if (memchr (details.profile, 0, sizeof details.profile) == NULL
            || memchr (details.level, 0, sizeof details.level) == NULL
            || (!ok && (details.width != 0 || details.profile[0] != '\0' || details.sample_rate != 0)))
          __builtin_trap ();
        break;
      }
    }
  g_bytes_unref (bytes);
  return 0;
}
