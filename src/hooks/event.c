#include "config.h"

#include "event.h"

#include <json-glib/json-glib.h>
#include <string.h>

static const char *const type_names[RH_EVENT_N_TYPES] = {
  [RH_EVENT_CONNECTION_ACCEPT] = "connection_accept",
  [RH_EVENT_HANDSHAKE_COMPLETE] = "handshake_complete",
  [RH_EVENT_CONNECTION_CLOSE] = "connection_close",
  [RH_EVENT_STREAM_CREATE] = "stream_create",
  [RH_EVENT_STREAM_DELETE] = "stream_delete",
  [RH_EVENT_PUBLISH_START] = "publish_start",
  [RH_EVENT_PUBLISH_STOP] = "publish_stop",
  [RH_EVENT_PLAY_START] = "play_start",
  [RH_EVENT_PLAY_STOP] = "play_stop",
  [RH_EVENT_CODEC_DETECTED] = "codec_detected",
  [RH_EVENT_MEDIA_START] = "media_start",
  [RH_EVENT_MEDIA_STALL] = "media_stall",
  [RH_EVENT_MEDIA_RESUME] = "media_resume",
  [RH_EVENT_PROCESS_EXIT] = "process_exit",
  [RH_EVENT_RECORD_START] = "record_start",
  [RH_EVENT_RECORD_STOP] = "record_stop",
  [RH_EVENT_RELAY_START] = "relay_start",
  [RH_EVENT_RELAY_STOP] = "relay_stop",
  [RH_EVENT_PULL_START] = "pull_start",
  [RH_EVENT_PULL_STOP] = "pull_stop",
  [RH_EVENT_CONNECT] = "connect",
  [RH_EVENT_PUBLISH] = "publish",
  [RH_EVENT_PLAY] = "play",
};

/* The data fields of each event: the one list of them. Filters are checked
 * against it at load, and the server can add no field it does not name. */
/* tls: the client came in on a TLS listener; tls_version ("TLS 1.3")
 * once its TLS handshake is done, only then. */
static const char *const connection_accept_fields[] = {
  "client_ip", "client_port", "server_ip", "server_port", "tls", NULL
};
static const char *const handshake_fields[] = { "client_ip", "client_port", "handshake", "tls", "tls_version", NULL };
static const char *const connection_close_fields[] = {
  "client_ip", "client_port", "duration_seconds", "bytes_received", "bytes_sent", "reason", "tls", NULL
};
static const char *const stream_fields[] = { "app", "stream_name", NULL };
static const char *const publish_start_fields[] = {
  "app", "stream_name", "publish_type", "client_ip", "tc_url", "query", "tls", "tls_version", "epoch", NULL
};
/* A publish_stop with reason node_lost comes from a surviving node for a
 * stream whose node died: owner_node names the dead one. */
static const char *const publish_stop_fields[] = {
  "app", "stream_name", "client_ip", "duration_seconds", "bytes_received", "video_packets",
  "audio_packets", "reason", "owner_node", "epoch", NULL
};
static const char *const play_start_fields[] = {
  "app", "stream_name", "client_ip", "query", "tls", "tls_version", NULL
};
static const char *const play_stop_fields[] = {
  "app", "stream_name", "client_ip", "duration_seconds", "bytes_sent", "reason", NULL
};
static const char *const codec_fields[] = {
  "app", "stream_name", "track", "codec", "profile", "level", "width", "height", "bit_depth", "chroma_format",
  "sample_rate", "channels", NULL
};
/* The codecs known when the first media arrived (one may come later). */
static const char *const media_start_fields[] = { "app", "stream_name", "video_codec", "audio_codec", NULL };
static const char *const media_stall_fields[] = { "app", "stream_name", "client_ip", "seconds", NULL };
static const char *const media_resume_fields[] = { "app", "stream_name", "stalled_seconds", NULL };
/* signal only when a signal ended it; exit_status is then 128 + signal,
 * as a shell reports it. */
static const char *const process_exit_fields[] = {
  "rule", "app", "stream_name", "pid", "exit_status", "signal", "restarts", NULL
};
/* path is relative to the recording directory. */
static const char *const record_start_fields[] = { "app", "stream_name", "path", NULL };
static const char *const record_stop_fields[] = {
  "app", "stream_name", "path", "duration_seconds", "bytes", "reason", NULL
};
/* url without its query (a key there stays out of events). */
static const char *const relay_start_fields[] = { "app", "stream_name", "url", NULL };
static const char *const relay_stop_fields[] = {
  "app", "stream_name", "url", "duration_seconds", "bytes_sent", "reason", NULL
};
/* An edge pulling a stream from the node that owns it (origin_node at
 * url, without its query). */
