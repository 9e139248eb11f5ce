/* Chunk stream parsing (the chunk format of the RTMP specification). Each chunk stream id keeps
 * the last header it saw, because types 1-3 only carry what changed. */
#include "config.h"

#include <glib/gi18n.h>

#include "chunk-reader.h"

#include <string.h>

G_DEFINE_QUARK (rh-chunk-error-quark, rh_chunk_error)

/* The largest chunk size we accept from a peer: bigger ones only make
 * partial messages harder to bound. */
#define MAX_INBOUND_CHUNK_SIZE (16u * 1024 * 1024)

typedef struct {
  guint32 csid;
  guint32 timestamp;
  guint32 delta;
  guint32 length;
  guint32 stream_id;
  guint8 type;
  gboolean extended;      /* the last type 0-2 header used an extended timestamp */
  guint32 extended_value;
  /* The message being reassembled. */
  guint8 *buffer;
  gsize capacity;
  gsize filled;
  gboolean in_progress;
} ChunkStream;

struct _RhChunkReader {
  gsize max_message_size;
  guint32 chunk_size;
  GHashTable *streams;  /* csid -> ChunkStream */
  /* Header bytes gathered so far; a header can straddle feeds. */
  guint8 header[18];
  gsize header_len;
  ChunkStream *current;  /* non-NULL while reading a chunk's payload */
  gsize chunk_left;
  /* Buffers of unfinished messages: their bytes, and the bounds. */
  gsize held;
  gsize max_held;        /* 0: no bound */
  gsize *shared_held;
  gsize shared_limit;
};

static void
count_held (RhChunkReader *reader, gssize change)
{
  reader->held = (gsize) ((gssize) reader->held + change);
  if (reader->shared_held != NULL)
    *reader->shared_held = (gsize) ((gssize) *reader->shared_held + change);
}

/* An abandoned message gives its memory back at once. */
static void
drop_partial (RhChunkReader *reader, ChunkStream *cs)
{
  count_held (reader, -(gssize) cs->capacity);
  g_clear_pointer (&cs->buffer, g_free);
  cs->capacity = 0;
  cs->filled = 0;
  cs->in_progress = FALSE;
}

static void
chunk_stream_free (gpointer data)
{
  ChunkStream *cs = data;
  g_free (cs->buffer);
  g_free (cs);
}

void
rh_chunk_reader_set_budget (RhChunkReader *reader, gsize max_held, gsize *shared_held, gsize shared_limit)
{
  if (reader->shared_held != NULL)
    *reader->shared_held -= reader->held;
  reader->max_held = max_held;
  reader->shared_held = shared_held;
  reader->shared_limit = shared_limit;
  if (shared_held != NULL)
    *shared_held += reader->held;
}

gsize
rh_chunk_reader_get_held (const RhChunkReader *reader)
{
  return reader->held;
}

void
rh_chunk_reader_set_max_message_size (RhChunkReader *reader, gsize max_message_size)
{
  reader->max_message_size = max_message_size;
}

RhChunkReader *
rh_chunk_reader_new (gsize max_message_size)
{
  RhChunkReader *reader = g_new0 (RhChunkReader, 1);
  reader->max_message_size = max_message_size;
  reader->chunk_size = RH_CHUNK_DEFAULT_SIZE;
  reader->streams = g_hash_table_new_full (NULL, NULL, NULL, chunk_stream_free);
  return reader;
}

void
rh_chunk_reader_free (RhChunkReader *reader)
{
  if (reader == NULL)
    return;
  if (reader->shared_held != NULL)
    *reader->shared_held -= reader->held;
  g_hash_table_unref (reader->streams);
  g_free (reader);
}

guint32
rh_chunk_reader_get_chunk_size (const RhChunkReader *reader)
{
  return reader->chunk_size;
}

static gsize
basic_header_len (guint8 first)
{
  switch (first & 0x3f)
    {
    case 0:
      return 2;
    case 1:
      return 3;
    default:
      return 1;
    }
}

static guint32
basic_header_csid (const guint8 *h)
{
  switch (h[0] & 0x3f)
    {
    case 0:
      return 64u + h[1];
    case 1:
      return 64u + h[1] + 256u * h[2];
    default:
      return h[0] & 0x3fu;
    }
}

static const gsize message_header_len[4] = { 11, 7, 3, 0 };

