/* fanout-load: the load side of the fan-out benchmark, in one process on
 * one epoll loop. It publishes an FLV file in real time (looping it, with
 * timestamps carried on) and plays it back with N players, then reports
 * what a player saw and what the server cost:
 *
 *   - latency: each player's arrival time of a video message minus the time
 *     the publisher sent the message with that timestamp (both clocks are
 *     this process's), as p50/p99/max;
 *   - full rate: a player is at full rate when it received every video
 *     message published during the measurement window;
 *   - the server's CPU and RSS from /proc over the window, and its system
 *     calls per second from perf (in a short window after, as tracing
 *     costs the server a little);
 *   - late joiners: play to first video frame, one at a time, at the end.
 *
 * Players parse chunk headers only and skip payloads, so one core can feed
 * thousands of them. Bounded: it gives up after --setup-timeout seconds
 * of connecting and always ends after warm-up + window + late joins.
 *
 * With --tls-port the players (not the publisher) play through TLS
 * there, with GIO's TLS as the daemon's own relays use it: each one's
 * TLS handshake is made in turn as it starts (blocking, before the
 * window), then its reads decrypt on this loop.
 *
 *   fanout-load --port P --flv FILE --players N [--warmup S] [--seconds S]
 *               [--late N] [--server-pid PID] [--app live] [--stream bench]
 *               [--tls-port P] [--play-ports P1,P2,...] [--also-pids PID,...]
 *
 * With --play-ports the players (and late joiners) play from those ports
 * in turn, the publisher publishing on --port: a fleet's edges pulling
 * from its origin. --also-pids measures more servers' CPU over the same
 * window (also_cpu=a,b,...).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "protocol/amf0.h"
#include "protocol/chunk-reader.h"
#include "protocol/chunk-writer.h"
#include "protocol/command.h"
#include "protocol/handshake.h"
#include "protocol/message.h"

#define PUBLISH_CHUNK_SIZE 4096
#define MAX_CSID 64
#define SETUP_IN_FLIGHT 128           /* players connecting at once */
#define SENT_RING 16384               /* video messages remembered for latency */
#define HISTOGRAM_STEP_US 100         /* latency resolution */
#define HISTOGRAM_BUCKETS 200000      /* up to 20 s */

/* ---- the clip ---- */

typedef struct {
  guint8 type;                        /* 8, 9 or 18 */
  guint32 timestamp;
  GBytes *payload;
} Tag;

static GArray *
read_flv (const char *path, guint32 *duration)
{
  g_autofree guint8 *data = NULL;
  gsize len;
  g_autoptr (GError) error = NULL;
  if (!g_file_get_contents (path, (char **) &data, &len, &error))
    g_error ("fanout-load: %s", error->message);
  if (len < 13 || memcmp (data, "FLV", 3) != 0)
    g_error ("fanout-load: %s is not FLV", path);
  GArray *tags = g_array_new (FALSE, FALSE, sizeof (Tag));
  gsize pos = rh_read_u32_be (data + 5) + 4;
  while (pos + 11 <= len)
    {
      guint32 size = rh_read_u24_be (data + pos + 1);
      guint32 ts = rh_read_u24_be (data + pos + 4) | ((guint32) data[pos + 7] << 24);
      if (pos + 11 + size > len)
        break;
      Tag tag = { data[pos], ts, NULL };
      if (tag.type == RH_MSG_DATA_AMF0)
        {
          /* A publisher sends metadata as @setDataFrame(onMetaData, ...). */
          GByteArray *body = g_byte_array_new ();
          rh_amf0_encode_string (body, "@setDataFrame");
          g_byte_array_append (body, data + pos + 11, size);
          tag.payload = g_byte_array_free_to_bytes (body);
        }
      else
        {
          tag.payload = g_bytes_new (data + pos + 11, size);
        }
      if (tag.type == RH_MSG_AUDIO || tag.type == RH_MSG_VIDEO || tag.type == RH_MSG_DATA_AMF0)
        g_array_append_val (tags, tag);
      else
        g_bytes_unref (tag.payload);
      *duration = MAX (*duration, ts);
      pos += 11 + size + 4;
    }
  *duration += 40;  /* one frame, so a loop does not repeat a timestamp */
  return tags;
}

/* ---- connections ---- */

typedef enum {
  STATE_CONNECTING,
  STATE_HANDSHAKE,
  STATE_STREAMING,
  STATE_CLOSED,
} State;

typedef struct {
  guint32 timestamp;
  guint32 delta;
  guint32 length;
  guint32 left;                       /* bytes of the current message still to come */
  guint8 type;
  gboolean extended;
  guint8 capture[4];                  /* first bytes of a control message */
} ChunkStream;

