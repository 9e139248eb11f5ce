/* The worker section of rtmphooks.conf (or --worker): the daemon serves
 * no RTMP and runs the rules on the events the fleet's nodes append to
 * Redis (cluster.events), as one consumer of a consumer group. */
#pragma once

#include <glib.h>
#include <libconfig.h>

G_BEGIN_DECLS

typedef struct {
  gboolean enabled;          /* a worker section, or --worker */
  char *group;               /* the consumer group: workers sharing one share the work */
  double claim_after;        /* seconds before a silent worker's events and shards are taken over */
  gint max_deliveries;       /* deliveries of an event before it goes to the dead letters */
  gint batch;                /* entries read per shard and command */
} RhWorkerConfig;

#define RH_WORKER_GROUP_CHARACTERS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
#define RH_WORKER_GROUP_MAX 64

void rh_worker_config_init (RhWorkerConfig *worker);
/* group: the worker section. Problems go to errors as FILE:LINE. */
void rh_worker_config_load (const config_setting_t *group, RhWorkerConfig *worker, GPtrArray *errors);
void rh_worker_config_clear (RhWorkerConfig *worker);

G_END_DECLS
