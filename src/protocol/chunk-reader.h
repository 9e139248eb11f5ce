/* Reassembles RTMP messages from the chunk stream. Feed it bytes in pieces
 * of any size; it calls back once per complete message. No sockets. */
#pragma once

#include "message.h"

G_BEGIN_DECLS

#define RH_CHUNK_ERROR (rh_chunk_error_quark ())
GQuark rh_chunk_error_quark (void);

typedef enum {
  RH_CHUNK_ERROR_MESSAGE_TOO_LARGE,
  RH_CHUNK_ERROR_BAD_CHUNK_SIZE,
  RH_CHUNK_ERROR_NO_PREVIOUS_HEADER,  /* fmt 1-3 on a chunk stream never opened */
  RH_CHUNK_ERROR_TOO_MANY_STREAMS,
  RH_CHUNK_ERROR_BAD_CONTROL,
  RH_CHUNK_ERROR_OVER_BUDGET,          /* unfinished messages hold too much */
} RhChunkError;

#define RH_CHUNK_DEFAULT_SIZE 128
/* Distinct chunk stream ids one peer may use; real clients use under ten. */
#define RH_CHUNK_MAX_STREAMS 64

/* Return FALSE to stop feeding (the connection is going away). */
typedef gboolean (*RhChunkMessageFunc) (const RhMessage *message, gpointer user_data);

typedef struct _RhChunkReader RhChunkReader;

RhChunkReader *rh_chunk_reader_new (gsize max_message_size);
/* Applies to messages whose header arrives from now on. */
void rh_chunk_reader_set_max_message_size (RhChunkReader *reader, gsize max_message_size);
/* Bounds the memory unfinished messages hold: max_held bytes for this
 * reader, and shared_limit for all readers that count into *shared_held
 * (0: no such bound). */
void rh_chunk_reader_set_budget (RhChunkReader *reader, gsize max_held, gsize *shared_held,
                                 gsize shared_limit);
/* Bytes held for unfinished messages. */
gsize rh_chunk_reader_get_held (const RhChunkReader *reader);
void rh_chunk_reader_free (RhChunkReader *reader);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RhChunkReader, rh_chunk_reader_free)

/* Set Chunk Size and Abort messages are applied here as they are read, then
 * passed on like every other message. Returns FALSE with error set on a
 * protocol violation, or FALSE without error when func asked to stop. */
gboolean rh_chunk_reader_feed (RhChunkReader *reader, const guint8 *data, gsize len,
                               RhChunkMessageFunc func, gpointer user_data, GError **error);

guint32 rh_chunk_reader_get_chunk_size (const RhChunkReader *reader);

G_END_DECLS
