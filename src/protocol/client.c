#include "config.h"

#include "client.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>

#include "chunk-reader.h"
#include "command.h"
#include "handshake.h"

/* Our outgoing chunk size: big enough that a video frame is a few chunks. */
#define CLIENT_CHUNK_SIZE 4096
/* A server's replies are small; anything larger is refused. */
#define CLIENT_MAX_INPUT_MESSAGE (1024 * 1024)
/* What a player asks the server to buffer, in milliseconds. */
#define CLIENT_BUFFER_MS 1000

enum {
  TXN_CONNECT = 1,
  TXN_RELEASE_STREAM,
  TXN_FC_PUBLISH,
  TXN_CREATE_STREAM,
  TXN_PUBLISH_OR_PLAY,
  TXN_FC_UNPUBLISH,
  TXN_DELETE_STREAM,
};

typedef enum {
  CLIENT_HANDSHAKE,     /* C0 C1 sent, waiting for S0 S1 S2 */
  CLIENT_SETUP,         /* connect ... publish or play sent */
  CLIENT_READY,
} ClientState;

struct _RhClient {
  RhClientRole role;
  const RhRtmpUrl *url;
  const RhClientIo *io;
  gpointer user_data;
  ClientState state;
  GByteArray *handshake;       /* S0 S1 S2 as they arrive */
  RhChunkReader *reader;
  guint32 chunk_size;
  guint32 stream_id;
  GError *error;               /* the first refusal, while the reader runs */
  gboolean refused_as_loop;    /* an rtmphooksd saw its own relay or pull */
};

RhClient *
rh_client_new (RhClientRole role, const RhRtmpUrl *url, const RhClientIo *io, gpointer user_data)
{
  RhClient *client = g_new0 (RhClient, 1);
  client->role = role;
  client->url = url;
  client->io = io;
  client->user_data = user_data;
  client->state = CLIENT_HANDSHAKE;
  client->handshake = g_byte_array_new ();
  client->reader = rh_chunk_reader_new (CLIENT_MAX_INPUT_MESSAGE);
  client->chunk_size = RH_CHUNK_DEFAULT_SIZE;
  return client;
}

void
rh_client_free (RhClient *client)
{
  if (client == NULL)
    return;
  g_clear_pointer (&client->handshake, g_byte_array_unref);
  rh_chunk_reader_free (client->reader);
  g_clear_error (&client->error);
  g_free (client);
}

gboolean
rh_client_is_ready (const RhClient *client)
{
  return client->state == CLIENT_READY;
}

guint32
rh_client_get_chunk_size (const RhClient *client)
{
  return client->chunk_size;
}

guint32
rh_client_get_stream_id (const RhClient *client)
{
  return client->stream_id;
}

static void
send_command (RhClient *client, guint32 csid, guint32 stream_id, GBytes *command)
{
  client->io->send (csid, RH_MSG_COMMAND_AMF0, stream_id, 0, command, client->user_data);
  g_bytes_unref (command);
}

static void
send_control (RhClient *client, guint8 type, GBytes *payload)
{
  client->io->send (RH_CSID_CONTROL, type, 0, 0, payload, client->user_data);
  g_bytes_unref (payload);
}

void
rh_client_start (RhClient *client)
{
  /* C0 C1: version 3, time 0, zero, then bytes that need not be random. */
  guint8 *c0c1 = g_malloc0 (1 + RH_HANDSHAKE_SIZE);
  c0c1[0] = 3;
  for (gsize i = 9; i < 1 + RH_HANDSHAKE_SIZE; i++)
    c0c1[i] = (guint8) g_random_int ();
  g_autoptr (GBytes) bytes = g_bytes_new_take (c0c1, 1 + RH_HANDSHAKE_SIZE);
  client->io->send_raw (bytes, client->user_data);
}

static void
send_connect (RhClient *client)
{
  send_control (client, RH_MSG_SET_CHUNK_SIZE, rh_control_u32 (CLIENT_CHUNK_SIZE));
  client->chunk_size = CLIENT_CHUNK_SIZE;

  RhAmf0Value *object = rh_amf0_object_new ();
  rh_amf0_object_set (object, "app", rh_amf0_string_new (client->url->app));
  if (client->role == RH_CLIENT_PUBLISH)
    {
      rh_amf0_object_set (object, "type", rh_amf0_string_new ("nonprivate"));
      rh_amf0_object_set (object, "flashVer", rh_amf0_string_new ("FMLE/3.0 (compatible; rtmphooks/" PACKAGE_VERSION ")"));
    }
  else
    rh_amf0_object_set (object, "flashVer", rh_amf0_string_new ("LNX 9,0,124,2 (rtmphooks/" PACKAGE_VERSION ")"));
  rh_amf0_object_set (object, "tcUrl", rh_amf0_string_new (client->url->tc_url));
  if (client->io->decorate_connect != NULL)
    client->io->decorate_connect (object, client->user_data);
  send_command (client, RH_CSID_COMMAND, 0, rh_command_build ("connect", TXN_CONNECT, object, NULL));
  client->state = CLIENT_SETUP;
}

