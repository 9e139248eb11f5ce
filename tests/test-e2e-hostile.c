/* Hostile peers, end to end: each attack a single unauthenticated peer
 * could make, reproduced against the real daemon while an ffmpeg
 * publisher streams and a player reads. Each asserts what the issue of
 * bounds is about: the daemon's memory stays within 100 MB of where it
 * was, the player's largest frame gap under 250 ms, the hostile peer is
 * closed for the right reason and counted, and a new publish is served
 * afterwards. Every attack is bounded in count and time. */
#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "test-player.h"
#include "testutil.h"
#include "protocol/amf0.h"
#include "protocol/chunk-reader.h"
#include "protocol/chunk-writer.h"
#include "protocol/command.h"

#define RSS_BOUND_KIB (100 * 1024)
#define GAP_BOUND_US (250 * 1000)
#define ATTACK_SECONDS 20

static char *clip_path;   /* a short H.264 + AAC clip, published in a loop */

/* ---- the watch: a live stream and a player beside every attack ---- */

typedef struct {
  RhTestDaemon *daemon;
  guint16 api_port;
  GSubprocess *publisher;
  RhTestPlayer *player;
  guint64 rss_before;
  guint64 rss_max;
  guint sampler_id;
  gint64 from;
  guint frames_before;
} Watch;

static gboolean
sample_rss (gpointer data)
{
  Watch *watch = data;
  watch->rss_max = MAX (watch->rss_max, rh_test_proc_status_kib (rh_test_daemon_pid (watch->daemon), "VmRSS:"));
  return G_SOURCE_CONTINUE;
}

/* Runs the main context (the watch's player reads) until the log has
 * needle. */
static gboolean
watch_wait_log (Watch *watch, const char *needle, guint timeout_ms)
{
  return rh_test_iterate_until_log (watch->daemon, needle, 1, timeout_ms);
}

/* Another user may pass through the scratch directories up to dir (0700
 * as made): o+x on each, up to the temporary directory itself. */
static void
open_the_way (const char *dir)
{
  g_autofree char *top = g_canonicalize_filename (g_get_tmp_dir (), NULL);
  g_autofree char *at = g_path_get_dirname (dir);
  while (g_str_has_prefix (at, top))
    {
      GStatBuf st;
      g_assert_cmpint (g_stat (at, &st), ==, 0);
      g_assert_cmpint (g_chmod (at, (st.st_mode & 07777) | 0011), ==, 0);
      if (strcmp (at, top) == 0)
        break;
      char *up = g_path_get_dirname (at);
      g_free (at);
      at = up;
    }
}

static Watch *watch_start_on (const char *config, const char *http_extra, const char *const *argv_prefix,
                              guint16 port);

/* The daemon runs with an HTTP API on api_port (config may add to the
 * http section through http_extra) and without AddressSanitizer's
 * quarantine, which would read as growth. */
static Watch *
watch_start_full (const char *config, const char *http_extra, const char *const *argv_prefix)
{
  return watch_start_on (config, http_extra, argv_prefix, 0);
}

/* With a port (0: any free one, and "@PORT@" is not replaced), "@PORT@"
 * in config is the daemon's own. */
static Watch *
watch_start_on (const char *config, const char *http_extra, const char *const *argv_prefix, guint16 port)
{
  Watch *watch = g_new0 (Watch, 1);
  watch->api_port = rh_test_free_port ();
  g_autofree char *full = g_strdup_printf ("%s\nhttp = { listen = \"127.0.0.1:%u\"; %s };\n", config != NULL ? config : "",
                                           watch->api_port, http_extra != NULL ? http_extra : "");
  const char *asan = g_getenv ("ASAN_OPTIONS");
  /* LeakSanitizer's check at exit needs a task of its own, which a test
   * of task limits refuses it. */
  g_autofree char *options = g_strdup_printf ("ASAN_OPTIONS=%s%squarantine_size_mb=0%s", asan != NULL ? asan : "",
                                              asan != NULL && *asan != '\0' ? ":" : "",
                                              argv_prefix != NULL ? ":detect_leaks=0" : "");
  const char *const env[] = { options, NULL };
  if (argv_prefix == NULL && port == 0)
    watch->daemon = rh_test_daemon_start_full (full, NULL, env, FALSE);
  else
    {
      /* The caller's command in front of the daemon's (setpriv to another
       * user, say): a copy of the daemon and its configuration where that
       * user can read them. */
      if (port == 0)
        port = rh_test_free_port ();
      g_autofree char *port_text = g_strdup_printf ("%u", port);
      g_auto (GStrv) pieces = g_strsplit (full, "@PORT@", -1);
      g_free (full);
      full = g_strjoinv (port_text, pieces);
      char *dir = rh_test_make_dir ();
      g_assert_cmpint (g_chmod (dir, 0755), ==, 0);
      open_the_way (dir);
      g_autofree char *path = g_build_filename (dir, "rtmphooks.conf", NULL);
      g_assert_true (g_file_set_contents (path, full, -1, NULL));
      g_assert_cmpint (g_chmod (path, 0644), ==, 0);
      g_autofree char *binary = g_build_filename (dir, "rtmphooksd", NULL);
      g_autoptr (GFile) from = g_file_new_for_path (rh_test_env ("RH_DAEMON"));
      g_autoptr (GFile) to = g_file_new_for_path (binary);
      g_assert_true (g_file_copy (from, to, G_FILE_COPY_NONE, NULL, NULL, NULL, NULL));
      g_assert_cmpint (g_chmod (binary, 0755), ==, 0);
      g_autofree char *listen = g_strdup_printf ("127.0.0.1:%u", port);
      g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
      if (argv_prefix != NULL)
        g_strv_builder_addv (builder, (const char **) argv_prefix);
      g_strv_builder_add_many (builder, binary, "-c", path, "--listen", listen, "--log-level", "info", NULL);
      g_auto (GStrv) argv = g_strv_builder_end (builder);
      watch->daemon = rh_test_daemon_spawn ((const char *const *) argv, dir, NULL, env, port);
    }
  g_autofree char *url = rh_test_daemon_url (watch->daemon, "live/steady");
  const char *const publish[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1",
                                  "-i", clip_path, "-c", "copy", "-f", "flv", url, NULL };
  watch->publisher = rh_test_spawn (publish, NULL);
  g_assert_true (rh_test_daemon_wait_log (watch->daemon, "publish_start live/steady", 15000));
  watch->player = rh_test_player_new (watch->daemon->port, "live", "steady", 0, NULL);
  g_assert_true (rh_test_player_wait_video (watch->player, 30, 15000));
  return watch;
}

