/* How relays between rtmphooksd daemons are kept from looping. Every
 * relay's connect names the daemon that sends it (a random token made at
 * start) and how many relays the stream has already crossed. A daemon
 * refuses a connect that carries its own token (a relay to itself, which
 * would replace its own publisher or chain streams without end) or more
 * hops than RH_RELAY_MAX_HOPS (a loop through other daemons). In a fleet
 * the connect also names the node, and pulls between nodes are marked
 * the same way. */
#pragma once

#include "protocol/amf0.h"

G_BEGIN_DECLS

#define RH_RELAY_MAX_HOPS 8

/* In a fleet: connects also name this node (node_id, NULL alone), and a
 * connect naming it is refused; max_hops replaces RH_RELAY_MAX_HOPS. */
void rh_relay_loop_configure (const char *node_id, guint max_hops);

/* This process's token: 32 hex digits, the same for its whole life. */
const char *rh_relay_loop_instance (void);

/* Marks a relay's connect object as sent by this daemon after hops relays. */
void rh_relay_loop_mark_connect (RhAmf0Value *connect_object, guint hops);

/* Reads a client's connect object: FALSE with *why when it must be
 * refused; *hops is what it says it crossed (0 for an encoder). */
gboolean rh_relay_loop_check_connect (const RhAmf0Value *connect_object, guint *hops, const char **why);

G_END_DECLS