/* How many header bytes are needed, judging from those gathered so far. */
static gsize
header_needed (RhChunkReader *reader)
{
  const guint8 *h = reader->header;
  gsize n = reader->header_len;

  if (n < 1)
    return 1;
  gsize basic = basic_header_len (h[0]);
  if (n < basic)
    return basic;
  guint fmt = h[0] >> 6;
  gsize need = basic + message_header_len[fmt];
  if (n < need)
    return need;
  if (fmt < 3)
    return rh_read_u24_be (h + basic) == 0xFFFFFF ? need + 4 : need;
  /* Type 3 after an extended timestamp: peek at what may be a repeat of it. */
  ChunkStream *cs = g_hash_table_lookup (reader->streams, GUINT_TO_POINTER (basic_header_csid (h)));
  return (cs != NULL && cs->extended) ? need + 4 : need;
}

static ChunkStream *
lookup_stream (RhChunkReader *reader, guint32 csid, gboolean create, GError **error)
{
  ChunkStream *cs = g_hash_table_lookup (reader->streams, GUINT_TO_POINTER (csid));
  if (cs != NULL || !create)
    return cs;
  if (g_hash_table_size (reader->streams) >= RH_CHUNK_MAX_STREAMS)
    {
      g_set_error (error, RH_CHUNK_ERROR, RH_CHUNK_ERROR_TOO_MANY_STREAMS,
                   _("more than %d chunk streams"), RH_CHUNK_MAX_STREAMS);
      return NULL;
    }
  cs = g_new0 (ChunkStream, 1);
  cs->csid = csid;
  g_hash_table_insert (reader->streams, GUINT_TO_POINTER (csid), cs);
  return cs;
}

/* Applies a complete header. Returns the number of header bytes that turned
 * out to be payload (a type 3 peek that was not an extended timestamp), or
 * -1 on error. */
static gssize
apply_header (RhChunkReader *reader, GError **error)
{
  const guint8 *h = reader->header;
  guint fmt = h[0] >> 6;
  gsize basic = basic_header_len (h[0]);
  guint32 csid = basic_header_csid (h);
  const guint8 *m = h + basic;
  gssize replay = 0;

  ChunkStream *cs = lookup_stream (reader, csid, fmt == 0, error);
  if (cs == NULL)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, RH_CHUNK_ERROR, RH_CHUNK_ERROR_NO_PREVIOUS_HEADER,
                     _("chunk type %u on chunk stream %u that has no previous header"), fmt, csid);
      return -1;
    }

  if (fmt < 3)
    {
      guint32 ts = rh_read_u24_be (m);
      cs->extended = ts == 0xFFFFFF;
      if (cs->extended)
        {
          ts = rh_read_u32_be (m + message_header_len[fmt]);
          cs->extended_value = ts;
        }
      if (fmt <= 1)
        {
          cs->length = rh_read_u24_be (m + 3);
          cs->type = m[6];
        }
      if (fmt == 0)
        {
          cs->stream_id = (guint32) m[7] | ((guint32) m[8] << 8) | ((guint32) m[9] << 16)
                          | ((guint32) m[10] << 24);
          cs->timestamp = ts;
          /* A type 3 chunk starting the next message reuses this as delta. */
          cs->delta = ts;
        }
      else
        {
          cs->delta = ts;
          cs->timestamp += ts;
        }
      if (cs->in_progress)
        {
          /* A new header in the middle of a message: the peer abandoned it. */
          drop_partial (reader, cs);
        }
    }
  else
    {
      /* Old OBS does not repeat the extended timestamp: then the peeked
       * bytes were payload. */
      if (cs->extended && rh_read_u32_be (m) != cs->extended_value)
        replay = 4;
      if (!cs->in_progress)
        cs->timestamp += cs->delta;
    }

  if (!cs->in_progress)
    {
      if (cs->length > reader->max_message_size)
        {
          g_set_error (error, RH_CHUNK_ERROR, RH_CHUNK_ERROR_MESSAGE_TOO_LARGE,
                       _("message of %u bytes on chunk stream %u exceeds the limit of %lu"),
                       cs->length, csid, (unsigned long) reader->max_message_size);
          return -1;
        }
      cs->in_progress = TRUE;
      cs->filled = 0;
    }
  reader->current = cs;
  reader->chunk_left = MIN (reader->chunk_size, cs->length - cs->filled);
  return replay;
}

