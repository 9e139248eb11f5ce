/* The cluster section of rtmphooks.conf: this node's identity in a fleet,
 * the Redis server that holds the stream directory, and the timings of
 * its leases. Without the section the daemon is a single server and never
 * touches Redis. */
#pragma once

#include <glib.h>
#include <libconfig.h>

G_BEGIN_DECLS

/* cluster.on_conflict and cluster.when_backend_down. */
typedef enum {
  RH_BACKEND_DOWN_REFUSE,   /* no new publish while Redis cannot be asked */
  RH_BACKEND_DOWN_LOCAL,    /* accept it here (two nodes may then own one key) */
} RhBackendDownPolicy;

typedef struct {
  gboolean enabled;                /* a cluster section is present */
  char *node_id;                   /* [A-Za-z0-9._-], at most 64; default: the host name */
  char *redis_socket;              /* unix socket path, or NULL */
  char *redis_host;                /* host name or address, or NULL */
  gint redis_port;
  char *redis_user;                /* NULL: the default user */
  char *redis_password;            /* NULL: no AUTH */
  char *redis_password_variable;   /* NAME when the password is "${env.NAME}" */
  double redis_timeout;            /* seconds: the deadline of every command and of a connect */
  char *advertise;                 /* rtmp://host:port other nodes reach this one at */
  double lease;                    /* seconds a claim lives without renewal */
  double heartbeat;                /* seconds between renewals */
  double pull_idle;                /* seconds an edge pull outlives its last player */
  gint max_hops;                   /* pulls and relays a stream may cross */
  gint when_backend_down;          /* RhBackendDownPolicy */
  /* cluster.events: every event appended to Redis Streams. */
  gboolean events;                 /* the events group is present */
  gint events_shards;              /* streams rtmphooks:events:0 .. shards-1 */
  gint events_max_len;             /* MAXLEN ~ of each */
  gint events_spool;               /* events held while Redis is unreachable */
  gboolean events_local_hooks;     /* rules still run on this node */
} RhClusterConfig;

#define RH_CLUSTER_NODE_ID_CHARACTERS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
#define RH_CLUSTER_NODE_ID_MAX 64

void rh_cluster_config_init (RhClusterConfig *cluster);
/* group: the cluster section. Problems go to errors as FILE:LINE.
 * serves_rtmp: a node (advertise is required), not a hook worker. */
void rh_cluster_config_load (const config_setting_t *group, RhClusterConfig *cluster, gboolean serves_rtmp,
                             GPtrArray *errors);
void rh_cluster_config_clear (RhClusterConfig *cluster);
/* A usable node id (also what a host name must be to serve as one). */
gboolean rh_cluster_node_id_is_valid (const char *id);

G_END_DECLS
