#include "config.h"

#include <string.h>

#include "protocol/command.h"
#include "protocol/message.h"

static void
test_parse_connect (void)
{
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  g_autoptr (RhAmf0Value) object = rh_amf0_object_new ();
  rh_amf0_object_set (object, "app", rh_amf0_string_new ("live"));
  rh_amf0_object_set (object, "tcUrl", rh_amf0_string_new ("rtmp://127.0.0.1/live"));
  rh_amf0_encode_string (wire, "connect");
  rh_amf0_encode_number (wire, 1);
  rh_amf0_encode (wire, object);

  g_autoptr (GError) error = NULL;
  g_autoptr (RhCommand) command = rh_command_parse (RH_MSG_COMMAND_AMF0, wire->data, wire->len, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (command->name, ==, "connect");
  g_assert_cmpfloat (command->transaction_id, ==, 1);
  g_assert_cmpstr (rh_amf0_object_get_string (rh_command_get (command, 0), "app"), ==, "live");
  g_assert_null (rh_command_get (command, 1));
  g_assert_cmpfloat (rh_command_get_number (command, 5, 42), ==, 42);

  /* The same as an AMF3 command message: one leading format byte. */
  g_byte_array_prepend (wire, (const guint8 *) "", 1);
  g_autoptr (RhCommand) amf3 = rh_command_parse (RH_MSG_COMMAND_AMF3, wire->data, wire->len, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (amf3->name, ==, "connect");
}

static void
test_parse_publish_and_play (void)
{
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  rh_amf0_encode_string (wire, "publish");
  rh_amf0_encode_number (wire, 5);
  rh_amf0_encode_null (wire);
  rh_amf0_encode_string (wire, "test?key=1");
  rh_amf0_encode_string (wire, "live");
  g_autoptr (RhCommand) command = rh_command_parse (RH_MSG_COMMAND_AMF0, wire->data, wire->len, NULL);
  g_assert_nonnull (command);
  g_assert_cmpint (rh_command_get (command, 0)->type, ==, RH_AMF0_NULL);
  g_assert_cmpstr (rh_command_get_string (command, 1), ==, "test?key=1");
  g_assert_cmpstr (rh_command_get_string (command, 2), ==, "live");
  g_assert_null (rh_command_get_string (command, 0));
}

static void
test_malformed (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  rh_amf0_encode_number (wire, 1);
  rh_amf0_encode_string (wire, "connect");
  g_assert_null (rh_command_parse (RH_MSG_COMMAND_AMF0, wire->data, wire->len, &error));
  g_assert_error (error, RH_COMMAND_ERROR, RH_COMMAND_ERROR_MALFORMED);
  g_clear_error (&error);

  g_assert_null (rh_command_parse (RH_MSG_COMMAND_AMF0, NULL, 0, &error));
  g_assert_error (error, RH_COMMAND_ERROR, RH_COMMAND_ERROR_MALFORMED);
  g_clear_error (&error);

  /* A name string longer than the message. */
  static const guint8 truncated[] = { 0x02, 0x00, 0x40, 'c', 'o' };
  g_assert_null (rh_command_parse (RH_MSG_COMMAND_AMF0, truncated, sizeof truncated, &error));
  g_assert_error (error, RH_AMF0_ERROR, RH_AMF0_ERROR_TRUNCATED);
}

static void
test_build_status (void)
{
  g_autoptr (GBytes) status = rh_command_build_status ("error", "NetStream.Publish.BadName", "busy");
  gsize len;
  const guint8 *data = g_bytes_get_data (status, &len);
  g_autoptr (RhCommand) command = rh_command_parse (RH_MSG_COMMAND_AMF0, data, len, NULL);
  g_assert_cmpstr (command->name, ==, "onStatus");
  g_assert_cmpfloat (command->transaction_id, ==, 0);
  g_assert_cmpint (rh_command_get (command, 0)->type, ==, RH_AMF0_NULL);
  const RhAmf0Value *info = rh_command_get (command, 1);
  g_assert_cmpstr (rh_amf0_object_get_string (info, "level"), ==, "error");
  g_assert_cmpstr (rh_amf0_object_get_string (info, "code"), ==, "NetStream.Publish.BadName");
  g_assert_cmpstr (rh_amf0_object_get_string (info, "description"), ==, "busy");
}

static void
test_build_result (void)
{
  g_autoptr (GBytes) result = rh_command_build ("_result", 4, rh_amf0_null_new (),
                                                rh_amf0_number_new (1), NULL);
  gsize len;
  const guint8 *data = g_bytes_get_data (result, &len);
  g_autoptr (RhCommand) command = rh_command_parse (RH_MSG_COMMAND_AMF0, data, len, NULL);
  g_assert_cmpstr (command->name, ==, "_result");
  g_assert_cmpfloat (command->transaction_id, ==, 4);
  g_assert_cmpuint (command->values->len, ==, 2);
  g_assert_cmpfloat (rh_command_get_number (command, 1, 0), ==, 1);
}

static void
test_control_payloads (void)
{
  g_autoptr (GBytes) ack = rh_control_u32 (0xDEADBEEF);
  g_assert_cmpmem (g_bytes_get_data (ack, NULL), 4, "\xDE\xAD\xBE\xEF", 4);
  g_autoptr (GBytes) bw = rh_control_peer_bandwidth (5000000, 2);
  g_assert_cmpmem (g_bytes_get_data (bw, NULL), 5, "\x00\x4C\x4B\x40\x02", 5);
  g_autoptr (GBytes) eof = rh_control_user_event (RH_UC_STREAM_EOF, 1);
  g_assert_cmpmem (g_bytes_get_data (eof, NULL), 6, "\x00\x01\x00\x00\x00\x01", 6);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/command/parse-connect", test_parse_connect);
  g_test_add_func ("/command/parse-publish-play", test_parse_publish_and_play);
  g_test_add_func ("/command/malformed", test_malformed);
  g_test_add_func ("/command/build-status", test_build_status);
  g_test_add_func ("/command/build-result", test_build_result);
  g_test_add_func ("/command/control-payloads", test_control_payloads);
  return g_test_run ();
}
