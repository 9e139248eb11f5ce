/* The RTMP application state of one connection: connect, createStream,
 * publish, play and the rest of the commands, and the media a publisher
 * sends. Talks to the peer only through its RhConnection. */
#pragma once

#include <glib.h>

#include "protocol/message.h"
#include "reason.h"
#include "types.h"

G_BEGIN_DECLS

#define RH_SESSION_ERROR (rh_session_error_quark ())
GQuark rh_session_error_quark (void);

typedef enum {
  RH_SESSION_ERROR_PROTOCOL,   /* a message the session cannot make sense of */
  RH_SESSION_ERROR_REJECTED,   /* the peer asked for something it may not have */
} RhSessionError;

/* What sessions need from the configuration; the owner (the server)
 * keeps it up to date across reloads. */
typedef struct {
  guint32 chunk_size;                  /* outbound, announced after connect */
  gint player_send_buffer;             /* SO_SNDBUF for players; 0 = autotuning */
  gboolean replace_duplicate_publish;  /* FALSE: refuse a second publisher */
  GPtrArray *applications;             /* GPatternSpec*: the apps a connect may name; NULL: any */
} RhSessionSettings;

/* What a client may send while a decision check decides on its
 * connect, publish or play (held, then handled in order). */
#define RH_SESSION_MAX_HELD_BYTES (2 * 1024 * 1024)

RhSession *rh_session_new (RhConnection *connection, RhRegistry *registry,
                           const RhSessionSettings *settings);
/* Ends every publication and playback of the session with reason. */
void rh_session_close (RhSession *session, RhReason reason);
void rh_session_free (RhSession *session);

/* FALSE with error: the connection must be closed. */
gboolean rh_session_handle_message (RhSession *session, const RhMessage *message, GError **error);

/* Stream names: 1-256 bytes of [A-Za-z0-9_.~@+=:,-], not starting with '.';
 * apps the same up to 128 bytes. Names reach file paths and hooks. */
gboolean rh_session_name_is_valid (const char *name, gsize max_len);

G_END_DECLS
