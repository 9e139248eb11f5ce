/* A raw RTMP client for bad-input and protocol tests. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A raw TCP connection to the daemon, for bad input and protocol tests. */
GSocketConnection *rh_test_connect (guint16 port);
/* TRUE if the peer closed the connection within timeout_ms. */
gboolean rh_test_wait_closed (GSocketConnection *connection, guint timeout_ms);
/* Writes all of data. */
gboolean rh_test_write (GSocketConnection *connection, const void *data, gsize len);
/* Does a plain handshake as a client; FALSE on failure. */
gboolean rh_test_client_handshake (GSocketConnection *connection);

G_END_DECLS
