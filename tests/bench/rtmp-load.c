/* rtmp-load: N RTMP players in one process, for benchmarks. Each one
 * handshakes, connects, plays a stream and counts what arrives; it reports
 * the time from sending play to the first video frame, and the bytes and
 * frames received. Built on the project's own chunk and AMF code.
 *
 *   rtmp-load HOST PORT APP STREAM PLAYERS SECONDS
 */
#include "config.h"

#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>

#include "protocol/amf0.h"
#include "protocol/chunk-reader.h"
#include "protocol/chunk-writer.h"
#include "protocol/handshake.h"

typedef struct {
  GSocketConnection *connection;
  RhChunkReader *reader;
  gint64 play_sent_at;
  gint64 first_video_at;
  guint64 bytes;
  guint64 video_frames;
  gboolean closed;
} Player;

static guint8 read_buffer[256 * 1024];

static void
send_command (GOutputStream *out, guint32 stream_id, const char *name, double tid,
              RhAmf0Value *first, RhAmf0Value *second)
{
  g_autoptr (GByteArray) payload = g_byte_array_new ();
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  rh_amf0_encode_string (payload, name);
  rh_amf0_encode_number (payload, tid);
  if (first != NULL)
    rh_amf0_encode (payload, first);
  else
    rh_amf0_encode_null (payload);
  if (second != NULL)
    rh_amf0_encode (payload, second);
  rh_chunk_write_message (wire, RH_CHUNK_DEFAULT_SIZE, stream_id == 0 ? 3 : 8, 0, 20, stream_id,
                          payload->data, payload->len);
  g_output_stream_write_all (out, wire->data, wire->len, NULL, NULL, NULL);
  rh_amf0_value_free (first);
  rh_amf0_value_free (second);
}

static gboolean
on_message (const RhMessage *message, gpointer user_data)
{
  Player *player = user_data;
  if (message->type == 9)
    {
      if (player->first_video_at == 0)
        player->first_video_at = g_get_monotonic_time ();
      player->video_frames++;
    }
  return TRUE;
}

static gboolean
on_readable (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  Player *player = user_data;
  gssize n = g_socket_receive (socket, (char *) read_buffer, sizeof read_buffer, NULL, NULL);
  if (n <= 0)
    {
      player->closed = TRUE;
      return G_SOURCE_REMOVE;
    }
  player->bytes += (guint64) n;
  if (!rh_chunk_reader_feed (player->reader, read_buffer, (gsize) n, on_message, player, NULL))
    {
      player->closed = TRUE;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
start_player (Player *player, const char *host, guint16 port, const char *app, const char *stream)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  player->connection = g_socket_client_connect_to_host (client, host, port, NULL, NULL);
  if (player->connection == NULL)
    return FALSE;
  GSocket *socket = g_socket_connection_get_socket (player->connection);
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (player->connection));
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (player->connection));
  guint8 c0c1[1 + RH_HANDSHAKE_SIZE] = { 3 };
  guint8 s0s1s2[1 + 2 * RH_HANDSHAKE_SIZE];
  gsize got;

  if (!g_output_stream_write_all (out, c0c1, sizeof c0c1, NULL, NULL, NULL)
      || !g_input_stream_read_all (in, s0s1s2, sizeof s0s1s2, &got, NULL, NULL)
      || got != sizeof s0s1s2
      || !g_output_stream_write_all (out, s0s1s2 + 1, RH_HANDSHAKE_SIZE, NULL, NULL, NULL))
    return FALSE;

  g_autofree char *tc_url = g_strdup_printf ("rtmp://%s:%u/%s", host, port, app);
  RhAmf0Value *object = rh_amf0_object_new ();
  rh_amf0_object_set (object, "app", rh_amf0_string_new (app));
  rh_amf0_object_set (object, "tcUrl", rh_amf0_string_new (tc_url));
  rh_amf0_object_set (object, "flashVer", rh_amf0_string_new ("LNX 9,0,124,2"));
  send_command (out, 0, "connect", 1, object, NULL);
  send_command (out, 0, "createStream", 2, NULL, NULL);
  /* Both servers answer the first createStream with stream id 1. */
  player->play_sent_at = g_get_monotonic_time ();
  send_command (out, 1, "play", 0, NULL, rh_amf0_string_new (stream));

  player->reader = rh_chunk_reader_new (16 * 1024 * 1024);
  g_socket_set_blocking (socket, FALSE);
  GSource *source = g_socket_create_source (socket, G_IO_IN, NULL);
  g_source_set_callback (source, G_SOURCE_FUNC (on_readable), player, NULL);
  g_source_attach (source, NULL);
  g_source_unref (source);
  return TRUE;
}

static int
compare_gint64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

static gboolean
on_done (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  if (argc != 7)
    {
      fprintf (stderr, "usage: rtmp-load HOST PORT APP STREAM PLAYERS SECONDS\n");
      return 2;
    }
  const char *host = argv[1];
  guint16 port = (guint16) atoi (argv[2]);
  guint n = (guint) atoi (argv[5]);
  guint seconds = (guint) atoi (argv[6]);
  Player *players = g_new0 (Player, n);
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);

  for (guint i = 0; i < n; i++)
    if (!start_player (&players[i], host, port, argv[3], argv[4]))
      {
        fprintf (stderr, "rtmp-load: player %u could not start\n", i);
        return 1;
      }
  g_timeout_add_seconds (seconds, on_done, loop);
  g_main_loop_run (loop);

  gint64 *latency = g_new0 (gint64, n);
  guint with_video = 0, closed = 0;
  guint64 bytes = 0, frames = 0;
  for (guint i = 0; i < n; i++)
    {
      bytes += players[i].bytes;
      frames += players[i].video_frames;
      closed += players[i].closed;
      if (players[i].first_video_at != 0)
        latency[with_video++] = players[i].first_video_at - players[i].play_sent_at;
    }
  qsort (latency, with_video, sizeof *latency, compare_gint64);
  printf ("players=%u closed=%u with_video=%u bytes=%" G_GUINT64_FORMAT " video_frames=%" G_GUINT64_FORMAT,
          n, closed, with_video, bytes, frames);
  if (with_video > 0)
    printf (" first_video_ms_min=%.1f median=%.1f max=%.1f", latency[0] / 1000.0,
            latency[with_video / 2] / 1000.0, latency[with_video - 1] / 1000.0);
  printf ("\n");
  return with_video == n ? 0 : 1;
}