typedef struct {
  int fd;
  GSocketConnection *tcp;             /* TLS players: owns fd */
  GTlsConnection *tls;
  State state;
  gboolean is_publisher;
  guint8 handshake[1 + 2 * RH_HANDSHAKE_SIZE];
  gsize handshake_got;
  /* Incoming chunk parsing. */
  guint32 in_chunk_size;
  guint8 header[32];
  gsize header_len;
  ChunkStream *current;               /* chunk being read; NULL between chunks */
  guint32 chunk_left;
  ChunkStream streams[MAX_CSID];
  /* What arrived. */
  gint64 play_sent_at;
  gint64 first_video_at;
  guint64 bytes;
  guint64 window_bytes;               /* received during the window */
  guint64 window_video;               /* video messages of the window received */
  guint sent_cursor;                  /* where the last latency lookup ended */
  gboolean broken;                    /* a protocol surprise: counted, not at full rate */
} Peer;

typedef struct {
  guint32 timestamp;
  gint64 sent_at;
} Sent;

typedef struct {
  int epoll_fd;
  struct sockaddr_in address;
  struct sockaddr_in tls_address;     /* port 0: players in clear */
  GArray *play_ports;                 /* guint16; empty: players on address */
  guint next_play_port;
  const char *app;
  const char *stream;
  GArray *tags;
  guint32 clip_duration;
  /* Publisher. */
  Peer publisher;
  GByteArray *outgoing;               /* publisher bytes the socket has not taken */
  gsize outgoing_sent;
  gint64 publish_started_at;
  guint next_tag;
  guint loops;
  Sent sent[SENT_RING];
  guint64 sent_count;
  /* Measurement. */
  gboolean measuring;
  guint32 window_first_ts;            /* video timestamps published in the window */
  guint32 window_last_ts;
  guint64 window_published;
  gboolean window_closed;
  guint32 *histogram;
  guint64 samples;
  guint64 unmatched;
  gint64 max_latency;
} Load;

static Load load;

G_NORETURN static void
die (const char *what)
{
  fprintf (stderr, "fanout-load: %s: %s\n", what, g_strerror (errno));
  exit (1);
}

static int
open_socket (gboolean is_publisher)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    die ("socket");
  int one = 1;
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in address = load.address;
  if (!is_publisher && load.play_ports->len > 0)
    address.sin_port = htons (g_array_index (load.play_ports, guint16, load.next_play_port++ % load.play_ports->len));
  if (connect (fd, (struct sockaddr *) &address, sizeof address) < 0 && errno != EINPROGRESS)
    die ("connect");
  return fd;
}

static void
watch (Peer *peer, guint32 events, int op)
{
  struct epoll_event event = { .events = events, .data.ptr = peer };
  if (epoll_ctl (load.epoll_fd, op, peer->fd, &event) < 0)
    die ("epoll_ctl");
}

static void
close_peer (Peer *peer)
{
  if (peer->state == STATE_CLOSED)
    return;
  if (peer->tcp != NULL)
    {
      /* The socket connection owns the descriptor. */
      g_clear_object (&peer->tls);
      g_io_stream_close (G_IO_STREAM (peer->tcp), NULL, NULL);
      g_clear_object (&peer->tcp);
    }
  else
    close (peer->fd);
  peer->state = STATE_CLOSED;
}

/* recv's contract (-1 and errno EAGAIN when there is nothing yet), in
 * clear or through TLS. */
static gssize
peer_receive (Peer *peer, void *buffer, gsize size)
{
  if (peer->tls == NULL)
    return recv (peer->fd, buffer, size, 0);
  g_autoptr (GError) error = NULL;
  GInputStream *input = g_io_stream_get_input_stream (G_IO_STREAM (peer->tls));
  gssize n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (input), buffer, size, NULL, &error);
  if (n < 0)
    errno = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK) ? EAGAIN : EIO;
  return n;
}

static gssize
peer_send (Peer *peer, const void *data, gsize len)
{
  if (peer->tls == NULL)
    return send (peer->fd, data, len, MSG_NOSIGNAL);
  g_autoptr (GError) error = NULL;
  GOutputStream *output = g_io_stream_get_output_stream (G_IO_STREAM (peer->tls));
  gssize n = g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM (output), data, len, NULL,
                                                         &error);
  if (n < 0)
    errno = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK) ? EAGAIN : EIO;
  return n;
}

/* connect + createStream, and then play or publish on stream 1 (both
 * servers give the first createStream id 1). */
