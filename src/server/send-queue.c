#include "config.h"

#include "send-queue.h"

#include "protocol/chunk-writer.h"

#include <string.h>

typedef struct {
  GBytes *payload;
  gsize size;            /* serialized bytes */
  gsize sent;            /* of size */
  gint64 queued_at;      /* 0: not timed */
  guint32 chunk_size;    /* 0: raw bytes, no chunking */
  guint8 header_len;
  guint8 continuation_len;
  guint8 header[RH_CHUNK_HEADER_MAX];
  guint8 continuation[RH_CHUNK_CONTINUATION_MAX];
} Entry;

/* A ring buffer of entries: queuing a message allocates nothing once the
 * ring has grown to the connection's usual depth. */
struct _RhSendQueue {
  Entry *ring;
  guint capacity;
  guint head;
  guint length;
  gsize bytes;
  gsize untimed_bytes;   /* of bytes: replies and control, not media */
};

RhSendQueue *
rh_send_queue_new (void)
{
  RhSendQueue *queue = g_new0 (RhSendQueue, 1);
  queue->capacity = 16;
  queue->ring = g_new0 (Entry, queue->capacity);
  return queue;
}

static Entry *
entry_at (const RhSendQueue *queue, guint i)
{
  return &queue->ring[(queue->head + i) % queue->capacity];
}

void
rh_send_queue_free (RhSendQueue *queue)
{
  if (queue == NULL)
    return;
  for (guint i = 0; i < queue->length; i++)
    g_bytes_unref (entry_at (queue, i)->payload);
  g_free (queue->ring);
  g_free (queue);
}

static Entry *
append_entry (RhSendQueue *queue)
{
  if (queue->length == queue->capacity)
    {
      Entry *ring = g_new0 (Entry, queue->capacity * 2);
      for (guint i = 0; i < queue->length; i++)
        ring[i] = *entry_at (queue, i);
      g_free (queue->ring);
      queue->ring = ring;
      queue->head = 0;
      queue->capacity *= 2;
    }
  Entry *entry = entry_at (queue, queue->length);
  queue->length++;
  return entry;
}

void
rh_send_queue_push (RhSendQueue *queue, guint32 csid, guint8 type, guint32 stream_id,
                    guint32 timestamp, GBytes *payload, guint32 chunk_size, gint64 queued_at)
{
  Entry *entry = append_entry (queue);
  gsize len = g_bytes_get_size (payload);

  entry->payload = g_bytes_ref (payload);
  entry->sent = 0;
  entry->queued_at = queued_at;
  entry->chunk_size = chunk_size;
  entry->header_len = (guint8) rh_chunk_write_header (entry->header, csid, timestamp,
                                                      (guint32) len, type, stream_id);
  entry->continuation_len = (guint8) rh_chunk_write_continuation (entry->continuation, csid,
                                                                  timestamp);
  entry->size = rh_chunk_serialized_size (entry->header_len, entry->continuation_len, len,
                                          chunk_size);
  queue->bytes += entry->size;
  if (queued_at == 0)
    queue->untimed_bytes += entry->size;
}

void
rh_send_queue_push_raw (RhSendQueue *queue, GBytes *bytes, gint64 queued_at)
{
  if (g_bytes_get_size (bytes) == 0)
    return;
  Entry *entry = append_entry (queue);

  entry->payload = g_bytes_ref (bytes);
  entry->sent = 0;
  entry->queued_at = queued_at;
  entry->chunk_size = 0;
  entry->header_len = 0;
  entry->continuation_len = 0;
  entry->size = g_bytes_get_size (bytes);
  queue->bytes += entry->size;
  if (queued_at == 0)
    queue->untimed_bytes += entry->size;
}

static gboolean
add_vector (GOutputVector *vectors, guint *n, guint max, const void *data, gsize len)
{
  if (len == 0)
    return TRUE;
  if (*n == max)
    return FALSE;
  vectors[*n].buffer = data;
  vectors[*n].size = len;
  (*n)++;
  return TRUE;
}

/* The serialized entry is: header, slice 0, continuation, slice 1, ...
 * Emits the vectors from byte `from` on. */
static gboolean
gather_entry (const Entry *entry, GOutputVector *vectors, guint *n, guint max)
{
  gsize len;
  const guint8 *payload = g_bytes_get_data (entry->payload, &len);
  gsize from = entry->sent;

  if (entry->chunk_size == 0)
    return add_vector (vectors, n, max, payload + from, len - from);

  gsize pos = 0;  /* serialized position of the segment being considered */
  if (from < entry->header_len
      && !add_vector (vectors, n, max, entry->header + from, entry->header_len - from))
    return FALSE;
  pos = entry->header_len;

  for (gsize offset = 0; offset < len; offset += entry->chunk_size)
    {
      if (offset > 0)
        {
          gsize end = pos + entry->continuation_len;
          if (from < end)
            {
              gsize skip = from > pos ? from - pos : 0;
              if (!add_vector (vectors, n, max, entry->continuation + skip,
                               entry->continuation_len - skip))
                return FALSE;
            }
          pos = end;
        }
      gsize slice = MIN (entry->chunk_size, len - offset);
      gsize end = pos + slice;
      if (from < end)
        {
          gsize skip = from > pos ? from - pos : 0;
          if (!add_vector (vectors, n, max, payload + offset + skip, slice - skip))
            return FALSE;
        }
      pos = end;
    }
  return TRUE;
}

guint
rh_send_queue_gather (RhSendQueue *queue, GOutputVector *vectors, guint max)
{
  guint n = 0;
  for (guint i = 0; i < queue->length; i++)
    if (!gather_entry (entry_at (queue, i), vectors, &n, max))
      break;
  return n;
}

void
rh_send_queue_advance (RhSendQueue *queue, gsize n)
{
  queue->bytes -= n;
  while (n > 0)
    {
      Entry *entry = entry_at (queue, 0);
      gsize left = entry->size - entry->sent;
      gsize done = MIN (n, left);
      if (entry->queued_at == 0)
        queue->untimed_bytes -= done;
      if (n < left)
        {
          entry->sent += n;
          return;
        }
      n -= left;
      g_bytes_unref (entry->payload);
      entry->payload = NULL;
      queue->head = (queue->head + 1) % queue->capacity;
      queue->length--;
    }
}

gsize
rh_send_queue_get_bytes (const RhSendQueue *queue)
{
  return queue->bytes;
}

gsize
rh_send_queue_get_untimed_bytes (const RhSendQueue *queue)
{
  return queue->untimed_bytes;
}

guint
rh_send_queue_get_length (const RhSendQueue *queue)
{
  return queue->length;
}

gint64
rh_send_queue_get_oldest_queued_at (const RhSendQueue *queue)
{
  /* Untimed entries (control, replies) are few and short-lived: the scan
   * stops at the first timed one. */
  for (guint i = 0; i < queue->length; i++)
    {
      gint64 queued_at = entry_at (queue, i)->queued_at;
      if (queued_at != 0)
        return queued_at;
    }
  return 0;
}
