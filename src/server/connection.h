/* One client's TCP connection: reads bytes into the handshake and then the
 * chunk reader, hands messages to its owner, and writes its send queue
 * without ever blocking. Also enforces the handshake and idle timeouts.
 * It knows nothing above it: what happens with a message, and what a
 * closed connection means, is its owner's (the server's) business, told
 * through a table of callbacks. */
#pragma once

#include <gio/gio.h>

#include "util/poller.h"
#include "reason.h"
#include "types.h"
#include "protocol/message.h"

G_BEGIN_DECLS

typedef struct {
  /* The RTMP handshake is done; scheme is "simple" or "digest". */
  void (*handshake_done) (RhConnection *connection, const char *scheme, gpointer owner);
  /* A message arrived. FALSE with error closes the connection: reason
   * rejected when *rejected was set, protocol_error otherwise. */
  gboolean (*message) (RhConnection *connection, const RhMessage *message, gboolean *rejected,
                       GError **error, gpointer owner);
  /* The connection is closing: end what lives on it (stop events come
   * before connection_close). */
  void (*closing) (RhConnection *connection, RhReason reason, gpointer owner);
  /* It is closed: duration in seconds; forget it. */
  void (*closed) (RhConnection *connection, RhReason reason, gint64 duration_seconds,
                  gpointer owner);
  /* Something is queued: flush the connection soon (rh_connection_flush);
   * urgent for replies and control, which must not wait for a merge
   * window, not for media. */
  void (*wants_flush) (RhConnection *connection, gboolean urgent, gpointer owner);
  /* A read was processed: what it made anyone send (fan-out included) may
   * go out now rather than one main loop turn later. */
  void (*input_processed) (RhConnection *connection, gpointer owner);
} RhConnectionOwner;

/* Limits the owner keeps up to date (a reload changes them in place). */
typedef struct {
  double handshake_timeout;   /* seconds */
  double setup_timeout;       /* seconds from accept to the first publish or play */
  double idle_timeout;        /* seconds */
  gsize max_message_size;     /* bytes */
  gsize max_input_memory;     /* bytes all connections' unfinished messages may hold; 0: no bound */
  gsize *input_memory;        /* what they hold now (the owner's counter) */
} RhConnectionLimits;

/* What one connection's unfinished messages may hold: a whole message on
 * one chunk stream and small ones on the others. */
#define RH_CONNECTION_INPUT_SLACK (64 * 1024)

/* The most replies and control messages (pongs, acknowledgements,
 * command results) a connection may have waiting for its peer to read
 * them. Legitimate peers keep it near zero; one that sends pings and
 * never reads would otherwise make us queue without end. Over it, the
 * connection closes as a protocol_error. */
#define RH_CONNECTION_MAX_REPLY_BACKLOG (256 * 1024)

/* Its socket is watched by poller from rh_connection_start to close.
 * With tls_certificate (a TLS listener's), a TLS handshake comes first
 * (tls-accept.h); the RTMP handshake then runs inside TLS, and the
 * handshake timeout covers both. */
RhConnection *rh_connection_new (GSocketConnection *socket_connection, guint64 number, RhPoller *poller,
                                 const RhConnectionOwner *owner, gpointer owner_data,
                                 const RhConnectionLimits *limits, GTlsCertificate *tls_certificate);
RhConnection *rh_connection_ref (RhConnection *connection);
void rh_connection_unref (RhConnection *connection);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RhConnection, rh_connection_unref)

/* Starts reading. */
void rh_connection_start (RhConnection *connection);

/* Ends the connection: sessions end with reason, whatever is queued gets
 * one last non-blocking write, the socket closes, the server forgets it.
 * Safe to call more than once and from inside its own callbacks. */
void rh_connection_close (RhConnection *connection, RhReason reason, const char *detail);

void rh_connection_send (RhConnection *connection, guint32 csid, guint8 type, guint32 stream_id,
                         guint32 timestamp, GBytes *payload);
/* A media message already chunked at this connection's chunk size
 * (wire bytes shared with other players; a new reference is taken).
 * queued_at (monotonic microseconds) times it for the slow-player limits. */
void rh_connection_send_media_wire (RhConnection *connection, GBytes *wire, gint64 queued_at);
guint32 rh_connection_get_chunk_size (const RhConnection *connection);
/* When the oldest media still queued was queued; 0 when none is. */
gint64 rh_connection_get_oldest_queued_at (const RhConnection *connection);
/* Protocol control and user control messages: csid 2, stream 0. */
void rh_connection_send_control (RhConnection *connection, guint8 type, GBytes *payload);
/* Sends Set Chunk Size and uses the new size for everything queued after. */
void rh_connection_set_chunk_size (RhConnection *connection, guint32 chunk_size);
/* Caps the kernel's send buffer (SO_SNDBUF); 0 leaves autotuning on. */
void rh_connection_limit_send_buffer (RhConnection *connection, gint bytes);
/* The peer's Window Acknowledgement Size: we acknowledge every so many bytes. */
void rh_connection_set_peer_window (RhConnection *connection, guint32 window);

gsize rh_connection_get_queued_bytes (const RhConnection *connection);
/* Writes what is queued; called by the server once per main loop turn. */
void rh_connection_flush (RhConnection *connection);
/* Closes the connection if a timeout has passed (TRUE then); now is
 * monotonic time. */
gboolean rh_connection_check_timeouts (RhConnection *connection, gint64 now);
/* The largest message accepted before the session's connect succeeds;
 * after it, limits->max_message_size. A connect command is a few hundred
 * bytes. */
#define RH_CONNECTION_SETUP_MAX_MESSAGE_SIZE (64 * 1024)
/* Connect succeeded: messages up to limits->max_message_size from now on. */
void rh_connection_allow_full_messages (RhConnection *connection);
/* A player legitimately sends nothing for long stretches: for it, idle
 * means not reading what we send. */
void rh_connection_set_player_only (RhConnection *connection, gboolean player_only);

/* A publish or play was accepted: setup_timeout no longer applies. */
void rh_connection_set_engaged (RhConnection *connection);

/* What the owner keeps with the connection (the session), freed with it. */
void rh_connection_set_data (RhConnection *connection, gpointer data, GDestroyNotify destroy);
gpointer rh_connection_get_data (const RhConnection *connection);

const char *rh_connection_get_id (const RhConnection *connection);   /* "c000001" */
guint64 rh_connection_get_bytes_received (const RhConnection *connection);
guint64 rh_connection_get_bytes_sent (const RhConnection *connection);
const char *rh_connection_get_client_ip (const RhConnection *connection);
guint16 rh_connection_get_client_port (const RhConnection *connection);
const char *rh_connection_get_server_ip (const RhConnection *connection);
guint16 rh_connection_get_server_port (const RhConnection *connection);
/* Accepted on a TLS listener. */
gboolean rh_connection_is_tls (const RhConnection *connection);
/* "TLS 1.3" once its TLS handshake is done; NULL before, and in clear. */
const char *rh_connection_get_tls_version (const RhConnection *connection);

G_END_DECLS
