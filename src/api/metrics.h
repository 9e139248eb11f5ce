/* /metrics: every counter in the Prometheus text exposition format
 * (version 0.0.4). Names rtmphooks_*, base units, _total for counters. */
#pragma once

#include "api-sources.h"
#include "http-connections.h"

G_BEGIN_DECLS

#define RH_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

char *rh_metrics_render (const RhApiSources *sources, const RhHttpCounters *http);

G_END_DECLS
