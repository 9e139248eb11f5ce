/* Bad input and limits against the real daemon: each bad connection is
 * closed with one log line, and a live stream carries on undisturbed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testutil.h"
#include "test-http.h"
#include "protocol/amf0.h"
#include "protocol/chunk-writer.h"
#include "protocol/command.h"

/* object is the caller's (copied into the message). */
static void
send_command (GSocketConnection *connection, const char *name, double tid, RhAmf0Value *object)
{
  g_assert_true (rh_test_send_command (connection, 0, name, tid, object != NULL ? rh_amf0_value_copy (object) : NULL,
                                       NULL));
}

static void
send_command_on (GSocketConnection *connection, guint32 stream_id, const char *name, double tid,
                 const char *argument)
{
  g_assert_true (rh_test_send_command (connection, stream_id, name, tid, NULL,
                                       argument != NULL ? rh_amf0_string_new (argument) : NULL));
}

/* A raw client: handshake, connect to "live", createStream, then command
 * ("publish" or "play") of name on stream 1. */
static GSocketConnection *
open_raw_session (RhTestDaemon *daemon, const char *command, const char *name)
{
  GSocketConnection *connection = rh_test_connect (daemon->port);
  g_assert_true (rh_test_client_handshake (connection));
  RhAmf0Value *object = rh_amf0_object_new ();
  rh_amf0_object_set (object, "app", rh_amf0_string_new ("live"));
  send_command (connection, "connect", 1, object);
  rh_amf0_value_free (object);
  send_command (connection, "createStream", 2, NULL);
  send_command_on (connection, 1, command, 3, name);
  return connection;
}

/* A player that never reads: above the soft limit it skips frames (so
 * its queue stays bounded), and once its socket has been full for
 * idle_timeout it is disconnected; the daemon goes on. */
static void
test_slow_player (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *clip = g_build_filename (dir, "clip.flv", NULL);
  rh_test_encode_clip (clip, 8, "640x360", "4M", FALSE);

  RhTestDaemon *daemon = rh_test_daemon_start (
    "server = { player_queue_soft_limit = 65536; player_queue_hard_limit = 1048576; idle_timeout = 2;\n"
    "           player_send_buffer = 65536; };", NULL);
  /* A small receive buffer set before connecting turns off the kernel's
   * autotuning, so the flood fills the daemon's side instead. */
  g_autoptr (GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                             G_SOCKET_PROTOCOL_TCP, NULL);
  g_assert_true (g_socket_set_option (socket, SOL_SOCKET, SO_RCVBUF, 4096, NULL));
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, daemon->port);
  g_assert_true (g_socket_connect (socket, address, NULL, NULL));
  g_autoptr (GSocketConnection) lazy = g_socket_connection_factory_create_connection (socket);
  g_assert_true (rh_test_client_handshake (lazy));
  RhAmf0Value *object = rh_amf0_object_new ();
  rh_amf0_object_set (object, "app", rh_amf0_string_new ("live"));
  send_command (lazy, "connect", 1, object);
  rh_amf0_value_free (object);
  send_command_on (lazy, 0, "createStream", 2, NULL);
  send_command_on (lazy, 1, "play", 0, "flood");
  g_assert_true (rh_test_daemon_wait_log (daemon, "play_start live/flood", 5000));
  /* Never reads from here on. */

  g_autofree char *url = rh_test_daemon_url (daemon, "live/flood");
  for (int round = 0; round < 5; round++)
    {
      /* As fast as it can: no -re. */
      const char *const publish[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-i", clip, "-c", "copy",
                                      "-f", "flv", url, NULL };
      g_autoptr (GSubprocess) publisher = rh_test_spawn (publish, NULL);
      g_assert_cmpint (rh_test_wait (publisher, 30000), ==, 0);
      g_autofree char *log = rh_test_daemon_log (daemon);
      if (strstr (log, "closed: timeout (player stopped reading)") != NULL)
        break;
    }
  g_assert_true (rh_test_daemon_wait_log (daemon, "c000001 closed: timeout (player stopped reading)", 8000));
  g_assert_true (rh_test_wait_closed (lazy, 5000));

  /* It skipped frames before it was cut off, and says how many; its
   * queue never reached the hard limit. */
  g_autofree char *log = rh_test_daemon_log (daemon);
  const char *stop = strstr (log, "play_stop live/flood reason=timeout");
  g_assert_nonnull (stop);
  const char *dropped = strstr (stop, "dropped=");
  g_assert_nonnull (dropped);
  g_assert_cmpint (g_ascii_strtoll (dropped + strlen ("dropped="), NULL, 10), >, 0);
  g_assert_null (strstr (log, "player too slow"));
  rh_test_daemon_finish (daemon);
  rh_test_remove_tree (dir);
}