static const char *const pull_start_fields[] = { "app", "stream_name", "url", "origin_node", NULL };
static const char *const pull_stop_fields[] = {
  "app", "stream_name", "url", "origin_node", "duration_seconds", "bytes_received", "reason", NULL
};
static const char *const connect_fields[] = {
  "app", "client_ip", "client_port", "tc_url", "flash_ver", "query", "tls", "tls_version", NULL
};
static const char *const publish_fields[] = {
  "app", "stream_name", "publish_type", "client_ip", "tc_url", "query", "tls", "tls_version", NULL
};
static const char *const play_fields[] = {
  "app", "stream_name", "client_ip", "tc_url", "query", "tls", "tls_version", NULL
};

static const char *const *const data_fields[RH_EVENT_N_TYPES] = {
  [RH_EVENT_CONNECTION_ACCEPT] = connection_accept_fields,
  [RH_EVENT_HANDSHAKE_COMPLETE] = handshake_fields,
  [RH_EVENT_CONNECTION_CLOSE] = connection_close_fields,
  [RH_EVENT_STREAM_CREATE] = stream_fields,
  [RH_EVENT_STREAM_DELETE] = stream_fields,
  [RH_EVENT_PUBLISH_START] = publish_start_fields,
  [RH_EVENT_PUBLISH_STOP] = publish_stop_fields,
  [RH_EVENT_PLAY_START] = play_start_fields,
  [RH_EVENT_PLAY_STOP] = play_stop_fields,
  [RH_EVENT_CODEC_DETECTED] = codec_fields,
  [RH_EVENT_MEDIA_START] = media_start_fields,
  [RH_EVENT_MEDIA_STALL] = media_stall_fields,
  [RH_EVENT_MEDIA_RESUME] = media_resume_fields,
  [RH_EVENT_PROCESS_EXIT] = process_exit_fields,
  [RH_EVENT_RECORD_START] = record_start_fields,
  [RH_EVENT_RECORD_STOP] = record_stop_fields,
  [RH_EVENT_RELAY_START] = relay_start_fields,
  [RH_EVENT_RELAY_STOP] = relay_stop_fields,
  [RH_EVENT_PULL_START] = pull_start_fields,
  [RH_EVENT_PULL_STOP] = pull_stop_fields,
  [RH_EVENT_CONNECT] = connect_fields,
  [RH_EVENT_PUBLISH] = publish_fields,
  [RH_EVENT_PLAY] = play_fields,
};

static const char *const number_fields[] = {
  "timestamp", "client_port", "server_port", "duration_seconds", "bytes_received", "bytes_sent",
  "video_packets", "audio_packets", "pid", "exit_status", "signal", "restarts", "width", "height", "bit_depth",
  "sample_rate", "channels", "seconds", "stalled_seconds", "bytes", "epoch", NULL
};

gboolean
rh_event_type_has_field (RhEventType type, const char *name, RhFieldType *field_type)
{
  gboolean found = FALSE;

  if (g_str_has_prefix (name, "data."))
    name += 5;
  if (strcmp (name, "type") == 0 || strcmp (name, "timestamp") == 0 || strcmp (name, "id") == 0
      || strcmp (name, "node_id") == 0)
    found = TRUE;
  else if (strcmp (name, "conn_id") == 0)
    found = type != RH_EVENT_STREAM_CREATE && type != RH_EVENT_STREAM_DELETE;
  else if (strcmp (name, "stream_key") == 0)
    found = type >= RH_EVENT_STREAM_CREATE && type != RH_EVENT_CONNECT;
  else
    found = g_strv_contains (data_fields[type], name);
  if (found && field_type != NULL)
    {
      if (g_strv_contains (number_fields, name))
        *field_type = RH_FIELD_NUMBER;
      else if (strcmp (name, "tls") == 0)
        *field_type = RH_FIELD_BOOLEAN;
      else if (g_str_has_suffix (name, "_ip"))
        *field_type = RH_FIELD_IP;
      else
        *field_type = RH_FIELD_STRING;
    }
  return found;
}

const char *
rh_event_type_field_key (RhEventType type, const char *name)
{
  for (const char *const *field = data_fields[type]; *field != NULL; field++)
    if (strcmp (*field, name) == 0)
      return *field;
  return NULL;
}

const char *
rh_event_type_to_string (RhEventType type)
{
  return type_names[type];
}

gboolean
rh_event_type_from_string (const char *name, RhEventType *type)
{
  for (int i = 0; i < RH_EVENT_N_TYPES; i++)
    if (strcmp (name, type_names[i]) == 0)
      {
        *type = (RhEventType) i;
        return TRUE;
      }
  return FALSE;
}

static void
field_clear (gpointer data)
{
  RhEventField *field = data;
  g_free (field->string);
}

