/* One connection to Redis for the whole daemon, on the main loop:
 * hiredis' async API, so no call ever blocks. The host name is resolved
 * with GResolver (hiredis would block in getaddrinfo), AUTH is sent
 * first when a password is set, and every command has a deadline of its
 * own (hiredis 0.14 has none): a reply later than redis_timeout means
 * the connection is broken; it is closed, every command waiting on it
 * fails, and the link connects again, 0.25 s then doubling up to 2 s.
 * Commands given while the link is down fail at once. */
#pragma once

#include <glib.h>
#include <hiredis/hiredis.h>

#include "config/cluster-settings.h"

G_BEGIN_DECLS

typedef struct _RhRedisLink RhRedisLink;

/* Why a command got no reply, for metrics ("errors by kind"). */
typedef enum {
  RH_REDIS_OK,
  RH_REDIS_DOWN,         /* the link was not up */
  RH_REDIS_TIMEOUT,      /* no reply within redis_timeout */
  RH_REDIS_CONNECTION,   /* the connection was lost with the command on it */
  RH_REDIS_REPLY_ERROR,  /* Redis answered an error (a script's, a wrong type) */
  RH_REDIS_N_RESULTS
} RhRedisResult;

/* Connection-level failures, counted apart. */
typedef enum {
  RH_REDIS_FAIL_CONNECT,  /* refused, unreachable, not resolved, too slow */
  RH_REDIS_FAIL_AUTH,     /* the password or user was refused */
  RH_REDIS_N_FAILS
} RhRedisFail;

/* reply is NULL unless result is RH_REDIS_OK or RH_REDIS_REPLY_ERROR. It
 * belongs to the link. */
typedef void (*RhRedisReplyFunc) (RhRedisResult result, const redisReply *reply, gpointer user_data);

typedef struct {
  void (*up) (RhRedisLink *link, gpointer user_data);
  void (*down) (RhRedisLink *link, gpointer user_data);
} RhRedisLinkOwner;

#define RH_REDIS_LATENCY_BUCKETS 12
/* Upper bounds of the latency histogram, in seconds. */
extern const double rh_redis_latency_bounds[RH_REDIS_LATENCY_BUCKETS];

typedef struct {
  gboolean up;
  guint64 commands;
  guint64 results[RH_REDIS_N_RESULTS];
  guint64 fails[RH_REDIS_N_FAILS];
  guint64 connects;                              /* connections made (authenticated) */
  guint64 latency_counts[RH_REDIS_LATENCY_BUCKETS]; /* cumulative, as Prometheus buckets */
  guint64 latency_count;
  double latency_sum;
} RhRedisStats;

/* config is copied where needed; owner may be NULL, and must outlive the link. */
RhRedisLink *rh_redis_link_new (const RhClusterConfig *config, const RhRedisLinkOwner *owner, gpointer owner_data);
void rh_redis_link_free (RhRedisLink *link);
void rh_redis_link_start (RhRedisLink *link);
gboolean rh_redis_link_is_up (const RhRedisLink *link);
/* The last connection problem, for /healthz and logs (NULL: none). */
const char *rh_redis_link_get_problem (const RhRedisLink *link);
/* Sends a command (binary-safe arguments); done is called exactly once,
 * maybe before this returns (the link is down). */
void rh_redis_link_command (RhRedisLink *link, int argc, const char **argv, const size_t *argv_len,
                            RhRedisReplyFunc done, gpointer user_data);
void rh_redis_link_get_stats (const RhRedisLink *link, RhRedisStats *stats);
const char *rh_redis_result_to_string (RhRedisResult result);
const char *rh_redis_fail_to_string (RhRedisFail fail);

G_END_DECLS