static void
test_bad_input_during_live_stream (void)
{
  RhTestDaemon *daemon = rh_test_daemon_start ("server = { max_message_size = 1048576; };", NULL);
  g_autofree char *url = rh_test_daemon_url (daemon, "live/steady");
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *out = g_build_filename (dir, "steady.flv", NULL);
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 7, "320x180", NULL, NULL);
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish_start live/steady", 10000));
  const char *const player_argv[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-i", url, "-t", "4",
                                      "-c", "copy", "-y", out, NULL };
  g_autoptr (GSubprocess) player = rh_test_spawn (player_argv, NULL);
  g_assert_true (rh_test_daemon_wait_log (daemon, "play_start live/steady", 10000));

  /* An HTTP request. */
  g_autoptr (GSocketConnection) http = rh_test_connect (daemon->port);
  static const char request[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  g_assert_true (rh_test_write (http, request, sizeof request - 1));
  g_assert_true (rh_test_wait_closed (http, 3000));

  /* A truncated handshake: C0 and part of C1, then the client leaves. */
  g_autoptr (GSocketConnection) truncated = rh_test_connect (daemon->port);
  guint8 partial[200] = { 3 };
  g_assert_true (rh_test_write (truncated, partial, sizeof partial));
  g_io_stream_close (G_IO_STREAM (truncated), NULL, NULL);

  /* Garbage after a valid handshake. */
  g_autoptr (GSocketConnection) garbage = rh_test_connect (daemon->port);
  g_assert_true (rh_test_client_handshake (garbage));
  guint8 noise[4096];
  for (gsize i = 0; i < sizeof noise; i++)
    noise[i] = (guint8) g_test_rand_int ();
  noise[0] = 0x44;  /* type 1 header on a chunk stream never opened */
  g_assert_true (rh_test_write (garbage, noise, sizeof noise));
  g_assert_true (rh_test_wait_closed (garbage, 3000));

  /* A chunk header announcing a 16 MB message. */
  g_autoptr (GSocketConnection) huge = rh_test_connect (daemon->port);
  g_assert_true (rh_test_client_handshake (huge));
  static const guint8 huge_header[] = { 0x04, 0, 0, 0, 0xff, 0xff, 0xff, 9, 1, 0, 0, 0 };
  g_assert_true (rh_test_write (huge, huge_header, sizeof huge_header));
  g_assert_true (rh_test_wait_closed (huge, 3000));

  /* An AMF string longer than its message. */
  g_autoptr (GSocketConnection) liar = rh_test_connect (daemon->port);
  g_assert_true (rh_test_client_handshake (liar));
  static const guint8 lie[] = { 0x02, 0x00, 0x40, 'c', 'o', 'n' };
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  rh_chunk_write_message (wire, 128, 3, 0, 20, 0, lie, sizeof lie);
  g_assert_true (rh_test_write (liar, wire->data, wire->len));
  g_assert_true (rh_test_wait_closed (liar, 3000));

  /* An unknown command is not fatal: connect still works after it. */
  g_autoptr (GSocketConnection) curious = rh_test_connect (daemon->port);
  g_assert_true (rh_test_client_handshake (curious));
  send_command (curious, "fooBar", 7, NULL);
  RhAmf0Value *object = rh_amf0_object_new ();
  rh_amf0_object_set (object, "app", rh_amf0_string_new ("curious"));
  send_command (curious, "connect", 1, object);
  rh_amf0_value_free (object);
  g_assert_true (rh_test_daemon_wait_log (daemon, "connect app=curious", 3000));
  g_assert_false (rh_test_wait_closed (curious, 500));

  g_assert_cmpint (rh_test_wait (player, 20000), ==, 0);
  g_assert_cmpint (rh_test_wait (publisher, 20000), ==, 0);
  RhTestProbe probe;
  g_assert_true (rh_test_probe (out, &probe));
  g_assert_cmpstr (probe.video_codec, ==, "h264");
  g_assert_cmpuint (probe.video_frames, ==, 120);
  rh_test_probe_clear (&probe);

  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);
  g_autofree char *log = rh_test_daemon_log (daemon);
  g_assert_cmpuint (rh_test_count (log, "closed: protocol_error (handshake version 71 is not RTMP 3)"), ==, 1);
  g_assert_cmpuint (rh_test_count (log, "closed: client_disconnect (closed by peer) after"), >=, 1);
  g_assert_cmpuint (rh_test_count (log, "closed: protocol_error (chunk type 1 on chunk stream 4 that has no previous header)"), ==, 1);
  g_assert_cmpuint (rh_test_count (log, "closed: protocol_error (message of 16777215 bytes on chunk stream 4 exceeds the limit of 65536)"), ==, 1);
  g_assert_cmpuint (rh_test_count (log, "closed: protocol_error (AMF0 value needs 64 bytes"), ==, 1);
  g_assert_cmpuint (rh_test_count (log, "ignored unknown command \"fooBar\""), ==, 1);
  g_assert_cmpuint (rh_test_count (log, "closed: protocol_error"), ==, 4);
  /* The stream was never interrupted. */
  g_assert_cmpuint (rh_test_count (log, "publish_stop live/steady reason=unpublish"), ==, 1);
  rh_test_daemon_free (daemon);
  rh_test_remove_tree (dir);
}