static void
on_connected (RhClient *client)
{
  if (client->role == RH_CLIENT_PUBLISH)
    {
      send_command (client, RH_CSID_COMMAND, 0,
                    rh_command_build ("releaseStream", TXN_RELEASE_STREAM, rh_amf0_null_new (),
                                      rh_amf0_string_new (client->url->stream), NULL));
      send_command (client, RH_CSID_COMMAND, 0,
                    rh_command_build ("FCPublish", TXN_FC_PUBLISH, rh_amf0_null_new (),
                                      rh_amf0_string_new (client->url->stream), NULL));
    }
  send_command (client, RH_CSID_COMMAND, 0,
                rh_command_build ("createStream", TXN_CREATE_STREAM, rh_amf0_null_new (), NULL));
}

static void
on_stream_created (RhClient *client, guint32 stream_id)
{
  client->stream_id = stream_id;
  if (client->role == RH_CLIENT_PUBLISH)
    {
      send_command (client, RH_CLIENT_CSID_STREAM_COMMAND, stream_id,
                    rh_command_build ("publish", TXN_PUBLISH_OR_PLAY, rh_amf0_null_new (),
                                      rh_amf0_string_new (client->url->stream), rh_amf0_string_new ("live"), NULL));
      return;
    }
  /* -1000: live only, as ffmpeg's rtmp_live=live asks. */
  send_command (client, RH_CLIENT_CSID_STREAM_COMMAND, stream_id,
                rh_command_build ("play", TXN_PUBLISH_OR_PLAY, rh_amf0_null_new (),
                                  rh_amf0_string_new (client->url->stream), rh_amf0_number_new (-1000), NULL));
  guint8 buffer_length[10] = { 0, RH_UC_SET_BUFFER_LENGTH };
  for (int i = 0; i < 4; i++)
    {
      buffer_length[2 + i] = (guint8) (stream_id >> (24 - 8 * i));
      buffer_length[6 + i] = (guint8) ((guint32) CLIENT_BUFFER_MS >> (24 - 8 * i));
    }
  send_control (client, RH_MSG_USER_CONTROL, g_bytes_new (buffer_length, sizeof buffer_length));
}

static gboolean
refuse (RhClient *client, const char *code)
{
  g_set_error (&client->error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED, _("the target refused (%s)"), code);
  return FALSE;
}

static gboolean
handle_command (RhClient *client, const RhMessage *message)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (message->payload, &len);
  g_autoptr (RhCommand) command = rh_command_parse (message->type, data, len, NULL);
  if (command == NULL)
    return TRUE;  /* not ours to judge: the server's business */
  const RhAmf0Value *info = rh_command_get (command, 1);
  const char *code = info != NULL ? rh_amf0_object_get_string (info, "code") : NULL;
  if (strcmp (command->name, "_error") == 0)
    {
      client->refused_as_loop = info != NULL && rh_amf0_object_get_boolean (info, RH_CLIENT_LOOP_PROPERTY);
      return refuse (client, code != NULL ? code : command->name);
    }
  if (strcmp (command->name, "_result") == 0)
    {
      if (command->transaction_id == TXN_CONNECT && client->state == CLIENT_SETUP)
        on_connected (client);
      else if (command->transaction_id == TXN_CREATE_STREAM && client->stream_id == 0)
        {
          /* A message stream id is 32 bits; 0 is the control stream. */
          double id = rh_command_get_number (command, 1, 1);
          if (!(id >= 1 && id <= G_MAXUINT32))
            {
              g_set_error (&client->error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("the target gave an invalid stream id (%g)"), id);
              return FALSE;
            }
          on_stream_created (client, (guint32) id);
        }
      return TRUE;
    }
  if (strcmp (command->name, "onStatus") == 0)
    {
      const char *level = info != NULL ? rh_amf0_object_get_string (info, "level") : NULL;
      const char *started = client->role == RH_CLIENT_PUBLISH ? "NetStream.Publish.Start" : "NetStream.Play.Start";
      if (g_strcmp0 (code, started) == 0 && client->state == CLIENT_SETUP)
        {
          client->state = CLIENT_READY;
          client->io->ready (client->user_data);
        }
      else if (client->role == RH_CLIENT_PLAY && client->state == CLIENT_READY
               && g_strcmp0 (code, "NetStream.Play.UnpublishNotify") == 0)
        {
          /* A player stays on; a pull ends with the publish it carried. */
          g_set_error (&client->error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, _("the stream's publish ended"));
          return FALSE;
        }
      else if (g_strcmp0 (level, "error") == 0)
        return refuse (client, code != NULL ? code : "error");
    }
  return TRUE;
}

