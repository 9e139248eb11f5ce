#include "config.h"

#include "test-player.h"

#include <stdio.h>
#include <sys/socket.h>

#include "protocol/amf0.h"
#include "protocol/chunk-reader.h"
#include "protocol/chunk-writer.h"
#include "protocol/command.h"
#include "protocol/message.h"
#include "test-rtmp-client.h"

struct _RhTestPlayer {
  GSocketConnection *connection;
  GSocket *socket;
  GSource *source;            /* while reading */
  RhChunkReader *reader;
  GChecksum *checksum;
  char *digest;
  FILE *flv;
  guint video;
  guint audio;
  GArray *video_arrivals;     /* gint64 */
  GArray *video_timestamps;   /* guint32 */
  gboolean ended;
  gboolean closed;
};

static void
send_command (RhTestPlayer *player, guint32 stream_id, const char *name, double transaction,
              RhAmf0Value *object, const char *argument)
{
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  rh_command_write_client (wire, stream_id, name, transaction, object,
                           argument != NULL ? rh_amf0_string_new (argument) : NULL);
  g_assert_true (rh_test_write (player->connection, wire->data, wire->len));
}

static void
write_flv_tag (FILE *out, guint8 type, guint32 timestamp, const guint8 *data, gsize len)
{
  guint8 header[11] = { type };
  rh_write_u24_be (header + 1, (guint32) len);
  rh_write_u24_be (header + 4, timestamp & 0xFFFFFF);
  header[7] = (guint8) (timestamp >> 24);
  guint8 previous[4];
  rh_write_u32_be (previous, (guint32) (len + 11));
  fwrite (header, 1, sizeof header, out);
  fwrite (data, 1, len, out);
  fwrite (previous, 1, sizeof previous, out);
}

static gboolean
on_message (const RhMessage *message, gpointer user_data)
{
  RhTestPlayer *player = user_data;
  gsize len;
  const guint8 *data = g_bytes_get_data (message->payload, &len);

  if (message->type == RH_MSG_USER_CONTROL && len >= 2 && data[0] == 0 && data[1] == RH_UC_STREAM_EOF)
    {
      player->ended = TRUE;
      return TRUE;
    }
  if (message->type != RH_MSG_AUDIO && message->type != RH_MSG_VIDEO && message->type != RH_MSG_DATA_AMF0)
    return TRUE;

  guint8 prefix[5] = { message->type };
  rh_write_u32_be (prefix + 1, message->timestamp);
  g_checksum_update (player->checksum, prefix, sizeof prefix);
  g_checksum_update (player->checksum, data, (gssize) len);
  if (player->flv != NULL)
    write_flv_tag (player->flv, message->type, message->timestamp, data, len);
  if (message->type == RH_MSG_VIDEO)
    {
      gint64 now = g_get_monotonic_time ();
      player->video++;
      g_array_append_val (player->video_arrivals, now);
      g_array_append_val (player->video_timestamps, message->timestamp);
    }
  else if (message->type == RH_MSG_AUDIO)
    {
      player->audio++;
    }
  return TRUE;
}

static void
stop_reading (RhTestPlayer *player)
{
  if (player->source != NULL)
    {
      g_source_destroy (player->source);
      g_clear_pointer (&player->source, g_source_unref);
    }
}

