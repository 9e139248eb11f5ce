/* The HTTP API on libsoup's server, in the daemon's main loop:
 *   GET  /metrics                          Prometheus text
 *   GET  /api/v1/streams[?detail=1]        streams, publishers, players
 *   GET  /api/v1/hooks                     hook counters per rule
 *   GET  /healthz                          200 while the loop turns
 *   POST /api/v1/streams/APP/NAME/drop     disconnects the publisher
 * With a token every path but /healthz needs "Authorization: Bearer
 * TOKEN"; drop always needs one. The token and the size of a request
 * body (4096 bytes at most) are checked from the headers, before the body
 * is read. Requests are answered at once: nothing here waits. */
#pragma once

#include "api-sources.h"
#include "http-connections.h"
#include "config/settings.h"

G_BEGIN_DECLS

typedef struct _RhApiServer RhApiServer;

RhApiServer *rh_api_server_new (RhApiSources *sources);
void rh_api_server_free (RhApiServer *api);

/* Listens where config says (nowhere: off), keeping the server when the
 * addresses did not change; the token applies at once. FALSE with error
 * when an address cannot be opened. */
gboolean rh_api_server_apply_config (RhApiServer *api, const RhHttpConfig *config, GError **error);

/* The HTTP connections' counters since the daemon started. */
void rh_api_server_get_counters (RhApiServer *api, RhHttpCounters *counters);

G_END_DECLS
