#include "config.h"

#include "recording.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "protocol/flv-writer.h"
#include "protocol/message.h"
#include "util/worker-pool.h"

/* The writer writes what came in the last 100 ms at once (a few writev
 * calls), or sooner once 1 MiB waits: a packet costs the main loop a
 * lock and five words, not a thread wake-up. */
#define WRITE_INTERVAL_USEC (100 * 1000)
#define WRITE_EARLY_BYTES (1024 * 1024)
/* iovecs per writev: three per tag. */
#define WRITE_MAX_VECTORS 1020
/* Every recording's writes are shared by this many threads at most. */
#define WRITER_THREADS 4
/* A step between two tags' timestamps larger than this (or backwards) is
 * a jump, not time that passed: the duration patched into the file is
 * the sum of the spans between jumps. */
#define TIMESTAMP_JUMP_MS 10000

typedef enum {
  ITEM_START,   /* payload: file header, onMetaData and sequence headers */
  ITEM_TAG,     /* payload: a tag body */
  ITEM_CLOSE,
} ItemKind;

typedef struct {
  guint8 type;
  guint16 config_key;
  GBytes *payload;
} Header;

static void
header_clear (gpointer data)
{
  g_bytes_unref (((Header *) data)->payload);
}

typedef struct {
  ItemKind kind;
  guint8 type;
  guint32 timestamp;    /* rebased: the file starts at 0 */
  GBytes *payload;
} Item;

/* The file, as the writer sees it. */
typedef struct {
  int fd;
  char *path;              /* relative, as opened */
  guint64 bytes;
  gboolean any_tag;        /* a tag was written: the spans below mean something */
  guint32 span_start;      /* timestamp where the current span began */
  guint32 last_timestamp;
  guint64 spans_ms;        /* the spans before the current one */
  gsize duration_at;       /* file offsets of the onMetaData numbers */
  gsize filesize_at;
  char *error;             /* the first failure; nothing is written after it */
} Writer;

struct _RhRecording {
  RhOutput output;                 /* first: the stream feeds it */
  gatomicrefcount ref;
  const RhRecordingOwner *owner;
  gpointer owner_data;
  GMainContext *context;
  char *dir;
  char *requested_path;
  gsize max_buffer;

  /* Main thread only. */
  char *path;                      /* as opened: with its -N suffix */
  gboolean stopping;               /* the close is queued */
  gboolean file_started;           /* the start is queued */
  gboolean writer_unavailable;     /* no thread could write it: it ended */
  guint32 base_timestamp;
  GBytes *metadata;
  GArray *headers;                 /* Header: the decoder configurations so far */

  /* Shared with the writer, under lock. */
  GMutex lock;
  Item *ring;
  guint capacity;
  guint head;
  guint length;
  gsize queued_bytes;
  gboolean abandon;                /* drop what is queued unwritten */
  gboolean close_queued;
  gboolean writer_scheduled;       /* the writer will take what is queued */
  char *close_reason;

  /* The writer's: one pool thread at a time runs it. */
  RhWorkerJob job;                 /* holds a reference until done */
  gboolean open_tried;
  gboolean opened;
  gboolean failure_reported;
  Writer writer;
  GArray *batch;                   /* Item: what one turn writes */
};

static RhRecording *
recording_ref (RhRecording *recording)
{
  g_atomic_ref_count_inc (&recording->ref);
  return recording;
}

static void
recording_unref (RhRecording *recording)
{
  if (!g_atomic_ref_count_dec (&recording->ref))
    return;
  for (guint i = 0; i < recording->length; i++)
    g_clear_pointer (&recording->ring[(recording->head + i) % recording->capacity].payload, g_bytes_unref);
  g_free (recording->ring);
  g_mutex_clear (&recording->lock);
  g_clear_pointer (&recording->metadata, g_bytes_unref);
  g_array_unref (recording->headers);
  g_main_context_unref (recording->context);
  rh_output_clear (&recording->output);
  g_free (recording->close_reason);
  g_free (recording->writer.path);
  g_free (recording->writer.error);
  g_clear_pointer (&recording->batch, g_array_unref);
  g_free (recording->path);
  g_free (recording->dir);
  g_free (recording->requested_path);
  g_free (recording);
}

/* ---- the queue between the main loop and the writer ---- */

static void schedule_writer (RhRecording *recording, gint64 due);

