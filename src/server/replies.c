#include "config.h"

#include "replies.h"

#include "connection.h"
#include "protocol/amf0.h"
#include "protocol/command.h"
#include "protocol/message.h"

void
rh_replies_command (RhConnection *connection, guint32 stream_id, GBytes *payload)
{
  rh_connection_send (connection, stream_id == 0 ? RH_CSID_COMMAND : RH_CSID_STREAM_STATUS,
                      RH_MSG_COMMAND_AMF0, stream_id, 0, payload);
}

void
rh_replies_status (RhConnection *connection, guint32 stream_id, const char *level, const char *code,
                   const char *description)
{
  g_autoptr (GBytes) status = rh_command_build_status (level, code, description);
  rh_replies_command (connection, stream_id, status);
}

void
rh_replies_user_event (RhConnection *connection, guint16 event, guint32 value)
{
  g_autoptr (GBytes) payload = rh_control_user_event (event, value);
  rh_connection_send_control (connection, RH_MSG_USER_CONTROL, payload);
}

void
rh_replies_sample_access (RhConnection *connection, guint32 stream_id)
{
  GByteArray *out = g_byte_array_sized_new (32);
  rh_amf0_encode_string (out, "|RtmpSampleAccess");
  rh_amf0_encode_boolean (out, TRUE);
  rh_amf0_encode_boolean (out, TRUE);
  g_autoptr (GBytes) payload = g_byte_array_free_to_bytes (out);
  rh_connection_send (connection, RH_CSID_DATA, RH_MSG_DATA_AMF0, stream_id, 0, payload);
}
