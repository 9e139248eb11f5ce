#include "config.h"

#include "reason.h"

const char *
rh_reason_to_string (RhReason reason)
{
  static const char *const names[] = {
    [RH_REASON_CLIENT_DISCONNECT] = "client_disconnect",
    [RH_REASON_UNPUBLISH] = "unpublish",
    [RH_REASON_SERVER_SHUTDOWN] = "server_shutdown",
    [RH_REASON_TIMEOUT] = "timeout",
    [RH_REASON_PROTOCOL_ERROR] = "protocol_error",
    [RH_REASON_REJECTED] = "rejected",
    [RH_REASON_REPLACED] = "replaced",
    [RH_REASON_LEASE_LOST] = "lease_lost",
  };
  return names[reason];
}