static gboolean
push_item (RhRecording *recording, ItemKind kind, guint8 type, guint32 timestamp, GBytes *payload)
{
  g_mutex_lock (&recording->lock);
  /* A tag that would take the backlog past max_buffer is not queued. */
  if (kind == ITEM_TAG && recording->queued_bytes + g_bytes_get_size (payload) > recording->max_buffer)
    {
      g_mutex_unlock (&recording->lock);
      return FALSE;
    }
  if (recording->length == recording->capacity)
    {
      guint capacity = MAX (64u, recording->capacity * 2);
      Item *ring = g_new0 (Item, capacity);
      for (guint i = 0; i < recording->length; i++)
        ring[i] = recording->ring[(recording->head + i) % recording->capacity];
      g_free (recording->ring);
      recording->ring = ring;
      recording->capacity = capacity;
      recording->head = 0;
    }
  Item *item = &recording->ring[(recording->head + recording->length) % recording->capacity];
  item->kind = kind;
  item->type = type;
  item->timestamp = timestamp;
  item->payload = payload != NULL ? g_bytes_ref (payload) : NULL;
  recording->length++;
  if (payload != NULL)
    recording->queued_bytes += g_bytes_get_size (payload);
  /* The writer takes what came in the last WRITE_INTERVAL_USEC at once:
   * only a close or a large backlog calls it sooner. */
  if (kind == ITEM_CLOSE)
    recording->close_queued = TRUE;
  gboolean urgent = kind == ITEM_CLOSE || recording->queued_bytes >= WRITE_EARLY_BYTES;
  gboolean schedule = urgent || !recording->writer_scheduled;
  recording->writer_scheduled = TRUE;
  g_mutex_unlock (&recording->lock);
  if (schedule)
    schedule_writer (recording, g_get_monotonic_time () + (urgent ? 0 : WRITE_INTERVAL_USEC));
  return TRUE;
}

gsize
rh_recording_get_queued_bytes (RhRecording *recording)
{
  g_mutex_lock (&recording->lock);
  gsize bytes = recording->queued_bytes;
  g_mutex_unlock (&recording->lock);
  return bytes;
}

void
rh_recording_stop (RhRecording *recording, const char *reason)
{
  if (recording->stopping)
    return;
  recording->stopping = TRUE;
  g_mutex_lock (&recording->lock);
  recording->close_reason = g_strdup (reason);
  /* A disk too slow for the stream will not catch up on a backlog. */
  recording->abandon = strcmp (reason, "too_slow") == 0;
  g_mutex_unlock (&recording->lock);
  push_item (recording, ITEM_CLOSE, 0, 0, NULL);
}

/* ---- the main loop side: what the stream feeds ---- */

static void
append_tag (GByteArray *out, guint8 type, GBytes *body)
{
  gsize size = g_bytes_get_size (body);
  guint8 header[RH_FLV_TAG_HEADER_SIZE], trailer[RH_FLV_TAG_TRAILER_SIZE];
  rh_flv_write_tag_header (header, type, size, 0);
  rh_flv_write_tag_trailer (trailer, size);
  g_byte_array_append (out, header, sizeof header);
  g_byte_array_append (out, g_bytes_get_data (body, NULL), (guint) size);
  g_byte_array_append (out, trailer, sizeof trailer);
}

/* The file's beginning, queued once at its first frame. */
static void
start_file (RhRecording *recording, gboolean has_video, guint32 timestamp)
{
  GByteArray *start = g_byte_array_sized_new (4096);
  gboolean has_audio = FALSE;
  for (guint i = 0; i < recording->headers->len; i++)
    has_audio = has_audio || g_array_index (recording->headers, Header, i).type == RH_MSG_AUDIO;
  guint8 file_header[RH_FLV_FILE_HEADER_SIZE];
  rh_flv_write_file_header (file_header, has_audio, has_video);
  g_byte_array_append (start, file_header, sizeof file_header);
  gsize duration_at, filesize_at;
  g_autoptr (GBytes) metadata = rh_flv_file_metadata (recording->metadata, &duration_at, &filesize_at);
  append_tag (start, RH_FLV_TAG_DATA, metadata);
  for (guint i = 0; i < recording->headers->len; i++)
    {
      const Header *header = &g_array_index (recording->headers, Header, i);
      append_tag (start, header->type, header->payload);
    }
  /* The writer patches the two numbers at close: it needs their offsets
   * in the file, which are in the first tag's body. */
  gsize body_at = RH_FLV_FILE_HEADER_SIZE + RH_FLV_TAG_HEADER_SIZE;
  guint8 offsets[16];
  for (int i = 0; i < 8; i++)
    {
      offsets[i] = (guint8) ((guint64) (body_at + duration_at) >> (56 - 8 * i));
      offsets[8 + i] = (guint8) ((guint64) (body_at + filesize_at) >> (56 - 8 * i));
    }
  g_byte_array_prepend (start, offsets, sizeof offsets);
  g_autoptr (GBytes) bytes = g_byte_array_free_to_bytes (start);
  recording->file_started = TRUE;
  recording->base_timestamp = timestamp;
  push_item (recording, ITEM_START, 0, 0, bytes);
}