static gboolean
on_message (const RhMessage *message, gpointer user_data)
{
  RhClient *client = user_data;
  switch (message->type)
    {
    case RH_MSG_COMMAND_AMF0:
    case RH_MSG_COMMAND_AMF3:
      return handle_command (client, message);
    case RH_MSG_USER_CONTROL:
      {
        /* nginx-rtmp drops a peer that does not answer its pings. */
        gsize len;
        const guint8 *data = g_bytes_get_data (message->payload, &len);
        if (len >= 6 && rh_read_u32_be (data) >> 16 == RH_UC_PING_REQUEST)
          send_control (client, RH_MSG_USER_CONTROL,
                        rh_control_user_event (RH_UC_PING_RESPONSE, rh_read_u32_be (data + 2)));
        return TRUE;
      }
    case RH_MSG_AUDIO:
    case RH_MSG_VIDEO:
    case RH_MSG_DATA_AMF0:
    case RH_MSG_DATA_AMF3:
    case RH_MSG_AGGREGATE:
      if (client->state == CLIENT_READY && client->io->media != NULL)
        client->io->media (message, client->user_data);
      return TRUE;
    default:
      return TRUE;
    }
}

/* S0 S1 S2, then C2 (S1 echoed) and the first commands. Returns the bytes
 * of data it took; -1 when the peer is not an RTMP server. */
static gssize
feed_handshake (RhClient *client, const guint8 *data, gsize len, GError **error)
{
  gsize want = 1 + 2 * RH_HANDSHAKE_SIZE;
  gsize take = MIN (len, want - client->handshake->len);
  g_byte_array_append (client->handshake, data, (guint) take);
  /* S0 says at once what the peer is (an HTTP server answers "HTTP/"). */
  if (client->handshake->data[0] != 3)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("the target is not an RTMP server (bad handshake)"));
      return -1;
    }
  if (client->handshake->len < want)
    return (gssize) take;
  g_autoptr (GBytes) c2 = g_bytes_new (client->handshake->data + 1, RH_HANDSHAKE_SIZE);
  client->io->send_raw (c2, client->user_data);
  g_clear_pointer (&client->handshake, g_byte_array_unref);
  send_connect (client);
  return (gssize) take;
}

gboolean
rh_client_feed (RhClient *client, const guint8 *data, gsize len, GError **error)
{
  if (client->handshake != NULL)
    {
      gssize used = feed_handshake (client, data, len, error);
      if (used < 0)
        return FALSE;
      data += used;
      len -= (gsize) used;
    }
  if (len == 0)
    return TRUE;
  g_autoptr (GError) local_error = NULL;
  if (!rh_chunk_reader_feed (client->reader, data, len, on_message, client, &local_error))
    {
      if (client->error != NULL)
        g_propagate_error (error, g_steal_pointer (&client->error));
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

void
rh_client_send_teardown (RhClient *client)
{
  if (client->state != CLIENT_READY)
    return;
  if (client->role == RH_CLIENT_PUBLISH)
    send_command (client, RH_CLIENT_CSID_STREAM_COMMAND, client->stream_id,
                  rh_command_build ("FCUnpublish", TXN_FC_UNPUBLISH, rh_amf0_null_new (),
                                    rh_amf0_string_new (client->url->stream), NULL));
  send_command (client, RH_CSID_COMMAND, 0,
                rh_command_build ("deleteStream", TXN_DELETE_STREAM, rh_amf0_null_new (),
                                  rh_amf0_number_new (client->stream_id), NULL));
}

gboolean
rh_client_refused_as_loop (const RhClient *client)
{
  return client->refused_as_loop;
}
