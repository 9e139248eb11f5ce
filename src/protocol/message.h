/* An RTMP message as the chunk layer delivers it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  RH_MSG_SET_CHUNK_SIZE = 1,
  RH_MSG_ABORT = 2,
  RH_MSG_ACKNOWLEDGEMENT = 3,
  RH_MSG_USER_CONTROL = 4,
  RH_MSG_WINDOW_ACK_SIZE = 5,
  RH_MSG_SET_PEER_BANDWIDTH = 6,
  RH_MSG_AUDIO = 8,
  RH_MSG_VIDEO = 9,
  RH_MSG_DATA_AMF3 = 15,
  RH_MSG_SHARED_OBJECT_AMF3 = 16,
  RH_MSG_COMMAND_AMF3 = 17,
  RH_MSG_DATA_AMF0 = 18,
  RH_MSG_SHARED_OBJECT_AMF0 = 19,
  RH_MSG_COMMAND_AMF0 = 20,
  RH_MSG_AGGREGATE = 22,
} RhMessageType;

typedef enum {
  RH_UC_STREAM_BEGIN = 0,
  RH_UC_STREAM_EOF = 1,
  RH_UC_STREAM_DRY = 2,
  RH_UC_SET_BUFFER_LENGTH = 3,
  RH_UC_STREAM_IS_RECORDED = 4,
  RH_UC_PING_REQUEST = 6,
  RH_UC_PING_RESPONSE = 7,
} RhUserControlEvent;

/* Chunk stream ids the server writes on. One message at a time per
 * connection, so two messages never interleave on one csid. */
enum {
  RH_CSID_CONTROL = 2,
  RH_CSID_COMMAND = 3,
  RH_CSID_STREAM_STATUS = 5,
  RH_CSID_AUDIO = 6,
  RH_CSID_VIDEO = 7,
  RH_CSID_DATA = 8,
};

typedef struct {
  guint32 csid;
  guint8 type;
  guint32 stream_id;
  guint32 timestamp;  /* milliseconds, absolute (32-bit, wraps) */
  GBytes *payload;
} RhMessage;

static inline guint32
rh_read_u32_be (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static inline guint32
rh_read_u24_be (const guint8 *p)
{
  return ((guint32) p[0] << 16) | ((guint32) p[1] << 8) | p[2];
}

static inline void
rh_write_u32_be (guint8 *p, guint32 v)
{
  p[0] = (guint8) (v >> 24);
  p[1] = (guint8) (v >> 16);
  p[2] = (guint8) (v >> 8);
  p[3] = (guint8) v;
}

static inline void
rh_write_u24_be (guint8 *p, guint32 v)
{
  p[0] = (guint8) (v >> 16);
  p[1] = (guint8) (v >> 8);
  p[2] = (guint8) v;
}

G_END_DECLS
