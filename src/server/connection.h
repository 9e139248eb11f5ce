/* One client's TCP connection: reads bytes into the handshake and then the
 * chunk reader, hands messages to its session, and writes its send queue
 * without ever blocking. Also enforces the handshake and idle timeouts. */
#pragma once

#include <gio/gio.h>

#include "types.h"

G_BEGIN_DECLS

RhConnection *rh_connection_new (RhServer *server, GSocketConnection *socket_connection,
                                 guint64 number);
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
/* Closes the connection if a timeout has passed; now is monotonic time. */
void rh_connection_check_timeouts (RhConnection *connection, gint64 now);

RhServer *rh_connection_get_server (const RhConnection *connection);
const char *rh_connection_get_id (const RhConnection *connection);   /* "c000001" */
const char *rh_connection_get_client_ip (const RhConnection *connection);
guint16 rh_connection_get_client_port (const RhConnection *connection);
const char *rh_connection_get_server_ip (const RhConnection *connection);
guint16 rh_connection_get_server_port (const RhConnection *connection);

G_END_DECLS
