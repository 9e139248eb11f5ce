/* One relay push: a publishing client session (client-session.h) that
 * sends a live stream to another server (nginx-rtmp, SRS, another
 * rtmphooksd): once the target accepts the publish, it sends
 * the metadata, the sequence headers and the cached GOP, then every
 * packet (payloads shared by reference, never copied). A target that
 * falls behind is judged like a slow player: it skips to the next
 * keyframe, and one that stays behind is disconnected. Whenever the
 * connection fails it is made again, waiting 1 s, 2 s, 4 s ... up to
 * retry_max, for as long as the source is live. Nothing blocks the main
 * loop. */
#pragma once

#include <gio/gio.h>

#include "client-session.h"
#include "output.h"
#include "slow-player.h"

G_BEGIN_DECLS

typedef struct _RhRelay RhRelay;

typedef struct {
  /* The target accepted the publish; first is FALSE after a reconnect. */
  void (*started) (RhRelay *relay, gboolean first, gpointer owner);
  /* The connection failed or was lost; the next attempt is in delay s.
   * tls_error: its TLS handshake failed (relay_stop says so). */
  void (*reconnecting) (RhRelay *relay, const char *why, gboolean tls_error, double delay, gpointer owner);
  /* The source's publish ended (reason publish_stop or server_shutdown).
   * was_published: started was called. Free the relay later, not from
   * inside this callback. */
  void (*stopped) (RhRelay *relay, gboolean was_published, gint64 duration_seconds, guint64 bytes_sent,
                   const char *reason, gpointer owner);
} RhRelayOwner;

/* url is rtmp[s]://host[:port]/app/stream[?query]; NULL with error when it
 * is not. tls is copied (its database referenced). hops counts the
 * relays the stream crosses with this one (1 for a stream from an
 * encoder): the target refuses more than RH_RELAY_MAX_HOPS. */
RhRelay *rh_relay_new (const char *url, const RhClientTls *tls, double retry_max, guint hops, const char *conn_id,
                       const char *app, const char *stream_name, const RhRelayOwner *owner, gpointer owner_data,
                       GError **error);
void rh_relay_free (RhRelay *relay);
/* Connects (attach the output to the stream first). */
void rh_relay_start (RhRelay *relay);

RhOutput *rh_relay_get_output (RhRelay *relay);
/* The URL without its query, which may hold a key. */
const char *rh_relay_get_public_url (const RhRelay *relay);
/* Bytes sent to the target so far, over every connection. */
guint64 rh_relay_get_bytes (RhRelay *relay);
/* Since its first publish (or its publish after a TLS failure), in
 * seconds; 0 when it has not published. */
gint64 rh_relay_get_duration (const RhRelay *relay);

G_END_DECLS