static GByteArray *
session_commands (gboolean publish)
{
  GByteArray *out = g_byte_array_new ();
  g_autofree char *tc_url = g_strdup_printf ("rtmp://127.0.0.1:%u/%s", ntohs (load.address.sin_port),
                                             load.app);
  RhAmf0Value *object = rh_amf0_object_new ();
  rh_amf0_object_set (object, "app", rh_amf0_string_new (load.app));
  rh_amf0_object_set (object, "tcUrl", rh_amf0_string_new (tc_url));
  rh_amf0_object_set (object, "flashVer", rh_amf0_string_new ("LNX 9,0,124,2"));
  rh_command_write_client (out, 0, "connect", 1, object, NULL);
  rh_command_write_client (out, 0, "createStream", 2, NULL, NULL);
  if (publish)
    {
      guint8 size[4];
      rh_write_u32_be (size, PUBLISH_CHUNK_SIZE);
      rh_chunk_write_message (out, RH_CHUNK_DEFAULT_SIZE, 2, 0, RH_MSG_SET_CHUNK_SIZE, 0, size, 4);
      g_autoptr (GBytes) command = rh_command_build ("publish", 0, rh_amf0_null_new (),
                                                     rh_amf0_string_new (load.stream),
                                                     rh_amf0_string_new ("live"), NULL);
      rh_chunk_write_message (out, PUBLISH_CHUNK_SIZE, 8, 0, RH_MSG_COMMAND_AMF0, 1,
                              g_bytes_get_data (command, NULL), g_bytes_get_size (command));
    }
  else
    {
      rh_command_write_client (out, 1, "play", 0, NULL, rh_amf0_string_new (load.stream));
    }
  return out;
}

/* Setup writes are small: the socket takes them whole or the run is void. */
static void
write_all (Peer *peer, const guint8 *data, gsize len)
{
  while (len > 0)
    {
      gssize n = peer_send (peer, data, len);
      if (n <= 0)
        die ("setup write");
      data += n;
      len -= (gsize) n;
    }
}

static void
start_handshake (Peer *peer)
{
  guint8 c0c1[1 + RH_HANDSHAKE_SIZE] = { 3 };
  write_all (peer, c0c1, sizeof c0c1);
  peer->state = STATE_HANDSHAKE;
  watch (peer, EPOLLIN, EPOLL_CTL_MOD);
}

/* ---- incoming chunks, parsed without copying payloads ---- */

static void
record_latency (Peer *peer, guint32 timestamp, gint64 now)
{
  /* Video timestamps rise: search on from the last match. */
  guint64 first = load.sent_count > SENT_RING ? load.sent_count - SENT_RING : 0;
  guint64 i = MAX ((guint64) peer->sent_cursor, first);
  for (; i < load.sent_count; i++)
    {
      const Sent *sent = &load.sent[i % SENT_RING];
      if (sent->timestamp == timestamp)
        break;
    }
  if (i == load.sent_count)
    {
      load.unmatched++;
      return;
    }
  peer->sent_cursor = (guint) (i + 1);
  gint64 latency = now - load.sent[i % SENT_RING].sent_at;
  guint bucket = (guint) MIN (latency / HISTOGRAM_STEP_US, HISTOGRAM_BUCKETS - 1);
  load.histogram[bucket]++;
  load.samples++;
  load.max_latency = MAX (load.max_latency, latency);
}

static void
on_message (Peer *peer, ChunkStream *cs, gint64 now)
{
  if (cs->type == RH_MSG_SET_CHUNK_SIZE && cs->length >= 4)
    peer->in_chunk_size = rh_read_u32_be (cs->capture) & 0x7FFFFFFF;
  if (cs->type != RH_MSG_VIDEO || peer->is_publisher)
    return;
  if (peer->first_video_at == 0)
    peer->first_video_at = now;
  if (!load.measuring)
    return;
  record_latency (peer, cs->timestamp, now);
  if (load.window_published > 0 && cs->timestamp >= load.window_first_ts
      && cs->timestamp <= load.window_last_ts)
    peer->window_video++;
}

/* A basic header's length (1-3 bytes), from its first byte. */
static guint
basic_length (guint8 first)
{
  return (first & 0x3f) == 0 ? 2 : (first & 0x3f) == 1 ? 3 : 1;
}

/* The basic header: its length and the chunk stream id. The caller has
 * at least basic_length bytes. */
static guint
basic_header (const guint8 *h, guint32 *csid)
{
  guint basic = basic_length (h[0]);
  *csid = basic == 1 ? (h[0] & 0x3f) : basic == 2 ? 64u + h[1] : 64u + h[1] + 256u * h[2];
  return basic;
}

/* How long the header in peer->header is, once enough of it is there;
 * 0 when more bytes are needed to tell. */
