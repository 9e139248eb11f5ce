/* One outgoing RTMP connection of the daemon, publishing (a relay) or
 * playing (a pull): the TCP connect, the socket's reads and writes on the
 * main loop, and the client protocol (protocol/client.h) over them. It
 * gives up when the server has not accepted the publish or play within
 * RH_CLIENT_SESSION_SETUP_SECONDS of the connect, when the server leaves
 * our replies to its pings unread (as a client of ours would be closed),
 * when the server refuses, and when the connection is lost. Media is
 * queued by reference and written in 50 ms windows, as players' is.
 * Nothing blocks the main loop. */
#pragma once

#include <gio/gio.h>

#include "protocol/client.h"
#include "protocol/message.h"

G_BEGIN_DECLS

#define RH_CLIENT_SESSION_SETUP_SECONDS 10
/* What a closing session waits for its queue to drain. */
#define RH_CLIENT_SESSION_CLOSE_GRACE_MS 2000

typedef struct _RhClientSession RhClientSession;

typedef struct {
  /* The server accepted the publish or play. The owner may send from
   * here, not free or close the session. */
  void (*ready) (RhClientSession *session, gpointer owner);
  /* Playing: a message of the stream (may be NULL). The session must not
   * be freed or closed from here. */
  void (*media) (RhClientSession *session, const RhMessage *message, gpointer owner);
  /* It ended: why is NULL once rh_client_session_close is done, else
   * what failed. The last callback (it may come from inside
   * rh_client_session_close); the owner may free the session here. */
  void (*ended) (RhClientSession *session, const char *why, gpointer owner);
} RhClientSessionOwner;

/* How an rtmps:// session checks the server's certificate: against
 * database (NULL: the system's trust store), the name or address of the
 * URL's host, which is also sent as SNI. verify FALSE accepts any
 * certificate and logs a warning at each connect. */
typedef struct {
  GTlsDatabase *database;
  gboolean verify;
} RhClientTls;

/* url and tls are the owner's and outlive the session. relay_hops, when
 * not 0, marks the connect as a relay's that has crossed that many
 * daemons (relay-loop.h). */
RhClientSession *rh_client_session_new (RhClientRole role, const RhRtmpUrl *url, const RhClientTls *tls,
                                        guint relay_hops, const RhClientSessionOwner *owner, gpointer owner_data);
/* Connects; ready or ended follow. */
void rh_client_session_start (RhClientSession *session);
/* Closes at once, without a callback. */
void rh_client_session_free (RhClientSession *session);

/* After ready: one message on the session's stream, queued by reference
 * (queued_at, monotonic, times it for slow-target decisions; 0 for
 * data that is not media). */
void rh_client_session_send (RhClientSession *session, guint32 csid, guint8 type, guint32 timestamp,
                             GBytes *payload, gint64 queued_at);
/* Says goodbye as a publisher or player does, lets what is queued go
 * out (RH_CLIENT_SESSION_CLOSE_GRACE_MS at most), then ended (NULL). */
void rh_client_session_close (RhClientSession *session);

gsize rh_client_session_get_queued_bytes (const RhClientSession *session);
/* When the oldest media still queued was queued; 0 when none is. */
gint64 rh_client_session_get_oldest_queued_at (const RhClientSession *session);
guint64 rh_client_session_get_bytes_sent (const RhClientSession *session);
/* It ended because its TLS handshake failed (an untrusted certificate,
 * a name that does not match, a server that does not speak TLS). */
gboolean rh_client_session_failed_in_tls (const RhClientSession *session);
/* Playing: it ended because the server said the stream's publish ended
 * (NetStream.Play.UnpublishNotify). */
gboolean rh_client_session_publish_ended (const RhClientSession *session);
/* The server refused it as a relay or pull loop (it reaches this very
 * daemon or node, or crossed too many): trying again cannot help. */
gboolean rh_client_session_refused_as_loop (const RhClientSession *session);

G_END_DECLS
