/* Forward declarations shared by the server's modules. */
#pragma once

typedef struct _RhServer RhServer;
typedef struct _RhConnection RhConnection;
typedef struct _RhSession RhSession;
typedef struct _RhStream RhStream;
typedef struct _RhRegistry RhRegistry;
typedef struct _RhPublisher RhPublisher;
typedef struct _RhPlayer RhPlayer;

/* Why a session, a publication or a playback ended (SPEC section 4). */
typedef enum {
  RH_REASON_CLIENT_DISCONNECT,
  RH_REASON_UNPUBLISH,
  RH_REASON_SERVER_SHUTDOWN,
  RH_REASON_TIMEOUT,
  RH_REASON_PROTOCOL_ERROR,
  RH_REASON_REJECTED,
  RH_REASON_REPLACED,
} RhReason;

const char *rh_reason_to_string (RhReason reason);
