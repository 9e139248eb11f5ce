/* The HTTP API on libsoup's server, in the daemon's main loop:
 *   GET  /metrics                          Prometheus text
 *   GET  /api/v1/streams[?detail=1]        streams, publishers, players
 *   GET  /api/v1/hooks                     hook counters per rule
 *   GET  /healthz                          200 while the loop turns
 *   POST /api/v1/streams/APP/NAME/drop     disconnects the publisher
 * With a token every path but /healthz needs "Authorization: Bearer
 * TOKEN"; drop always needs one. Requests are answered at once: nothing
 * here waits. */
#pragma once

#include "api-sources.h"
#include "config/settings.h"

G_BEGIN_DECLS

typedef struct _RhApiServer RhApiServer;

RhApiServer *rh_api_server_new (RhApiSources *sources);
void rh_api_server_free (RhApiServer *api);

/* Listens where config says (nowhere: off), keeping the server when the
 * addresses did not change; the token applies at once. FALSE with error
 * when an address cannot be opened. */
gboolean rh_api_server_apply_config (RhApiServer *api, const RhHttpConfig *config, GError **error);

G_END_DECLS