static void
test_connection_limits_and_timeouts (void)
{
  RhTestDaemon *daemon = rh_test_daemon_start (
    "server = { max_connections = 3; handshake_timeout = 1.0; idle_timeout = 2.0; };", NULL);
  /* One completes its handshake and then says nothing: idle timeout. */
  g_autoptr (GSocketConnection) quiet = rh_test_connect (daemon->port);
  g_assert_true (rh_test_client_handshake (quiet));
  g_autoptr (GSocketConnection) a = rh_test_connect (daemon->port);
  g_autoptr (GSocketConnection) b = rh_test_connect (daemon->port);
  g_assert_true (rh_test_daemon_wait_log (daemon, "c000003 accepted", 3000));
  /* The fourth is over max_connections: closed at once. */
  g_autoptr (GSocketConnection) d = rh_test_connect (daemon->port);
  g_assert_true (rh_test_wait_closed (d, 1000));
  g_assert_true (rh_test_daemon_wait_log (daemon, "refused: max_connections reached", 1000));
  /* The silent ones hit the handshake timeout. */
  g_assert_true (rh_test_wait_closed (a, 4000));
  g_assert_true (rh_test_wait_closed (b, 4000));
  g_assert_true (rh_test_wait_closed (quiet, 5000));

  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);
  g_autofree char *log = rh_test_daemon_log (daemon);
  g_assert_cmpuint (rh_test_count (log, "closed: timeout (handshake not completed in time)"), ==, 2);
  g_assert_cmpuint (rh_test_count (log, "closed: timeout (nothing received within idle_timeout)"), ==, 1);
  rh_test_daemon_free (daemon);
}

/* max_connections_per_ip (default 100) applies to every address outside
 * per_ip_exempt (default loopback); a reload changes both at once. */
