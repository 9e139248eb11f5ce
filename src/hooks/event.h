/* An event the server produces. One structure gives the JSON,
 * the RTMP_* environment of exec actions and the template variables. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  RH_EVENT_CONNECTION_ACCEPT,
  RH_EVENT_HANDSHAKE_COMPLETE,
  RH_EVENT_CONNECTION_CLOSE,
  RH_EVENT_STREAM_CREATE,
  RH_EVENT_STREAM_DELETE,
  RH_EVENT_PUBLISH_START,
  RH_EVENT_PUBLISH_STOP,
  RH_EVENT_PLAY_START,
  RH_EVENT_PLAY_STOP,
  RH_EVENT_CODEC_DETECTED,
  RH_EVENT_MEDIA_START,
  RH_EVENT_MEDIA_STALL,
  RH_EVENT_MEDIA_RESUME,
  RH_EVENT_PROCESS_EXIT,
  RH_EVENT_RECORD_START,
  RH_EVENT_RECORD_STOP,
  RH_EVENT_RELAY_START,
  RH_EVENT_RELAY_STOP,
  RH_EVENT_PULL_START,
  RH_EVENT_PULL_STOP,
  /* Requests that decision checks answer before the server goes on:
   * never notifications, so rules cannot react to them. */
  RH_EVENT_CONNECT,
  RH_EVENT_PUBLISH,
  RH_EVENT_PLAY,
  RH_EVENT_N_TYPES
} RhEventType;

#define RH_EVENT_FIRST_CHECK RH_EVENT_CONNECT
/* The notifications rules react to, as an RhRule events mask. */
#define RH_EVENT_NOTIFICATIONS ((1u << RH_EVENT_FIRST_CHECK) - 1)
/* The requests checks answer. */
#define RH_EVENT_CHECKS (((1u << RH_EVENT_N_TYPES) - 1) & ~RH_EVENT_NOTIFICATIONS)

typedef struct {
  const char *key;    /* static string */
  gboolean is_number;
  gboolean is_boolean;  /* number is 0 or 1; written false or true */
  gint64 number;
  char *string;
} RhEventField;

typedef struct {
  gint ref_count;
  RhEventType type;
  gint64 timestamp;   /* Unix seconds */
  char *id;           /* unique per event, for idempotent receivers */
  char *conn_id;      /* NULL where it does not apply */
  char *stream_key;   /* NULL where it does not apply */
  char *node_id;      /* the node that saw it, in a fleet; NULL alone */
  GArray *data;       /* RhEventField, in insertion order */
} RhEvent;

typedef enum {
  RH_FIELD_STRING,
  RH_FIELD_NUMBER,
  RH_FIELD_IP,        /* a string holding an IP address: CIDR conditions apply */
  RH_FIELD_BOOLEAN,   /* true or false in JSON; "true" or "false" in text */
} RhFieldType;

const char *rh_event_type_to_string (RhEventType type);
gboolean rh_event_type_from_string (const char *name, RhEventType *type);
/* The names of the types in mask (RH_EVENT_NOTIFICATIONS, say), in table
 * order, joined with ", ": what error messages list. */
char *rh_event_type_list (guint32 mask);

/* Which fields an event type carries: type, timestamp and id
 * always; conn_id, stream_key and data fields where they apply. Field
 * names may be written "data.NAME". */
gboolean rh_event_type_has_field (RhEventType type, const char *name, RhFieldType *field_type);
/* The schema's own (static) string for data field name of type, NULL if
 * the type has no such data field: what an event read back from JSON
 * keys its fields with. */
const char *rh_event_type_field_key (RhEventType type, const char *name);

/* In a fleet, every event made from now on names this node (NULL: a
 * single server, no node_id). Set once at start, from the main thread. */
void rh_event_set_node_id (const char *node_id);
const char *rh_event_get_node_id (void);
RhEvent *rh_event_new (RhEventType type, const char *conn_id, const char *stream_key);
RhEvent *rh_event_ref (RhEvent *event);
void rh_event_unref (RhEvent *event);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RhEvent, rh_event_unref)

void rh_event_add_string (RhEvent *event, const char *key, const char *value);
void rh_event_add_number (RhEvent *event, const char *key, gint64 value);
void rh_event_add_boolean (RhEvent *event, const char *key, gboolean value);

/* {"type":..., "timestamp":..., "id":..., "conn_id":..., "stream_key":...,
 * "data":{...}} on one line, without a newline. */
char *rh_event_to_json (const RhEvent *event);
/* RTMP_EVENT_TYPE, RTMP_TIMESTAMP, RTMP_EVENT_ID, RTMP_CONN_ID,
 * RTMP_STREAM_KEY and RTMP_<UPPER(key)> for every data field, as
 * "NAME=value" strings. */
GStrv rh_event_to_environment (const RhEvent *event);
/* A variable for templates: type, timestamp, id, conn_id, stream_key, any
 * data key, or data.KEY. NULL if the event has none. */
char *rh_event_lookup (const RhEvent *event, const char *name);

G_END_DECLS