static gsize
header_length (Peer *peer)
{
  const guint8 *h = peer->header;
  if (peer->header_len < 1)
    return 0;
  static const guint message_header[] = { 11, 7, 3, 0 };
  guint basic = basic_length (h[0]);
  guint fmt = h[0] >> 6;
  gsize need = basic + message_header[fmt];
  if (peer->header_len < need)
    return 0;
  guint32 csid;
  basic_header (h, &csid);
  if (csid >= MAX_CSID)
    return need;  /* parse_header marks it broken */
  gboolean extended = fmt < 3 ? rh_read_u24_be (h + basic) == 0xFFFFFF : peer->streams[csid].extended;
  return extended ? need + 4 : need;
}

static gboolean
parse_header (Peer *peer)
{
  const guint8 *h = peer->header;
  guint32 csid;
  guint basic = basic_header (h, &csid);
  guint fmt = h[0] >> 6;
  if (csid >= MAX_CSID)
    return FALSE;
  ChunkStream *cs = &peer->streams[csid];
  const guint8 *m = h + basic;
  gboolean starts_message = cs->left == 0;

  if (fmt < 3)
    {
      guint32 field = rh_read_u24_be (m);
      cs->extended = field == 0xFFFFFF;
      if (fmt < 2)
        {
          cs->length = rh_read_u24_be (m + 3);
          cs->type = m[6];
        }
      guint32 value = cs->extended ? rh_read_u32_be (m + (fmt == 0 ? 11 : fmt == 1 ? 7 : 3)) : field;
      if (fmt == 0)
        {
          cs->timestamp = value;
          cs->delta = 0;
        }
      else
        {
          cs->delta = value;
          cs->timestamp += value;
        }
      if (!starts_message)
        return FALSE;  /* a new header in the middle of a message */
    }
  else if (starts_message)
    {
      cs->timestamp += cs->delta;
    }
  if (starts_message)
    cs->left = cs->length;
  peer->current = cs;
  peer->chunk_left = MIN (peer->in_chunk_size, cs->left);
  return TRUE;
}

static void
consume (Peer *peer, const guint8 *data, gsize len, gint64 now)
{
  while (len > 0)
    {
      if (peer->current == NULL)
        {
          gsize need;
          while ((need = header_length (peer)) == 0 || peer->header_len < need)
            {
              if (len == 0)
                return;
              peer->header[peer->header_len++] = *data++;
              len--;
            }
          if (!parse_header (peer))
            {
              peer->broken = TRUE;
              close_peer (peer);
              return;
            }
          peer->header_len = 0;
          if (peer->chunk_left > 0)
            continue;
        }
      ChunkStream *cs = peer->current;
      guint32 take = (guint32) MIN ((gsize) peer->chunk_left, len);
      guint32 offset = cs->length - cs->left;
      for (guint32 i = offset; i < 4 && i < offset + take; i++)
        cs->capture[i] = data[i - offset];
      data += take;
      len -= take;
      peer->chunk_left -= take;
      cs->left -= take;
      if (peer->chunk_left == 0)
        {
          peer->current = NULL;
          if (cs->left == 0)
            on_message (peer, cs, now);
        }
    }
}

static guint8 receive_buffer[512 * 1024];

static void
on_readable (Peer *peer, gint64 now)
{
  /* A TLS read returns one record, 16 KiB at most. */
  int rounds = peer->tls != NULL ? 64 : 4;
  for (int round = 0; round < rounds; round++)
    {
      if (peer->state == STATE_HANDSHAKE)
        {
          gssize n = peer_receive (peer, peer->handshake + peer->handshake_got,
                                   sizeof peer->handshake - peer->handshake_got);
          if (n <= 0)
            {
              if (n < 0 && errno == EAGAIN)
                return;
              close_peer (peer);
              return;
            }
          peer->handshake_got += (gsize) n;
          if (peer->handshake_got < sizeof peer->handshake)
            continue;
          /* C2 echoes S1, then the session's commands in the same write. */
          g_autoptr (GByteArray) out = g_byte_array_new ();
          g_byte_array_append (out, peer->handshake + 1, RH_HANDSHAKE_SIZE);
          g_autoptr (GByteArray) commands = session_commands (peer->is_publisher);
          g_byte_array_append (out, commands->data, commands->len);
          peer->play_sent_at = now;
          write_all (peer, out->data, out->len);
          peer->state = STATE_STREAMING;
          continue;
        }
      gssize n = peer_receive (peer, receive_buffer, sizeof receive_buffer);
      if (n <= 0)
        {
          if (n < 0 && errno == EAGAIN)
            return;
          close_peer (peer);
          return;
        }
      peer->bytes += (guint64) n;
      consume (peer, receive_buffer, (gsize) n, now);
      if (peer->state == STATE_CLOSED || ((gsize) n < sizeof receive_buffer && peer->tls == NULL))
        return;
    }
}

/* ---- publishing in real time ---- */