static void
test_per_ip_limit (void)
{
  RhTestDaemon *daemon = rh_test_daemon_start ("server = { max_connections_per_ip = 2; per_ip_exempt = [ ]; };",
                                               NULL);
  g_autoptr (GSocketConnection) a G_GNUC_UNUSED = rh_test_connect (daemon->port);
  g_autoptr (GSocketConnection) b G_GNUC_UNUSED = rh_test_connect (daemon->port);
  g_assert_true (rh_test_daemon_wait_log (daemon, "c000002 accepted", 3000));
  g_autoptr (GSocketConnection) c = rh_test_connect (daemon->port);
  g_assert_true (rh_test_wait_closed (c, 2000));
  g_assert_true (rh_test_daemon_wait_log (daemon, "refused: max_connections_per_ip reached", 1000));

  /* Loopback exempt again (the default): a third one stays. */
  rh_test_daemon_reload (daemon, "server = { max_connections_per_ip = 2; };");
  g_assert_true (rh_test_daemon_wait_log (daemon, "configuration reloaded", 5000));
  g_autoptr (GSocketConnection) d = rh_test_connect (daemon->port);
  /* A refused connection is closed before any handshake. */
  g_assert_true (rh_test_client_handshake (d));
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);
  g_autofree char *log = rh_test_daemon_log (daemon);
  g_assert_cmpuint (rh_test_count (log, "refused: max_connections_per_ip reached"), ==, 1);
  rh_test_daemon_free (daemon);
}

static void
test_invalid_stream_name (void)
{
  RhTestDaemon *daemon = rh_test_daemon_start (NULL, NULL);
  g_autofree char *url = rh_test_daemon_url (daemon, "live/bad!name");
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 2, "320x180", NULL, NULL);
  g_assert_cmpint (rh_test_wait (publisher, 15000), !=, 0);
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);
  g_autofree char *log = rh_test_daemon_log (daemon);
  g_assert_cmpuint (rh_test_count (log, "closed: rejected (publish of invalid stream name \"bad!name\")"), ==, 1);
  g_assert_cmpuint (rh_test_count (log, "publish_start"), ==, 0);
  rh_test_daemon_free (daemon);
}

/* Client strings reach the log escaped, cut and with secrets masked; a
 * newline cannot forge a log line. Events keep the real values. */
static void
test_hostile_strings_in_logs (void)
{
  const char *const args[] = { "--hook-stdio-format", "jsonl", NULL };
  RhTestDaemon *daemon = rh_test_daemon_start (NULL, args);
  g_autoptr (GSocketConnection) client = rh_test_connect (daemon->port);
  g_assert_true (rh_test_client_handshake (client));
  RhAmf0Value *object = rh_amf0_object_new ();
  rh_amf0_object_set (object, "app", rh_amf0_string_new ("live"));
  rh_amf0_object_set (object, "tcUrl", rh_amf0_string_new ("rtmp://user:PASSWORD@127.0.0.1/live?auth=SECRET"));
  rh_amf0_object_set (object, "flashVer", rh_amf0_string_new ("FMLE\n2026-01-01T00:00:00.000 rtmphooksd[1] notice: forged"));
  send_command (client, "connect", 1, object);
  rh_amf0_value_free (object);
  send_command (client, "createStream", 2, NULL);
  send_command_on (client, 1, "publish", 3, "cam?key=SECRET2");
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish_start live/cam", 10000));
  g_autoptr (GSocketConnection) second = open_raw_session (daemon, "play", "bad\nforged line");
  g_assert_true (rh_test_wait_closed (second, 10000));
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);

  g_autofree char *log = rh_test_daemon_log (daemon);
  g_assert_null (strstr (log, "SECRET"));
  g_assert_null (strstr (log, "PASSWORD"));
  g_assert_null (strstr (log, "\nforged"));
  g_assert_null (strstr (log, "\n2026-01-01T00:00:00.000"));
  g_assert_nonnull (strstr (log, "tcUrl=\"rtmp://user:***@127.0.0.1/live?auth=***\""));
  g_assert_nonnull (strstr (log, "flashVer=\"FMLE\\x0a2026-01-01T00:00:00.000 rtmphooksd[1] notice: forged\""));
  g_assert_nonnull (strstr (log, "play of invalid stream name \"bad\\x0aforged line\""));
  /* Hooks need the real values: the events carry them. */
  g_autofree char *events = rh_test_daemon_stdout (daemon);
  g_assert_nonnull (strstr (events, "\"tc_url\":\"rtmp://user:PASSWORD@127.0.0.1/live?auth=SECRET\""));
  g_assert_nonnull (strstr (events, "\"query\":\"key=SECRET2\""));
  rh_test_daemon_free (daemon);
}