static gboolean
apply_control (RhChunkReader *reader, const RhMessage *message, GError **error)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (message->payload, &len);

  if (message->type != RH_MSG_SET_CHUNK_SIZE && message->type != RH_MSG_ABORT)
    return TRUE;
  if (len < 4)
    {
      g_set_error (error, RH_CHUNK_ERROR, RH_CHUNK_ERROR_BAD_CONTROL,
                   _("protocol control message %u is %lu bytes, needs 4"),
                   message->type, (unsigned long) len);
      return FALSE;
    }
  guint32 value = rh_read_u32_be (p);
  if (message->type == RH_MSG_SET_CHUNK_SIZE)
    {
      value &= 0x7FFFFFFF;
      if (value < 1 || value > MAX_INBOUND_CHUNK_SIZE)
        {
          g_set_error (error, RH_CHUNK_ERROR, RH_CHUNK_ERROR_BAD_CHUNK_SIZE,
                       _("chunk size %u out of range 1..%u"), value, MAX_INBOUND_CHUNK_SIZE);
          return FALSE;
        }
      reader->chunk_size = value;
    }
  else
    {
      ChunkStream *cs = lookup_stream (reader, value, FALSE, NULL);
      if (cs != NULL && cs != reader->current)
        drop_partial (reader, cs);
    }
  return TRUE;
}

/* Payload bytes of the current chunk. Returns FALSE to stop. */
static gboolean
take_payload (RhChunkReader *reader, const guint8 *data, gsize take,
              RhChunkMessageFunc func, gpointer user_data, GError **error)
{
  ChunkStream *cs = reader->current;

  if (cs->filled + take > cs->capacity)
    {
      /* Grow with what actually arrives, so a header announcing a huge
       * message costs nothing until the bytes come. */
      gsize capacity = MAX (cs->capacity * 2, cs->filled + take);
      capacity = MIN (capacity, (gsize) cs->length);
      gsize growth = capacity - cs->capacity;
      if (reader->max_held > 0 && reader->held + growth > reader->max_held)
        {
          g_set_error (error, RH_CHUNK_ERROR, RH_CHUNK_ERROR_OVER_BUDGET,
                       _("unfinished messages would hold more than %lu bytes"),
                       (unsigned long) reader->max_held);
          return FALSE;
        }
      if (reader->shared_held != NULL && reader->shared_limit > 0
          && *reader->shared_held + growth > reader->shared_limit)
        {
          g_set_error (error, RH_CHUNK_ERROR, RH_CHUNK_ERROR_OVER_BUDGET,
                       _("the input budget of all connections (%lu bytes) is spent"),
                       (unsigned long) reader->shared_limit);
          return FALSE;
        }
      cs->buffer = g_realloc (cs->buffer, capacity);
      cs->capacity = capacity;
      count_held (reader, (gssize) growth);
    }
  if (take > 0)
    memcpy (cs->buffer + cs->filled, data, take);
  cs->filled += take;
  reader->chunk_left -= take;

  if (reader->chunk_left > 0)
    return TRUE;
  reader->current = NULL;
  if (cs->filled < cs->length)
    return TRUE;

  RhMessage message = {
    .csid = cs->csid,
    .type = cs->type,
    .stream_id = cs->stream_id,
    .timestamp = cs->timestamp,
  };
  /* The buffer becomes the shared payload; the next message starts afresh. */
  message.payload = g_bytes_new_take (cs->buffer, cs->length);
  count_held (reader, -(gssize) cs->capacity);
  cs->buffer = NULL;
  cs->capacity = 0;
  cs->filled = 0;
  cs->in_progress = FALSE;

  gboolean go_on = apply_control (reader, &message, error)
                   && func (&message, user_data);
  g_bytes_unref (message.payload);
  return go_on;
}

static gboolean
process (RhChunkReader *reader, const guint8 *data, gsize len,
         RhChunkMessageFunc func, gpointer user_data, GError **error)
{
  gsize pos = 0;

  while (pos < len)
    {
      if (reader->current != NULL)
        {
          gsize take = MIN (reader->chunk_left, len - pos);
          if (!take_payload (reader, data + pos, take, func, user_data, error))
            return FALSE;
          pos += take;
          continue;
        }

      gsize need = header_needed (reader);
      if (reader->header_len < need)
        {
          gsize take = MIN (need - reader->header_len, len - pos);
          memcpy (reader->header + reader->header_len, data + pos, take);
          reader->header_len += take;
          pos += take;
          if (reader->header_len < need || header_needed (reader) > reader->header_len)
            continue;
        }

      gssize replay = apply_header (reader, error);
      if (replay < 0)
        return FALSE;
      guint8 peeked[4];
      memcpy (peeked, reader->header + reader->header_len - replay, (gsize) replay);
      reader->header_len = 0;
      if (reader->current->length == 0)
        {
          /* An empty message is complete with its header. */
          if (!take_payload (reader, NULL, 0, func, user_data, error))
            return FALSE;
        }
      if (replay > 0 && !process (reader, peeked, (gsize) replay, func, user_data, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
rh_chunk_reader_feed (RhChunkReader *reader, const guint8 *data, gsize len,
                      RhChunkMessageFunc func, gpointer user_data, GError **error)
{
  return process (reader, data, len, func, user_data, error);
}