static void
flush_publisher (void)
{
  while (load.outgoing_sent < load.outgoing->len)
    {
      gssize n = send (load.publisher.fd, load.outgoing->data + load.outgoing_sent,
                       load.outgoing->len - load.outgoing_sent, MSG_NOSIGNAL);
      if (n < 0)
        {
          if (errno == EAGAIN)
            break;
          die ("publish");
        }
      load.outgoing_sent += (gsize) n;
    }
  if (load.outgoing_sent == load.outgoing->len)
    {
      g_byte_array_set_size (load.outgoing, 0);
      load.outgoing_sent = 0;
    }
  watch (&load.publisher, load.outgoing->len > 0 ? EPOLLIN | EPOLLOUT : EPOLLIN, EPOLL_CTL_MOD);
}

/* When the next tag is due, monotonic microseconds. */
static gint64
next_due (void)
{
  const Tag *tag = &g_array_index (load.tags, Tag, load.next_tag);
  return load.publish_started_at
         + ((gint64) load.loops * load.clip_duration + tag->timestamp) * 1000;
}

static void
publish_due (gint64 now)
{
  if (load.publisher.state != STATE_STREAMING || load.publish_started_at == 0)
    return;
  gboolean wrote = FALSE;
  while (next_due () <= now)
    {
      const Tag *tag = &g_array_index (load.tags, Tag, load.next_tag);
      guint32 timestamp = load.loops * load.clip_duration + tag->timestamp;
      gsize len;
      const guint8 *payload = g_bytes_get_data (tag->payload, &len);
      /* The metadata goes once, at the start. */
      if (tag->type != RH_MSG_DATA_AMF0 || load.loops == 0)
        {
          guint32 csid = tag->type == RH_MSG_VIDEO ? 6 : tag->type == RH_MSG_AUDIO ? 4 : 5;
          rh_chunk_write_message (load.outgoing, PUBLISH_CHUNK_SIZE, csid,
                                  tag->type == RH_MSG_DATA_AMF0 ? 0 : timestamp, tag->type, 1,
                                  payload, len);
          wrote = TRUE;
        }
      if (tag->type == RH_MSG_VIDEO)
        {
          load.sent[load.sent_count % SENT_RING] = (Sent) { timestamp, now };
          load.sent_count++;
          if (load.measuring && !load.window_closed)
            {
              if (load.window_published == 0)
                load.window_first_ts = timestamp;
              load.window_last_ts = timestamp;
              load.window_published++;
            }
        }
      if (++load.next_tag == load.tags->len)
        {
          load.next_tag = 0;
          load.loops++;
        }
    }
  if (wrote)
    flush_publisher ();
}

/* ---- the server's cost, from /proc ---- */

static guint64
cpu_ticks (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  /* Fields after the command name, which may hold spaces: utime is the
   * 14th field, stime the 15th. */
  const char *p = strrchr (text, ')');
  g_auto (GStrv) fields = g_strsplit (p + 2, " ", 16);
  if (g_strv_length (fields) < 13)
    return 0;
  return g_ascii_strtoull (fields[11], NULL, 10) + g_ascii_strtoull (fields[12], NULL, 10);
}

static guint64
rss_kib (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  const char *p = strstr (text, "VmRSS:");
  return p != NULL ? g_ascii_strtoull (p + 6, NULL, 10) : 0;
}

/* System calls per second of pid over seconds, from perf; -1 without it. */
static double
syscalls_per_second (int pid, guint seconds)
{
  g_autofree char *pid_text = g_strdup_printf ("%d", pid);
  g_autofree char *duration = g_strdup_printf ("%u", seconds);
  const char *argv[] = { "perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter", "-p", pid_text,
                         "--", "sleep", duration, NULL };
  g_autofree char *err = NULL;
  gint status;
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, &err, &status, NULL)
      || !g_spawn_check_wait_status (status, NULL))
    return -1;
  guint64 count = g_ascii_strtoull (err, NULL, 10);
  return count > 0 ? (double) count / seconds : -1;
}

#define SYSCALL_WINDOW 3

typedef struct {
  int pid;
  guint seconds;
  double per_second;
} SyscallJob;

static gpointer
count_syscalls (gpointer data)
{
  SyscallJob *job = data;
  job->per_second = syscalls_per_second (job->pid, job->seconds);
  return NULL;
}

static double
percentile (double fraction)
{
  guint64 target = (guint64) (fraction * (double) load.samples);
  guint64 seen = 0;
  for (guint i = 0; i < HISTOGRAM_BUCKETS; i++)
    {
      seen += load.histogram[i];
      if (seen > target)
        return (i + 0.5) * HISTOGRAM_STEP_US / 1000.0;
    }
  return load.max_latency / 1000.0;
}

/* ---- the run ---- */

