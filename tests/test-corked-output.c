/* The corked output under TLS records: gathered while corked, sent in
 * one go at uncork, what the socket refuses kept in order, and a bound
 * on what it keeps. */
#include "config.h"

#include <gio/gio.h>
#include <string.h>
#include <sys/socket.h>

#include "util/corked-output.h"

typedef struct {
  GSocket *writer;
  GSocket *reader;
} Pair;

static void
pair_open (Pair *pair)
{
  int fds[2];
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
  pair->writer = g_socket_new_from_fd (fds[0], NULL);
  pair->reader = g_socket_new_from_fd (fds[1], NULL);
  g_socket_set_blocking (pair->writer, FALSE);
  g_socket_set_blocking (pair->reader, FALSE);
}

static void
pair_close (Pair *pair)
{
  g_object_unref (pair->writer);
  g_object_unref (pair->reader);
}

/* Everything the reader can get now, appended to received. */
static void
drain (GSocket *reader, GByteArray *received)
{
  guint8 buffer[65536];
  for (;;)
    {
      gssize n = g_socket_receive (reader, (char *) buffer, sizeof buffer, NULL, NULL);
      if (n <= 0)
        return;
      g_byte_array_append (received, buffer, (guint) n);
    }
}

static void
test_gathers_while_corked (void)
{
  Pair pair;
  pair_open (&pair);
  g_autoptr (GOutputStream) stream = rh_corked_output_new (pair.writer);
  RhCorkedOutput *corked = RH_CORKED_OUTPUT (stream);
  GPollableOutputStream *pollable = G_POLLABLE_OUTPUT_STREAM (stream);
  g_autoptr (GByteArray) received = g_byte_array_new ();

  rh_corked_output_cork (corked);
  g_assert_cmpint (g_pollable_output_stream_write_nonblocking (pollable, "one,", 4, NULL, NULL), ==, 4);
  g_assert_cmpint (g_pollable_output_stream_write_nonblocking (pollable, "two,", 4, NULL, NULL), ==, 4);
  g_assert_cmpint (g_pollable_output_stream_write_nonblocking (pollable, "three", 5, NULL, NULL), ==, 5);
  drain (pair.reader, received);
  g_assert_cmpuint (received->len, ==, 0);
  g_assert_true (rh_corked_output_uncork (corked, NULL));
  g_assert_cmpuint (rh_corked_output_get_pending (corked), ==, 0);
  drain (pair.reader, received);
  g_assert_cmpmem (received->data, received->len, "one,two,three", 13);

  /* Uncorked, a write goes straight out. */
  g_assert_cmpint (g_output_stream_write (stream, "!", 1, NULL, NULL), ==, 1);
  drain (pair.reader, received);
  g_assert_cmpmem (received->data, received->len, "one,two,three!", 14);
  pair_close (&pair);
}

static void
test_keeps_order_when_full (void)
{
  Pair pair;
  pair_open (&pair);
  g_socket_set_option (pair.writer, SOL_SOCKET, SO_SNDBUF, 4096, NULL);
  g_autoptr (GOutputStream) stream = rh_corked_output_new (pair.writer);
  RhCorkedOutput *corked = RH_CORKED_OUTPUT (stream);
  GPollableOutputStream *pollable = G_POLLABLE_OUTPUT_STREAM (stream);

  /* 128 KiB of a counting pattern, more than the socket takes. */
  g_autoptr (GByteArray) sent = g_byte_array_new ();
  for (guint i = 0; i < 128 * 1024; i++)
    {
      guint8 byte = (guint8) (i * 31 + i / 251);
      g_byte_array_append (sent, &byte, 1);
    }
  rh_corked_output_cork (corked);
  g_assert_cmpint (g_pollable_output_stream_write_nonblocking (pollable, sent->data, 64 * 1024, NULL, NULL), ==,
                   64 * 1024);
  g_assert_true (rh_corked_output_uncork (corked, NULL));
  gsize left = rh_corked_output_get_pending (corked);
  g_assert_cmpuint (left, >, 0);
  g_assert_false (g_pollable_output_stream_is_writable (pollable));

  /* Written while the rest waits: behind it. */
  g_assert_cmpint (g_pollable_output_stream_write_nonblocking (pollable, sent->data + 64 * 1024, 64 * 1024, NULL,
                                                               NULL), ==, 64 * 1024);
  /* Past the bound while anything waits: WOULD_BLOCK. */
  rh_corked_output_cork (corked);
  guint8 big[RH_CORKED_OUTPUT_MAX];
  memset (big, 0, sizeof big);
  g_autoptr (GError) error = NULL;
  g_assert_cmpint (g_pollable_output_stream_write_nonblocking (pollable, big, sizeof big, NULL, &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);

  g_autoptr (GByteArray) received = g_byte_array_new ();
  for (int round = 0; round < 1000 && received->len < sent->len; round++)
    {
      drain (pair.reader, received);
      g_assert_true (rh_corked_output_uncork (corked, NULL));
    }
  g_assert_cmpuint (rh_corked_output_get_pending (corked), ==, 0);
  g_assert_cmpmem (received->data, received->len, sent->data, sent->len);
  pair_close (&pair);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/corked-output/gathers-while-corked", test_gathers_while_corked);
  g_test_add_func ("/corked-output/keeps-order-when-full", test_keeps_order_when_full);
  return g_test_run ();
}