/* Before the file starts: the latest configuration of each kind. */
static void
keep_header (RhRecording *recording, const RhOutputPacket *packet)
{
  for (guint i = 0; i < recording->headers->len; i++)
    {
      Header *header = &g_array_index (recording->headers, Header, i);
      if (header->type == packet->type && header->config_key == packet->config_key)
        {
          g_bytes_unref (header->payload);
          header->payload = g_bytes_ref (packet->payload);
          return;
        }
    }
  Header header = { packet->type, packet->config_key, g_bytes_ref (packet->payload) };
  g_array_append_val (recording->headers, header);
}

static gboolean
has_video_header (RhRecording *recording)
{
  for (guint i = 0; i < recording->headers->len; i++)
    if (g_array_index (recording->headers, Header, i).type == RH_MSG_VIDEO)
      return TRUE;
  return FALSE;
}

static void
on_packet (RhOutput *output, const RhOutputPacket *packet)
{
  RhRecording *recording = (RhRecording *) output;
  if (recording->stopping)
    return;
  gsize size = g_bytes_get_size (packet->payload);
  if (size > RH_FLV_MAX_TAG_BODY)
    return;

  if (packet->type == RH_MSG_DATA_AMF0 && (packet->flags & RH_MEDIA_SEQUENCE_HEADER))
    {
      /* The file's onMetaData is its own; later updates are not written. */
      if (!recording->file_started)
        {
          g_clear_pointer (&recording->metadata, g_bytes_unref);
          recording->metadata = g_bytes_ref (packet->payload);
        }
      return;
    }
  if (!recording->file_started && (packet->flags & RH_MEDIA_SEQUENCE_HEADER))
    {
      keep_header (recording, packet);
      return;
    }
  if (!recording->file_started)
    {
      /* A file starts at a keyframe, or at any audio frame when there is
       * no video. */
      gboolean video_start = packet->type == RH_MSG_VIDEO && (packet->flags & RH_MEDIA_KEYFRAME);
      gboolean audio_only = packet->type == RH_MSG_AUDIO && !has_video_header (recording);
      if (!video_start && !audio_only)
        return;
      start_file (recording, video_start, packet->timestamp);
    }

  gint32 since_start = (gint32) (packet->timestamp - recording->base_timestamp);
  if (!push_item (recording, ITEM_TAG, packet->type, since_start > 0 ? (guint32) since_start : 0, packet->payload))
    rh_recording_stop (recording, "too_slow");
}

static void
on_ended (RhOutput *output, RhReason reason)
{
  RhRecording *recording = (RhRecording *) output;
  rh_recording_stop (recording, reason == RH_REASON_SERVER_SHUTDOWN ? "server_shutdown" : "publish_stop");
}

static void
describe (RhOutput *output, char **target, const char **state)
{
  RhRecording *recording = (RhRecording *) output;
  *target = g_strdup (recording->path != NULL ? recording->path : recording->requested_path);
  *state = recording->stopping ? "closing" : recording->path != NULL ? "recording" : "opening";
}

static const RhOutputFuncs output_funcs = { on_packet, on_ended, describe, "record" };

RhOutput *
rh_recording_get_output (RhRecording *recording)
{
  return &recording->output;
}

/* ---- reports from the writer to the main loop ---- */

typedef enum { REPORT_STARTED, REPORT_FAILED, REPORT_STOPPED } ReportKind;

typedef struct {
  RhRecording *recording;
  ReportKind kind;
  char *path;
  char *reason;
  char *detail;
  gint64 duration_seconds;
  guint64 bytes;
} Report;

static void
report_free (gpointer data)
{
  Report *report = data;
  recording_unref (report->recording);
  g_free (report->path);
  g_free (report->reason);
  g_free (report->detail);
  g_free (report);
}

