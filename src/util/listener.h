/* One listening address. Accepts every pending connection each time the
 * socket is ready (up to a batch), so that a burst of clients drains the
 * kernel's accept queue at once instead of one per main loop turn.
 *
 * When the process is out of descriptors (EMFILE, ENFILE) the pending
 * connection stays in the kernel's queue and the socket stays readable:
 * accepting again at once would spin. The listener stops watching for a
 * back-off (100 ms, doubling to 2 s while it lasts), logs once in a while
 * with a count, and always comes back: it never stays dead. */
#pragma once

#include <gio/gio.h>

#include "util/address.h"

G_BEGIN_DECLS

typedef struct _RhListener RhListener;

/* Takes the connection (the callee refs what it keeps). */
typedef void (*RhListenerAcceptFunc) (GSocketConnection *connection, gpointer user_data);

/* Binds and listens. ":PORT" (no host) takes every IPv4 and IPv6 address
 * on one dual-stack socket, or IPv4 alone where IPv6 is unavailable.
 * what names the listener in log lines ("RTMP", "HTTP API"). */
RhListener *rh_listener_new (const RhListenAddress *address, gint backlog, const char *what,
                             RhListenerAcceptFunc accept, gpointer user_data, GError **error);
/* Stops accepting and closes the socket. */
void rh_listener_free (RhListener *listener);

/* Accepts that failed for want of descriptors (each one paused the
 * listener), and those that failed otherwise, since the listener began. */
guint64 rh_listener_get_descriptor_failures (const RhListener *listener);
guint64 rh_listener_get_other_failures (const RhListener *listener);

G_END_DECLS