/* Before connect a message may be 64 KiB at most; after it, the
 * configured limit applies, and a message whose AMF values would cost a
 * thousandfold decoded is refused. Each closes only its own connection. */
static void
test_message_budgets (void)
{
  RhTestDaemon *daemon = rh_test_daemon_start (NULL, NULL);

  g_autoptr (GSocketConnection) stranger = rh_test_connect (daemon->port);
  g_assert_true (rh_test_client_handshake (stranger));
  /* Type 20 on csid 3, 100000 bytes announced. */
  static const guint8 big_header[] = { 0x03, 0, 0, 0, 0x01, 0x86, 0xa0, 20, 0, 0, 0, 0 };
  g_assert_true (rh_test_write (stranger, big_header, sizeof big_header));
  g_assert_true (rh_test_wait_closed (stranger, 10000));

  g_autoptr (GSocketConnection) publisher = open_raw_session (daemon, "publish", "budget");
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish_start live/budget", 10000));
  /* ["@setDataFrame", "onMetaData", [70000 x null]]: 70 KB on the wire. */
  g_autoptr (GByteArray) payload = g_byte_array_new ();
  rh_amf0_encode_string (payload, "@setDataFrame");
  rh_amf0_encode_string (payload, "onMetaData");
  guint32 count = 70000;
  guint8 header[5] = { 0x0A, count >> 24, (count >> 16) & 0xff, (count >> 8) & 0xff, count & 0xff };
  g_byte_array_append (payload, header, sizeof header);
  for (guint32 i = 0; i < count; i++)
    g_byte_array_append (payload, (const guint8 *) "\x05", 1);
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  rh_chunk_write_message (wire, 128, 4, 0, 18, 1, payload->data, payload->len);
  g_assert_true (rh_test_write (publisher, wire->data, wire->len));
  g_assert_true (rh_test_wait_closed (publisher, 10000));

  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);
  g_autofree char *log = rh_test_daemon_log (daemon);
  g_assert_nonnull (strstr (log, "closed: protocol_error (message of 100000 bytes on chunk stream 3 exceeds "
                                 "the limit of 65536)"));
  g_assert_nonnull (strstr (log, "closed: protocol_error (more than 65536 AMF0 values in one message)"));
  g_assert_cmpuint (rh_test_count (log, "publish_stop live/budget reason=protocol_error"), ==, 1);
  rh_test_daemon_free (daemon);
}

/* Unfinished messages are bounded per connection (max_message_size + 64
 * KiB over all chunk streams) and across connections
 * (max_input_memory): a client that opens many chunk streams and never
 * finishes a message is closed, others carry on, and the memory comes
 * back. */