static gboolean
deliver_report (gpointer data)
{
  Report *report = data;
  RhRecording *recording = report->recording;
  switch (report->kind)
    {
    case REPORT_STARTED:
      g_free (recording->path);
      recording->path = g_strdup (report->path);
      recording->owner->started (recording, report->path, recording->owner_data);
      break;
    case REPORT_FAILED:
      rh_recording_stop (recording, "error");
      break;
    case REPORT_STOPPED:
      recording->stopping = TRUE;
      recording->owner->stopped (recording, report->path, report->duration_seconds, report->bytes,
                                 report->reason, report->detail, recording->owner_data);
      break;
    }
  return G_SOURCE_REMOVE;
}

static void
report (RhRecording *recording, ReportKind kind, const char *path, const char *reason, const char *detail,
        gint64 duration_seconds, guint64 bytes)
{
  Report *report = g_new0 (Report, 1);
  report->recording = recording_ref (recording);
  report->kind = kind;
  report->path = g_strdup (path);
  report->reason = g_strdup (reason);
  report->detail = g_strdup (detail);
  report->duration_seconds = duration_seconds;
  report->bytes = bytes;
  GSource *source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, deliver_report, report, report_free);
  g_source_attach (source, recording->context);
  g_source_unref (source);
}

/* ---- the writer thread ---- */


/* "dir/name.flv", else "dir/name-1.flv" ... */
static char *
candidate_path (const char *path, guint attempt)
{
  if (attempt == 0)
    return g_strdup (path);
  const char *base = strrchr (path, '/');
  base = base != NULL ? base + 1 : path;
  const char *dot = strrchr (base, '.');
  if (dot == NULL || dot == base)
    return g_strdup_printf ("%s-%u", path, attempt);
  return g_strdup_printf ("%.*s-%u%s", (int) (dot - path), path, attempt, dot);
}

