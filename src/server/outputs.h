/* The recordings and relay pushes of live streams: started by record and
 * relay actions (server.record.all and server.relay are rules too), fed by
 * their stream, ended with its publish. Their events leave through the
 * registry's sink; the daemon waits for the last one to end at shutdown. */
#pragma once

#include <glib.h>

#include "registry.h"
#include "config/settings.h"

G_BEGIN_DECLS

typedef struct _RhOutputs RhOutputs;

RhOutputs *rh_outputs_new (RhRegistry *registry);
/* Ends nothing: call after the last output stopped (or at exit). */
void rh_outputs_free (RhOutputs *outputs);
/* The settings new outputs get (a reload leaves running ones alone). */
void rh_outputs_configure (RhOutputs *outputs, const RhServerConfig *server);

/* For app/name, which must be live; path is relative to the recording
 * directory and is refused (logged and counted) if it could leave it. */
void rh_outputs_start_recording (RhOutputs *outputs, const char *rule, const char *app, const char *name,
                                 const char *path);
/* Pushes app/name to url (rtmp[s]://host[:port]/app/stream). For
 * rtmps://, ca_database (NULL: server.relay_tls's) and tls_verify (-1:
 * server.relay_tls's) say how the target's certificate is checked. */
void rh_outputs_start_relay (RhOutputs *outputs, const char *rule, const char *app, const char *name,
                             const char *url, GTlsDatabase *ca_database, gint tls_verify);

typedef struct {
  guint recordings;                /* active */
  guint64 recordings_started;
  guint64 recordings_failed;       /* ended by an error or a slow disk, or refused */
  guint64 recording_bytes;         /* written by recordings, ended and live */
  guint relays;                    /* active */
  guint64 relays_started;
  guint64 relay_reconnects;
  guint64 relays_failed;           /* refused: a bad URL */
  guint64 relay_bytes;             /* sent by relays, ended and live */
} RhOutputsCounters;

void rh_outputs_get_counters (RhOutputs *outputs, RhOutputsCounters *counters);
/* Recordings and relays not yet ended. */
guint rh_outputs_get_n_active (RhOutputs *outputs);

G_END_DECLS