static void
run_loop_until (gint64 deadline, gboolean (*done) (gpointer), gpointer data)
{
  struct epoll_event events[256];
  for (;;)
    {
      gint64 now = g_get_monotonic_time ();
      publish_due (now);
      if (now >= deadline || (done != NULL && done (data)))
        return;
      gint64 wake = MIN (deadline, load.publish_started_at != 0 ? next_due () : deadline);
      int timeout = (int) MAX (0, (wake - now + 999) / 1000);
      int n = epoll_wait (load.epoll_fd, events, G_N_ELEMENTS (events), timeout);
      if (n < 0 && errno != EINTR)
        die ("epoll_wait");
      now = g_get_monotonic_time ();
      for (int i = 0; i < n; i++)
        {
          Peer *peer = events[i].data.ptr;
          if (peer->state == STATE_CONNECTING)
            {
              int error = 0;
              socklen_t size = sizeof error;
              getsockopt (peer->fd, SOL_SOCKET, SO_ERROR, &error, &size);
              if (error != 0)
                close_peer (peer);
              else
                start_handshake (peer);
              continue;
            }
          if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
            on_readable (peer, now);
          if (peer == &load.publisher && (events[i].events & EPOLLOUT) && peer->state != STATE_CLOSED)
            flush_publisher ();
        }
    }
}

static gboolean
accept_any_certificate (GTlsConnection *tls, GTlsCertificate *certificate, GTlsCertificateFlags errors,
                        gpointer user_data)
{
  return TRUE;
}

/* A player through TLS: connect and TLS handshake now, blocking; then
 * the RTMP handshake on the loop. The certificate is not checked: this
 * measures the server. */
static void
start_tls_player (Peer *peer)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                             &error);
  g_autoptr (GSocketAddress) address = g_socket_address_new_from_native (&load.tls_address, sizeof load.tls_address);
  if (socket == NULL || !g_socket_connect (socket, address, NULL, &error))
    {
      fprintf (stderr, "fanout-load: TLS connect: %s\n", error->message);
      peer->state = STATE_CLOSED;
      return;
    }
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  peer->tcp = g_socket_connection_factory_create_connection (socket);
  /* No database: GIO would parse the system's trust store per connection. */
  GType type = g_tls_backend_get_client_connection_type (g_tls_backend_get_default ());
  GIOStream *tls = g_initable_new (type, NULL, &error, "base-io-stream", peer->tcp, "database", NULL, NULL);
  if (tls != NULL)
    {
      peer->tls = G_TLS_CONNECTION (tls);
      g_signal_connect (tls, "accept-certificate", G_CALLBACK (accept_any_certificate), NULL);
    }
  if (tls == NULL || !g_tls_connection_handshake (peer->tls, NULL, &error))
    {
      fprintf (stderr, "fanout-load: TLS handshake: %s\n", error->message);
      peer->fd = g_socket_get_fd (socket);
      peer->state = STATE_HANDSHAKE;
      close_peer (peer);
      return;
    }
  g_socket_set_blocking (socket, FALSE);
  peer->fd = g_socket_get_fd (socket);
  watch (peer, EPOLLIN, EPOLL_CTL_ADD);
  start_handshake (peer);
}

static void
start_peer (Peer *peer, gboolean is_publisher)
{
  memset (peer, 0, sizeof *peer);
  peer->is_publisher = is_publisher;
  peer->in_chunk_size = RH_CHUNK_DEFAULT_SIZE;
  if (!is_publisher && load.tls_address.sin_port != 0)
    {
      start_tls_player (peer);
      return;
    }
  peer->fd = open_socket (is_publisher);
  peer->state = STATE_CONNECTING;
  watch (peer, EPOLLOUT, EPOLL_CTL_ADD);
}

typedef struct {
  Peer *players;
  guint n;
  guint started;
} Ramp;

/* Starts players so that at most SETUP_IN_FLIGHT are connecting; TRUE
 * once every one is streaming or closed. */
static gboolean
ramp_players (gpointer data)
{
  Ramp *ramp = data;
  guint settling = 0, settled = 0;
  for (guint i = 0; i < ramp->started; i++)
    {
      const Peer *p = &ramp->players[i];
      if (p->state == STATE_CLOSED || (p->state == STATE_STREAMING && p->first_video_at != 0))
        settled++;
      else
        settling++;
    }
  while (ramp->started < ramp->n && settling < SETUP_IN_FLIGHT)
    {
      start_peer (&ramp->players[ramp->started++], FALSE);
      settling++;
    }
  return settled == ramp->n;
}

static gboolean
has_video (gpointer data)
{
  return ((Peer *) data)->first_video_at != 0 || ((Peer *) data)->state == STATE_CLOSED;
}

