/* What an HTTP API request asks for, from its method and path: pure, no
 * I/O, so that it can be fuzzed. The server decides what to answer. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  RH_API_NOT_FOUND,
  RH_API_HEALTHZ,          /* GET /healthz (no token needed) */
  RH_API_METRICS,          /* GET /metrics */
  RH_API_STREAMS,          /* GET /api/v1/streams */
  RH_API_HOOKS,            /* GET /api/v1/hooks */
  RH_API_SERVER,           /* GET /api/v1/server */
  RH_API_CLUSTER,          /* GET /api/v1/cluster */
  RH_API_STATUS_PAGE,      /* GET / (the status page) */
  RH_API_DROP,             /* POST /api/v1/streams/APP/NAME/drop */
} RhApiRouteKind;

typedef struct {
  RhApiRouteKind kind;
  char *app;               /* RH_API_DROP */
  char *name;
} RhApiRoute;

/* HEAD counts as GET. */
void rh_api_route_parse (const char *method, const char *path, RhApiRoute *route);
void rh_api_route_clear (RhApiRoute *route);

/* "Bearer TOKEN", or "Basic " and base64 of "USER:TOKEN" (any user: what a
 * browser sends for the status page), against token, in time independent
 * of where they differ. */
gboolean rh_api_token_matches (const char *authorization, const char *token);

G_END_DECLS
