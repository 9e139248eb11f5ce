/* The first bytes of a TLS connection, as a server sees them before any
 * TLS code runs: one TLS record header (content type, version, length)
 * and its body. Tells whether the peer speaks TLS at all, and whether
 * its first record (the ClientHello) has arrived whole. Pure. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  RH_TLS_RECORD_NOT_TLS,     /* not a TLS handshake record: plain RTMP, say */
  RH_TLS_RECORD_INCOMPLETE,  /* *needed bytes must be there to go on */
  RH_TLS_RECORD_COMPLETE,    /* the whole first record is there */
} RhTlsRecordState;

/* The largest record body TLS allows (2^14 plus expansion). */
#define RH_TLS_RECORD_MAX_BODY (16384 + 2048)
#define RH_TLS_RECORD_HEADER 5

/* data holds the first len bytes the peer sent (len > 0). */
RhTlsRecordState rh_tls_record_check (const guint8 *data, gsize len, gsize *needed);

G_END_DECLS