static gboolean
publisher_ready (gpointer data)
{
  (void) data;
  return load.publisher.state == STATE_STREAMING || load.publisher.state == STATE_CLOSED;
}

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
  gint port = 0, tls_port = 0, players = 100, warmup = 5, seconds = 10, late = 5, server_pid = 0, setup_timeout = 60;
  g_autofree char *flv = NULL, *app = NULL, *stream = NULL, *play_ports = NULL, *also_pids = NULL;
  GOptionEntry entries[] = {
    { "port", 0, 0, G_OPTION_ARG_INT, &port, "server port on 127.0.0.1", "PORT" },
    { "flv", 0, 0, G_OPTION_ARG_FILENAME, &flv, "clip to publish in a loop", "FILE" },
    { "players", 0, 0, G_OPTION_ARG_INT, &players, "players (100)", "N" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &warmup, "seconds before measuring (5)", "S" },
    { "seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "measurement window (10)", "S" },
    { "late", 0, 0, G_OPTION_ARG_INT, &late, "late joiners at the end (5)", "N" },
    { "server-pid", 0, 0, G_OPTION_ARG_INT, &server_pid, "server to measure", "PID" },
    { "setup-timeout", 0, 0, G_OPTION_ARG_INT, &setup_timeout, "seconds to connect everyone (60)", "S" },
    { "app", 0, 0, G_OPTION_ARG_STRING, &app, "application (live)", "APP" },
    { "stream", 0, 0, G_OPTION_ARG_STRING, &stream, "stream name (bench)", "NAME" },
    { "tls-port", 0, 0, G_OPTION_ARG_INT, &tls_port, "players play through TLS on this port", "PORT" },
    { "play-ports", 0, 0, G_OPTION_ARG_STRING, &play_ports, "players play from these ports in turn", "P1,P2" },
    { "also-pids", 0, 0, G_OPTION_ARG_STRING, &also_pids, "more servers to measure", "PID,PID" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- RTMP fan-out load");
  g_option_context_add_main_entries (context, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, &argc, &argv, &error) || port <= 0 || flv == NULL
      || players <= 0)
    {
      fprintf (stderr, "fanout-load: %s\n", error != NULL ? error->message : "--port and --flv are required");
      return 2;
    }

  load.play_ports = g_array_new (FALSE, FALSE, sizeof (guint16));
  g_auto (GStrv) play_port_list = g_strsplit (play_ports != NULL ? play_ports : "", ",", -1);
  for (char **item = play_port_list; *item != NULL; item++)
    if (**item != '\0')
      {
        guint16 value = (guint16) g_ascii_strtoull (*item, NULL, 10);
        g_array_append_val (load.play_ports, value);
      }
  g_auto (GStrv) also = g_strsplit (also_pids != NULL ? also_pids : "", ",", -1);
  guint n_also = 0;
  int also_pid[8];
  guint64 also_ticks[8];
  for (char **item = also; *item != NULL && n_also < G_N_ELEMENTS (also_pid); item++)
    if (**item != '\0')
      also_pid[n_also++] = atoi (*item);

  load.app = app != NULL ? app : "live";
  load.stream = stream != NULL ? stream : "bench";
  load.address.sin_family = AF_INET;
  load.address.sin_port = htons ((guint16) port);
  load.address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (tls_port > 0)
    {
      load.tls_address = load.address;
      load.tls_address.sin_port = htons ((guint16) tls_port);
    }
  load.tags = read_flv (flv, &load.clip_duration);
  load.outgoing = g_byte_array_new ();
  load.histogram = g_new0 (guint32, HISTOGRAM_BUCKETS);
  load.epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
  if (load.epoll_fd < 0 || load.tags->len == 0)
    die ("setup");

  /* The publisher first, then the players, a bounded number connecting at once. */
  gint64 start = g_get_monotonic_time ();
  start_peer (&load.publisher, TRUE);
  run_loop_until (start + 10 * G_USEC_PER_SEC, publisher_ready, NULL);
  if (load.publisher.state != STATE_STREAMING)
    {
      fprintf (stderr, "fanout-load: the publisher could not connect\n");
      return 1;
    }
  load.publish_started_at = g_get_monotonic_time ();

  Ramp ramp = { g_new0 (Peer, (gsize) players), (guint) players, 0 };
  run_loop_until (g_get_monotonic_time () + (gint64) setup_timeout * G_USEC_PER_SEC, ramp_players, &ramp);
  double setup_seconds = (g_get_monotonic_time () - start) / 1e6;

  run_loop_until (g_get_monotonic_time () + (gint64) warmup * G_USEC_PER_SEC, NULL, NULL);

  /* The window: latency samples, full-rate counts, the server's CPU. */
  for (guint i = 0; i < ramp.n; i++)
    ramp.players[i].bytes = 0;
  long hz = sysconf (_SC_CLK_TCK);
  guint64 server_ticks = server_pid > 0 ? cpu_ticks (server_pid) : 0;
  guint64 own_ticks = cpu_ticks (getpid ());
  for (guint i = 0; i < n_also; i++)
    also_ticks[i] = cpu_ticks (also_pid[i]);
  gint64 window_start = g_get_monotonic_time ();
  load.measuring = TRUE;
  run_loop_until (window_start + (gint64) seconds * G_USEC_PER_SEC, NULL, NULL);
  load.window_closed = TRUE;
  gint64 window_end = g_get_monotonic_time ();
  for (guint i = 0; i < ramp.n; i++)
    ramp.players[i].window_bytes = ramp.players[i].bytes;
  double window = (window_end - window_start) / 1e6;
  double server_cpu = server_pid > 0 ? 100.0 * (cpu_ticks (server_pid) - server_ticks) / hz / window : -1;
  double own_cpu = 100.0 * (cpu_ticks (getpid ()) - own_ticks) / hz / window;
  g_autoptr (GString) also_cpu = g_string_new (NULL);
  for (guint i = 0; i < n_also; i++)
    g_string_append_printf (also_cpu, "%s%.1f", i > 0 ? "," : "",
                            100.0 * (cpu_ticks (also_pid[i]) - also_ticks[i]) / hz / window);
  guint64 server_rss = server_pid > 0 ? rss_kib (server_pid) : 0;
  /* Let the window's last messages arrive: they are at most a few
   * merge windows away. */
  run_loop_until (g_get_monotonic_time () + G_USEC_PER_SEC, NULL, NULL);
  load.measuring = FALSE;

  guint connected = 0, full_rate = 0, broken = 0;
  guint64 bytes = 0;
  for (guint i = 0; i < ramp.n; i++)
    {
      const Peer *p = &ramp.players[i];
      connected += p->state == STATE_STREAMING;
      broken += p->broken;
      full_rate += p->state == STATE_STREAMING && p->window_video == load.window_published;
      bytes += p->window_bytes;
    }

  /* Syscalls in a short window of their own (tracing costs the server);
   * perf runs in a thread while the loop keeps the stream going. */
  double syscalls = -1;
  if (server_pid > 0)
    {
      SyscallJob job = { server_pid, SYSCALL_WINDOW, -1 };
      GThread *thread = g_thread_new ("perf", count_syscalls, &job);
      run_loop_until (g_get_monotonic_time () + (SYSCALL_WINDOW + 1) * G_USEC_PER_SEC, NULL, NULL);
      g_thread_join (thread);
      syscalls = job.per_second;
    }

  /* Late joiners, one at a time, while the stream runs. */
  double *late_ms = g_new0 (double, (gsize) MAX (late, 1));
  guint late_n = 0;
  for (gint i = 0; i < late; i++)
    {
      Peer joiner;
      start_peer (&joiner, FALSE);
      run_loop_until (g_get_monotonic_time () + 5 * G_USEC_PER_SEC, has_video, &joiner);
      if (joiner.first_video_at != 0)
        late_ms[late_n++] = (joiner.first_video_at - joiner.play_sent_at) / 1000.0;
      close_peer (&joiner);
      run_loop_until (g_get_monotonic_time () + 200 * 1000 + g_random_int_range (0, 300) * 1000, NULL,
                      NULL);
    }
  qsort (late_ms, late_n, sizeof *late_ms, compare_double);

  printf ("players=%u connected=%u full_rate=%u broken=%u setup_s=%.1f window_s=%.1f"
          " window_video=%" G_GUINT64_FORMAT " player_kbit_s=%.0f"
          " latency_p50_ms=%.1f latency_p99_ms=%.1f latency_max_ms=%.1f latency_samples=%" G_GUINT64_FORMAT
          " unmatched=%" G_GUINT64_FORMAT " server_cpu=%.1f server_rss_kib=%" G_GUINT64_FORMAT
          " syscalls_per_s=%.0f load_cpu=%.1f late_joiners=%u late_first_video_ms=%.1f also_cpu=%s\n",
          ramp.n, connected, full_rate, broken, setup_seconds, window, load.window_published,
          ramp.n > 0 ? 8.0 * bytes / ramp.n / window / 1000 : 0, percentile (0.5), percentile (0.99), load.max_latency / 1000.0,
          load.samples, load.unmatched, server_cpu, server_rss, syscalls, own_cpu, late_n,
          late_n > 0 ? late_ms[late_n / 2] : -1.0, also_cpu->len > 0 ? also_cpu->str : "-");
  return full_rate == ramp.n ? 0 : 1;
}
