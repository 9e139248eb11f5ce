/* Command messages (AMF0 type 20, AMF3 type 17) and the replies the server
 * sends: decoding and encoding only. */
#pragma once

#include "amf0.h"

G_BEGIN_DECLS

#define RH_COMMAND_ERROR (rh_command_error_quark ())
GQuark rh_command_error_quark (void);

typedef enum {
  RH_COMMAND_ERROR_MALFORMED,
} RhCommandError;

typedef struct {
  char *name;
  double transaction_id;
  GPtrArray *values;  /* RhAmf0Value*: the command object then the arguments */
} RhCommand;

RhCommand *rh_command_parse (guint8 message_type, const guint8 *data, gsize len, GError **error);
void rh_command_free (RhCommand *command);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RhCommand, rh_command_free)

/* Value i after the transaction id (0 = command object); NULL if absent. */
const RhAmf0Value *rh_command_get (const RhCommand *command, guint i);
const char *rh_command_get_string (const RhCommand *command, guint i);
double rh_command_get_number (const RhCommand *command, guint i, double fallback);

/* [name, transaction_id, values...]; takes ownership of the values
 * (NULL-terminated). */
GBytes *rh_command_build (const char *name, double transaction_id, ...) G_GNUC_NULL_TERMINATED;
/* A command as a client sends it, chunked at the default 128 bytes on
 * csid 3 (stream 0) or 8: [name, transaction_id, object or null,
 * argument if not NULL]. Takes ownership of object and argument. */
void rh_command_write_client (GByteArray *out, guint32 stream_id, const char *name, double transaction_id,
                              RhAmf0Value *object, RhAmf0Value *argument);
/* ["onStatus", 0, null, {level, code, description}] */
GBytes *rh_command_build_status (const char *level, const char *code, const char *description);
/* The status object alone, e.g. for a connect _result. */
RhAmf0Value *rh_command_status_object (const char *level, const char *code, const char *description);

/* Protocol control and user control payloads. */
GBytes *rh_control_u32 (guint32 value);  /* Set Chunk Size, Ack, Window Ack Size, Abort */
GBytes *rh_control_peer_bandwidth (guint32 window, guint8 limit_type);
GBytes *rh_control_user_event (guint16 event, guint32 value);

G_END_DECLS
