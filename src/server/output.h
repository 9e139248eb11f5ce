/* What a live stream feeds besides its players: a recording or a relay
 * push. An output attached to a stream first gets what a late player
 * would (metadata, sequence headers, the cached GOP from its keyframe),
 * then every packet, sharing the payloads by reference. When the publish
 * ends the stream detaches its outputs and tells each one. */
#pragma once

#include <glib.h>

#include "reason.h"
#include "types.h"
#include "protocol/media.h"

G_BEGIN_DECLS

typedef struct _RhOutput RhOutput;

/* One message of the stream. */
typedef struct {
  guint8 type;          /* RH_MSG_AUDIO, RH_MSG_VIDEO or RH_MSG_DATA_AMF0 */
  guint32 timestamp;
  GBytes *payload;      /* the output takes a reference if it keeps it */
  RhMediaFlags flags;   /* metadata is a data message flagged RH_MEDIA_SEQUENCE_HEADER */
  guint16 config_key;   /* which decoder configuration a sequence header is */
} RhOutputPacket;

typedef struct {
  void (*packet) (RhOutput *output, const RhOutputPacket *packet);
  /* The publish ended (the output is already detached). */
  void (*ended) (RhOutput *output, RhReason reason);
  /* For the HTTP API: *target is a recording's path or a relay's URL
   * (without its query), *state a word ("recording", "reconnecting"...),
   * *bytes what it has written or sent so far. */
  void (*describe) (RhOutput *output, char **target, const char **state, guint64 *bytes);
  const char *kind;     /* "record" or "relay" */
} RhOutputFuncs;

/* Embedded first in a recording or a relay. The names are the stream's
 * when the output began, for its events (it may outlive the stream). */
struct _RhOutput {
  const RhOutputFuncs *funcs;
  char *conn_id;        /* the publisher's connection */
  char *app;
  char *stream_name;
  char *stream_key;
  RhStream *stream;     /* while attached */
};

void rh_output_init (RhOutput *output, const RhOutputFuncs *funcs, const char *conn_id, const char *app,
                     const char *stream_name);
void rh_output_clear (RhOutput *output);

G_END_DECLS