/* Ids are unique across restarts too: a random prefix per process. */
static char *
next_id (void)
{
  static char prefix[9];
  static guint64 sequence;
  if (prefix[0] == '\0')
    g_snprintf (prefix, sizeof prefix, "%08x", g_random_int ());
  return g_strdup_printf ("%s-%" G_GUINT64_FORMAT, prefix, ++sequence);
}

static char *node_id;

void
rh_event_set_node_id (const char *id)
{
  g_free (node_id);
  node_id = g_strdup (id);
}

const char *
rh_event_get_node_id (void)
{
  return node_id;
}

RhEvent *
rh_event_new (RhEventType type, const char *conn_id, const char *stream_key)
{
  RhEvent *event = g_new0 (RhEvent, 1);
  event->ref_count = 1;
  event->type = type;
  event->timestamp = g_get_real_time () / G_USEC_PER_SEC;
  event->id = next_id ();
  event->conn_id = g_strdup (conn_id);
  event->stream_key = g_strdup (stream_key);
  event->node_id = g_strdup (node_id);
  event->data = g_array_new (FALSE, TRUE, sizeof (RhEventField));
  g_array_set_clear_func (event->data, field_clear);
  return event;
}

RhEvent *
rh_event_ref (RhEvent *event)
{
  event->ref_count++;
  return event;
}

void
rh_event_unref (RhEvent *event)
{
  if (event == NULL || --event->ref_count > 0)
    return;
  g_free (event->id);
  g_free (event->conn_id);
  g_free (event->stream_key);
  g_free (event->node_id);
  g_array_unref (event->data);
  g_free (event);
}

/* A field the schema lists for this event, with this kind of value. */
static gboolean
schema_allows (RhEventType type, const char *key, RhFieldType kind)
{
  RhFieldType field_type;
  if (!rh_event_type_has_field (type, key, &field_type))
    return FALSE;
  /* An IP address is a string. */
  return field_type == kind || (field_type == RH_FIELD_IP && kind == RH_FIELD_STRING);
}

/* Client strings (a query, a tcUrl) may hold any bytes; JSON parsers
 * reject invalid UTF-8, so each invalid sequence becomes U+FFFD. */
void
rh_event_add_string (RhEvent *event, const char *key, const char *value)
{
  g_return_if_fail (schema_allows (event->type, key, RH_FIELD_STRING));
  RhEventField field = { key, FALSE, FALSE, 0, g_utf8_make_valid (value != NULL ? value : "", -1) };
  g_array_append_val (event->data, field);
}

void
rh_event_add_number (RhEvent *event, const char *key, gint64 value)
{
  g_return_if_fail (schema_allows (event->type, key, RH_FIELD_NUMBER));
  RhEventField field = { key, TRUE, FALSE, value, NULL };
  g_array_append_val (event->data, field);
}

void
rh_event_add_boolean (RhEvent *event, const char *key, gboolean value)
{
  g_return_if_fail (schema_allows (event->type, key, RH_FIELD_BOOLEAN));
  RhEventField field = { key, FALSE, TRUE, value ? 1 : 0, NULL };
  g_array_append_val (event->data, field);
}

static const RhEventField *
find_field (const RhEvent *event, const char *key)
{
  for (guint i = 0; i < event->data->len; i++)
    {
      const RhEventField *field = &g_array_index (event->data, RhEventField, i);
      if (strcmp (field->key, key) == 0)
        return field;
    }
  return NULL;
}

/* A JSON string: quotes, backslashes and control characters escaped,
 * the rest as is (UTF-8; an invalid sequence becomes U+FFFD). */
static void
append_json_string (GString *out, const char *text)
{
  g_autofree char *valid = NULL;
  if (!g_utf8_validate (text, -1, NULL))
    text = valid = g_utf8_make_valid (text, -1);
  g_string_append_c (out, '"');
  const char *plain = text;
  for (const char *c = text; *c != '\0'; c++)
    {
      guchar byte = (guchar) *c;
      if (byte >= 0x20 && byte != '"' && byte != '\\' && byte != 0x7f)
        continue;
      g_string_append_len (out, plain, c - plain);
      plain = c + 1;
      switch (byte)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        default: g_string_append_printf (out, "\\u%04x", byte); break;
        }
    }
  g_string_append_len (out, plain, (gssize) strlen (plain));
  g_string_append_c (out, '"');
}

static void
append_json_member (GString *out, gboolean first, const char *name)
{
  if (!first)
    g_string_append_c (out, ',');
  append_json_string (out, name);
  g_string_append_c (out, ':');
}

/* Written directly rather than through a JSON tree: an exec hook gets
 * it on stdin per run, stdio and webhooks per event. */
