#include "config.h"

#include "corked-output.h"

#include <string.h>

struct _RhCorkedOutput {
  GOutputStream parent;
  GSocket *socket;
  GByteArray *pending;     /* what the socket did not take, in order */
  gsize sent;              /* of pending, sent already */
  gboolean corked;
};

/* What one corked output gathers between cork and uncork, shared by all:
 * corking happens on the main thread, one output at a time, and what
 * the socket takes at uncork (nearly always all of it) never needs a
 * buffer of the connection's own. Only the rest is copied to pending,
 * so an idle connection holds no gather buffer. */
static GByteArray *gathered;
static RhCorkedOutput *gathering;

static void rh_corked_output_pollable_init (GPollableOutputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (RhCorkedOutput, rh_corked_output, G_TYPE_OUTPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_OUTPUT_STREAM,
                                                      rh_corked_output_pollable_init))

static gsize
waiting (RhCorkedOutput *output)
{
  return output->pending->len - output->sent;
}

/* Sends what waits, without blocking. FALSE only on a socket error. */
static gboolean
send_pending (RhCorkedOutput *output, GError **error)
{
  while (waiting (output) > 0)
    {
      g_autoptr (GError) local_error = NULL;
      gssize n = g_socket_send_with_blocking (output->socket, (const char *) output->pending->data + output->sent,
                                              waiting (output), FALSE, NULL, &local_error);
      if (n < 0)
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            return TRUE;
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      output->sent += (gsize) n;
    }
  /* A connection that fell behind once keeps no large buffer for it. */
  if (output->pending->len > 16 * 1024)
    {
      g_byte_array_unref (output->pending);
      output->pending = g_byte_array_new ();
    }
  else
    g_byte_array_set_size (output->pending, 0);
  output->sent = 0;
  return TRUE;
}

static gssize
write_bytes (RhCorkedOutput *output, const void *buffer, gsize count, gboolean blocking, GCancellable *cancellable,
             GError **error)
{
  if (!output->corked && waiting (output) == 0)
    return g_socket_send_with_blocking (output->socket, buffer, count, blocking, cancellable, error);
  if (output->corked && waiting (output) == 0)
    {
      if (gathered->len + count > RH_CORKED_OUTPUT_MAX)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "the gather buffer is full");
          return -1;
        }
      g_byte_array_append (gathered, buffer, (guint) count);
      return (gssize) count;
    }
  /* Behind what waits, never before it. */
  if (waiting (output) > 0 && output->pending->len + count > RH_CORKED_OUTPUT_MAX)
    {
      if (!send_pending (output, error))
        return -1;
      if (waiting (output) > 0)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "the socket is full");
          return -1;
        }
    }
  g_byte_array_append (output->pending, buffer, (guint) count);
  if (!output->corked && !send_pending (output, error))
    return -1;
  return (gssize) count;
}

static gssize
corked_write (GOutputStream *stream, const void *buffer, gsize count, GCancellable *cancellable, GError **error)
{
  return write_bytes (RH_CORKED_OUTPUT (stream), buffer, count, TRUE, cancellable, error);
}

static gssize
corked_write_nonblocking (GPollableOutputStream *stream, const void *buffer, gsize count, GError **error)
{
  return write_bytes (RH_CORKED_OUTPUT (stream), buffer, count, FALSE, NULL, error);
}

static gboolean
corked_is_writable (GPollableOutputStream *stream)
{
  RhCorkedOutput *output = RH_CORKED_OUTPUT (stream);
  return waiting (output) == 0 && g_socket_condition_check (output->socket, G_IO_OUT) != 0;
}

static GSource *
corked_create_source (GPollableOutputStream *stream, GCancellable *cancellable)
{
  RhCorkedOutput *output = RH_CORKED_OUTPUT (stream);
  g_autoptr (GSource) socket_source = g_socket_create_source (output->socket, G_IO_OUT, cancellable);
  GSource *source = g_pollable_source_new (G_OBJECT (stream));
  g_source_set_dummy_callback (socket_source);
  g_source_add_child_source (source, socket_source);
  return source;
}

static gboolean
corked_can_poll (GPollableOutputStream *stream)
{
  return TRUE;
}

static void
rh_corked_output_pollable_init (GPollableOutputStreamInterface *iface)
{
  iface->can_poll = corked_can_poll;
  iface->is_writable = corked_is_writable;
  iface->create_source = corked_create_source;
  iface->write_nonblocking = corked_write_nonblocking;
}

static void
rh_corked_output_finalize (GObject *object)
{
  RhCorkedOutput *output = RH_CORKED_OUTPUT (object);
  g_byte_array_unref (output->pending);
  g_object_unref (output->socket);
  G_OBJECT_CLASS (rh_corked_output_parent_class)->finalize (object);
}

static void
rh_corked_output_class_init (RhCorkedOutputClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = rh_corked_output_finalize;
  G_OUTPUT_STREAM_CLASS (klass)->write_fn = corked_write;
}

static void
rh_corked_output_init (RhCorkedOutput *output)
{
  output->pending = g_byte_array_new ();
}

GOutputStream *
rh_corked_output_new (GSocket *socket)
{
  RhCorkedOutput *output = g_object_new (RH_TYPE_CORKED_OUTPUT, NULL);
  output->socket = g_object_ref (socket);
  return G_OUTPUT_STREAM (output);
}

void
rh_corked_output_cork (RhCorkedOutput *output)
{
  g_return_if_fail (gathering == NULL);
  if (gathered == NULL)
    gathered = g_byte_array_sized_new (RH_CORKED_OUTPUT_MAX);
  gathering = output;
  output->corked = TRUE;
}

gboolean
rh_corked_output_uncork (RhCorkedOutput *output, GError **error)
{
  gboolean ok = TRUE;
  if (output->corked)
    {
      g_return_val_if_fail (gathering == output, FALSE);
      gathering = NULL;
      output->corked = FALSE;
      /* What was gathered only comes when nothing of the connection's
       * own waits: it goes out now, and the socket's leftover to pending. */
      gsize taken = 0;
      while (taken < gathered->len)
        {
          g_autoptr (GError) local_error = NULL;
          gssize n = g_socket_send_with_blocking (output->socket, (const char *) gathered->data + taken,
                                                  gathered->len - taken, FALSE, NULL, &local_error);
          if (n < 0)
            {
              if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
                {
                  g_propagate_error (error, g_steal_pointer (&local_error));
                  ok = FALSE;
                }
              break;
            }
          taken += (gsize) n;
        }
      if (ok && taken < gathered->len)
        g_byte_array_append (output->pending, gathered->data + taken, gathered->len - taken);
      g_byte_array_set_size (gathered, 0);
      if (!ok)
        return FALSE;
    }
  return send_pending (output, error);
}

gsize
rh_corked_output_get_pending (RhCorkedOutput *output)
{
  return waiting (output);
}
