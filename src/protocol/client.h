/* The client side of RTMP, as a state machine without sockets: the
 * handshake (C0 C1, then C2 from S1), then connect, releaseStream,
 * FCPublish, createStream and publish, or connect, createStream and play;
 * pings answered; the teardown a publisher or player sends at the end.
 * Bytes come in through rh_client_feed; what goes out is handed to the
 * caller's RhClientIo, which chunks and writes it (a relay shares media
 * payloads by reference there). It refuses what a server answers with
 * an error, and anything that is not RTMP. */
#pragma once

#include <glib.h>

#include "amf0.h"
#include "message.h"
#include "rtmp-url.h"

G_BEGIN_DECLS

typedef enum {
  RH_CLIENT_PUBLISH,
  RH_CLIENT_PLAY,
} RhClientRole;

typedef struct _RhClient RhClient;

typedef struct {
  /* Bytes that go out as they are: the handshake. */
  void (*send_raw) (GBytes *bytes, gpointer user_data);
  /* One message, chunked at rh_client_get_chunk_size (). */
  void (*send) (guint32 csid, guint8 type, guint32 stream_id, guint32 timestamp, GBytes *payload,
                gpointer user_data);
  /* Adds to the connect command's object (may be NULL). */
  void (*decorate_connect) (RhAmf0Value *object, gpointer user_data);
  /* The server accepted the publish or the play. */
  void (*ready) (gpointer user_data);
  /* Playing: audio, video and data messages of the stream (may be NULL). */
  void (*media) (const RhMessage *message, gpointer user_data);
} RhClientIo;

/* url and io are the caller's and outlive the client. */
RhClient *rh_client_new (RhClientRole role, const RhRtmpUrl *url, const RhClientIo *io, gpointer user_data);
void rh_client_free (RhClient *client);

/* Sends C0 C1. */
void rh_client_start (RhClient *client);
/* Reads what the server sent. FALSE with error when the connection must
 * end: the server refused, or sent what is not RTMP. The callbacks run
 * inside; they must not free the client. */
gboolean rh_client_feed (RhClient *client, const guint8 *data, gsize len, GError **error);

/* After ready: the publish or play is said to be over (FCUnpublish and
 * deleteStream, or deleteStream). */
void rh_client_send_teardown (RhClient *client);

gboolean rh_client_is_ready (const RhClient *client);
/* The chunk size messages are sent with now. */
guint32 rh_client_get_chunk_size (const RhClient *client);
/* The message stream createStream gave (0 before). */
guint32 rh_client_get_stream_id (const RhClient *client);

/* The server refused the connect because it is a relay or pull loop
 * (rtmphooksd marks such a refusal with RH_CLIENT_LOOP_PROPERTY = true in
 * its _error's information object): trying again cannot help. */
gboolean rh_client_refused_as_loop (const RhClient *client);
#define RH_CLIENT_LOOP_PROPERTY "rtmphooksLoop"

/* Chunk streams a client writes on beside the control ones. */
enum {
  RH_CLIENT_CSID_STREAM_COMMAND = 8,
};

G_END_DECLS