char *
rh_event_to_json (const RhEvent *event)
{
  GString *out = g_string_sized_new (256 + 64 * event->data->len);
  g_string_append_c (out, '{');
  append_json_member (out, TRUE, "type");
  append_json_string (out, type_names[event->type]);
  append_json_member (out, FALSE, "timestamp");
  g_string_append_printf (out, "%" G_GINT64_FORMAT, event->timestamp);
  append_json_member (out, FALSE, "id");
  append_json_string (out, event->id);
  if (event->conn_id != NULL)
    {
      append_json_member (out, FALSE, "conn_id");
      append_json_string (out, event->conn_id);
    }
  if (event->stream_key != NULL)
    {
      append_json_member (out, FALSE, "stream_key");
      append_json_string (out, event->stream_key);
    }
  if (event->node_id != NULL)
    {
      append_json_member (out, FALSE, "node_id");
      append_json_string (out, event->node_id);
    }
  if (event->data->len > 0)
    {
      append_json_member (out, FALSE, "data");
      g_string_append_c (out, '{');
      for (guint i = 0; i < event->data->len; i++)
        {
          const RhEventField *field = &g_array_index (event->data, RhEventField, i);
          append_json_member (out, i == 0, field->key);
          if (field->is_boolean)
            g_string_append (out, field->number ? "true" : "false");
          else if (field->is_number)
            g_string_append_printf (out, "%" G_GINT64_FORMAT, field->number);
          else
            append_json_string (out, field->string);
        }
      g_string_append_c (out, '}');
    }
  g_string_append_c (out, '}');
  return g_string_free (out, FALSE);
}

static char *
field_value (const RhEventField *field)
{
  if (field->is_boolean)
    return g_strdup (field->number ? "true" : "false");
  return field->is_number ? g_strdup_printf ("%" G_GINT64_FORMAT, field->number)
                          : g_strdup (field->string);
}

/* "RTMP_" + NAME + "=" + value in one allocation (the name upper-cased):
 * an exec hook's environment is built per run. */
static char *
variable (const char *key, const char *value)
{
  gsize key_len = strlen (key), value_len = strlen (value);
  char *entry = g_malloc (5 + key_len + 1 + value_len + 1);
  memcpy (entry, "RTMP_", 5);
  for (gsize i = 0; i < key_len; i++)
    entry[5 + i] = g_ascii_toupper (key[i]);
  entry[5 + key_len] = '=';
  memcpy (entry + 5 + key_len + 1, value, value_len + 1);
  return entry;
}

static char *
number_variable (const char *key, gint64 number)
{
  char digits[32];
  g_snprintf (digits, sizeof digits, "%" G_GINT64_FORMAT, number);
  return variable (key, digits);
}

GStrv
rh_event_to_environment (const RhEvent *event)
{
  GPtrArray *env = g_ptr_array_sized_new (event->data->len + 6);
  g_ptr_array_add (env, variable ("event_type", type_names[event->type]));
  g_ptr_array_add (env, number_variable ("timestamp", event->timestamp));
  g_ptr_array_add (env, variable ("event_id", event->id));
  if (event->conn_id != NULL)
    g_ptr_array_add (env, variable ("conn_id", event->conn_id));
  if (event->stream_key != NULL)
    g_ptr_array_add (env, variable ("stream_key", event->stream_key));
  if (event->node_id != NULL)
    g_ptr_array_add (env, variable ("node_id", event->node_id));
  for (guint i = 0; i < event->data->len; i++)
    {
      const RhEventField *field = &g_array_index (event->data, RhEventField, i);
      if (field->is_boolean)
        g_ptr_array_add (env, variable (field->key, field->number ? "true" : "false"));
      else
        g_ptr_array_add (env, field->is_number ? number_variable (field->key, field->number)
                                               : variable (field->key, field->string));
    }
  g_ptr_array_add (env, NULL);
  return (GStrv) g_ptr_array_free (env, FALSE);
}

char *
rh_event_lookup (const RhEvent *event, const char *name)
{
  if (strcmp (name, "type") == 0)
    return g_strdup (type_names[event->type]);
  if (strcmp (name, "timestamp") == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT, event->timestamp);
  if (strcmp (name, "id") == 0)
    return g_strdup (event->id);
  if (strcmp (name, "conn_id") == 0)
    return g_strdup (event->conn_id);
  if (strcmp (name, "stream_key") == 0)
    return g_strdup (event->stream_key);
  if (strcmp (name, "node_id") == 0)
    return g_strdup (event->node_id);
  if (g_str_has_prefix (name, "data."))
    name += 5;
  const RhEventField *field = find_field (event, name);
  return field != NULL ? field_value (field) : NULL;
}

char *
rh_event_type_list (guint32 mask)
{
  GString *list = g_string_new (NULL);
  for (int type = 0; type < RH_EVENT_N_TYPES; type++)
    if (mask & (1u << type))
      g_string_append_printf (list, "%s%s", list->len > 0 ? ", " : "", rh_event_type_to_string ((RhEventType) type));
  return g_string_free (list, FALSE);
}