static void
test_unfinished_budgets (void)
{
  guint16 api_port = rh_test_free_port ();
  g_autofree char *config = g_strdup_printf ("server = { max_message_size = 262144; max_input_memory = 1048576; };\n"
                                             "http = { listen = \"127.0.0.1:%u\"; };\n", api_port);
  RhTestDaemon *daemon = rh_test_daemon_start (config, NULL);

  /* One connection: 20 chunk streams, each 200 KB announced and 20 KB sent. */
  g_autoptr (GSocketConnection) hoarder = open_raw_session (daemon, "publish", "hoard");
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish_start live/hoard", 10000));
  guint8 filler[20000] = { 0 };
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  /* A chunk is the chunk size unless the message ends: 20000, so that
   * each piece below is one whole chunk. */
  g_autoptr (GBytes) size = rh_control_u32 (sizeof filler);
  rh_chunk_write_message (wire, 128, 2, 0, RH_MSG_SET_CHUNK_SIZE, 0, g_bytes_get_data (size, NULL), 4);
  for (guint csid = 10; csid < 30; csid++)
    {
      guint8 header[RH_CHUNK_HEADER_MAX];
      gsize n = rh_chunk_write_header (header, csid, 0, 200000, 9, 1);
      g_byte_array_append (wire, header, (guint) n);
      g_byte_array_append (wire, filler, sizeof filler);
    }
  /* Written in full or not: the daemon may close it halfway. */
  rh_test_write (hoarder, wire->data, wire->len);
  g_assert_true (rh_test_wait_closed (hoarder, 10000));
  g_assert_true (rh_test_daemon_wait_log (daemon, "closed: protocol_error (unfinished messages would hold "
                                          "more than 327680 bytes)", 10000));

  /* Many connections, each within its own bound: together they pass
   * max_input_memory, and the one that would is closed. */
  GPtrArray *clients = g_ptr_array_new_with_free_func (g_object_unref);
  for (int i = 0; i < 8; i++)
    {
      g_autofree char *name = g_strdup_printf ("many%d", i);
      GSocketConnection *client = open_raw_session (daemon, "publish", name);
      g_autoptr (GByteArray) part = g_byte_array_new ();
      rh_chunk_write_message (part, 128, 2, 0, RH_MSG_SET_CHUNK_SIZE, 0, g_bytes_get_data (size, NULL), 4);
      guint8 header[RH_CHUNK_HEADER_MAX];
      gsize n = rh_chunk_write_header (header, 10, 0, 200000, 9, 1);
      g_byte_array_append (part, header, (guint) n);
      /* 140 KB of a 200 KB message: it stays unfinished. Each chunk after
       * the first has a one-byte header (type 3 on csid 10). */
      for (int k = 0; k < 7; k++)
        {
          if (k > 0)
            g_byte_array_append (part, (const guint8 *) "\xca", 1);
          g_byte_array_append (part, filler, sizeof filler);
        }
      rh_test_write (client, part->data, part->len);
      g_ptr_array_add (clients, client);
    }
  g_assert_true (rh_test_daemon_wait_log (daemon, "the input budget of all connections (1048576 bytes) is spent",
                                          10000));
  g_ptr_array_unref (clients);
  g_assert_true (rh_test_daemon_wait_log_count (daemon, "publish_stop live/many", 8, 10000));

  /* Every close is counted by its reason: the hoarder and at least one of
   * the many over a budget, the rest of the many by their own hang-up.
   * A close logs its publish_stop before its "closed:" line: wait for all
   * nine of those before counting. */
  g_assert_true (rh_test_daemon_wait_log_count (daemon, " closed: ", 9, 10000));
  g_autofree char *log = rh_test_daemon_log (daemon);
  guint over_budget = rh_test_count (log, "closed: protocol_error");
  g_autofree char *metrics = rh_test_http_get (api_port, "/metrics");
  g_autofree char *protocol_errors = g_strdup_printf ("\nrtmphooks_connections_closed_total{reason=\"protocol_error\"} %u\n",
                                                      over_budget);
  g_assert_cmpuint (over_budget, >=, 2);
  g_assert_nonnull (strstr (metrics, protocol_errors));
  g_autofree char *hang_ups = g_strdup_printf ("\nrtmphooks_connections_closed_total{reason=\"client_disconnect\"} %u\n",
                                               9 - over_budget);
  g_assert_nonnull (strstr (metrics, hang_ups));
  rh_test_daemon_finish (daemon);
}

