/* Why a connection, a publication or a playback ended. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  RH_REASON_CLIENT_DISCONNECT,
  RH_REASON_UNPUBLISH,
  RH_REASON_SERVER_SHUTDOWN,
  RH_REASON_TIMEOUT,
  RH_REASON_PROTOCOL_ERROR,
  RH_REASON_REJECTED,
  RH_REASON_REPLACED,
  /* In a fleet: the directory gave the stream key to another node. */
  RH_REASON_LEASE_LOST,
} RhReason;

/* How many reasons there are, to size a table indexed by RhReason. */
#define RH_N_REASONS (RH_REASON_LEASE_LOST + 1)

/* The name events and logs use: "client_disconnect", "timeout", ... */
const char *rh_reason_to_string (RhReason reason);

G_END_DECLS
