#include "config.h"

#include "event-json.h"

#include <json-glib/json-glib.h>
#include <string.h>

/* Ids end up in a webhook-id header and in logs: a short token. */
static gboolean
id_is_valid (const char *id)
{
  gsize len = strlen (id);
  return len > 0 && len <= RH_EVENT_ID_MAX
         && strspn (id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") == len;
}

static gboolean
is_kind (JsonNode *node, GType type)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

/* A member that must be a string when present; *value stays NULL when it
 * is absent. */
static gboolean
optional_string (JsonObject *root, const char *name, const char **value, char **why)
{
  JsonNode *node = json_object_get_member (root, name);
  *value = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!is_kind (node, G_TYPE_STRING))
    {
      *why = g_strdup_printf ("\"%s\" is not a string", name);
      return FALSE;
    }
  *value = json_node_get_string (node);
  return TRUE;
}

static gboolean
add_data (RhEvent *event, JsonObject *data, char **why)
{
  g_autoptr (GList) members = json_object_get_members (data);
  for (GList *link = members; link != NULL; link = link->next)
    {
      const char *name = link->data;
      const char *key = rh_event_type_field_key (event->type, name);
      RhFieldType kind;
      if (key == NULL || !rh_event_type_has_field (event->type, key, &kind))
        continue;  /* a field this build does not know */
      JsonNode *node = json_object_get_member (data, name);
      gboolean ok;
      switch (kind)
        {
        case RH_FIELD_NUMBER:
          ok = is_kind (node, G_TYPE_INT64);
          if (ok)
            rh_event_add_number (event, key, json_node_get_int (node));
          break;
        case RH_FIELD_BOOLEAN:
          ok = is_kind (node, G_TYPE_BOOLEAN);
          if (ok)
            rh_event_add_boolean (event, key, json_node_get_boolean (node));
          break;
        default:
          ok = is_kind (node, G_TYPE_STRING);
          if (ok)
            rh_event_add_string (event, key, json_node_get_string (node));
          break;
        }
      if (!ok)
        {
          *why = g_strdup_printf ("data field \"%s\" of %s has the wrong kind of value", key,
                                  rh_event_type_to_string (event->type));
          return FALSE;
        }
    }
  return TRUE;
}

static RhEvent *
event_from_root (JsonObject *root, char **why)
{
  const char *type_name, *id, *conn_id, *stream_key, *node_id;
  if (!optional_string (root, "type", &type_name, why) || !optional_string (root, "id", &id, why)
      || !optional_string (root, "conn_id", &conn_id, why) || !optional_string (root, "stream_key", &stream_key, why)
      || !optional_string (root, "node_id", &node_id, why))
    return NULL;
  RhEventType type;
  if (type_name == NULL || !rh_event_type_from_string (type_name, &type)
      || !(RH_EVENT_NOTIFICATIONS & (1u << type)))
    {
      *why = g_strdup ("no known event type");
      return NULL;
    }
  if (id == NULL || !id_is_valid (id))
    {
      *why = g_strdup ("no valid id");
      return NULL;
    }
  JsonNode *timestamp = json_object_get_member (root, "timestamp");
  if (timestamp == NULL || !is_kind (timestamp, G_TYPE_INT64))
    {
      *why = g_strdup ("no timestamp");
      return NULL;
    }
  JsonNode *data = json_object_get_member (root, "data");
  if (data != NULL && !JSON_NODE_HOLDS_OBJECT (data))
    {
      *why = g_strdup ("\"data\" is not an object");
      return NULL;
    }

  g_autoptr (RhEvent) event = rh_event_new (type, conn_id, stream_key);
  g_free (event->id);
  event->id = g_strdup (id);
  event->timestamp = json_node_get_int (timestamp);
  g_free (event->node_id);
  event->node_id = g_strdup (node_id);
  if (data != NULL && !add_data (event, json_node_get_object (data), why))
    return NULL;
  return g_steal_pointer (&event);
}

RhEvent *
rh_event_from_json (const char *json, gsize len, char **why)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) error = NULL;
  *why = NULL;
  if (len > G_MAXSSIZE || !json_parser_load_from_data (parser, json, (gssize) len, &error))
    {
      *why = g_strdup_printf ("not JSON: %s", error != NULL ? error->message : "too long");
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL)
    {
      *why = g_strdup ("not JSON: empty");
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      *why = g_strdup ("not a JSON object");
      return NULL;
    }
  return event_from_root (json_node_get_object (root), why);
}
