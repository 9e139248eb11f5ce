#include "config.h"

#include "test-rtmp-client.h"

#include "protocol/command.h"
#include "protocol/handshake.h"

#include <sys/socket.h>

GSocketConnection *
rh_test_connect (guint16 port)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_socket_client_set_timeout (client, 5);
  return g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
}

gboolean
rh_test_write (GSocketConnection *connection, const void *data, gsize len)
{
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  return g_output_stream_write_all (out, data, len, NULL, NULL, NULL);
}

gboolean
rh_test_wait_closed (GSocketConnection *connection, guint timeout_ms)
{
  GSocket *socket = g_socket_connection_get_socket (connection);
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  guint8 buffer[4096];

  g_socket_set_timeout (socket, 1);
  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr (GError) error = NULL;
      gssize n = g_socket_receive (socket, (char *) buffer, sizeof buffer, NULL, &error);
      if (n == 0)
        return TRUE;
      if (n < 0 && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        return TRUE;  /* reset by peer counts as closed */
    }
  return FALSE;
}

gboolean
rh_test_client_handshake (GSocketConnection *connection)
{
  guint8 c0c1[1 + RH_HANDSHAKE_SIZE] = { 3 };
  guint8 s0s1s2[1 + 2 * RH_HANDSHAKE_SIZE];
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  gsize got = 0;

  for (gsize i = 9; i < sizeof c0c1; i++)
    c0c1[i] = (guint8) g_random_int ();
  if (!rh_test_write (connection, c0c1, sizeof c0c1))
    return FALSE;
  if (!g_input_stream_read_all (in, s0s1s2, sizeof s0s1s2, &got, NULL, NULL) || got != sizeof s0s1s2)
    return FALSE;
  return rh_test_write (connection, s0s1s2 + 1, RH_HANDSHAKE_SIZE);
}


GSocketConnection *
rh_test_connect_small_window (guint16 port, gint receive_buffer)
{
  g_autoptr (GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  if (socket == NULL || !g_socket_set_option (socket, SOL_SOCKET, SO_RCVBUF, receive_buffer, NULL))
    return NULL;
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new_from_string ("127.0.0.1", port);
  if (!g_socket_connect (socket, address, NULL, NULL))
    return NULL;
  return g_socket_connection_factory_create_connection (socket);
}

gboolean
rh_test_send_command (GSocketConnection *connection, guint32 stream_id, const char *name, double transaction_id,
                      RhAmf0Value *object, RhAmf0Value *argument)
{
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  rh_command_write_client (wire, stream_id, name, transaction_id, object, argument);
  return rh_test_write (connection, wire->data, wire->len);
}

GSocketConnection *
rh_test_raw_publish (guint16 port, const char *app, const char *name)
{
  g_autoptr (GSocketConnection) connection = rh_test_connect (port);
  if (connection == NULL || !rh_test_client_handshake (connection))
    return NULL;
  RhAmf0Value *object = rh_amf0_object_new ();
  rh_amf0_object_set (object, "app", rh_amf0_string_new (app));
  if (!rh_test_send_command (connection, 0, "connect", 1, object, NULL)
      || !rh_test_send_command (connection, 0, "createStream", 2, NULL, NULL)
      || !rh_test_send_command (connection, 1, "publish", 3, NULL, rh_amf0_string_new (name)))
    return NULL;
  return g_steal_pointer (&connection);
}