/* A client that completes the handshake and then trickles a byte at a
 * time never publishes or plays: setup_timeout closes it however often it
 * sends, while a player that started in time stays. */
static void
test_setup_deadline (void)
{
  RhTestDaemon *daemon = rh_test_daemon_start ("server = { setup_timeout = 1.5; idle_timeout = 60.0; };", NULL);
  g_autoptr (GSocketConnection) player = open_raw_session (daemon, "play", "later");
  g_assert_true (rh_test_daemon_wait_log (daemon, "play_start live/later (waiting for a publisher)", 10000));

  g_autoptr (GSocketConnection) trickler = rh_test_connect (daemon->port);
  g_assert_true (rh_test_client_handshake (trickler));
  /* The first byte of a chunk header, then one byte every 200 ms. */
  gboolean closed = FALSE;
  static const guint8 header[] = { 0x03, 0, 0, 0, 0, 0, 0x40, 20, 0, 0, 0, 0 };
  for (guint i = 0; i < 100 && !closed; i++)
    {
      if (i < sizeof header)
        rh_test_write (trickler, header + i, 1);
      else
        rh_test_write (trickler, "x", 1);
      closed = rh_test_wait_closed (trickler, 200);
    }
  g_assert_true (closed);
  g_assert_true (rh_test_daemon_wait_log (daemon, "closed: timeout (no publish or play within setup_timeout)",
                                          5000));
  /* The player, older than setup_timeout by now, is still there. */
  g_assert_false (rh_test_wait_closed (player, 300));
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);
  g_autofree char *log = rh_test_daemon_log (daemon);
  g_assert_cmpuint (rh_test_count (log, "no publish or play within setup_timeout"), ==, 1);
  rh_test_daemon_free (daemon);
}

/* The kernel's count of connections dropped because an accept queue was
 * full (each one costs the client a SYN retry, a second or more). */
static guint64
listen_overflows (void)
{
  g_autofree char *netstat = NULL;
  guint64 total = 0;
  g_assert_true (g_file_get_contents ("/proc/net/netstat", &netstat, NULL, NULL));
  g_auto (GStrv) lines = g_strsplit (netstat, "\n", -1);
  for (guint i = 0; lines[i] != NULL && lines[i + 1] != NULL; i++)
    {
      if (!g_str_has_prefix (lines[i], "TcpExt: ") || !g_str_has_prefix (lines[i + 1], "TcpExt: "))
        continue;
      g_auto (GStrv) names = g_strsplit (lines[i], " ", -1);
      g_auto (GStrv) values = g_strsplit (lines[i + 1], " ", -1);
      for (guint k = 0; names[k] != NULL && values[k] != NULL; k++)
        if (strcmp (names[k], "ListenOverflows") == 0 || strcmp (names[k], "ListenDrops") == 0)
          total += g_ascii_strtoull (values[k], NULL, 10);
      break;
    }
  return total;
}

/* 1000 clients connecting at once are all accepted without a TCP retry:
 * the listen backlog holds them until the server takes them. */
static void
test_connection_burst (void)
{
  enum { N = 1000 };
  struct rlimit limit;
  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &limit), ==, 0);
  if (limit.rlim_cur < N + 100)
    {
      limit.rlim_cur = MIN (limit.rlim_max, (rlim_t) 4 * N);
      g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &limit), ==, 0);
    }
  RhTestDaemon *daemon = rh_test_daemon_start ("server = { max_connections = 2000; };", NULL);
  struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons (daemon->port) };
  address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  int fds[N];
  guint64 overflows_before = listen_overflows ();

  for (int i = 0; i < N; i++)
    {
      fds[i] = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      g_assert_cmpint (fds[i], >=, 0);
      int result = connect (fds[i], (struct sockaddr *) &address, sizeof address);
      g_assert_true (result == 0 || errno == EINPROGRESS);
    }
  g_assert_true (rh_test_daemon_wait_log_count (daemon, " accepted from ", N, 60000));
  guint64 overflows_after = listen_overflows ();
  g_test_message ("listen overflows during the burst: %" G_GUINT64_FORMAT,
                  overflows_after - overflows_before);
  g_assert_cmpuint (overflows_after, ==, overflows_before);
  for (int i = 0; i < N; i++)
    close (fds[i]);
  rh_test_daemon_finish (daemon);
}