static gboolean
on_readable (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  RhTestPlayer *player = user_data;
  static guint8 buffer[64 * 1024];
  g_autoptr (GError) error = NULL;
  gssize n = g_socket_receive (socket, (char *) buffer, sizeof buffer, NULL, &error);
  if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return G_SOURCE_CONTINUE;
  if (n <= 0 || !rh_chunk_reader_feed (player->reader, buffer, (gsize) n, on_message, player, NULL))
    {
      player->closed = TRUE;
      g_clear_pointer (&player->source, g_source_unref);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

void
rh_test_player_set_reading (RhTestPlayer *player, gboolean reading)
{
  if (!reading || player->closed)
    {
      stop_reading (player);
      return;
    }
  if (player->source != NULL)
    return;
  player->source = g_socket_create_source (player->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (player->source, G_SOURCE_FUNC (on_readable), player, NULL);
  g_source_attach (player->source, NULL);
}

RhTestPlayer *
rh_test_player_new (guint16 port, const char *app, const char *name, gint receive_buffer,
                    const char *flv_path)
{
  RhTestPlayer *player = g_new0 (RhTestPlayer, 1);
  player->socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_assert_nonnull (player->socket);
  if (receive_buffer > 0)
    g_assert_true (g_socket_set_option (player->socket, SOL_SOCKET, SO_RCVBUF, receive_buffer, NULL));
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, port);
  g_assert_true (g_socket_connect (player->socket, address, NULL, NULL));
  player->connection = g_socket_connection_factory_create_connection (player->socket);
  g_assert_true (rh_test_client_handshake (player->connection));

  g_autofree char *tc_url = g_strdup_printf ("rtmp://127.0.0.1:%u/%s", port, app);
  RhAmf0Value *object = rh_amf0_object_new ();
  rh_amf0_object_set (object, "app", rh_amf0_string_new (app));
  rh_amf0_object_set (object, "tcUrl", rh_amf0_string_new (tc_url));
  send_command (player, 0, "connect", 1, object, NULL);
  send_command (player, 0, "createStream", 2, NULL, NULL);
  send_command (player, 1, "play", 3, NULL, name);

  player->reader = rh_chunk_reader_new (16 * 1024 * 1024);
  player->checksum = g_checksum_new (G_CHECKSUM_SHA256);
  player->video_arrivals = g_array_new (FALSE, FALSE, sizeof (gint64));
  player->video_timestamps = g_array_new (FALSE, FALSE, sizeof (guint32));
  if (flv_path != NULL)
    {
      player->flv = fopen (flv_path, "wb");
      g_assert_nonnull (player->flv);
      static const guint8 header[] = { 'F', 'L', 'V', 1, 5, 0, 0, 0, 9, 0, 0, 0, 0 };
      fwrite (header, 1, sizeof header, player->flv);
    }
  g_socket_set_blocking (player->socket, FALSE);
  rh_test_player_set_reading (player, TRUE);
  return player;
}

void
rh_test_player_free (RhTestPlayer *player)
{
  if (player == NULL)
    return;
  stop_reading (player);
  if (player->flv != NULL)
    fclose (player->flv);
  g_io_stream_close (G_IO_STREAM (player->connection), NULL, NULL);
  g_object_unref (player->connection);
  g_object_unref (player->socket);
  rh_chunk_reader_free (player->reader);
  g_checksum_free (player->checksum);
  g_free (player->digest);
  g_array_unref (player->video_arrivals);
  g_array_unref (player->video_timestamps);
  g_free (player);
}

gboolean
rh_test_player_ended (const RhTestPlayer *player)
{
  return player->ended || player->closed;
}

gboolean
rh_test_player_closed (const RhTestPlayer *player)
{
  return player->closed;
}

guint
rh_test_player_video_messages (const RhTestPlayer *player)
{
  return player->video;
}

guint
rh_test_player_audio_messages (const RhTestPlayer *player)
{
  return player->audio;
}

const char *
rh_test_player_digest (RhTestPlayer *player)
{
  if (player->digest == NULL)
    player->digest = g_strdup (g_checksum_get_string (player->checksum));
  return player->digest;
}

const GArray *
rh_test_player_video_arrivals (const RhTestPlayer *player)
{
  return player->video_arrivals;
}

const GArray *
rh_test_player_video_timestamps (const RhTestPlayer *player)
{
  return player->video_timestamps;
}

static gboolean
on_deadline (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
rh_test_iterate_until (gboolean (*func) (gpointer data), gpointer data, guint timeout_ms)
{
  gboolean expired = FALSE;
  guint deadline = g_timeout_add (timeout_ms, on_deadline, &expired);
  while (!func (data) && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (!expired)
    g_source_remove (deadline);
  return func (data);
}

gint64
rh_test_player_largest_gap (const RhTestPlayer *player, gint64 from, gint64 to)
{
  const GArray *arrivals = rh_test_player_video_arrivals (player);
  gint64 gap = 0, previous = 0;
  for (guint i = 0; i < arrivals->len; i++)
    {
      gint64 at = g_array_index (arrivals, gint64, i);
      if (at >= from && at <= to && previous != 0)
        gap = MAX (gap, at - previous);
      previous = at;
    }
  return gap;
}

static gboolean
player_ended (gpointer data)
{
  return rh_test_player_ended (data);
}

gboolean
rh_test_player_wait_ended (RhTestPlayer *player, guint timeout_ms)
{
  return rh_test_iterate_until (player_ended, player, timeout_ms);
}

typedef struct {
  RhTestPlayer *const *players;
  guint n;
} PlayerSet;

static gboolean
all_ended (gpointer data)
{
  const PlayerSet *set = data;
  for (guint i = 0; i < set->n; i++)
    if (!rh_test_player_ended (set->players[i]))
      return FALSE;
  return TRUE;
}

gboolean
rh_test_players_wait_ended (RhTestPlayer *const *players, guint n, guint timeout_ms)
{
  PlayerSet set = { players, n };
  return rh_test_iterate_until (all_ended, &set, timeout_ms);
}

typedef struct {
  RhTestPlayer *player;
  guint count;
} VideoWait;

static gboolean
has_video (gpointer data)
{
  VideoWait *wait = data;
  return rh_test_player_video_messages (wait->player) >= wait->count;
}

gboolean
rh_test_player_wait_video (RhTestPlayer *player, guint count, guint timeout_ms)
{
  VideoWait wait = { player, count };
  return rh_test_iterate_until (has_video, &wait, timeout_ms);
}

typedef struct {
  RhTestDaemon *daemon;
  const char *needle;
  guint count;
} LogWait;

static gboolean
log_reached (gpointer data)
{
  const LogWait *wait = data;
  g_autofree char *log = rh_test_daemon_log (wait->daemon);
  return rh_test_count (log, wait->needle) >= wait->count;
}

gboolean
rh_test_iterate_until_log (RhTestDaemon *daemon, const char *needle, guint count, guint timeout_ms)
{
  LogWait wait = { daemon, needle, count };
  return rh_test_iterate_until (log_reached, &wait, timeout_ms);
}
