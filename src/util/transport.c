#include "config.h"

#include "transport.h"

#include <string.h>

/* One record's plaintext, gathered from the vectors: every connection
 * writes from this one buffer (one thread, and TLS has encrypted it
 * before the write returns). */
static guint8 record_buffer[RH_TRANSPORT_TLS_RECORD];

gssize
rh_transport_receive (const RhTransport *transport, guint8 *buffer, gsize size, GError **error)
{
  if (transport->tls == NULL)
    return g_socket_receive (transport->socket, (char *) buffer, size, NULL, error);
  GInputStream *input = g_io_stream_get_input_stream (G_IO_STREAM (transport->tls));
  return g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (input), buffer, size, NULL, error);
}

gssize
rh_transport_send (const RhTransport *transport, const GOutputVector *vectors, guint n_vectors, GError **error)
{
  if (transport->tls == NULL)
    return g_socket_send_message (transport->socket, NULL, (GOutputVector *) vectors, (gint) n_vectors, NULL, 0,
                                  G_SOCKET_MSG_NONE, NULL, error);

  /* A vector alone as large as a record needs no copy. */
  const void *record = vectors[0].buffer;
  gsize length = vectors[0].size;
  if (length < RH_TRANSPORT_TLS_RECORD && n_vectors > 1)
    {
      length = 0;
      for (guint i = 0; i < n_vectors && length < RH_TRANSPORT_TLS_RECORD; i++)
        {
          gsize take = MIN (vectors[i].size, RH_TRANSPORT_TLS_RECORD - length);
          memcpy (record_buffer + length, vectors[i].buffer, take);
          length += take;
        }
      record = record_buffer;
    }
  length = MIN (length, RH_TRANSPORT_TLS_RECORD);
  GOutputStream *output = g_io_stream_get_output_stream (G_IO_STREAM (transport->tls));
  return g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM (output), record, length, NULL,
                                                     error);
}

const char *
rh_transport_tls_version (const RhTransport *transport)
{
  if (transport->tls == NULL)
    return NULL;
  switch (g_tls_connection_get_protocol_version (transport->tls))
    {
    case G_TLS_PROTOCOL_VERSION_TLS_1_0: return "TLS 1.0";
    case G_TLS_PROTOCOL_VERSION_TLS_1_1: return "TLS 1.1";
    case G_TLS_PROTOCOL_VERSION_TLS_1_2: return "TLS 1.2";
    case G_TLS_PROTOCOL_VERSION_TLS_1_3: return "TLS 1.3";
    default: return "unknown";
    }
}
