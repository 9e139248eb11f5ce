#include "config.h"

#include "recording.h"

#include <glib/gi18n.h>
#include <string.h>

#include "flv-file.h"
#include "protocol/flv-writer.h"
#include "protocol/message.h"
#include "util/worker-pool.h"

/* The writer writes what came in the last 100 ms at once (a few writev
 * calls), or sooner once 1 MiB waits: a packet costs the main loop a
 * lock and five words, not a thread wake-up. */
#define WRITE_INTERVAL_USEC (100 * 1000)
#define WRITE_EARLY_BYTES (1024 * 1024)
/* Every recording's writes are shared by this many threads at most. */
#define WRITER_THREADS 4

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
  gsize duration_at;    /* ITEM_START: where in payload the two numbers patched at close are */
  gsize filesize_at;
} Item;

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
  guint64 bytes_written;           /* the file's size so far, as the writer left it */
  gboolean abandon;                /* drop what is queued unwritten */
  gboolean close_queued;
  gboolean writer_scheduled;       /* the writer will take what is queued */
  char *close_reason;

  /* The writer's: one pool thread at a time runs it. */
  RhWorkerJob job;                 /* holds a reference until done */
  gboolean open_tried;
  RhFlvFile *file;                 /* NULL until created, or when it could not be */
  char *open_error;                /* why it could not be */
  gboolean failure_reported;
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
  rh_flv_file_free (recording->file);
  g_free (recording->open_error);
  g_clear_pointer (&recording->batch, g_array_unref);
  g_free (recording->path);
  g_free (recording->dir);
  g_free (recording->requested_path);
  g_free (recording);
}

/* ---- the queue between the main loop and the writer ---- */

static void schedule_writer (RhRecording *recording, gint64 due);

static gboolean
push_item_full (RhRecording *recording, ItemKind kind, guint8 type, guint32 timestamp, GBytes *payload,
                gsize duration_at, gsize filesize_at)
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
  item->duration_at = duration_at;
  item->filesize_at = filesize_at;
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

static gboolean
push_item (RhRecording *recording, ItemKind kind, guint8 type, guint32 timestamp, GBytes *payload)
{
  return push_item_full (recording, kind, type, timestamp, payload, 0, 0);
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
  /* The writer patches the two numbers at close: their offsets in the
   * file, which are in the first tag's body. */
  gsize body_at = RH_FLV_FILE_HEADER_SIZE + RH_FLV_TAG_HEADER_SIZE;
  g_autoptr (GBytes) bytes = g_byte_array_free_to_bytes (start);
  recording->file_started = TRUE;
  recording->base_timestamp = timestamp;
  push_item_full (recording, ITEM_START, 0, 0, bytes, body_at + duration_at, body_at + filesize_at);
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

guint64
rh_recording_get_bytes (RhRecording *recording)
{
  g_mutex_lock (&recording->lock);
  guint64 bytes = recording->bytes_written;
  g_mutex_unlock (&recording->lock);
  return bytes;
}

static void
describe (RhOutput *output, char **target, const char **state, guint64 *bytes)
{
  RhRecording *recording = (RhRecording *) output;
  *bytes = rh_recording_get_bytes (recording);
  *target = recording->path != NULL ? g_strdup (recording->path)
                                     : g_build_filename (recording->dir, recording->requested_path, NULL);
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
  /* Events and the API give absolute paths: a hook runs in its own
   * working directory. */
  report->path = path != NULL ? g_build_filename (recording->dir, path, NULL) : NULL;
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

/* ---- the writer, on a pool thread ---- */

/* Takes what is queued and writes it; at the close, finishes the file
 * and reports. TRUE when the recording is over. */
static gboolean
write_turn (RhWorkerJob *job)
{
  RhRecording *recording = G_STRUCT_MEMBER_P (job, -G_STRUCT_OFFSET (RhRecording, job));
  if (!recording->open_tried)
    {
      g_autoptr (GError) error = NULL;
      recording->open_tried = TRUE;
      recording->file = rh_flv_file_create (recording->dir, recording->requested_path, &error);
      if (recording->file != NULL)
        report (recording, REPORT_STARTED, rh_flv_file_get_path (recording->file), NULL, NULL, 0, 0);
      else
        {
          recording->open_error = g_strdup (error->message);
          recording->failure_reported = TRUE;
          report (recording, REPORT_FAILED, NULL, NULL, NULL, 0, 0);
        }
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

  RhFlvFile *file = recording->file;
  Item *items = (Item *) (void *) recording->batch->data;
  gboolean writing = file != NULL && rh_flv_file_get_error (file) == NULL && !abandon;
  gsize written = 0;
  gboolean closing = FALSE;
  for (guint i = 0; i < recording->batch->len; i++)
    {
      closing = closing || items[i].kind == ITEM_CLOSE;
      if (writing && items[i].kind == ITEM_START)
        rh_flv_file_add_start (file, items[i].payload, items[i].duration_at, items[i].filesize_at);
      else if (writing && items[i].kind == ITEM_TAG)
        rh_flv_file_add_tag (file, items[i].type, items[i].timestamp, items[i].payload);
    }
  if (writing)
    rh_flv_file_flush (file);
  for (guint i = 0; i < recording->batch->len; i++)
    if (items[i].payload != NULL)
      {
        written += g_bytes_get_size (items[i].payload);
        g_bytes_unref (items[i].payload);
      }
  g_array_set_size (recording->batch, 0);
  g_mutex_lock (&recording->lock);
  recording->queued_bytes -= written;
  if (file != NULL)
    recording->bytes_written = rh_flv_file_get_bytes (file);
  g_mutex_unlock (&recording->lock);
  if (file != NULL && rh_flv_file_get_error (file) != NULL && !recording->failure_reported)
    {
      recording->failure_reported = TRUE;
      report (recording, REPORT_FAILED, NULL, NULL, NULL, 0, 0);
    }
  if (!closing)
    return FALSE;

  if (file != NULL)
    rh_flv_file_close (file);
  const char *error = file != NULL ? rh_flv_file_get_error (file) : recording->open_error;
  g_mutex_lock (&recording->lock);
  const char *reason = error != NULL ? "error" : recording->close_reason;
  report (recording, REPORT_STOPPED, file != NULL ? rh_flv_file_get_path (file) : NULL, reason, error,
          file != NULL ? (gint64) (rh_flv_file_get_duration_ms (file) / 1000) : 0,
          file != NULL ? rh_flv_file_get_bytes (file) : 0);
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