static Watch *
watch_start (const char *config)
{
  return watch_start_full (config, NULL, NULL);
}

/* The attack begins: memory and frames are measured from here. */
static void
watch_begin (Watch *watch)
{
  watch->rss_before = rh_test_proc_status_kib (rh_test_daemon_pid (watch->daemon), "VmRSS:");
  watch->rss_max = watch->rss_before;
  watch->sampler_id = g_timeout_add (100, sample_rss, watch);
  watch->from = g_get_monotonic_time ();
  watch->frames_before = rh_test_player_video_messages (watch->player);
}

/* The attack is over: the stream went on and memory stayed bounded. */
static void
watch_end (Watch *watch, const char *attack)
{
  /* A few more frames, so that a stall at the very end would show. */
  g_assert_true (rh_test_player_wait_video (watch->player, rh_test_player_video_messages (watch->player) + 10, 5000));
  g_source_remove (watch->sampler_id);
  sample_rss (watch);
  gint64 gap = rh_test_player_largest_gap (watch->player, watch->from, G_MAXINT64);
  g_test_message ("%s: RSS %" G_GUINT64_FORMAT " KiB before, at most %" G_GUINT64_FORMAT " KiB; largest frame gap %.0f ms "
                  "over %.1f s; %u frames", attack, watch->rss_before, watch->rss_max, (double) gap / 1000,
                  (double) (g_get_monotonic_time () - watch->from) / G_USEC_PER_SEC,
                  rh_test_player_video_messages (watch->player) - watch->frames_before);
  g_assert_cmpuint (watch->rss_max - watch->rss_before, <, RSS_BOUND_KIB);
  g_assert_cmpint (gap, <, GAP_BOUND_US);
  g_assert_false (rh_test_player_closed (watch->player));
}

/* The daemon serves a new publish after the attack. */
static void
watch_publish_again (Watch *watch)
{
  g_autoptr (GSocketConnection) publisher = rh_test_raw_publish (watch->daemon->port, "live", "afterwards");
  g_assert_nonnull (publisher);
  g_assert_true (watch_wait_log (watch, "publish_start live/afterwards", 10000));
  g_io_stream_close (G_IO_STREAM (publisher), NULL, NULL);
}

static void
watch_free (Watch *watch)
{
  rh_test_player_free (watch->player);
  g_subprocess_force_exit (watch->publisher);
  rh_test_wait (watch->publisher, 10000);
  g_object_unref (watch->publisher);
  g_assert_cmpint (rh_test_daemon_stop (watch->daemon), ==, 0);
  rh_test_daemon_free (watch->daemon);
  g_free (watch);
}

/* A raw HTTP exchange: request as given, the whole answer until the
 * daemon closes (the request says Connection: close). */
static char *
http_exchange (guint16 port, const char *request)
{
  g_autoptr (GSocketConnection) connection = rh_test_connect (port);
  g_assert_nonnull (connection);
  g_assert_true (rh_test_write (connection, request, strlen (request)));
  g_autoptr (GDataInputStream) in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  return g_data_input_stream_read_upto (in, "", 0, NULL, NULL, NULL);
}

static char *
metrics (Watch *watch, const char *token)
{
  g_autofree char *authorization = token != NULL ? g_strdup_printf ("Authorization: Bearer %s\r\n", token)
                                                 : g_strdup ("");
  g_autofree char *request = g_strdup_printf ("GET /metrics HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n",
                                              authorization);
  return http_exchange (watch->api_port, request);
}

/* ---- attacks run on threads of their own: the player keeps reading ---- */

typedef struct {
  gint done;
} Attack;

static gboolean
attack_done (gpointer data)
{
  return g_atomic_int_get (&((Attack *) data)->done);
}

/* 7-byte pings: the first with a full header, the rest continuations. */
static GByteArray *
ping_flood_bytes (void)
{
  GByteArray *wire = g_byte_array_new ();
  guint8 payload[6] = { 0, 6, 0, 0, 0, 1 };
  rh_chunk_write_message (wire, 128, 2, 0, 4, 0, payload, sizeof payload);
  for (int i = 0; i < 8192; i++)
    {
      guint8 continuation = 0xC2;  /* format 3, chunk stream 2 */
      g_byte_array_append (wire, &continuation, 1);
      g_byte_array_append (wire, payload, sizeof payload);
    }
  return wire;
}

/* Writes pings until the peer closes or ATTACK_SECONDS pass; reads
 * nothing. */
static guint64
flood_pings (GSocketConnection *connection)
{
  g_autoptr (GByteArray) wire = ping_flood_bytes ();
  gint64 deadline = g_get_monotonic_time () + ATTACK_SECONDS * G_USEC_PER_SEC;
  guint64 sent = 0;
  while (g_get_monotonic_time () < deadline && rh_test_write (connection, wire->data, wire->len))
    sent += wire->len;
  return sent;
}

typedef struct {
  Attack attack;
  guint16 port;
  gboolean after_connect;
  guint64 sent;
} PingFlood;

static gpointer
ping_flood_main (gpointer data)
{
  PingFlood *flood = data;
  g_autoptr (GSocketConnection) connection = rh_test_connect_small_window (flood->port, 4096);
  g_assert_nonnull (connection);
  g_assert_true (rh_test_client_handshake (connection));
  if (flood->after_connect)
    {
      RhAmf0Value *object = rh_amf0_object_new ();
      rh_amf0_object_set (object, "app", rh_amf0_string_new ("live"));
      g_assert_true (rh_test_send_command (connection, 0, "connect", 1, object, NULL));
    }
  flood->sent = flood_pings (connection);
  g_atomic_int_set (&flood->attack.done, TRUE);
  return NULL;
}

/* A client with a 4 KiB receive window sends pings and never reads: it
 * is closed as a protocol error once its unread pongs pass the bound. */
