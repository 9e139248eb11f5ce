#include "config.h"

#include <glib/gi18n.h>

#include "command.h"

#include "chunk-reader.h"
#include "chunk-writer.h"
#include "message.h"

#include <stdarg.h>

G_DEFINE_QUARK (rh-command-error-quark, rh_command_error)

void
rh_command_free (RhCommand *command)
{
  if (command == NULL)
    return;
  g_free (command->name);
  g_ptr_array_unref (command->values);
  g_free (command);
}

RhCommand *
rh_command_parse (guint8 message_type, const guint8 *data, gsize len, GError **error)
{
  /* An AMF3 command message starts with a format byte, then AMF0 values
   * (clients switch to AMF3 per value with marker 0x11, which we refuse). */
  if (message_type == RH_MSG_COMMAND_AMF3 && len > 0)
    {
      data++;
      len--;
    }

  g_autoptr (GPtrArray) values = rh_amf0_decode_all (data, len, error);
  if (values == NULL)
    return NULL;
  if (values->len < 2)
    {
      g_set_error (error, RH_COMMAND_ERROR, RH_COMMAND_ERROR_MALFORMED,
                   _("command has %u values, needs a name and a transaction id"), values->len);
      return NULL;
    }
  const RhAmf0Value *name = g_ptr_array_index (values, 0);
  const RhAmf0Value *tid = g_ptr_array_index (values, 1);
  if (name->type != RH_AMF0_STRING || tid->type != RH_AMF0_NUMBER)
    {
      g_set_error (error, RH_COMMAND_ERROR, RH_COMMAND_ERROR_MALFORMED,
                   _("command does not start with a name and a transaction id"));
      return NULL;
    }

  RhCommand *command = g_new0 (RhCommand, 1);
  command->name = g_strdup (name->v.string.data);
  command->transaction_id = tid->v.number;
  g_ptr_array_remove_range (values, 0, 2);
  command->values = g_steal_pointer (&values);
  return command;
}

const RhAmf0Value *
rh_command_get (const RhCommand *command, guint i)
{
  return i < command->values->len ? g_ptr_array_index (command->values, i) : NULL;
}

const char *
rh_command_get_string (const RhCommand *command, guint i)
{
  const RhAmf0Value *value = rh_command_get (command, i);
  return value != NULL && value->type == RH_AMF0_STRING ? value->v.string.data : NULL;
}

double
rh_command_get_number (const RhCommand *command, guint i, double fallback)
{
  const RhAmf0Value *value = rh_command_get (command, i);
  return value != NULL && value->type == RH_AMF0_NUMBER ? value->v.number : fallback;
}

GBytes *
rh_command_build (const char *name, double transaction_id, ...)
{
  GByteArray *out = g_byte_array_sized_new (128);
  va_list ap;

  rh_amf0_encode_string (out, name);
  rh_amf0_encode_number (out, transaction_id);
  va_start (ap, transaction_id);
  for (RhAmf0Value *value = va_arg (ap, RhAmf0Value *); value != NULL;
       value = va_arg (ap, RhAmf0Value *))
    {
      rh_amf0_encode (out, value);
      rh_amf0_value_free (value);
    }
  va_end (ap);
  return g_byte_array_free_to_bytes (out);
}

void
rh_command_write_client (GByteArray *out, guint32 stream_id, const char *name, double transaction_id,
                         RhAmf0Value *object, RhAmf0Value *argument)
{
  g_autoptr (GBytes) payload = rh_command_build (name, transaction_id,
                                                 object != NULL ? object : rh_amf0_null_new (),
                                                 argument, NULL);
  gsize len;
  const guint8 *data = g_bytes_get_data (payload, &len);
  rh_chunk_write_message (out, RH_CHUNK_DEFAULT_SIZE, stream_id == 0 ? 3 : 8, 0, RH_MSG_COMMAND_AMF0,
                          stream_id, data, len);
}

RhAmf0Value *
rh_command_status_object (const char *level, const char *code, const char *description)
{
  RhAmf0Value *info = rh_amf0_object_new ();
  rh_amf0_object_set (info, "level", rh_amf0_string_new (level));
  rh_amf0_object_set (info, "code", rh_amf0_string_new (code));
  rh_amf0_object_set (info, "description", rh_amf0_string_new (description));
  return info;
}

GBytes *
rh_command_build_status (const char *level, const char *code, const char *description)
{
  return rh_command_build ("onStatus", 0, rh_amf0_null_new (),
                           rh_command_status_object (level, code, description), NULL);
}

GBytes *
rh_control_u32 (guint32 value)
{
  guint8 b[4];
  rh_write_u32_be (b, value);
  return g_bytes_new (b, 4);
}

GBytes *
rh_control_peer_bandwidth (guint32 window, guint8 limit_type)
{
  guint8 b[5];
  rh_write_u32_be (b, window);
  b[4] = limit_type;
  return g_bytes_new (b, 5);
}

GBytes *
rh_control_user_event (guint16 event, guint32 value)
{
  guint8 b[6] = { (guint8) (event >> 8), (guint8) event };
  rh_write_u32_be (b + 2, value);
  return g_bytes_new (b, 6);
}