static void
test_config_check (void)
{
  g_autofree char *bad = g_build_filename (rh_test_env ("RH_FIXTURES"), "config", "bad-values.conf", NULL);
  g_autofree char *good = g_build_filename (rh_test_env ("RH_FIXTURES"), "config", "good.conf", NULL);
  g_autofree char *shipped = g_build_filename (rh_test_env ("RH_FIXTURES"), "..", "..", "etc",
                                               "rtmphooks.conf", NULL);
  g_autofree char *out = NULL;

  g_assert_cmpint (rh_test_check_config_file (bad, &out), ==, 1);
  g_autofree char *line = g_strdup_printf ("%s:3: chunk_size = 10 is out of range", bad);
  g_assert_nonnull (strstr (out, line));
  g_assert_cmpuint (rh_test_count (out, bad), ==, 13);  /* every error, each with FILE:LINE */
  g_assert_nonnull (strstr (out, "13 configuration error(s)"));
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (rh_test_check_config_file (good, &out), ==, 0);
  g_assert_nonnull (strstr (out, "is valid"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (rh_test_check_config_file (shipped, &out), ==, 0);
  g_clear_pointer (&out, g_free);

  /* Bad command line values get a clear error too. */
  const char *const argv[] = { rh_test_env ("RH_DAEMON"), "-t", "-c", good, "--listen", "nowhere",
                               "--log-level", "loud", NULL };
  g_autoptr (GSubprocess) process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                                       | G_SUBPROCESS_FLAGS_STDERR_MERGE, NULL);
  g_assert_true (g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, NULL));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 2);
  g_assert_nonnull (strstr (out, "--log-level: unknown level \"loud\""));
}

static void
test_listen_conflict_fails_start (void)
{
  RhTestDaemon *first = rh_test_daemon_start (NULL, NULL);
  g_autofree char *address = g_strdup_printf ("127.0.0.1:%u", first->port);
  const char *const argv[] = { rh_test_env ("RH_DAEMON"), "-c", "/dev/null", "--listen", address, NULL };
  g_autoptr (GSubprocess) second = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                                      | G_SUBPROCESS_FLAGS_STDERR_MERGE, NULL);
  g_autofree char *out = NULL;
  g_assert_true (g_subprocess_communicate_utf8 (second, NULL, NULL, &out, NULL, NULL));
  g_assert_cmpint (g_subprocess_get_exit_status (second), ==, 1);
  g_assert_nonnull (strstr (out, "cannot listen on"));
  rh_test_daemon_finish (first);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/robustness/bad-input-during-live-stream", test_bad_input_during_live_stream);
  g_test_add_func ("/robustness/limits-and-timeouts", test_connection_limits_and_timeouts);
  g_test_add_func ("/robustness/slow-player", test_slow_player);
  g_test_add_func ("/robustness/per-ip-limit", test_per_ip_limit);
  g_test_add_func ("/robustness/invalid-stream-name", test_invalid_stream_name);
  g_test_add_func ("/robustness/hostile-strings-in-logs", test_hostile_strings_in_logs);
  g_test_add_func ("/robustness/connection-burst", test_connection_burst);
  g_test_add_func ("/robustness/message-budgets", test_message_budgets);
  g_test_add_func ("/robustness/unfinished-budgets", test_unfinished_budgets);
  g_test_add_func ("/robustness/setup-deadline", test_setup_deadline);
  g_test_add_func ("/robustness/config-check", test_config_check);
  g_test_add_func ("/robustness/listen-conflict", test_listen_conflict_fails_start);
  return g_test_run ();
}
