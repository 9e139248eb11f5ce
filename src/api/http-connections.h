/* The HTTP API's connections, before and around libsoup: accepted on our
 * own listeners (the RTMP listener's backlog and back-off when the
 * process is out of descriptors, which libsoup's listener lacks: it
 * stopped accepting for good), bounded in number in all and per client
 * address, and each given a deadline. libsoup parses and answers; this
 * file decides who gets to talk to it and for how long.
 *
 * The deadline: a connection must complete each request (headers, body
 * and our whole answer) within timeout of its accept or of its previous
 * answer. That bounds a client that sends its headers a byte at a time,
 * one that never reads our answer, and an idle keep-alive connection. */
#pragma once

#include <libsoup/soup.h>

#include "util/address.h"

G_BEGIN_DECLS

typedef struct _RhHttpConnections RhHttpConnections;

typedef struct {
  gint listen_backlog;
  guint max_connections;
  guint max_connections_per_ip;
  double timeout;                   /* seconds */
} RhHttpLimits;

typedef struct {
  guint open;
  guint64 accepted;
  guint64 refused;                  /* over max_connections or max_connections_per_ip */
  guint64 timed_out;                /* closed at their deadline */
  guint64 accept_descriptor_failures;
  guint64 accept_other_failures;
} RhHttpCounters;

/* Connections go to soup. */
RhHttpConnections *rh_http_connections_new (SoupServer *soup, const RhHttpLimits *limits);
/* Closes the listeners and every open connection. */
void rh_http_connections_free (RhHttpConnections *connections);

/* Listens on address; FALSE with error when it cannot. */
gboolean rh_http_connections_listen (RhHttpConnections *connections, const RhListenAddress *address,
                                     GError **error);

/* The limits changed (a reload): they apply to what comes next. */
void rh_http_connections_set_limits (RhHttpConnections *connections, const RhHttpLimits *limits);

void rh_http_connections_get_counters (RhHttpConnections *connections, RhHttpCounters *counters);

G_END_DECLS
