/* The daemon's RTMP client (client-session.h over protocol/client.h):
 * what it refuses of a server, and, against its own server, both in this process over loopback sockets: a
 * publishing session and a playing one meet on a stream, every frame the
 * publisher sends reaches the player as it was sent, both say goodbye
 * cleanly, and a refusal ends a session with the server's reason. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "test-player.h"
#include "testutil.h"
#include "protocol/chunk-writer.h"
#include "protocol/command.h"
#include "protocol/rtmp-url.h"
#include "server/client-session.h"
#include "server/server.h"

typedef struct {
  gboolean ready;
  gboolean ended;
  char *why;              /* of the end; NULL: a clean close */
  GPtrArray *received;    /* GBytes*: type, timestamp and payload of each media message */
} Side;

static void
on_ready (RhClientSession *session, gpointer owner)
{
  ((Side *) owner)->ready = TRUE;
}

static void
on_media (RhClientSession *session, const RhMessage *message, gpointer owner)
{
  Side *side = owner;
  if (message->type != RH_MSG_VIDEO)
    return;
  gsize len;
  const guint8 *data = g_bytes_get_data (message->payload, &len);
  GByteArray *record = g_byte_array_new ();
  guint8 head[5] = { message->type, (guint8) (message->timestamp >> 24), (guint8) (message->timestamp >> 16),
                     (guint8) (message->timestamp >> 8), (guint8) message->timestamp };
  g_byte_array_append (record, head, sizeof head);
  g_byte_array_append (record, data, (guint) len);
  g_ptr_array_add (side->received, g_byte_array_free_to_bytes (record));
}

static void
on_ended (RhClientSession *session, const char *why, gpointer owner)
{
  Side *side = owner;
  side->ended = TRUE;
  side->why = g_strdup (why);
}

static const RhClientSessionOwner side_owner = { on_ready, on_media, on_ended };
/* rtmp:// URLs: TLS settings that never apply. */
static const RhClientTls clear_text = { NULL, TRUE };