static void
check_ping_flood (gboolean after_connect)
{
  Watch *watch = watch_start (NULL);
  watch_begin (watch);
  PingFlood flood = { { 0 }, watch->daemon->port, after_connect, 0 };
  GThread *thread = g_thread_new ("ping-flood", ping_flood_main, &flood);
  g_assert_true (rh_test_iterate_until (attack_done, &flood, (ATTACK_SECONDS + 10) * 1000));
  g_thread_join (thread);
  g_assert_true (watch_wait_log (watch, "closed: protocol_error (peer does not read its replies", 5000));
  gint64 took = g_get_monotonic_time () - watch->from;
  g_test_message ("closed after %.1f s and %" G_GUINT64_FORMAT " bytes of pings", (double) took / G_USEC_PER_SEC,
                  flood.sent);
  g_assert_cmpint (took, <, ATTACK_SECONDS * G_USEC_PER_SEC);
  watch_end (watch, after_connect ? "ping flood after connect" : "ping flood before connect");
  g_autofree char *text = metrics (watch, NULL);
  g_assert_cmpfloat (rh_test_metric (text, "rtmphooks_connections_closed_total{reason=\"protocol_error\"}"), ==, 1);
  watch_publish_again (watch);
  watch_free (watch);
}

static void
test_ping_flood_after_connect (void)
{
  check_ping_flood (TRUE);
}

static void
test_ping_flood_before_connect (void)
{
  check_ping_flood (FALSE);
}

/* ---- the HTTP API ---- */

typedef struct {
  Attack attack;
  guint16 port;
  char *answer;          /* what came back before the body */
  guint64 body_sent;     /* of the 2 GB announced */
} BigBody;

static gpointer
big_body_main (gpointer data)
{
  BigBody *big = data;
  g_autoptr (GSocketConnection) connection = rh_test_connect (big->port);
  const char head[] = "POST /api/v1/streams/live/steady/drop HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152000\r\n\r\n";
  g_assert_true (rh_test_write (connection, head, strlen (head)));
  GSocket *socket = g_socket_connection_get_socket (connection);
  g_socket_set_timeout (socket, 5);
  char buffer[1024];
  gssize n = g_socket_receive (socket, buffer, sizeof buffer - 1, NULL, NULL);
  big->answer = g_strndup (buffer, n > 0 ? (gsize) n : 0);
  /* Then the body, as far as the daemon takes it. */
  static const guint8 chunk[64 * 1024];
  gint64 deadline = g_get_monotonic_time () + ATTACK_SECONDS * G_USEC_PER_SEC;
  while (big->body_sent < 2097152000ull && g_get_monotonic_time () < deadline
         && rh_test_write (connection, chunk, sizeof chunk))
    big->body_sent += sizeof chunk;
  g_atomic_int_set (&big->attack.done, TRUE);
  return NULL;
}

/* A 2 GB body to a protected path without a token: 401 from the headers,
 * the body never read. */
static void
test_http_body_before_token (void)
{
  Watch *watch = watch_start_full (NULL, "token = \"s3cret\";", NULL);
  watch_begin (watch);
  BigBody big = { { 0 }, watch->api_port, NULL, 0 };
  GThread *thread = g_thread_new ("big-body", big_body_main, &big);
  g_assert_true (rh_test_iterate_until (attack_done, &big, (ATTACK_SECONDS + 10) * 1000));
  g_thread_join (thread);
  g_test_message ("answer %.30s; %" G_GUINT64_FORMAT " bytes of body taken before the close", big.answer, big.body_sent);
  g_assert_true (g_str_has_prefix (big.answer, "HTTP/1.1 401 "));
  /* Socket buffers at most, not the body. */
  g_assert_cmpuint (big.body_sent, <, 64 * 1024 * 1024);
  g_free (big.answer);
  /* The stream was not dropped. */
  g_assert_false (rh_test_daemon_log_has (watch->daemon, "dropped through the HTTP API"));

  /* A body over 4 KiB with the token: 413, also from the headers. */
  g_autofree char *too_large = http_exchange (watch->api_port, "POST /api/v1/streams/live/steady/drop HTTP/1.1\r\n"
                                                                "Host: x\r\nAuthorization: Bearer s3cret\r\n"
                                                                "Content-Length: 5000\r\n\r\n");
  g_assert_true (g_str_has_prefix (too_large, "HTTP/1.1 413 "));
  g_autofree char *chunked = http_exchange (watch->api_port, "POST /api/v1/streams/live/steady/drop HTTP/1.1\r\n"
                                                             "Host: x\r\nAuthorization: Bearer s3cret\r\n"
                                                             "Transfer-Encoding: chunked\r\n\r\n");
  g_assert_true (g_str_has_prefix (chunked, "HTTP/1.1 411 "));
  watch_end (watch, "2 GB body without a token");
  watch_publish_again (watch);
  watch_free (watch);
}

#define HALF_SENT 1030

typedef struct {
  Attack attack;
  guint16 port;
  GPtrArray *connections;   /* GSocketConnection*, each with half a request */
  guint refused;            /* answered 503 at once */
} HalfSent;

