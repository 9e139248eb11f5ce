/* A raw RTMP client for bad-input and protocol tests. */
#pragma once

#include <gio/gio.h>

#include "protocol/amf0.h"

G_BEGIN_DECLS

/* A raw TCP connection to the daemon, for bad input and protocol tests. */
GSocketConnection *rh_test_connect (guint16 port);
/* TRUE if the peer closed the connection within timeout_ms. */
gboolean rh_test_wait_closed (GSocketConnection *connection, guint timeout_ms);
/* Writes all of data. */
gboolean rh_test_write (GSocketConnection *connection, const void *data, gsize len);
/* The same with SO_RCVBUF set before connecting (the kernel's
 * autotuning is then off): a peer that reads little. */
GSocketConnection *rh_test_connect_small_window (guint16 port, gint receive_buffer);
/* Does a plain handshake as a client; FALSE on failure. */
gboolean rh_test_client_handshake (GSocketConnection *connection);

/* Writes one AMF0 command as a client (chunk size 128); takes object and
 * argument (either may be NULL). FALSE when the write failed. */
gboolean rh_test_send_command (GSocketConnection *connection, guint32 stream_id, const char *name,
                               double transaction_id, RhAmf0Value *object, RhAmf0Value *argument);
/* Connects, shakes hands and publishes app/name with raw commands; the
 * daemon's answers are left unread. NULL if any step failed. */
GSocketConnection *rh_test_raw_publish (guint16 port, const char *app, const char *name);

G_END_DECLS
