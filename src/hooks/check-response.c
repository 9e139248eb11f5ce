#include "config.h"

#include "check-response.h"

#include <json-glib/json-glib.h>
#include <string.h>

static char *
string_member (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return g_strdup (json_node_get_string (node));
}

/* The reason goes to logs and to the client's status description:
 * printable, one line, bounded. */
static char *
clean_reason (char *reason)
{
  if (reason == NULL)
    return NULL;
  g_autofree char *valid = g_utf8_make_valid (reason, -1);
  g_free (reason);
  for (char *c = valid; *c != '\0'; c++)
    if ((guchar) *c < 0x20 || *c == 0x7f)
      *c = ' ';
  if (strlen (valid) > RH_CHECK_REASON_MAX)
    {
      /* Cut on a character boundary. */
      const char *end = valid + RH_CHECK_REASON_MAX;
      while (end > valid && ((guchar) *end & 0xC0) == 0x80)
        end--;
      return g_strndup (valid, (gsize) (end - valid));
    }
  return g_steal_pointer (&valid);
}

void
rh_check_answer_parse (const char *data, gsize len, RhCheckAnswer *answer)
{
  memset (answer, 0, sizeof *answer);
  if (data == NULL || len > RH_CHECK_ANSWER_MAX)
    return;
  gsize start = 0;
  while (start < len && g_ascii_isspace (data[start]))
    start++;
  if (start == len || data[start] != '{')
    return;
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, data + start, (gssize) (len - start), NULL))
    return;
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return;
  JsonObject *object = json_node_get_object (root);
  answer->stream_name = string_member (object, "stream_name");
  /* json-glib ends a string at an escaped NUL ("a\u0000b" reads as "a"):
   * a name that had one must not pass as its first part. The marker makes
   * it invalid, so the rename is refused. */
  if (answer->stream_name != NULL && g_strstr_len (data + start, (gssize) (len - start), "\\u0000") != NULL)
    {
      char *marked = g_strconcat (answer->stream_name, "\xEF\xBF\xBD", NULL);
      g_free (answer->stream_name);
      answer->stream_name = marked;
    }
  answer->reason = clean_reason (string_member (object, "reason"));
}

void
rh_check_answer_clear (RhCheckAnswer *answer)
{
  g_clear_pointer (&answer->stream_name, g_free);
  g_clear_pointer (&answer->reason, g_free);
}