static gpointer
half_sent_main (gpointer data)
{
  HalfSent *half = data;
  for (guint i = 0; i < HALF_SENT; i++)
    {
      GSocketConnection *connection = rh_test_connect (half->port);
      g_assert_nonnull (connection);
      const char partial[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
      rh_test_write (connection, partial, strlen (partial));
      g_ptr_array_add (half->connections, connection);
    }
  /* Those over the limits were answered 503 and closed. */
  for (guint i = 0; i < half->connections->len; i++)
    {
      GSocket *socket = g_socket_connection_get_socket (g_ptr_array_index (half->connections, i));
      g_socket_set_timeout (socket, 1);
      char buffer[64];
      gssize n = g_socket_receive (socket, buffer, sizeof buffer, NULL, NULL);
      if (n > 0 && g_str_has_prefix (buffer, "HTTP/1.1 503"))
        half->refused++;
      if (half->refused + 16 >= HALF_SENT)
        break;
    }
  g_atomic_int_set (&half->attack.done, TRUE);
  return NULL;
}

/* 1030 half-sent requests: at most max_connections_per_ip are taken, the
 * rest refused at once; those taken are closed at the timeout; RTMP
 * keeps its descriptors and the API answers again afterwards. */
static void
test_http_connection_flood (void)
{
  Watch *watch = watch_start_full (NULL, "timeout = 5.0;", NULL);
  watch_begin (watch);
  HalfSent half = { { 0 }, watch->api_port, g_ptr_array_new_with_free_func (g_object_unref), 0 };
  GThread *thread = g_thread_new ("half-sent", half_sent_main, &half);
  g_assert_true (rh_test_iterate_until (attack_done, &half, 60000));
  g_thread_join (thread);
  g_test_message ("%u of %u half-sent requests refused at once", half.refused, HALF_SENT);
  g_assert_cmpuint (half.refused, >=, HALF_SENT - 16);
  /* A publish goes through while they hang. */
  watch_publish_again (watch);
  /* The 16 taken are closed at the 5 s timeout. */
  g_assert_true (watch_wait_log (watch, "HTTP connection from 127.0.0.1 closed: no complete request within 5.0s", 15000));
  g_ptr_array_unref (half.connections);
  watch_end (watch, "1030 half-sent HTTP requests");
  g_autofree char *text = metrics (watch, NULL);
  g_assert_nonnull (text);
  g_assert_cmpfloat (rh_test_metric (text, "rtmphooks_http_connections_refused_total"), >=, HALF_SENT - 16);
  g_assert_cmpfloat (rh_test_metric (text, "rtmphooks_http_connections_timed_out_total"), >=, 16);
  /* Refusals are logged once in a while, not once each. */
  g_autofree char *log = rh_test_daemon_log (watch->daemon);
  g_assert_cmpuint (rh_test_count (log, "HTTP connection from 127.0.0.1 refused"), <=, 5);
  watch_free (watch);
}

/* ---- out of descriptors ---- */

/* utime + stime of a process, in clock ticks. */
static guint64
cpu_ticks (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *stat = NULL;
  g_assert_true (g_file_get_contents (path, &stat, NULL, NULL));
  const char *after = strrchr (stat, ')');
  g_auto (GStrv) fields = g_strsplit (after + 2, " ", 0);
  return g_ascii_strtoull (fields[11], NULL, 10) + g_ascii_strtoull (fields[12], NULL, 10);
}

/* The soft limit only: the hard one stays, so it can be raised again. */
static void
set_fd_limit (int pid, rlim_t limit)
{
  struct rlimit value;
  g_assert_cmpint (prlimit (pid, RLIMIT_NOFILE, NULL, &value), ==, 0);
  value.rlim_cur = limit;
  if (prlimit (pid, RLIMIT_NOFILE, &value, NULL) != 0)
    g_error ("prlimit: %s", g_strerror (errno));
}

/* The daemon's descriptors run out (its limit lowered under its feet):
 * the listener pauses instead of spinning, logs once, counts, and
 * accepts again when descriptors are back. */
static void
test_descriptor_exhaustion (void)
{
  Watch *watch = watch_start (NULL);
  int pid = rh_test_daemon_pid (watch->daemon);
  struct rlimit original;
  g_assert_cmpint (prlimit (pid, RLIMIT_NOFILE, NULL, &original), ==, 0);
  watch_begin (watch);
  set_fd_limit (pid, rh_test_proc_open_fds (pid));
  g_autoptr (GPtrArray) waiting = g_ptr_array_new_with_free_func (g_object_unref);
  for (int i = 0; i < 50; i++)
    g_ptr_array_add (waiting, rh_test_connect (watch->daemon->port));
  g_assert_true (watch_wait_log (watch, "RTMP listener on", 5000));
  guint64 ticks_before = cpu_ticks (pid);
  gint64 measured_from = g_get_monotonic_time ();
  /* Two seconds with the queue full and no descriptor: no spin. */
  rh_test_player_wait_video (watch->player, G_MAXUINT, 2000);
  double seconds = (double) (g_get_monotonic_time () - measured_from) / G_USEC_PER_SEC;
  double cpu = (double) (cpu_ticks (pid) - ticks_before) / (double) sysconf (_SC_CLK_TCK) / seconds;
  g_autofree char *log = rh_test_daemon_log (watch->daemon);
  g_test_message ("CPU while out of descriptors: %.0f%%; %u log lines", cpu * 100,
                  rh_test_count (log, "accepting failed"));
  g_assert_cmpfloat (cpu, <, 0.5);
  g_assert_cmpuint (rh_test_count (log, "accepting failed"), <=, 2);
  g_assert_true (strstr (log, "Too many open files") != NULL);

  set_fd_limit (pid, original.rlim_cur);
  /* The listener comes back on its own: the waiting connections are taken. */
  g_assert_true (watch_wait_log (watch, "c000052 accepted", 10000));
  g_ptr_array_set_size (waiting, 0);
  watch_end (watch, "out of descriptors");
  g_autofree char *text = metrics (watch, NULL);
  g_assert_cmpfloat (rh_test_metric (text, "rtmphooks_accept_failures_total{listener=\"rtmp\",reason=\"descriptors\"}"), >=, 1);
  watch_publish_again (watch);
  watch_free (watch);
}

/* Clients may not take the descriptors kept for the rest: over the share,
 * RTMP connections are refused, and the HTTP API still answers. */
static void
test_descriptor_reserve (void)
{
  Watch *watch = watch_start ("server = { descriptor_reserve = 64; };");
  int pid = rh_test_daemon_pid (watch->daemon);
  struct rlimit original;
  g_assert_cmpint (prlimit (pid, RLIMIT_NOFILE, NULL, &original), ==, 0);
  /* Room for about 40 clients beside what is open. */
  set_fd_limit (pid, rh_test_proc_open_fds (pid) + 40 + 64);
  watch_begin (watch);
  g_autoptr (GPtrArray) held = g_ptr_array_new_with_free_func (g_object_unref);
  for (int i = 0; i < 80; i++)
    g_ptr_array_add (held, rh_test_connect (watch->daemon->port));
  g_assert_true (watch_wait_log (watch, "the descriptors left are kept for hooks, recordings and the HTTP API", 5000));
  /* The API, on the reserve, answers. */
  g_autofree char *text = metrics (watch, NULL);
  g_assert_cmpfloat (rh_test_metric (text, "rtmphooks_connections_refused_total"), >=, 1);
  g_ptr_array_set_size (held, 0);
  set_fd_limit (pid, original.rlim_cur);
  watch_end (watch, "clients over the descriptor share");
  watch_publish_again (watch);
  watch_free (watch);
}

/* ---- recordings under a task limit ---- */

static guint
task_count (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/task", pid);
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* The daemon's threads at start: the main one, GLib's worker and two
 * hook spawners. */
#define STARTUP_TASKS 4

static Watch *
start_with_task_limit (const char *config, guint tasks)
{
  /* RLIMIT_NPROC binds a user other than root. */
  g_autofree char *limit = g_strdup_printf ("--nproc=%u", tasks);
  /* The parent-death signal goes with the change of user: set again. */
  const char *const prefix[] = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--pdeathsig=SIGKILL",
                                 "prlimit", limit, "--", NULL };
  return watch_start_full (config, NULL, prefix);
}

/* The daemon as nobody with RLIMIT_NPROC at the tasks it starts with: no
 * thread can be created. A recording ends with reason error, counted,
 * and the daemon goes on. With room for the writer pool, 20 recordings
 * at once run on its few threads, not on 20. */
static void
test_recording_task_limit (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_assert_cmpint (g_chmod (dir, 0777), ==, 0);
  g_autofree char *config = g_strdup_printf ("server = { record = { dir = \"%s\"; }; };\n"
                                             "rules = ( { name = \"rec\"; on = [ \"publish_start\" ]; "
                                             "where = { stream_name = \"rec*\"; }; "
                                             "record = { path = \"${stream_name}.flv\"; }; } );\n", dir);
  Watch *watch = start_with_task_limit (config, STARTUP_TASKS);
  int pid = rh_test_daemon_pid (watch->daemon);
  g_assert_cmpuint (task_count (pid), ==, STARTUP_TASKS);
  watch_begin (watch);
  g_autoptr (GSocketConnection) first = rh_test_raw_publish (watch->daemon->port, "live", "rec0");
  g_assert_true (watch_wait_log (watch, "recording of live/rec0 failed: cannot start a writer thread", 10000));
  g_assert_true (watch_wait_log (watch, "record_stop live/rec0 path=- reason=error", 5000));
  g_io_stream_close (G_IO_STREAM (first), NULL, NULL);
  watch_end (watch, "a recording with no thread to write it");
  g_autofree char *text = metrics (watch, NULL);
  g_assert_cmpfloat (rh_test_metric (text, "rtmphooks_recordings_failed_total"), ==, 1);
  watch_publish_again (watch);
  g_assert_true (rh_test_pid_running (pid));
  watch_free (watch);

  watch = start_with_task_limit (config, STARTUP_TASKS + 4);
  pid = rh_test_daemon_pid (watch->daemon);
  watch_begin (watch);
  g_autoptr (GPtrArray) publishers = g_ptr_array_new_with_free_func (g_object_unref);
  for (int i = 1; i <= 20; i++)
    {
      g_autofree char *name = g_strdup_printf ("rec%d", i);
      g_ptr_array_add (publishers, rh_test_raw_publish (watch->daemon->port, "live", name));
      g_autofree char *started = g_strdup_printf ("recording live/%s to", name);
      g_assert_true (watch_wait_log (watch, started, 10000));
    }
  guint tasks = task_count (pid);
  g_ptr_array_set_size (publishers, 0);
  for (int i = 1; i <= 20; i++)
    {
      g_autofree char *stopped = g_strdup_printf ("record_stop live/rec%d path=%s/rec%d.flv reason=publish_stop", i,
                                                  dir, i);
      g_assert_true (watch_wait_log (watch, stopped, 10000));
    }
  g_test_message ("tasks with 20 recordings: %u", tasks);
  g_assert_cmpuint (tasks, <=, STARTUP_TASKS + 4);
  watch_end (watch, "20 recordings under a task limit");
  watch_publish_again (watch);
  watch_free (watch);
  rh_test_remove_tree (dir);
}

/* ---- relays ---- */

typedef enum {
  TARGET_FLOOD_PINGS,            /* the handshake, then pings, never reading */
  TARGET_BAD_CHUNK_SIZE,         /* accepts the publish, then sends chunk size 0 */
} TargetMode;

/* A fake relay target on its own thread: takes attempts connections one
 * after the other, each as mode says. */
typedef struct {
  Attack attack;
  TargetMode mode;
  guint attempts;
  GSocket *listener;
  guint16 port;
  gint go;                       /* TARGET_FLOOD_PINGS waits for it */
  GArray *accepted_at;           /* gint64, monotonic */
  guint64 sent;
} FakeTarget;

static void
fake_target_start (FakeTarget *target, TargetMode mode, guint attempts)
{
  target->mode = mode;
  target->attempts = attempts;
  target->accepted_at = g_array_new (FALSE, FALSE, sizeof (gint64));
  target->listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  /* Accepted sockets inherit it: a peer that reads little. */
  g_socket_set_option (target->listener, SOL_SOCKET, SO_RCVBUF, 4096, NULL);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_assert_true (g_socket_bind (target->listener, any, TRUE, NULL));
  g_assert_true (g_socket_listen (target->listener, NULL));
  g_autoptr (GSocketAddress) local = g_socket_get_local_address (target->listener, NULL);
  target->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  g_socket_set_timeout (target->listener, 30);
}

static void
fake_target_clear (FakeTarget *target)
{
  g_array_unref (target->accepted_at);
  g_object_unref (target->listener);
}

static void
write_message (GSocketConnection *connection, guint32 csid, guint8 type, guint32 stream_id, GBytes *payload)
{
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  gsize len;
  const guint8 *data = g_bytes_get_data (payload, &len);
  rh_chunk_write_message (wire, 128, csid, 0, type, stream_id, data, len);
  rh_test_write (connection, wire->data, wire->len);
}

/* Answers connect, createStream and publish as a server does, then sends
 * an out-of-range chunk size. */
static gboolean
on_relay_command (const RhMessage *message, gpointer user_data)
{
  GSocketConnection *connection = user_data;
  if (message->type != RH_MSG_COMMAND_AMF0)
    return TRUE;
  gsize len;
  const guint8 *data = g_bytes_get_data (message->payload, &len);
  g_autoptr (RhCommand) command = rh_command_parse (message->type, data, len, NULL);
  if (command == NULL)
    return TRUE;
  if (strcmp (command->name, "connect") == 0)
    {
      g_autoptr (GBytes) reply = rh_command_build ("_result", command->transaction_id, rh_amf0_object_new (),
                                                   rh_command_status_object ("status", "NetConnection.Connect.Success",
                                                                             "ok"), NULL);
      write_message (connection, 3, RH_MSG_COMMAND_AMF0, 0, reply);
    }
  else if (strcmp (command->name, "createStream") == 0)
    {
      g_autoptr (GBytes) reply = rh_command_build ("_result", command->transaction_id, rh_amf0_null_new (),
                                                   rh_amf0_number_new (1), NULL);
      write_message (connection, 3, RH_MSG_COMMAND_AMF0, 0, reply);
    }
  else if (strcmp (command->name, "publish") == 0)
    {
      g_autoptr (GBytes) status = rh_command_build_status ("status", "NetStream.Publish.Start", "ok");
      write_message (connection, 5, RH_MSG_COMMAND_AMF0, 1, status);
      static const guint8 zero[4] = { 0 };
      g_autoptr (GBytes) size = g_bytes_new_static (zero, sizeof zero);
      write_message (connection, 2, RH_MSG_SET_CHUNK_SIZE, 0, size);
    }
  return TRUE;
}

static void
serve_bad_chunk_size (GSocketConnection *connection)
{
  GSocket *socket = g_socket_connection_get_socket (connection);
  g_socket_set_timeout (socket, 15);
  guint8 handshake[1 + 2 * 1536] = { 3 };
  gsize got = 0;
  guint8 c0c1[1 + 1536];
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  if (!g_input_stream_read_all (in, c0c1, sizeof c0c1, &got, NULL, NULL) || got != sizeof c0c1)
    return;
  rh_test_write (connection, handshake, sizeof handshake);
  guint8 c2[1536];
  if (!g_input_stream_read_all (in, c2, sizeof c2, &got, NULL, NULL) || got != sizeof c2)
    return;
  RhChunkReader *reader = rh_chunk_reader_new (1024 * 1024);
  guint8 buffer[4096];
  gssize n;
  /* Until the relay, refusing our chunk size, closes. */
  while ((n = g_socket_receive (socket, (char *) buffer, sizeof buffer, NULL, NULL)) > 0)
    rh_chunk_reader_feed (reader, buffer, (gsize) n, on_relay_command, connection, NULL);
  rh_chunk_reader_free (reader);
}

static gpointer
fake_target_main (gpointer data)
{
  FakeTarget *target = data;
  for (guint i = 0; i < target->attempts; i++)
    {
      g_autoptr (GSocket) socket = g_socket_accept (target->listener, NULL, NULL);
      if (socket == NULL)
        break;
      gint64 now = g_get_monotonic_time ();
      g_array_append_val (target->accepted_at, now);
      g_autoptr (GSocketConnection) connection = g_socket_connection_factory_create_connection (socket);
      if (target->mode == TARGET_FLOOD_PINGS)
        {
          guint8 handshake[1 + 2 * 1536] = { 3 };
          rh_test_write (connection, handshake, sizeof handshake);
          while (!g_atomic_int_get (&target->go))
            g_usleep (1000);
          target->sent = flood_pings (connection);
        }
      else
        serve_bad_chunk_size (connection);
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
    }
  g_socket_close (target->listener, NULL);
  g_atomic_int_set (&target->attack.done, TRUE);
  return NULL;
}

/* A relay target that floods pings during setup and never reads: the
 * relay gives up on it as on a client, and tries again later. */
static void
test_relay_target_ping_flood (void)
{
  FakeTarget target = { { 0 } };
  fake_target_start (&target, TARGET_FLOOD_PINGS, 1);
  GThread *thread = g_thread_new ("target", fake_target_main, &target);
  g_autofree char *config = g_strdup_printf ("server = { relay = \"rtmp://127.0.0.1:%u/live/${stream_name}\"; };",
                                             target.port);
  Watch *watch = watch_start (config);
  watch_begin (watch);
  g_atomic_int_set (&target.go, TRUE);
  g_assert_true (rh_test_iterate_until (attack_done, &target, (ATTACK_SECONDS + 10) * 1000));
  g_thread_join (thread);
  g_autofree char *expected = g_strdup_printf ("relay of live/steady to rtmp://127.0.0.1:%u/live/steady: the target "
                                               "does not read our replies; trying again in 1.0 s", target.port);
  g_assert_true (watch_wait_log (watch, expected, 5000));
  g_test_message ("%" G_GUINT64_FORMAT " bytes of pings before the relay gave up", target.sent);
  watch_end (watch, "relay target flooding pings");
  g_autofree char *text = metrics (watch, NULL);
  g_assert_cmpfloat (rh_test_metric (text, "rtmphooks_relay_reconnects_total"), >=, 1);
  watch_publish_again (watch);
  watch_free (watch);
  fake_target_clear (&target);
}

/* A target that accepts the publish and then fails it at once: retried
 * after 1, 2, then 4 s, not every second. */
static void
test_relay_backoff (void)
{
  FakeTarget target = { { 0 } };
  fake_target_start (&target, TARGET_BAD_CHUNK_SIZE, 4);
  GThread *thread = g_thread_new ("target", fake_target_main, &target);
  g_autofree char *config = g_strdup_printf ("server = { relay = \"rtmp://127.0.0.1:%u/live/${stream_name}\"; };",
                                             target.port);
  Watch *watch = watch_start (config);
  watch_begin (watch);
  g_assert_true (rh_test_iterate_until (attack_done, &target, 30000));
  g_thread_join (thread);
  g_assert_cmpuint (target.accepted_at->len, ==, 4);
  for (guint i = 1; i < 4; i++)
    {
      double waited = (double) (g_array_index (target.accepted_at, gint64, i)
                                - g_array_index (target.accepted_at, gint64, i - 1)) / G_USEC_PER_SEC;
      g_test_message ("attempt %u after %.2f s", i + 1, waited);
      /* 1, 2, 4 s, plus the attempt's own setup. */
      g_assert_cmpfloat (waited, >=, (double) (1u << (i - 1)) - 0.1);
    }
  g_assert_true (watch_wait_log (watch, "chunk size 0 out of range", 1000));
  watch_end (watch, "relay target failing each publish");
  watch_publish_again (watch);
  watch_free (watch);
  fake_target_clear (&target);
}

/* A relay to this daemon itself, under the same name with
 * duplicate_publish = "replace" (it would replace the encoder) and under
 * a new name (it would chain streams without end): both refused, and
 * neither tried again. */
static void
test_relay_to_itself (void)
{
  Watch *watch = watch_start_on ("server = { duplicate_publish = \"replace\"; relay = [ "
                                 "\"rtmp://127.0.0.1:@PORT@/live/${stream_name}\", "
                                 "\"rtmp://127.0.0.1:@PORT@/live/${stream_name}x\" ]; };", NULL, NULL,
                                 rh_test_free_port ());
  watch_begin (watch);
  g_assert_true (watch_wait_log (watch, "/live/steady refused as a loop (the target refused "
                                 "(NetConnection.Connect.Rejected)): not retried", 15000));
  g_assert_true (watch_wait_log (watch, "/live/steadyx refused as a loop (the target refused "
                                 "(NetConnection.Connect.Rejected)): not retried", 15000));
  g_assert_true (watch_wait_log (watch, "connect refused: a relay from this daemon to itself", 1000));
  /* Both relays end at their first refusal: a loop is never retried. */
  g_assert_true (rh_test_daemon_wait_log_count (watch->daemon, "ended before it ever published (loop)", 2, 10000));
  g_autofree char *counted = metrics (watch, NULL);
  g_assert_cmpfloat (rh_test_metric (counted, "rtmphooks_relays"), ==, 0);
  g_assert_cmpfloat (rh_test_metric (counted, "rtmphooks_relay_reconnects_total"), ==, 0);
  g_assert_cmpfloat (rh_test_metric (counted, "rtmphooks_connections_closed_total{reason=\"rejected\"}"), >=, 2);
  watch_end (watch, "relays to itself");
  g_assert_false (rh_test_daemon_log_has (watch->daemon, "publish_start live/steadyx"));
  g_assert_false (rh_test_daemon_log_has (watch->daemon, "replaced"));
  g_autofree char *text = metrics (watch, NULL);
  /* The encoder and the player; refused relays do not stay. */
  g_assert_cmpfloat (rh_test_metric (text, "rtmphooks_connections"), <=, 3);
  watch_publish_again (watch);
  watch_free (watch);
}

/* Two daemons relaying every stream to each other under a new name:
 * the chain stops after 8 hops. */
static void
test_relay_hop_limit (void)
{
  guint16 port_a = rh_test_free_port ();
  guint16 port_b;
  do
    port_b = rh_test_free_port ();
  while (port_b == port_a);
  g_autofree char *config_b = g_strdup_printf ("server = { listen = \"127.0.0.1:%u\"; "
                                               "relay = \"rtmp://127.0.0.1:%u/live/${stream_name}x\"; };",
                                               port_b, port_a);
  RhTestDaemon *b = rh_test_daemon_start (config_b, NULL);
  g_autofree char *config_a = g_strdup_printf ("server = { relay = \"rtmp://127.0.0.1:%u/live/${stream_name}x\"; };",
                                               b->port);
  Watch *watch = watch_start_on (config_a, NULL, NULL, port_a);
  watch_begin (watch);
  /* Hops 1, 3, 5 and 7 arrive at b, 2, 4, 6 and 8 at a; 9 is refused. */
  g_assert_true (rh_test_daemon_wait_log (b, "publish_start live/steadyxxxxxxx ", 20000));
  g_assert_true (watch_wait_log (watch, "publish_start live/steadyxxxxxxxx ", 20000));
  g_assert_true (rh_test_daemon_wait_log (b, "connect refused: a relay that has crossed too many daemons", 10000));
  watch_end (watch, "a relay loop between two daemons");
  g_autofree char *log_b = rh_test_daemon_log (b);
  g_assert_null (strstr (log_b, "publish_start live/steadyxxxxxxxxx "));
  watch_publish_again (watch);
  watch_free (watch);
  rh_test_daemon_finish (b);
}

/* ---- webhook checks ---- */

static Watch *
watch_with_check (RhTestHttp *http, const char *path)
{
  g_autofree char *config = g_strdup_printf (
    "checks = ( { name = \"hostile\"; on = [ \"publish\" ]; where = { stream_name = \"checked\"; };\n"
    "  webhook = { url = \"http://127.0.0.1:%u%s\"; timeout = 3.0; }; on_error = \"deny\"; } );\n",
    rh_test_http_port (http), path);
  return watch_start (config);
}

#define CHECK_DENIED "publish of live/checked denied by check \"hostile\": check failed"

/* Publishes live/checked and waits for the check's outcome in the log;
 * the connection is held open by the caller meanwhile. */
static GSocketConnection *
publish_checked (Watch *watch, const char *outcome)
{
  GSocketConnection *publisher = rh_test_raw_publish (watch->daemon->port, "live", "checked");
  g_assert_nonnull (publisher);
  g_assert_true (watch_wait_log (watch, outcome, 10000));
  return publisher;
}

/* An answer that never ends: the check fails at 64 KiB, well within its
 * timeout, and its memory is not kept. */
static void
test_check_endless_answer (void)
{
  RhTestHttp *http = rh_test_http_start ();
  Watch *watch = watch_with_check (http, "/endless");
  watch_begin (watch);
  gint64 from = g_get_monotonic_time ();
  g_autoptr (GSocketConnection) publisher G_GNUC_UNUSED = publish_checked (watch, CHECK_DENIED);
  gint64 took = g_get_monotonic_time () - from;
  g_test_message ("denied after %.2f s", (double) took / G_USEC_PER_SEC);
  g_assert_cmpint (took, <, 3 * G_USEC_PER_SEC);
  g_assert_true (rh_test_daemon_log_has (watch->daemon, "the answer is larger than 64 KiB"));
  watch_end (watch, "a check answer without end");
  g_autofree char *text = metrics (watch, NULL);
  g_assert_cmpfloat (rh_test_metric (text, "rtmphooks_check_runs_total{check=\"hostile\",result=\"error\"}"), ==, 1);
  watch_publish_again (watch);
  watch_free (watch);
  rh_test_http_stop (http);
}

/* A redirect is not followed: the check fails, and the place it points
 * to never hears from us. */
static void
test_check_redirect (void)
{
  RhTestHttp *http = rh_test_http_start ();
  Watch *watch = watch_with_check (http, "/redirect");
  watch_begin (watch);
  g_autoptr (GSocketConnection) publisher G_GNUC_UNUSED = publish_checked (watch, CHECK_DENIED);
  g_assert_true (rh_test_daemon_log_has (watch->daemon, "HTTP 302 (redirects are not followed)"));
  g_autofree char *text = metrics (watch, NULL);
  g_assert_cmpfloat (rh_test_metric (text, "rtmphooks_check_runs_total{check=\"hostile\",result=\"error\"}"), ==, 1);
  g_autoptr (GPtrArray) followed = rh_test_http_requests (http, "/ok");
  g_assert_cmpuint (followed->len, ==, 0);
  watch_end (watch, "a check that redirects");
  watch_publish_again (watch);
  watch_free (watch);
  rh_test_http_stop (http);
}

/* {"stream_name": "a\u0000b"} is not a rename to "a". */
static void
test_check_rename_with_nul (void)
{
  RhTestHttp *http = rh_test_http_start ();
  Watch *watch = watch_with_check (http, "/rename-nul");
  watch_begin (watch);
  g_autoptr (GSocketConnection) publisher G_GNUC_UNUSED =
    publish_checked (watch, "check \"hostile\" renamed live/checked to an invalid name");
  watch_end (watch, "a rename with a NUL");
  g_assert_false (rh_test_daemon_log_has (watch->daemon, "publish_start live/a "));
  watch_publish_again (watch);
  watch_free (watch);
  rh_test_http_stop (http);
}

/* A token of blanks could never match: refused at -t with FILE:LINE. */
static void
test_blank_token (void)
{
  rh_test_assert_config_error ("http = {\n  token = \" \";\n};\n", 2,
                               "http.token must not contain spaces or control characters");
  rh_test_assert_config_error ("http = {\n  token = \"ab\tcd\";\n};\n", 2,
                               "http.token must not contain spaces or control characters");
}

/* ---- recordings ---- */

/* The recording directory removed under a live recording: it ends with
 * reason error, and the stream goes on. */
static void
test_recording_dir_removed (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *sub = g_build_filename (dir, "recordings", NULL);
  g_autofree char *config = g_strdup_printf ("hooks = { stdio = \"jsonl\"; };\n"
                                             "server = { record = { dir = \"%s\"; }; };\n"
                                             "rules = ( { name = \"rec\"; on = [ \"publish_start\" ]; "
                                             "where = { stream_name = \"steady\"; }; "
                                             "record = { path = \"${stream_name}.flv\"; }; } );\n", sub);
  Watch *watch = watch_start (config);
  g_assert_true (watch_wait_log (watch, "recording live/steady to", 5000));
  watch_begin (watch);
  rh_test_remove_tree (sub);
  g_autofree char *stopped = g_strdup_printf ("record_stop live/steady path=%s/steady.flv reason=error", sub);
  g_assert_true (watch_wait_log (watch, stopped, 5000));
  g_assert_true (rh_test_daemon_log_has (watch->daemon, "steady.flv was removed while recording"));
  g_autofree char *text = metrics (watch, NULL);
  g_assert_cmpfloat (rh_test_metric (text, "rtmphooks_recordings_failed_total"), ==, 1);
  watch_end (watch, "a recording whose directory was removed");
  watch_publish_again (watch);
  watch_free (watch);
  rh_test_remove_tree (dir);
}

/* Timestamps that jump ahead by 87 s halfway: the file's duration is the
 * 6 s of media written, not 93. */
static void
test_recording_duration_jump (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *config = g_strdup_printf ("server = { record = { dir = \"%s\"; }; };\n"
                                             "rules = ( { name = \"rec\"; on = [ \"publish_start\" ]; "
                                             "record = { path = \"${stream_name}.flv\"; }; } );\n", dir);
  RhTestDaemon *daemon = rh_test_daemon_start (config, NULL);
  g_autoptr (GSocketConnection) publisher = rh_test_raw_publish (daemon->port, "live", "jumpy");
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish_start live/jumpy", 10000));
  static const guint8 header[] = { 0x17, 0x00, 0, 0, 0, 0x01, 0x64, 0x00, 0x1f, 0xff, 0xe0, 0x00 };
  static const guint8 frame[] = { 0x17, 0x01, 0, 0, 0, 0, 0, 0, 1, 0x65 };
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  rh_chunk_write_message (wire, 128, 6, 0, 9, 1, header, sizeof header);
  for (guint32 t = 0; t <= 3000; t += 40)
    rh_chunk_write_message (wire, 128, 6, t, 9, 1, frame, sizeof frame);
  for (guint32 t = 90000; t <= 93000; t += 40)
    rh_chunk_write_message (wire, 128, 6, t, 9, 1, frame, sizeof frame);
  g_assert_true (rh_test_write (publisher, wire->data, wire->len));
  g_io_stream_close (G_IO_STREAM (publisher), NULL, NULL);
  g_autofree char *path = g_build_filename (dir, "jumpy.flv", NULL);
  g_autofree char *stopped = g_strdup_printf ("record_stop live/jumpy path=%s reason=publish_stop", path);
  g_assert_true (rh_test_daemon_wait_log (daemon, stopped, 10000));
  RhTestProbe probe = { 0 };
  g_assert_true (rh_test_probe (path, &probe));
  g_test_message ("duration %.2f s", probe.duration);
  g_assert_cmpfloat (probe.duration, >=, 5.9);
  g_assert_cmpfloat (probe.duration, <=, 6.1);
  rh_test_probe_clear (&probe);
  rh_test_daemon_finish (daemon);
  rh_test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Pings are written to sockets that close under them. */
  signal (SIGPIPE, SIG_IGN);
  g_autofree char *dir = rh_test_make_dir ();
  clip_path = g_build_filename (dir, "clip.flv", NULL);
  rh_test_encode_clip (clip_path, 10, "320x180", "500k", TRUE);

  g_test_add_func ("/hostile/ping-flood-after-connect", test_ping_flood_after_connect);
  g_test_add_func ("/hostile/ping-flood-before-connect", test_ping_flood_before_connect);
  g_test_add_func ("/hostile/http-body-before-token", test_http_body_before_token);
  g_test_add_func ("/hostile/http-connection-flood", test_http_connection_flood);
  g_test_add_func ("/hostile/descriptor-exhaustion", test_descriptor_exhaustion);
  g_test_add_func ("/hostile/descriptor-reserve", test_descriptor_reserve);
  g_test_add_func ("/hostile/recording-task-limit", test_recording_task_limit);
  g_test_add_func ("/hostile/relay-target-ping-flood", test_relay_target_ping_flood);
  g_test_add_func ("/hostile/relay-backoff", test_relay_backoff);
  g_test_add_func ("/hostile/relay-to-itself", test_relay_to_itself);
  g_test_add_func ("/hostile/relay-hop-limit", test_relay_hop_limit);
  g_test_add_func ("/hostile/check-endless-answer", test_check_endless_answer);
  g_test_add_func ("/hostile/check-redirect", test_check_redirect);
  g_test_add_func ("/hostile/check-rename-with-nul", test_check_rename_with_nul);
  g_test_add_func ("/hostile/blank-token", test_blank_token);
  g_test_add_func ("/hostile/recording-dir-removed", test_recording_dir_removed);
  g_test_add_func ("/hostile/recording-duration-jump", test_recording_duration_jump);
  int status = g_test_run ();
  rh_test_remove_tree (dir);
  return status;
}