static gboolean
open_file (RhRecording *recording, Writer *writer)
{
  g_autofree char *first = g_build_filename (recording->dir, recording->requested_path, NULL);
  g_autofree char *parent = g_path_get_dirname (first);
  if (g_mkdir_with_parents (parent, 0750) != 0)
    {
      writer->error = g_strdup_printf (_("cannot create %s: %s"), parent, g_strerror (errno));
      return FALSE;
    }
  for (guint attempt = 0; attempt < 1000; attempt++)
    {
      g_autofree char *relative = candidate_path (recording->requested_path, attempt);
      g_autofree char *full = g_build_filename (recording->dir, relative, NULL);
      int fd = open (full, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
      if (fd >= 0)
        {
          writer->fd = fd;
          writer->path = g_steal_pointer (&relative);
          return TRUE;
        }
      if (errno != EEXIST)
        {
          writer->error = g_strdup_printf (_("cannot create %s: %s"), full, g_strerror (errno));
          return FALSE;
        }
    }
  writer->error = g_strdup_printf (_("cannot create %s: 1000 files of that name exist"), first);
  return FALSE;
}

static gboolean
write_all (Writer *writer, struct iovec *iov, int n)
{
  while (n > 0)
    {
      ssize_t written = writev (writer->fd, iov, n);
      if (written < 0 && errno == EINTR)
        continue;
      if (written < 0)
        {
          writer->error = g_strdup_printf (_("cannot write %s: %s"), writer->path, g_strerror (errno));
          return FALSE;
        }
      writer->bytes += (guint64) written;
      while (n > 0 && (gsize) written >= iov->iov_len)
        {
          written -= (ssize_t) iov->iov_len;
          iov++;
          n--;
        }
      if (n > 0)
        {
          iov->iov_base = (guint8 *) iov->iov_base + written;
          iov->iov_len -= (gsize) written;
        }
    }
  return TRUE;
}

static guint64
read_u64 (const guint8 *p)
{
  guint64 value = 0;
  for (int i = 0; i < 8; i++)
    value = (value << 8) | p[i];
  return value;
}

/* Writes a batch of queued items (a START, TAGs, ...) with as few writev
 * calls as fit; stops at the first failure. */
/* Media time as written: the spans between jumps, added up. Audio and
 * video interleave a little out of order, so a small step back is not a
 * jump. */
#define TIMESTAMP_REORDER_MS 1000

static void
note_timestamp (Writer *writer, guint32 timestamp)
{
  if (!writer->any_tag)
    {
      writer->any_tag = TRUE;
      writer->span_start = writer->last_timestamp = timestamp;
      return;
    }
  if ((guint64) timestamp + TIMESTAMP_REORDER_MS < writer->last_timestamp
      || timestamp > (guint64) writer->last_timestamp + TIMESTAMP_JUMP_MS)
    {
      writer->spans_ms += writer->last_timestamp - writer->span_start;
      writer->span_start = writer->last_timestamp = timestamp;
      return;
    }
  writer->last_timestamp = MAX (writer->last_timestamp, timestamp);
}

static guint64
written_duration_ms (const Writer *writer)
{
  return writer->any_tag ? writer->spans_ms + (writer->last_timestamp - writer->span_start) : 0;
}

/* Writes a batch of queued items (a START, TAGs, ...) with as few writev
 * calls as fit; stops at the first failure. */
static void
write_items (Writer *writer, const Item *items, guint n)
{
  /* On the writer's stack: 21 KiB. */
  struct iovec iov[WRITE_MAX_VECTORS];
  guint8 frames[WRITE_MAX_VECTORS / 3][RH_FLV_TAG_HEADER_SIZE + RH_FLV_TAG_TRAILER_SIZE];
  guint n_iov = 0, n_frames = 0;
  for (guint i = 0; i < n && writer->error == NULL; i++)
    {
      const Item *item = &items[i];
      if (item->kind == ITEM_CLOSE)
        continue;
      gsize len;
      const guint8 *data = g_bytes_get_data (item->payload, &len);
      if (item->kind == ITEM_START)
        {
          writer->duration_at = (gsize) read_u64 (data);
          writer->filesize_at = (gsize) read_u64 (data + 8);
          iov[n_iov++] = (struct iovec) { (void *) (data + 16), len - 16 };
        }
      else
        {
          guint8 *header = frames[n_frames], *trailer = header + RH_FLV_TAG_HEADER_SIZE;
          n_frames++;
          rh_flv_write_tag_header (header, item->type, len, item->timestamp);
          rh_flv_write_tag_trailer (trailer, len);
          iov[n_iov++] = (struct iovec) { header, RH_FLV_TAG_HEADER_SIZE };
          iov[n_iov++] = (struct iovec) { (void *) data, len };
          iov[n_iov++] = (struct iovec) { trailer, RH_FLV_TAG_TRAILER_SIZE };
          note_timestamp (writer, item->timestamp);
        }
      if (n_iov + 3 > WRITE_MAX_VECTORS || i + 1 == n)
        {
          if (n_iov > 0)
            write_all (writer, iov, (int) n_iov);
          n_iov = 0;
          n_frames = 0;
        }
    }
  if (n_iov > 0 && writer->error == NULL)
    write_all (writer, iov, (int) n_iov);
}

/* A file whose directory was removed (or that was removed itself) takes
 * writes and loses them: an error, not a recording that goes on. */
static void
check_still_there (Writer *writer)
{
  struct stat st;
  if (writer->error == NULL && fstat (writer->fd, &st) == 0 && st.st_nlink == 0)
    writer->error = g_strdup_printf (_("%s was removed while recording"), writer->path);
}

/* The file's real duration and size into its onMetaData. */
static void
patch_metadata (Writer *writer)
{
  if (writer->duration_at == 0)
    return;
  guint8 number[8];
  rh_flv_write_double (number, (double) written_duration_ms (writer) / 1000.0);
  if (pwrite (writer->fd, number, sizeof number, (off_t) writer->duration_at) != sizeof number)
    return;
  rh_flv_write_double (number, (double) writer->bytes);
  (void) !pwrite (writer->fd, number, sizeof number, (off_t) writer->filesize_at);
}

/* Takes what is queued and writes it; at the close, finishes the file
 * and reports. TRUE when the recording is over. */
static gboolean
write_turn (RhWorkerJob *job)
{
  RhRecording *recording = G_STRUCT_MEMBER_P (job, -G_STRUCT_OFFSET (RhRecording, job));
  Writer *writer = &recording->writer;
  if (!recording->open_tried)
    {
      recording->open_tried = TRUE;
      recording->opened = open_file (recording, writer);
      recording->failure_reported = !recording->opened;
      report (recording, recording->opened ? REPORT_STARTED : REPORT_FAILED, writer->path, NULL, NULL, 0, 0);
    }

  g_mutex_lock (&recording->lock);
  recording->writer_scheduled = FALSE;
  g_array_set_size (recording->batch, 0);
  for (; recording->length > 0; recording->length--)
    {
      g_array_append_val (recording->batch, recording->ring[recording->head]);
      recording->ring[recording->head].payload = NULL;
      recording->head = (recording->head + 1) % recording->capacity;
    }
  gboolean abandon = recording->abandon;
  g_mutex_unlock (&recording->lock);

  Item *items = (Item *) (void *) recording->batch->data;
  if (recording->opened && writer->error == NULL && !abandon)
    {
      write_items (writer, items, recording->batch->len);
      check_still_there (writer);
    }
  gsize written = 0;
  gboolean closing = FALSE;
  for (guint i = 0; i < recording->batch->len; i++)
    {
      closing = closing || items[i].kind == ITEM_CLOSE;
      if (items[i].payload != NULL)
        {
          written += g_bytes_get_size (items[i].payload);
          g_bytes_unref (items[i].payload);
        }
    }
  g_array_set_size (recording->batch, 0);
  g_mutex_lock (&recording->lock);
  recording->queued_bytes -= written;
  g_mutex_unlock (&recording->lock);
  if (writer->error != NULL && !recording->failure_reported)
    {
      recording->failure_reported = TRUE;
      report (recording, REPORT_FAILED, NULL, NULL, NULL, 0, 0);
    }
  if (!closing)
    return FALSE;

  if (recording->opened)
    {
      patch_metadata (writer);
      if (close (writer->fd) != 0 && writer->error == NULL)
        writer->error = g_strdup_printf (_("cannot write %s: %s"), writer->path, g_strerror (errno));
    }
  g_mutex_lock (&recording->lock);
  const char *reason = writer->error != NULL ? "error" : recording->close_reason;
  report (recording, REPORT_STOPPED, writer->path, reason, writer->error,
          (gint64) (written_duration_ms (writer) / 1000), writer->bytes);
  g_mutex_unlock (&recording->lock);
  return TRUE;
}

static void
writer_done (RhWorkerJob *job)
{
  recording_unref (G_STRUCT_MEMBER_P (job, -G_STRUCT_OFFSET (RhRecording, job)));
}

static RhWorkerPool *
writer_pool (void)
{
  /* The main thread's: created with the first recording. */
  static RhWorkerPool *pool;
  if (pool == NULL)
    pool = rh_worker_pool_new ("recording", WRITER_THREADS);
  return pool;
}

/* With no writer thread at all (none could be created), the recording
 * ends at once with reason error: the stream and the daemon go on. */
static void
schedule_writer (RhRecording *recording, gint64 due)
{
  g_autoptr (GError) error = NULL;
  if (recording->writer_unavailable)
    return;
  if (rh_worker_pool_schedule (writer_pool (), &recording->job, due, &error))
    return;
  /* The pool never had a thread: this job never ran, and never will. */
  recording->writer_unavailable = TRUE;
  g_autofree char *detail = g_strdup_printf (_("cannot start a writer thread: %s"), error->message);
  report (recording, REPORT_STOPPED, NULL, "error", detail, 0, 0);
  recording_unref (recording);  /* the writer's */
}

RhRecording *
rh_recording_new (const char *dir, const char *relative_path, gsize max_buffer, const char *conn_id,
                  const char *app, const char *stream_name, const RhRecordingOwner *owner, gpointer owner_data)
{
  RhRecording *recording = g_new0 (RhRecording, 1);
  rh_output_init (&recording->output, &output_funcs, conn_id, app, stream_name);
  g_atomic_ref_count_init (&recording->ref);
  recording->owner = owner;
  recording->owner_data = owner_data;
  recording->context = g_main_context_ref_thread_default ();
  recording->dir = g_strdup (dir);
  recording->requested_path = g_strdup (relative_path);
  recording->max_buffer = max_buffer;
  recording->headers = g_array_new (FALSE, FALSE, sizeof (Header));
  g_array_set_clear_func (recording->headers, header_clear);
  g_mutex_init (&recording->lock);
  recording->batch = g_array_new (FALSE, FALSE, sizeof (Item));
  recording->writer.fd = -1;
  recording->job.run = write_turn;
  recording->job.done = writer_done;
  recording_ref (recording);  /* the writer's, until done */
  recording->writer_scheduled = TRUE;
  schedule_writer (recording, g_get_monotonic_time ());
  return recording;
}

void
rh_recording_free (RhRecording *recording)
{
  if (recording == NULL)
    return;
  recording_unref (recording);
}
