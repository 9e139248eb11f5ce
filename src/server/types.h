/* Forward declarations shared by the server's modules. */
#pragma once

typedef struct _RhServer RhServer;
typedef struct _RhConnection RhConnection;
typedef struct _RhSession RhSession;
typedef struct _RhStream RhStream;
typedef struct _RhRegistry RhRegistry;
typedef struct _RhPublisher RhPublisher;
typedef struct _RhPlayer RhPlayer;
