/* The TLS side of a client accepted on a TLS listener, before RTMP.
 *
 * glib-networking runs every TLS handshake on a thread of GIO's shared
 * pool, blocking on the socket until the peer answers, and that pool
 * grows slowly past ten threads. So that stalled peers cannot hold it:
 *   1. the first TLS record (the ClientHello) must have arrived whole
 *      before a handshake starts: the main loop waits for it at no cost
 *      (SO_RCVLOWAT makes the socket readable only once it is there),
 *      and refuses at once bytes that are not TLS (plain RTMP, say);
 *   2. at most RH_TLS_ACCEPT_MAX_HANDSHAKES handshakes run at a time;
 *      the others wait their turn on the main loop;
 *   3. the owner's handshake deadline, counted from accept, cancels
 *      whatever stage a client is in (rh_tls_accept_cancel).
 * A handshake that agrees on less than TLS 1.2 fails. */
#pragma once

#include <gio/gio.h>

#include "util/poller.h"

G_BEGIN_DECLS

#define RH_TLS_ACCEPT_MAX_HANDSHAKES 32

typedef struct _RhTlsAccept RhTlsAccept;

/* tls (a new reference) when the handshake succeeded, else NULL with
 * why. Called once, unless cancelled first. */
typedef void (*RhTlsAcceptDone) (GTlsConnection *tls, const char *why, gpointer user_data);

RhTlsAccept *rh_tls_accept_start (RhPoller *poller, GSocketConnection *socket_connection,
                                  GTlsCertificate *certificate, RhTlsAcceptDone done, gpointer user_data);
/* No callback comes after this. The socket connection is closed here,
 * or, when a handshake thread is still using it, as soon as it stops:
 * its descriptor must not be reused under that thread. */
void rh_tls_accept_cancel (RhTlsAccept *accept);

typedef struct {
  guint64 completed;     /* handshakes that succeeded */
  guint64 failed;        /* not TLS, a failed handshake, or one below TLS 1.2 */
  guint64 cancelled;     /* ended first by the handshake deadline or a shutdown */
  guint running;         /* handshakes on threads now */
  guint waiting;         /* with a whole ClientHello, waiting for a slot */
} RhTlsAcceptCounters;

void rh_tls_accept_get_counters (RhTlsAcceptCounters *counters);

G_END_DECLS
