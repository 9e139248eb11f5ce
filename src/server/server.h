/* The RTMP server: listeners, the connection table and its limits, the
 * stream registry, and the flush of queued writes. It owns the
 * connections and answers their callbacks; nothing below it names it. */
#pragma once

#include <gio/gio.h>

#include "config/settings.h"
#include "types.h"
#include "reason.h"
#include "outputs.h"
#include "directory.h"
#include "hooks/check-runner.h"
#include "hooks/event.h"

G_BEGIN_DECLS

RhServer *rh_server_new (RhConfig *config);
void rh_server_free (RhServer *server);

/* Takes the configuration in force: opens listeners it adds and closes
 * those it drops, without touching live sessions; limits, session
 * settings and the stream policy apply at once. On start-up a listener
 * that cannot be opened is an error; on reload it is logged and skipped. */
gboolean rh_server_apply_config (RhServer *server, RhConfig *config, gboolean starting,
                                 GError **error);
/* Stops listening and closes every connection with reason server_shutdown. */
void rh_server_shutdown (RhServer *server);

RhRegistry *rh_server_get_registry (RhServer *server);

/* Where the server's events go (the hook dispatcher). */
typedef void (*RhEventSinkFunc) (RhEvent *event, gpointer user_data);
/* Runs the decision checks on a connect, publish or play request; see
 * RhEventSink. */
typedef RhCheckRequest *(*RhCheckFunc) (RhEvent *request, RhVerdictFunc done, gpointer done_data,
                                        gpointer user_data);
/* Events go to func; requests go to check (NULL: none is checked). */
void rh_server_set_event_sink (RhServer *server, RhEventSinkFunc func, RhCheckFunc check,
                               gpointer user_data);

guint rh_server_get_n_connections (RhServer *server);
/* Recordings and relays. */
RhOutputs *rh_server_get_outputs (RhServer *server);

typedef struct {
  guint connections;
  guint64 accepted;
  guint64 refused;
  guint64 accept_descriptor_failures; /* accepts that found no descriptor (the listener paused) */
  guint64 accept_other_failures;
  guint64 bytes_in;          /* all connections, closed ones included */
  guint64 bytes_out;
  guint streams;
  guint publishers;
  guint players;
  guint64 player_dropped;    /* media messages skipped for slow players */
  guint64 input_memory;      /* bytes held for unfinished messages now */
  guint64 closed[RH_N_REASONS]; /* connections closed, by reason */
  guint64 tls_handshakes_ok;
  guint64 tls_handshakes_failed;    /* not TLS, refused by TLS, or older than TLS 1.2 */
  guint64 tls_handshakes_cancelled; /* the handshake deadline or a shutdown ended them first */
  guint tls_handshakes_running;
  guint tls_handshakes_waiting;     /* whole ClientHello, waiting for a slot */
  gint64 tls_certificate_not_after; /* Unix time; 0: no TLS certificate */
  guint pulls;                      /* in a fleet: streams pulled from their owners now */
  guint64 pulls_started;
  guint64 pulls_failed;             /* attempts that never reached the owner's stream */
  guint64 pull_bytes;
} RhServerCounters;

void rh_server_get_counters (RhServer *server, RhServerCounters *counters);
/* Counters, logged on demand. */
void rh_server_log_stats (RhServer *server);

/* In a fleet: the stream directory publishes claim their keys from and
 * waiting players ask (NULL funcs: none). */
void rh_server_set_directory (RhServer *server, const RhDirectoryFuncs *funcs, gpointer user_data);
/* Ends the publish of key ("app/name"), closing its publisher's
 * connection with reason; FALSE when none is here. */
gboolean rh_server_end_publish (RhServer *server, const char *key, RhReason reason, const char *why);
/* Pulls key from url (another node's), unless it is live or pulled here. */
void rh_server_start_pull (RhServer *server, const char *key, const char *url, const char *origin_node);
/* publish_stop with reason node_lost for key, which was live on
 * owner_node (dead now) under epoch. */
void rh_server_report_node_lost (RhServer *server, const char *key, const char *owner_node, gint64 epoch);
/* Keys players wait for with neither a publisher nor a pull here. */
GPtrArray *rh_server_list_unserved (RhServer *server);

G_END_DECLS
