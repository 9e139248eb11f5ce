/* One listening address. Accepts every pending connection each time the
 * socket is ready (up to a batch), so that a burst of clients drains the
 * kernel's accept queue at once instead of one per main loop turn. */
#pragma once

#include <gio/gio.h>

#include "util/address.h"

G_BEGIN_DECLS

typedef struct _RhListener RhListener;

/* Takes the connection (the callee refs what it keeps). */
typedef void (*RhListenerAcceptFunc) (GSocketConnection *connection, gpointer user_data);

/* Binds and listens. ":PORT" (no host) takes every IPv4 and IPv6 address
 * on one dual-stack socket, or IPv4 alone where IPv6 is unavailable. */
RhListener *rh_listener_new (const RhListenAddress *address, gint backlog, RhListenerAcceptFunc accept,
                             gpointer user_data, GError **error);
/* Stops accepting and closes the socket. */
void rh_listener_free (RhListener *listener);

G_END_DECLS
