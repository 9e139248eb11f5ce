/* Non-blocking reads and gathered writes on a connected socket, in
 * clear or through TLS. Plain: recv and sendmsg on the socket. TLS:
 * the pollable streams of a GTlsConnection whose handshake is done
 * (glib-networking), on the main thread; nothing here ever blocks. */
#pragma once

#include <gio/gio.h>

#include "util/corked-output.h"

G_BEGIN_DECLS

typedef struct {
  GSocket *socket;            /* always: the fd the poller watches */
  GTlsConnection *tls;        /* NULL in clear */
  RhCorkedOutput *corked;     /* tls's base output when it has one: see rh_transport_tls_base */
} RhTransport;

/* The largest plaintext of one TLS record: a gathered write is packed
 * into records of this size, not one record per vector. */
#define RH_TRANSPORT_TLS_RECORD 16384

/* Bytes read (0: the peer closed), or -1 with error (G_IO_ERROR_WOULD_BLOCK
 * when there is nothing to read yet). */
gssize rh_transport_receive (const RhTransport *transport, guint8 *buffer, gsize size, GError **error);

/* Bytes of the vectors written, from the first, or -1 with error
 * (G_IO_ERROR_WOULD_BLOCK when the socket is full). After WOULD_BLOCK
 * the caller must offer the same bytes again (it does: a queue advances
 * only by what was written). Through TLS over rh_transport_tls_base,
 * up to RH_TRANSPORT_TLS_BATCH bytes become records sent in one system
 * call; otherwise one record per call. */
gssize rh_transport_send (const RhTransport *transport, const GOutputVector *vectors, guint n_vectors,
                          GError **error);

/* Plaintext one TLS send encrypts at most. */
#define RH_TRANSPORT_TLS_BATCH (64 * 1024)

/* The stream for GIO's TLS to run over, instead of socket_connection
 * itself: its input, and a corked output that gathers TLS records. */
GIOStream *rh_transport_tls_base (GSocketConnection *socket_connection);
/* The transport of a TLS connection whose handshake is done (a new
 * reference is taken), over rh_transport_tls_base or not. */
void rh_transport_set_tls (RhTransport *transport, GTlsConnection *tls);
/* Bytes encrypted that the socket has not taken yet. */
gsize rh_transport_get_pending (const RhTransport *transport);

/* "TLS 1.2", "TLS 1.3"; NULL in clear. */
const char *rh_transport_tls_version (const RhTransport *transport);

G_END_DECLS