static void
on_event (RhEvent *event, gpointer user_data)
{
  g_ptr_array_add (user_data, g_strdup (rh_event_type_to_string (event->type)));
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

static void
run_until (gboolean *flag)
{
  g_assert_true (rh_test_iterate_until (flag_set, flag, 10000));
}

typedef struct {
  Side *side;
  guint count;
} MediaWait;

static gboolean
media_received (gpointer data)
{
  MediaWait *wait = data;
  return wait->side->received->len >= wait->count;
}

typedef struct {
  RhServer *server;
  RhConfig *config;
  GPtrArray *events;
  guint16 port;
  char *dir;
} Server;

static void
server_start (Server *server)
{
  server->port = rh_test_free_port ();
  server->dir = rh_test_make_dir ();
  g_autofree char *path = g_build_filename (server->dir, "rtmphooks.conf", NULL);
  g_autofree char *text = g_strdup_printf ("server = { listen = \"127.0.0.1:%u\"; };\n", server->port);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  g_autoptr (GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
  server->config = rh_config_load (path, TRUE, NULL, errors);
  g_assert_nonnull (server->config);
  server->events = g_ptr_array_new_with_free_func (g_free);
  server->server = rh_server_new (server->config);
  rh_server_set_event_sink (server->server, on_event, NULL, server->events);
  g_autoptr (GError) error = NULL;
  g_assert_true (rh_server_apply_config (server->server, server->config, TRUE, &error));
}

static void
server_stop (Server *server)
{
  rh_server_shutdown (server->server);
  rh_server_free (server->server);
  rh_config_unref (server->config);
  g_ptr_array_unref (server->events);
  rh_test_remove_tree (server->dir);
  g_free (server->dir);
}

static gboolean
has_event (Server *server, const char *type)
{
  for (guint i = 0; i < server->events->len; i++)
    if (strcmp (g_ptr_array_index (server->events, i), type) == 0)
      return TRUE;
  return FALSE;
}

typedef struct {
  Server *server;
  const char *types[2];
} EventsWait;

static gboolean
events_seen (gpointer data)
{
  EventsWait *wait = data;
  return has_event (wait->server, wait->types[0]) && has_event (wait->server, wait->types[1]);
}

static RhRtmpUrl
url_for (Server *server, const char *path)
{
  g_autofree char *text = g_strdup_printf ("rtmp://127.0.0.1:%u/%s", server->port, path);
  RhRtmpUrl url;
  g_assert_true (rh_rtmp_url_parse (text, &url, NULL));
  return url;
}

/* One H.264 frame message: a sequence header, then frames numbered n. */
static GBytes *
video_message (guint n)
{
  if (n == 0)
    {
      static const guint8 header[] = { 0x17, 0x00, 0, 0, 0, 0x01, 0x64, 0x00, 0x1f, 0xff, 0xe0, 0x00 };
      return g_bytes_new_static (header, sizeof header);
    }
  /* Big enough to take several chunks at the client's chunk size. */
  gsize len = 9000 + n;
  guint8 *frame = g_malloc (len);
  frame[0] = n % 30 == 1 ? 0x17 : 0x27;
  frame[1] = 0x01;
  for (gsize i = 2; i < len; i++)
    frame[i] = (guint8) (i * 7 + n);
  return g_bytes_new_take (frame, len);
}

static void
test_publish_and_play (void)
{
  Server server = { 0 };
  server_start (&server);
  RhRtmpUrl publish_url = url_for (&server, "live/cam");
  RhRtmpUrl play_url = url_for (&server, "live/cam");
  Side publisher = { 0 }, player = { 0 };
  player.received = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  RhClientSession *publishing = rh_client_session_new (RH_CLIENT_PUBLISH, &publish_url, &clear_text, 0, &side_owner,
                                                       &publisher);
  rh_client_session_start (publishing);
  run_until (&publisher.ready);
  g_assert_true (has_event (&server, "publish_start"));
  RhClientSession *playing = rh_client_session_new (RH_CLIENT_PLAY, &play_url, &clear_text, 0, &side_owner,
                                                    &player);
  rh_client_session_start (playing);
  run_until (&player.ready);
  g_assert_true (has_event (&server, "play_start"));

  /* The sequence header, then 60 frames; the player has them all, as sent. */
  g_autoptr (GPtrArray) sent = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint n = 0; n <= 60; n++)
    {
      g_autoptr (GBytes) payload = video_message (n);
      guint32 timestamp = n * 33;
      rh_client_session_send (publishing, RH_CSID_VIDEO, RH_MSG_VIDEO, timestamp, payload, g_get_monotonic_time ());
      GByteArray *record = g_byte_array_new ();
      guint8 head[5] = { RH_MSG_VIDEO, (guint8) (timestamp >> 24), (guint8) (timestamp >> 16), (guint8) (timestamp >> 8),
                         (guint8) timestamp };
      g_byte_array_append (record, head, sizeof head);
      g_byte_array_append (record, g_bytes_get_data (payload, NULL), (guint) g_bytes_get_size (payload));
      g_ptr_array_add (sent, g_byte_array_free_to_bytes (record));
    }
  MediaWait all = { &player, sent->len };
  g_assert_true (rh_test_iterate_until (media_received, &all, 10000));
  g_assert_cmpuint (player.received->len, ==, sent->len);
  for (guint i = 0; i < sent->len; i++)
    g_assert_true (g_bytes_equal (g_ptr_array_index (sent, i), g_ptr_array_index (player.received, i)));

  /* Goodbyes: the server sees the publish and the play end. */
  rh_client_session_close (playing);
  run_until (&player.ended);
  g_assert_null (player.why);
  rh_client_session_close (publishing);
  run_until (&publisher.ended);
  g_assert_null (publisher.why);
  EventsWait stops = { &server, { "publish_stop", "play_stop" } };
  g_assert_true (rh_test_iterate_until (events_seen, &stops, 5000));

  rh_client_session_free (playing);
  rh_client_session_free (publishing);
  g_ptr_array_unref (player.received);
  rh_rtmp_url_clear (&publish_url);
  rh_rtmp_url_clear (&play_url);
  server_stop (&server);
}

/* A second publisher on a live key is refused: the session ends with
 * the server's reason, before it was ever ready. */
static void
test_refused (void)
{
  Server server = { 0 };
  server_start (&server);
  RhRtmpUrl url = url_for (&server, "live/taken");
  Side first = { 0 }, second = { 0 };
  RhClientSession *one = rh_client_session_new (RH_CLIENT_PUBLISH, &url, &clear_text, 0, &side_owner, &first);
  rh_client_session_start (one);
  run_until (&first.ready);
  RhClientSession *two = rh_client_session_new (RH_CLIENT_PUBLISH, &url, &clear_text, 0, &side_owner, &second);
  rh_client_session_start (two);
  run_until (&second.ended);
  g_assert_false (second.ready);
  g_assert_cmpstr (second.why, ==, "the target refused (NetStream.Publish.BadName)");
  rh_client_session_free (two);
  rh_client_session_free (one);
  g_free (second.why);
  rh_rtmp_url_clear (&url);
  server_stop (&server);
}

static void
ignore_raw (GBytes *bytes, gpointer user_data)
{
}

static void
ignore_send (guint32 csid, guint8 type, guint32 stream_id, guint32 timestamp, GBytes *payload, gpointer user_data)
{
}

static void
note_ready (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

/* A server answering createStream with a stream id out of 32 bits (found
 * by fuzz-protocol: the conversion was undefined): refused. */
static void
test_bad_stream_id (void)
{
  static const RhClientIo io = { ignore_raw, ignore_send, NULL, note_ready, NULL };
  static const double ids[] = { 5.7e228, -1, 0, 4294967296.0, NAN };
  for (gsize i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      RhRtmpUrl url;
      g_assert_true (rh_rtmp_url_parse ("rtmp://127.0.0.1/live/cam", &url, NULL));
      gboolean ready = FALSE;
      RhClient *client = rh_client_new (RH_CLIENT_PUBLISH, &url, &io, &ready);
      rh_client_start (client);
      g_autoptr (GByteArray) server = g_byte_array_new ();
      guint8 handshake[1 + 2 * 1536] = { 3 };
      g_byte_array_append (server, handshake, sizeof handshake);
      g_autoptr (GBytes) connected = rh_command_build ("_result", 1, rh_amf0_object_new (),
                                                       rh_command_status_object ("status", "NetConnection.Connect.Success",
                                                                                 "ok"), NULL);
      rh_chunk_write_message (server, 128, 3, 0, RH_MSG_COMMAND_AMF0, 0, g_bytes_get_data (connected, NULL),
                              g_bytes_get_size (connected));
      g_autoptr (GBytes) created = rh_command_build ("_result", 4, rh_amf0_null_new (), rh_amf0_number_new (ids[i]),
                                                     NULL);
      rh_chunk_write_message (server, 128, 3, 0, RH_MSG_COMMAND_AMF0, 0, g_bytes_get_data (created, NULL),
                              g_bytes_get_size (created));
      g_autoptr (GError) error = NULL;
      g_assert_false (rh_client_feed (client, server->data, server->len, &error));
      g_assert_nonnull (strstr (error->message, "invalid stream id"));
      g_assert_cmpuint (rh_client_get_stream_id (client), ==, 0);
      g_assert_false (ready);
      rh_client_free (client);
      rh_rtmp_url_clear (&url);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/client-session/publish-and-play", test_publish_and_play);
  g_test_add_func ("/client-session/refused", test_refused);
  g_test_add_func ("/client-session/bad-stream-id", test_bad_stream_id);
  return g_test_run ();
}
