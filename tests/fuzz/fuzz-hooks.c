/* libFuzzer harness for what operators write in the configuration and
 * what the hook engine parses from it: templates (plain and URL),
 * conditions on each kind of field, durations, webhook secrets; and what
 * a decision check answers (exec stdout, webhook body), and the event
 * JSON made from a client's bytes. The first byte
 * picks the parser; the rest is the text. */
#include "config.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "hooks/check-response.h"
#include "hooks/condition.h"
#include "hooks/event.h"
#include "hooks/template.h"
#include "hooks/webhook-signature.h"
#include "util/duration.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static RhEvent *
sample_event (void)
{
  RhEvent *event = rh_event_new (RH_EVENT_PUBLISH_STOP, "c000001", "live/cam1");
  rh_event_add_string (event, "app", "live");
  rh_event_add_string (event, "stream_name", "cam1");
  rh_event_add_string (event, "client_ip", "10.1.2.3");
  rh_event_add_number (event, "duration_seconds", 300);
  rh_event_add_string (event, "reason", "client_disconnect");
  return event;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  if (size < 1)
    return 0;
  guint8 which = data[0];
  /* A check's answer is any bytes, from a program or a server. */
  if (which % 6 == 5)
    {
      RhCheckAnswer answer;
      rh_check_answer_parse ((const char *) data + 1, size - 1, &answer);
      if (answer.reason != NULL && !g_utf8_validate (answer.reason, -1, NULL))
        __builtin_trap ();
      rh_check_answer_clear (&answer);
      /* The same bytes from a client, in an event: its JSON parses and
       * gives them back (invalid UTF-8 as U+FFFD). */
      g_autofree char *raw = g_strndup ((const char *) data + 1, size - 1);
      g_autofree char *valid = g_utf8_make_valid (raw, -1);
      RhEvent *event = rh_event_new (RH_EVENT_PUBLISH_START, "c000001", raw);
      rh_event_add_string (event, "stream_name", raw);
      g_autofree char *json = rh_event_to_json (event);
      rh_event_unref (event);
      JsonParser *parser = json_parser_new ();
      if (!json_parser_load_from_data (parser, json, -1, NULL))
        __builtin_trap ();
      JsonObject *root = json_node_get_object (json_parser_get_root (parser));
      JsonObject *fields = json_object_get_object_member (root, "data");
      if (strcmp (json_object_get_string_member (root, "stream_key"), valid) != 0
          || strcmp (json_object_get_string_member (fields, "stream_name"), valid) != 0)
        __builtin_trap ();
      g_object_unref (parser);
      return 0;
    }
  char *text = g_strndup ((const char *) data + 1, size - 1);
  /* The loader refuses a file with any string that is not UTF-8 before
   * these parsers see it. */
  if (!g_utf8_validate (text, -1, NULL))
    {
      g_free (text);
      return 0;
    }
  RhEvent *event = sample_event ();

  switch (which % 6)
    {
    case 0:
    case 1:
      {
        RhTemplate *template_ = which % 6 == 0 ? rh_template_new (text, NULL) : rh_template_new_url (text, NULL);
        if (template_ != NULL)
          {
            g_free (rh_template_expand (template_, event));
            rh_template_free (template_);
          }
        break;
      }
    case 2:
      {
        static const struct { const char *field; RhFieldType type; } fields[] = {
          { "stream_name", RH_FIELD_STRING }, { "duration_seconds", RH_FIELD_NUMBER },
          { "client_ip", RH_FIELD_IP },
        };
        /* One value or a list split on commas, like a config list. */
        char **values = g_strsplit (text, ",", 8);
        for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
          {
            RhCondition *condition = rh_condition_new (fields[i].field, fields[i].type,
                                                       (const char *const *) values, NULL);
            if (condition != NULL)
              {
                rh_condition_matches (condition, event);
                g_free (rh_condition_describe (condition));
                rh_condition_free (condition);
              }
          }
        g_strfreev (values);
        break;
      }
    case 3:
      {
        double seconds;
        rh_duration_parse (text, &seconds);
        break;
      }
    case 4:
      {
        GBytes *key = rh_webhook_secret_decode (text, NULL);
        if (key != NULL)
          g_bytes_unref (key);
        break;
      }
    }
  rh_event_unref (event);
  g_free (text);
  return 0;
}
