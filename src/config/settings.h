/* The configuration snapshot: one loader for start-up, reload and -t.
 * A snapshot is immutable once loaded and shared by reference. */
#pragma once

#include <glib.h>

#include "util/address.h"
#include "hooks/hooks-settings.h"
#include "config/tls-settings.h"
#include "config/cluster-settings.h"
#include "config/worker-settings.h"

G_BEGIN_DECLS

typedef enum {
  RH_DUPLICATE_PUBLISH_REJECT,
  RH_DUPLICATE_PUBLISH_REPLACE,
} RhDuplicatePublish;

/* server.record: where recordings go and how. */
typedef struct {
  gboolean all;                    /* record every published stream */
  char *dir;                       /* recording directory */
  char *path;                      /* path template of record.all's files */
  gint max_buffer;                 /* bytes one recording may have waiting for the disk */
} RhRecordConfig;

#define RH_RECORD_DEFAULT_DIR "/var/lib/rtmphooks/recordings"

typedef struct {
  GArray *listen;                  /* RhListenAddress */
  GArray *listen_tls;              /* RhListenAddress: RTMPS; empty: none */
  RhTlsConfig tls;                 /* the certificate of listen_tls */
  gint listen_backlog;             /* accept queue of each listener */
  gint chunk_size;                 /* outbound chunk size */
  double merge_window;             /* seconds writes are gathered before one flush; 0 = at once */
  gint max_connections;
  gint max_connections_per_ip;     /* 0 = no limit */
  gint descriptor_reserve;         /* descriptors client connections leave to the rest */
  GStrv per_ip_exempt;             /* CIDR blocks max_connections_per_ip does not apply to */
  GStrv applications;              /* globs of the applications a connect may name; NULL: any */
  double handshake_timeout;        /* seconds */
  double setup_timeout;            /* seconds from accept to a publish or play */
  double idle_timeout;             /* seconds */
  double stall_timeout;            /* seconds without media before media_stall; 0 = off */
  gint max_message_size;           /* bytes */
  gint max_input_memory;           /* bytes unfinished messages may hold, all connections */
  gint duplicate_publish;          /* RhDuplicatePublish */
  gboolean gop_cache;
  gint gop_cache_max_bytes;
  gint player_queue_soft_limit;    /* bytes: drop non-key frames above */
  gint player_queue_hard_limit;    /* bytes: disconnect above */
  double player_max_delay;         /* seconds queued media may wait before the player skips */
  double player_behind_timeout;    /* seconds a player may stay behind before it is closed */
  gint player_send_buffer;         /* SO_SNDBUF of players; 0 = kernel autotuning */
  RhRecordConfig record;
  GStrv relay;                     /* rtmp:// URLs every published stream is pushed to */
  double relay_retry_max;          /* seconds: the longest wait between relay reconnects */
  RhRelayTlsConfig relay_tls;      /* rtmps:// targets' certificates */
} RhServerConfig;

/* The HTTP API; off without an http section. */
typedef struct {
  GArray *listen;                  /* RhListenAddress; empty: no HTTP API */
  char *token;                     /* bearer token required when set */
  char *token_variable;            /* NAME when the token is "${env.NAME}" */
  gint listen_backlog;
  gint max_connections;            /* open HTTP connections at once */
  gint max_connections_per_ip;
  double timeout;                  /* seconds for a whole request, and for an idle connection */
} RhHttpConfig;

/* Loopback, IPv4, IPv6 and IPv4-mapped. */
extern const char *const rh_default_per_ip_exempt[];

/* What server.applications globs may hold: an application name's
 * characters, and * and ?. */
#define RH_APPLICATION_GLOB_CHARACTERS \
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~@+=:,-*?"

#define RH_HTTP_DEFAULT_LISTEN "127.0.0.1:8080"

typedef struct {
  gint ref_count;
  char *path;  /* NULL: built-in defaults */
  RhServerConfig server;
  RhHooksSettings hooks;
  RhHttpConfig http;
  RhClusterConfig cluster;         /* enabled FALSE: a single server */
  RhWorkerConfig worker;           /* enabled: a hook worker, no RTMP */
  gint64 loaded_at;                /* real time, seconds */
  /* "FILE:LINE: warning: ..." of a valid configuration: -t prints them,
   * the daemon logs them at start and at each reload. */
  GPtrArray *warnings;
} RhConfig;

/* An integer option the command line did not give (0 is a value, and
 * is refused where it is out of range). */
#define RH_OVERRIDE_UNSET G_MININT

/* What the command line sets on top of the file; unset fields are NULL or
 * RH_OVERRIDE_UNSET. */
typedef struct {
  char **listen;
  gint chunk_size;
  char **hook_scripts;        /* "EVENT=PATH" */
  char **hook_webhooks;       /* "EVENT=URL" */
  char **hook_checks;         /* "EVENT=PATH": decision checks */
  const char *hook_stdio_format;
  const char *hook_timeout;   /* "30s", "500ms", "1m" */
  gint hook_concurrency;
  gboolean record_all;
  const char *record_dir;
  char **relay;               /* rtmp:// URLs */
  gboolean worker;            /* --worker: a hook worker, as with a worker section */
} RhConfigOverrides;

/* Loads path (NULL or a missing optional file: built-in defaults) and
 * applies overrides. Every problem found is appended to errors as
 * "FILE:LINE: message"; NULL is returned if there was any. */
RhConfig *rh_config_load (const char *path, gboolean must_exist,
                          const RhConfigOverrides *overrides, GPtrArray *errors);
RhConfig *rh_config_ref (RhConfig *config);
void rh_config_unref (RhConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RhConfig, rh_config_unref)

/* Helpers for section loaders: where a setting is, as "FILE:LINE". */


G_END_DECLS
