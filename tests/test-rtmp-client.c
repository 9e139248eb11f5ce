#include "config.h"

#include "test-rtmp-client.h"

#include "protocol/handshake.h"

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

