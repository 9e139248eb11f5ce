/* The JSON documents of the HTTP API. */
#pragma once

#include "api-sources.h"

G_BEGIN_DECLS

/* GET /api/v1/streams: each stream with its publisher, codecs and player
 * count; with detail, each player too. */
char *rh_api_json_streams (const RhApiSources *sources, gboolean detail);
/* GET /api/v1/hooks: the hook engine's counters and each rule's. */
char *rh_api_json_hooks (const RhApiSources *sources);
/* {version, started_at, uptime_seconds, config_loaded_at, connections,
 * streams}: the daemon at a glance, for the status page. */
char *rh_api_json_server (const RhApiSources *sources);

/* GET /api/v1/cluster: {enabled, node_id, backend_up, backend_problem,
 * claims, nodes: [{node_id, advertise, alive, streams: [...]}]} as this
 * node's last heartbeat saw the fleet; {enabled: false} alone. */
char *rh_api_json_cluster (const RhApiSources *sources);

G_END_DECLS
