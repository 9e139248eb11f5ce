#include "config.h"

#include "tls-record.h"

/* Content type 22: handshake. */
#define CONTENT_HANDSHAKE 22

RhTlsRecordState
rh_tls_record_check (const guint8 *data, gsize len, gsize *needed)
{
  *needed = RH_TLS_RECORD_HEADER;
  /* Every TLS version's records say 3.x; an RTMP client's first byte is 3. */
  if (data[0] != CONTENT_HANDSHAKE || (len >= 2 && data[1] != 3))
    return RH_TLS_RECORD_NOT_TLS;
  if (len < RH_TLS_RECORD_HEADER)
    return RH_TLS_RECORD_INCOMPLETE;
  gsize body = ((gsize) data[3] << 8) | data[4];
  if (body == 0 || body > RH_TLS_RECORD_MAX_BODY)
    return RH_TLS_RECORD_NOT_TLS;
  *needed = RH_TLS_RECORD_HEADER + body;
  return len >= *needed ? RH_TLS_RECORD_COMPLETE : RH_TLS_RECORD_INCOMPLETE;
}
