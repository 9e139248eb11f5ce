/* The hook engine's pure parts: events, conditions, templates, durations,
 * stdio formats and the rules loader. */
#include "config.h"

#include <glib/gstdio.h>

#include <json-glib/json-glib.h>
#include <string.h>

#include "config/settings.h"
#include "test-player.h"
#include "testutil.h"
#include "util/duration.h"
#include "hooks/check-response.h"
#include "hooks/condition.h"
#include "hooks/event.h"
#include "hooks/event-json.h"
#include "hooks/dispatcher.h"
#include "hooks/stdio-output.h"
#include "hooks/template.h"
#include "hooks/webhook-action.h"
#include "hooks/webhook-signature.h"

static RhEvent *
publish_stop_event (void)
{
  RhEvent *event = rh_event_new (RH_EVENT_PUBLISH_STOP, "c000042", "live/cam1");
  rh_event_add_string (event, "app", "live");
  rh_event_add_string (event, "stream_name", "cam1");
  rh_event_add_string (event, "client_ip", "10.1.2.3");
  rh_event_add_number (event, "duration_seconds", 300);
  rh_event_add_number (event, "bytes_received", 15728640);
  rh_event_add_number (event, "video_packets", 9000);
  rh_event_add_number (event, "audio_packets", 15000);
  rh_event_add_string (event, "reason", "client_disconnect");
  return event;
}

static void
test_event_json_and_env (void)
{
  g_autoptr (RhEvent) event = publish_stop_event ();
  g_autofree char *json = rh_event_to_json (event);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  g_assert_null (strchr (json, '\n'));
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (root, "type"), ==, "publish_stop");
  g_assert_cmpint (json_object_get_int_member (root, "timestamp"), ==, event->timestamp);
  g_assert_cmpstr (json_object_get_string_member (root, "conn_id"), ==, "c000042");
  g_assert_cmpstr (json_object_get_string_member (root, "stream_key"), ==, "live/cam1");
  g_assert_cmpstr (json_object_get_string_member (root, "id"), ==, event->id);
  JsonObject *data = json_object_get_object_member (root, "data");
  g_assert_cmpint (json_object_get_int_member (data, "duration_seconds"), ==, 300);
  g_assert_cmpint (json_object_get_int_member (data, "bytes_received"), ==, 15728640);
  g_assert_cmpstr (json_object_get_string_member (data, "reason"), ==, "client_disconnect");
  g_assert_cmpuint (json_object_get_size (data), ==, 8);

  g_auto (GStrv) env = rh_event_to_environment (event);
  g_assert_cmpstr (g_environ_getenv (env, "RTMP_EVENT_TYPE"), ==, "publish_stop");
  g_assert_cmpstr (g_environ_getenv (env, "RTMP_CONN_ID"), ==, "c000042");
  g_assert_cmpstr (g_environ_getenv (env, "RTMP_STREAM_KEY"), ==, "live/cam1");
  g_assert_cmpstr (g_environ_getenv (env, "RTMP_DURATION_SECONDS"), ==, "300");
  g_assert_cmpstr (g_environ_getenv (env, "RTMP_BYTES_RECEIVED"), ==, "15728640");
  g_assert_cmpstr (g_environ_getenv (env, "RTMP_CLIENT_IP"), ==, "10.1.2.3");
  g_autofree char *ts = g_strdup_printf ("%" G_GINT64_FORMAT, event->timestamp);
  g_assert_cmpstr (g_environ_getenv (env, "RTMP_TIMESTAMP"), ==, ts);

  /* Where they do not apply, conn_id and stream_key are left out. */
  g_autoptr (RhEvent) created = rh_event_new (RH_EVENT_STREAM_CREATE, NULL, "live/x");
  g_autofree char *created_json = rh_event_to_json (created);
  g_assert_null (strstr (created_json, "conn_id"));
  g_assert_null (strstr (created_json, "\"data\""));

  /* Ids are unique. */
  g_autoptr (RhEvent) other = publish_stop_event ();
  g_assert_cmpstr (event->id, !=, other->id);

  /* What a client sends is escaped, whatever it holds; invalid UTF-8
   * becomes U+FFFD. */
  const char *hostile = "a\"b\\c\nd\re\tf\x01g\x7fh/\xc3\xa9\xff";
  g_autoptr (RhEvent) odd = rh_event_new (RH_EVENT_PUBLISH_STOP, "c1", hostile);
  rh_event_add_string (odd, "stream_name", hostile);
  rh_event_add_number (odd, "video_packets", -5);
  g_autofree char *odd_json = rh_event_to_json (odd);
  g_assert_null (strchr (odd_json, '\n'));
  g_assert_nonnull (strstr (odd_json, "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u007fh/\xc3\xa9\xef\xbf\xbd\""));
  g_autoptr (JsonParser) odd_parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (odd_parser, odd_json, -1, NULL));
  JsonObject *odd_root = json_node_get_object (json_parser_get_root (odd_parser));
  g_autofree char *valid = g_utf8_make_valid (hostile, -1);
  g_assert_cmpstr (json_object_get_string_member (odd_root, "stream_key"), ==, valid);
  JsonObject *odd_data = json_object_get_object_member (odd_root, "data");
  g_assert_cmpstr (json_object_get_string_member (odd_data, "stream_name"), ==, valid);
  g_assert_cmpint (json_object_get_int_member (odd_data, "video_packets"), ==, -5);
}

static void
test_event_schema (void)
{
  RhFieldType type;
  g_assert_true (rh_event_type_has_field (RH_EVENT_PUBLISH_STOP, "duration_seconds", &type));
  g_assert_cmpint (type, ==, RH_FIELD_NUMBER);
  g_assert_true (rh_event_type_has_field (RH_EVENT_PUBLISH_START, "data.client_ip", &type));
  g_assert_cmpint (type, ==, RH_FIELD_IP);
  g_assert_false (rh_event_type_has_field (RH_EVENT_PUBLISH_START, "duration_seconds", NULL));
  g_assert_false (rh_event_type_has_field (RH_EVENT_STREAM_CREATE, "conn_id", NULL));
  g_assert_false (rh_event_type_has_field (RH_EVENT_CONNECTION_ACCEPT, "stream_key", NULL));
  g_assert_true (rh_event_type_has_field (RH_EVENT_CODEC_DETECTED, "codec", NULL));
  g_assert_true (rh_event_type_has_field (RH_EVENT_HANDSHAKE_COMPLETE, "timestamp", &type));
  g_assert_cmpint (type, ==, RH_FIELD_NUMBER);

  /* The schema is the one list: a field it does not name for the event,
   * or with the other kind of value, is refused and never reaches hooks. */
  g_autoptr (RhEvent) event = rh_event_new (RH_EVENT_PLAY_START, "c000001", "live/a");
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*schema_allows*");
  rh_event_add_string (event, "codec", "h264");
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*schema_allows*");
  rh_event_add_number (event, "query", 1);
  g_test_assert_expected_messages ();
  rh_event_add_string (event, "query", "a=1");
  g_autofree char *json = rh_event_to_json (event);
  g_assert_null (strstr (json, "codec"));
  g_assert_nonnull (strstr (json, "\"query\":\"a=1\""));
}

static gboolean
matches (const char *field, RhFieldType type, const char *const *values, const RhEvent *event)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RhCondition) condition = rh_condition_new (field, type, values, &error);
  g_assert_no_error (error);
  return rh_condition_matches (condition, event);
}

#define V(...) ((const char *const[]) { __VA_ARGS__, NULL })

/* tls: a boolean in JSON, the word in the environment and templates,
 * and conditions take true or false only. */
static void
test_event_boolean (void)
{
  g_autoptr (RhEvent) event = rh_event_new (RH_EVENT_PLAY_START, "c000007", "live/cam1");
  rh_event_add_string (event, "app", "live");
  rh_event_add_boolean (event, "tls", TRUE);
  rh_event_add_string (event, "tls_version", "TLS 1.3");
  g_autofree char *json = rh_event_to_json (event);
  g_assert_nonnull (strstr (json, "\"tls\":true,\"tls_version\":\"TLS 1.3\""));
  g_auto (GStrv) env = rh_event_to_environment (event);
  g_assert_cmpstr (g_environ_getenv (env, "RTMP_TLS"), ==, "true");
  g_assert_cmpstr (g_environ_getenv (env, "RTMP_TLS_VERSION"), ==, "TLS 1.3");
  g_autofree char *value = rh_event_lookup (event, "data.tls");
  g_assert_cmpstr (value, ==, "true");

  RhFieldType type;
  g_assert_true (rh_event_type_has_field (RH_EVENT_PLAY_START, "tls", &type));
  g_assert_cmpint (type, ==, RH_FIELD_BOOLEAN);
  g_assert_true (matches ("tls", RH_FIELD_BOOLEAN, V ("true"), event));
  g_assert_false (matches ("tls", RH_FIELD_BOOLEAN, V ("false"), event));
  g_autoptr (GError) error = NULL;
  const char *const yes[] = { "yes", NULL };
  g_assert_null (rh_condition_new ("tls", RH_FIELD_BOOLEAN, yes, &error));
  g_assert_nonnull (strstr (error->message, "tls is true or false"));

  g_autoptr (RhEvent) clear = rh_event_new (RH_EVENT_PLAY_START, "c000008", "live/cam1");
  rh_event_add_boolean (clear, "tls", FALSE);
  g_autofree char *clear_json = rh_event_to_json (clear);
  g_assert_nonnull (strstr (clear_json, "\"tls\":false"));
}

static void
test_conditions (void)
{
  g_autoptr (RhEvent) e = publish_stop_event ();
  g_assert_true (matches ("app", RH_FIELD_STRING, V ("live"), e));
  g_assert_false (matches ("app", RH_FIELD_STRING, V ("liv"), e));
  g_assert_true (matches ("stream_name", RH_FIELD_STRING, V ("cam*"), e));
  g_assert_false (matches ("stream_name", RH_FIELD_STRING, V ("cam?2"), e));
  g_assert_true (matches ("stream_name", RH_FIELD_STRING, V ("~^cam[0-9]+$"), e));
  g_assert_false (matches ("stream_name", RH_FIELD_STRING, V ("~^cam[0-9]{2}$"), e));
  g_assert_true (matches ("stream_name", RH_FIELD_STRING, V ("!studio*"), e));
  g_assert_false (matches ("stream_name", RH_FIELD_STRING, V ("!cam1"), e));
  g_assert_false (matches ("stream_name", RH_FIELD_STRING, V ("!~^cam"), e));
  g_assert_true (matches ("stream_name", RH_FIELD_STRING, V ("studio", "cam1"), e));
  g_assert_true (matches ("data.reason", RH_FIELD_STRING, V ("client_disconnect"), e));
  g_assert_true (matches ("stream_key", RH_FIELD_STRING, V ("live/*"), e));
  g_assert_true (matches ("type", RH_FIELD_STRING, V ("publish_*"), e));

  g_assert_true (matches ("duration_seconds", RH_FIELD_NUMBER, V ("> 60"), e));
  g_assert_true (matches ("duration_seconds", RH_FIELD_NUMBER, V (">=300"), e));
  g_assert_false (matches ("duration_seconds", RH_FIELD_NUMBER, V ("< 300"), e));
  g_assert_true (matches ("duration_seconds", RH_FIELD_NUMBER, V ("<= 300"), e));
  g_assert_true (matches ("duration_seconds", RH_FIELD_NUMBER, V ("300"), e));
  g_assert_true (matches ("duration_seconds", RH_FIELD_NUMBER, V ("== 300"), e));
  g_assert_false (matches ("duration_seconds", RH_FIELD_NUMBER, V ("!= 300"), e));
  g_assert_true (matches ("duration_seconds", RH_FIELD_NUMBER, V ("!< 60"), e));

  g_assert_true (matches ("client_ip", RH_FIELD_IP, V ("10.0.0.0/8"), e));
  g_assert_false (matches ("client_ip", RH_FIELD_IP, V ("192.168.0.0/16"), e));
  g_assert_true (matches ("client_ip", RH_FIELD_IP, V ("192.168.0.0/16", "10.1.0.0/16"), e));
  g_assert_false (matches ("client_ip", RH_FIELD_IP, V ("::/0"), e));  /* v6 never holds a v4 */
  g_assert_true (matches ("client_ip", RH_FIELD_IP, V ("!127.0.0.0/8"), e));
  g_assert_true (matches ("client_ip", RH_FIELD_IP, V ("10.1.2.3"), e));

  /* A field the event lacks never matches, negated or not. */
  g_assert_false (matches ("query", RH_FIELD_STRING, V ("!x"), e));

  g_autoptr (GError) error = NULL;
  g_assert_null (rh_condition_new ("stream_name", RH_FIELD_STRING, V ("~(unclosed"), &error));
  g_assert_nonnull (strstr (error->message, "bad regular expression"));
  g_clear_error (&error);
  g_assert_null (rh_condition_new ("client_ip", RH_FIELD_IP, V ("10.0.0.0/40"), &error));
  g_assert_nonnull (strstr (error->message, "bad CIDR"));
  g_clear_error (&error);
  g_assert_null (rh_condition_new ("duration_seconds", RH_FIELD_NUMBER, V ("long"), &error));
  g_assert_nonnull (strstr (error->message, "is numeric"));
}

static char *
expand (const char *text, const RhEvent *event)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RhTemplate) t = rh_template_new (text, &error);
  g_assert_no_error (error);
  return rh_template_expand (t, event);
}

static void
collect_field (const char *field, gpointer user_data)
{
  g_ptr_array_add (user_data, g_strdup (field));
}

static void
test_templates (void)
{
  g_autoptr (RhEvent) e = publish_stop_event ();
  struct { const char *text; const char *expected; } cases[] = {
    { "/srv/${app}/${stream_name}.flv", "/srv/live/cam1.flv" },
    { "${data.stream_name}-${duration_seconds}", "cam1-300" },
    { "${stream_key}", "live/cam1" },
    { "${type}@${conn_id}", "publish_stop@c000042" },
    { "${query:-none}", "none" },
    { "${app:-none}", "live" },
    { "${stream_key|url}", "live%2Fcam1" },
    { "${stream_name|upper}", "CAM1" },
    { "$${app} costs $$5", "${app} costs $5" },
    { "${env.RH_TEST_TOKEN}", "t0k\"en" },
    { "{\"k\":\"${env.RH_TEST_TOKEN|json}\"}", "{\"k\":\"t0k\\\"en\"}" },
    { "${env.RH_TEST_UNSET:-fallback}", "fallback" },
    { "no variables", "no variables" },
  };
  g_setenv ("RH_TEST_TOKEN", "t0k\"en", TRUE);
  g_unsetenv ("RH_TEST_UNSET");
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = expand (cases[i].text, e);
      g_assert_cmpstr (got, ==, cases[i].expected);
    }
  g_autofree char *ts = expand ("${timestamp}", e);
  g_assert_cmpint (g_ascii_strtoll (ts, NULL, 10), ==, e->timestamp);

  g_autoptr (RhTemplate) t = rh_template_new ("${app}/${query:-x}/${env.HOME}/${data.reason}", NULL);
  g_autoptr (GPtrArray) required = g_ptr_array_new_with_free_func (g_free);
  rh_template_foreach_required_field (t, collect_field, required);
  g_assert_cmpuint (required->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (required, 0), ==, "app");
  g_assert_cmpstr (g_ptr_array_index (required, 1), ==, "data.reason");
  g_assert_false (rh_template_is_literal (t));
  g_autoptr (RhTemplate) literal = rh_template_new_literal ("/opt/${weird}");
  g_assert_true (rh_template_is_literal (literal));
  g_autofree char *raw = rh_template_expand (literal, e);
  g_assert_cmpstr (raw, ==, "/opt/${weird}");

  const char *const bad[] = { "${app", "${}", "${app|base64}", "${a b}", "${env.}" };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_null (rh_template_new (bad[i], &error));
      g_assert_nonnull (error);
    }

  /* In a URL every value is percent-encoded unless it says |raw: a
   * client's query cannot walk the path or add a query of its own. */
  g_autoptr (RhEvent) hostile = rh_event_new (RH_EVENT_PLAY_START, "c000001", "live/x");
  rh_event_add_string (hostile, "app", "live");
  rh_event_add_string (hostile, "query", "../../admin?drop=all#x");
  g_autoptr (RhTemplate) url = rh_template_new_url ("https://h.example/${app}/${query}?q=${query|url}&r=${query|raw}",
                                                    NULL);
  g_autofree char *expanded = rh_template_expand (url, hostile);
  g_assert_cmpstr (expanded, ==, "https://h.example/live/..%2F..%2Fadmin%3Fdrop%3Dall%23x"
                                 "?q=..%2F..%2Fadmin%3Fdrop%3Dall%23x&r=../../admin?drop=all#x");
  /* Outside URLs |raw is the same as no filter. */
  g_autofree char *plain = expand ("${query}|${query|raw}", hostile);
  g_assert_cmpstr (plain, ==, "../../admin?drop=all#x|../../admin?drop=all#x");
}

static void
test_durations (void)
{
  double s;
  g_assert_true (rh_duration_parse ("30s", &s) && s == 30);
  g_assert_true (rh_duration_parse ("500ms", &s) && s == 0.5);
  g_assert_true (rh_duration_parse ("1m", &s) && s == 60);
  g_assert_true (rh_duration_parse ("2h", &s) && s == 7200);
  g_assert_true (rh_duration_parse ("2.5", &s) && s == 2.5);
  /* Several parts, the way Go writes them. */
  g_assert_true (rh_duration_parse ("1m30s", &s) && s == 90);
  g_assert_true (rh_duration_parse ("1h15m", &s) && s == 4500);
  g_assert_true (rh_duration_parse ("1.5s250ms", &s) && s == 1.75);
  g_assert_true (rh_duration_parse ("250000us", &s) && s == 0.25);
  g_assert_true (rh_duration_parse ("2000000000ns", &s) && s == 2);
  const char *const bad[] = { "", "s", "10 s", "-1s", "1d", "abc", " 5s", "inf", "1m30", "1e3s",
                              "1m 30s", "m30s", "nan", "0x10s" };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (rh_duration_parse (bad[i], &s));
}

static void
test_stdio_formats (void)
{
  g_autoptr (RhEvent) e = publish_stop_event ();
  g_autofree char *json = rh_stdio_format_event (RH_STDIO_JSON, e);
  g_autofree char *jsonl = rh_stdio_format_event (RH_STDIO_JSONL, e);
  g_autofree char *env = rh_stdio_format_event (RH_STDIO_ENV, e);
  g_autofree char *bare = rh_event_to_json (e);
  g_autofree char *expected_json = g_strdup_printf ("RTMP_EVENT: %s\n", bare);
  g_autofree char *expected_jsonl = g_strdup_printf ("%s\n", bare);
  g_assert_cmpstr (json, ==, expected_json);
  g_assert_cmpstr (jsonl, ==, expected_jsonl);
  g_assert_true (g_str_has_prefix (env, "# RTMP Event: publish_stop\nRTMP_EVENT_TYPE=\"publish_stop\"\n"));
  g_assert_nonnull (strstr (env, "\nRTMP_STREAM_KEY=\"live/cam1\"\n"));
  g_assert_nonnull (strstr (env, "\nRTMP_DURATION_SECONDS=\"300\"\n"));
  g_assert_true (g_str_has_suffix (env, "\n\n"));

  /* A hostile query sources safely: nothing expands, one line each. */
  g_autoptr (RhEvent) hostile = rh_event_new (RH_EVENT_PLAY_START, "c000001", "live/x");
  rh_event_add_string (hostile, "query", "a=1&b=\"$(id)\"`id`\\\nX=2");
  g_autofree char *hostile_env = rh_stdio_format_event (RH_STDIO_ENV, hostile);
  g_assert_nonnull (strstr (hostile_env, "\nRTMP_QUERY=\"a=1&b=\\\"\\$(id)\\\"\\`id\\`\\\\\\nX=2\"\n"));
  g_autofree char *dir = g_dir_make_tmp ("rh-env-XXXXXX", NULL);
  g_autofree char *file = g_build_filename (dir, "event.env", NULL);
  g_assert_true (g_file_set_contents (file, hostile_env, -1, NULL));
  g_autofree char *script = g_strdup_printf (". %s && printf %%s \"$RTMP_QUERY\"", file);
  const char *const argv[] = { "/bin/sh", "-c", script, NULL };
  g_autofree char *sourced = NULL;
  gint status;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &sourced, NULL,
                               &status, NULL));
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (sourced, ==, "a=1&b=\"$(id)\"`id`\\\\nX=2");
  g_unlink (file);
  g_rmdir (dir);

  RhStdioFormat format;
  g_assert_true (rh_stdio_format_parse ("env", &format) && format == RH_STDIO_ENV);
  g_assert_true (rh_stdio_format_parse ("", &format) && format == RH_STDIO_OFF);
  g_assert_false (rh_stdio_format_parse ("xml", &format));
}

/* The example of the Standard Webhooks specification, and secrets that
 * are not base64. */
static void
test_signature (void)
{
  g_autoptr (GBytes) key = rh_webhook_secret_decode ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", NULL);
  g_assert_nonnull (key);
  g_autoptr (GBytes) body = g_bytes_new_static ("{\"test\": 2432232314}", 20);
  g_autofree char *signature = rh_webhook_sign (key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
  g_assert_cmpstr (signature, ==, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");

  /* The prefix is optional; the base64 is not. */
  g_autoptr (GBytes) bare = rh_webhook_secret_decode ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", NULL);
  g_assert_true (g_bytes_equal (bare, key));
  static const char *const bad[] = { "", "whsec_", "s3cr3t-value", "whsec_abc", "whsec_ab=c", "whsec_a===" };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_null (rh_webhook_secret_decode (bad[i], &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    }
}

static char *
fixture (const char *name)
{
  return g_build_filename (rh_test_env ("RH_FIXTURES"), "hooks", name, NULL);
}

static void
test_rules_good (void)
{
  g_autofree char *path = fixture ("good.conf");
  g_autoptr (GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (RhConfig) config = rh_config_load (path, TRUE, NULL, errors);
  for (guint i = 0; i < errors->len; i++)
    g_test_message ("%s", (const char *) g_ptr_array_index (errors, i));
  g_assert_nonnull (config);
  g_assert_cmpfloat (config->hooks.timeout, ==, 5.0);
  g_assert_cmpint (config->hooks.concurrency, ==, 3);
  g_assert_cmpint (config->hooks.queue, ==, 100);
  g_assert_cmpint (config->hooks.stdio, ==, RH_STDIO_JSONL);
  g_assert_cmpuint (config->hooks.rules->len, ==, 3);

  RhRule *recording = g_ptr_array_index (config->hooks.rules, 0);
  g_assert_cmpstr (recording->name, ==, "start-recording");
  g_assert_cmpuint (recording->events, ==, 1u << RH_EVENT_PUBLISH_START);
  g_assert_cmpuint (recording->conditions->len, ==, 4);  /* 3 from the filter + where */
  g_assert_cmpint (recording->concurrency, ==, 1);
  RhAction *exec = g_ptr_array_index (recording->actions, 0);
  g_assert_cmpint (exec->kind, ==, RH_ACTION_EXEC);
  g_assert_cmpfloat (exec->timeout, ==, 10.0);
  g_assert_cmpuint (exec->argv->len, ==, 3);

  RhEvent *event = rh_event_new (RH_EVENT_PUBLISH_START, "c000001", "live/cam7");
  rh_event_add_string (event, "app", "live");
  rh_event_add_string (event, "stream_name", "cam7");
  rh_event_add_string (event, "client_ip", "127.0.0.1");
  g_assert_true (rh_rule_matches (recording, event));
  rh_event_unref (event);
  event = rh_event_new (RH_EVENT_PUBLISH_START, "c000001", "live/camera");
  rh_event_add_string (event, "app", "live");
  rh_event_add_string (event, "stream_name", "camera");  /* glob yes, regex no */
  rh_event_add_string (event, "client_ip", "127.0.0.1");
  g_assert_false (rh_rule_matches (recording, event));
  rh_event_unref (event);

  RhRule *notify = g_ptr_array_index (config->hooks.rules, 1);
  RhAction *webhook = g_ptr_array_index (notify->actions, 0);
  g_assert_cmpint (webhook->kind, ==, RH_ACTION_WEBHOOK);
  g_assert_cmpint (webhook->retries, ==, 2);
  g_assert_nonnull (webhook->secret);
  g_assert_cmpuint (webhook->headers->len, ==, 1);
  /* Plain http beyond loopback only when the rule says so. */
  g_assert_cmpuint (notify->actions->len, ==, 2);
  RhAction *intranet = g_ptr_array_index (notify->actions, 1);
  g_assert_cmpint (intranet->require_https, ==, RH_REQUIRE_HTTPS_NO);

  RhRule *sessions = g_ptr_array_index (config->hooks.rules, 2);
  g_assert_cmpuint (sessions->actions->len, ==, 2);
  RhAction *second = g_ptr_array_index (sessions->actions, 1);
  g_assert_false (second->stdin_json);
  /* "true" was found on PATH and made absolute. */
  RhAction *first = g_ptr_array_index (sessions->actions, 0);
  g_assert_true (g_path_is_absolute (rh_template_get_text (g_ptr_array_index (first->argv, 0))));
}

/* errors holds exactly the expected ones, each "PATH<expected>..." */
static void
assert_errors (GPtrArray *errors, const char *path, const char *const *expected, gsize n_expected)
{
  for (gsize i = 0; i < n_expected; i++)
    {
      g_autofree char *want = g_strconcat (path, expected[i], NULL);
      gboolean found = FALSE;
      for (guint j = 0; j < errors->len && !found; j++)
        found = g_str_has_prefix (g_ptr_array_index (errors, j), want);
      if (!found)
        g_error ("missing error: %s", want);
    }
  g_assert_cmpuint (errors->len, ==, n_expected);
}

static void
test_rules_bad (void)
{
  g_autofree char *path = fixture ("bad.conf");
  g_autoptr (GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (RhConfig) config = rh_config_load (path, TRUE, NULL, errors);
  g_assert_null (config);
  const char *expected[] = {
    ":1: stdio must be one of",
    ":6: rule \"a\": unknown event \"publish_begin\"",
    ":7: rule \"b\": field \"client_ip\" is not carried by stream_create",
    ":8: rule \"c\": stream_name: bad regular expression",
    ":3: rule \"d\": client_ip: bad CIDR \"10.0.0.0/99\"",
    ":10: rule \"e\": webhook URL \"ftp://example.com/x\" must start with http:// or https://",
    ":11: rule \"f\": program /nonexistent/program not found",
    ":12: rule \"g\": /usr/share/common-licenses/GPL-3 is not an executable file",
    ":13: rule \"h\": unknown key exec.colour",
    ":14: rule \"i\": webhook URL \"http://example.com/x\" is not https and require_https is set",
    ":15: rule name \"a\" is used twice",
    ":15: rule \"a\": field \"duration_seconds\" is not carried by publish_start",
    ":16: rule \"j\" has no action",
    ":17: rule \"k\": no filter named \"nosuch\"",
    ":18: rule \"l\": duration_seconds is numeric",
    ":19: rule \"m\": unknown template filter \"base64\"",
    ":20: rule \"n\": exec needs command",
    ":21: rule \"o\": a webhook secret must be \"whsec_\" followed by base64",
    ":22: rule \"p\": webhook URL \"http://hooks.example.com/x\" is plain http to a host that is not loopback",
  };
  for (guint i = 0; i < errors->len; i++)
    g_test_message ("%s", (const char *) g_ptr_array_index (errors, i));
  assert_errors (errors, path, expected, G_N_ELEMENTS (expected));
}

static void
test_cli_flags (void)
{
  char *scripts[] = { (char *) "publish_start=/bin/true", NULL };
  char *webhooks[] = { (char *) "play_stop=http://127.0.0.1:9/hook", NULL };
  RhConfigOverrides overrides = {
    .chunk_size = RH_OVERRIDE_UNSET, .hook_scripts = scripts, .hook_webhooks = webhooks,
    .hook_stdio_format = "env", .hook_timeout = "500ms", .hook_concurrency = 4,
  };
  g_autoptr (GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (RhConfig) config = rh_config_load (NULL, FALSE, &overrides, errors);
  g_assert_nonnull (config);
  g_assert_cmpuint (config->hooks.rules->len, ==, 2);
  g_assert_cmpint (config->hooks.stdio, ==, RH_STDIO_ENV);
  g_assert_cmpfloat (config->hooks.timeout, ==, 0.5);
  g_assert_cmpint (config->hooks.concurrency, ==, 4);

  char *bad_scripts[] = { (char *) "publish=/bin/true", (char *) "publish_start=/nonexistent", NULL };
  char *bad_webhooks[] = { (char *) "play_stop=gopher://x", NULL };
  RhConfigOverrides bad = {
    .chunk_size = RH_OVERRIDE_UNSET, .hook_scripts = bad_scripts, .hook_webhooks = bad_webhooks,
    .hook_stdio_format = "xml", .hook_timeout = "soon", .hook_concurrency = -1,
  };
  g_autoptr (RhConfig) none = rh_config_load (NULL, FALSE, &bad, errors);
  g_assert_null (none);
  for (guint i = 0; i < errors->len; i++)
    g_test_message ("%s", (const char *) g_ptr_array_index (errors, i));
  g_assert_cmpuint (errors->len, ==, 6);

  /* 0 is a value given, not "unset": refused like any out-of-range count. */
  g_ptr_array_set_size (errors, 0);
  RhConfigOverrides zero = { NULL, RH_OVERRIDE_UNSET, .hook_concurrency = 0 };
  g_autoptr (RhConfig) zero_config = rh_config_load (NULL, FALSE, &zero, errors);
  g_assert_null (zero_config);
  g_assert_cmpuint (errors->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (errors, 0), ==, "--hook-concurrency: 0 is out of range [1, 10000]");
}

/* GRegex and GPatternSpec crash on invalid UTF-8: such a file is refused
 * at load, with the line of every bad string. */
static void
test_rules_invalid_utf8 (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *path = g_build_filename (dir, "utf8.conf", NULL);
  const char text[] = "rules = (\n"
                      "  { name = \"r\"; on = [ \"publish_start\" ]; where = { stream_name = \"~\xff(\"; };\n"
                      "    exec = { command = [ \"/bin/true\" ]; }; },\n"
                      "  { name = \"g\"; on = [ \"publish_start\" ]; where = { app = \"\xc3*\"; };\n"
                      "    exec = { command = [ \"/bin/true\" ]; }; }\n"
                      ");\n";
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  g_autoptr (GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (RhConfig) config = rh_config_load (path, TRUE, NULL, errors);
  g_assert_null (config);
  g_assert_cmpuint (errors->len, ==, 2);
  g_autofree char *first = g_strdup_printf ("%s:2: stream_name: the string is not valid UTF-8", path);
  g_autofree char *second = g_strdup_printf ("%s:4: app: the string is not valid UTF-8", path);
  g_assert_cmpstr (g_ptr_array_index (errors, 0), ==, first);
  g_assert_cmpstr (g_ptr_array_index (errors, 1), ==, second);

  /* The same values from code (the command line's path) are refused too. */
  g_autoptr (GError) error = NULL;
  const char *const values[] = { "\xc3*", NULL };
  g_assert_null (rh_condition_new ("app", RH_FIELD_STRING, values, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  rh_test_remove_tree (dir);
}

/* A check's answer: a JSON object with stream_name and reason, or
 * nothing; never an error. */
static void
test_check_answer (void)
{
  static const struct {
    const char *text;
    const char *stream_name;
    const char *reason;
  } cases[] = {
    { "{\"stream_name\": \"cam2\", \"reason\": \"ok\"}", "cam2", "ok" },
    { "  {\"reason\": \"bad key\"}\n", NULL, "bad key" },
    { "{\"reason\": \"line\\nbreak\\u0000end\"}", NULL, "line break" },  /* a NUL ends it */
    /* A name with a NUL is not its first part: it is marked invalid. */
    { "{\"stream_name\": \"a\\u0000b\"}", "a\xEF\xBF\xBD", NULL },
    { "{\"stream_name\": 5, \"reason\": [1]}", NULL, NULL },
    { "[\"stream_name\", \"x\"]", NULL, NULL },
    { "allowed", NULL, NULL },
    { "{\"stream_name\": \"x\"", NULL, NULL },
    { "", NULL, NULL },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      RhCheckAnswer answer;
      rh_check_answer_parse (cases[i].text, strlen (cases[i].text), &answer);
      g_assert_cmpstr (answer.stream_name, ==, cases[i].stream_name);
      g_assert_cmpstr (answer.reason, ==, cases[i].reason);
      rh_check_answer_clear (&answer);
    }
  /* A long reason is cut on a character boundary; a huge answer is none. */
  g_autoptr (GString) long_reason = g_string_new ("{\"reason\": \"");
  for (int i = 0; i < 200; i++)
    g_string_append (long_reason, "\xc3\xa9");
  g_string_append (long_reason, "\"}");
  RhCheckAnswer answer;
  rh_check_answer_parse (long_reason->str, long_reason->len, &answer);
  g_assert_cmpuint (strlen (answer.reason), ==, RH_CHECK_REASON_MAX);
  g_assert_true (g_utf8_validate (answer.reason, -1, NULL));
  rh_check_answer_clear (&answer);
  g_autofree char *huge = g_strnfill (RH_CHECK_ANSWER_MAX + 1, '[');
  huge[0] = '{';
  rh_check_answer_parse (huge, strlen (huge), &answer);
  g_assert_null (answer.reason);
  g_assert_null (answer.stream_name);
}

static RhConfig *
load_text (const char *dir, const char *text, GPtrArray *errors, char **path_out)
{
  g_autofree char *path = g_build_filename (dir, "checks.conf", NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  RhConfig *config = rh_config_load (path, TRUE, NULL, errors);
  for (guint i = 0; i < errors->len; i++)
    g_test_message ("%s", (const char *) g_ptr_array_index (errors, i));
  g_free (*path_out);
  *path_out = g_steal_pointer (&path);
  return config;
}

/* Checks and managed processes in the configuration, and what is
 * refused about them with FILE:LINE. */
static void
test_checks_config (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *path = NULL;
  g_autoptr (GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
  const char good[] =
    "hooks = { max_processes = 7; check_concurrency = 3; };\n"
    "checks = (\n"
    "  { name = \"keys\"; on = [ \"publish\", \"play\" ]; where = { query = \"!key=*\"; };\n"
    "    exec = { command = [ \"/bin/false\", \"${stream_name}\" ]; timeout = 2.0; }; },\n"
    "  { name = \"auth\"; on = \"*\"; webhook = { url = \"http://127.0.0.1:9/auth\"; };\n"
    "    on_error = \"allow\"; }\n"
    ");\n"
    "rules = ( { name = \"transcode\"; on = [ \"publish_start\" ];\n"
    "            exec = { command = [ \"/bin/true\" ]; lifetime = \"stream\"; restart_delay = \"500ms\"; }; },\n"
    "          { name = \"exits\"; on = [ \"process_exit\" ]; where = { exit_status = \"> 0\"; rule = \"transcode\"; };\n"
    "            exec = { command = [ \"/bin/true\" ]; }; } );\n";
  g_autoptr (RhConfig) config = load_text (dir, good, errors, &path);
  g_assert_nonnull (config);
  g_assert_cmpint (config->hooks.max_processes, ==, 7);
  g_assert_cmpint (config->hooks.check_concurrency, ==, 3);
  g_assert_cmpuint (config->hooks.checks->len, ==, 2);
  RhRule *keys = g_ptr_array_index (config->hooks.checks, 0);
  g_assert_true (keys->is_check);
  g_assert_false (keys->allow_on_error);
  g_assert_cmpuint (keys->events, ==, (1u << RH_EVENT_PUBLISH) | (1u << RH_EVENT_PLAY));
  RhRule *auth = g_ptr_array_index (config->hooks.checks, 1);
  g_assert_true (auth->allow_on_error);
  g_assert_cmpuint (auth->events, ==, RH_EVENT_CHECKS);
  RhRule *transcode = g_ptr_array_index (config->hooks.rules, 0);
  RhAction *managed = g_ptr_array_index (transcode->actions, 0);
  g_assert_true (managed->managed);
  g_assert_cmpfloat (managed->restart_delay, ==, 0.5);

  g_ptr_array_set_size (errors, 0);
  const char bad[] =
    "checks = (\n"
    "  { name = \"a\"; on = [ \"publish_start\" ]; exec = { command = [ \"/bin/true\" ]; }; },\n"
    "  { name = \"b\"; on = [ \"play\" ]; on_error = \"maybe\"; exec = { command = [ \"/bin/true\" ]; }; },\n"
    "  { name = \"c\"; on = [ \"connect\" ]; exec = ( { command = [ \"/bin/true\" ]; }, { command = [ \"/bin/true\" ]; } ); },\n"
    "  { name = \"d\"; on = [ \"publish\" ]; webhook = { url = \"http://127.0.0.1/x\"; retries = 2; }; },\n"
    "  { name = \"e\"; on = [ \"connect\" ]; where = { stream_name = \"x\"; }; exec = { command = [ \"/bin/true\" ]; }; },\n"
    "  { name = \"f\"; on = [ \"play\" ]; concurrency = 2; exec = { command = [ \"/bin/true\" ]; }; }\n"
    ");\n"
    "rules = (\n"
    "  { name = \"g\"; on = [ \"publish\" ]; exec = { command = [ \"/bin/true\" ]; }; },\n"
    "  { name = \"h\"; on = [ \"publish_stop\" ]; exec = { command = [ \"/bin/true\" ]; lifetime = \"stream\"; }; },\n"
    "  { name = \"i\"; on = [ \"play_start\" ]; exec = { command = [ \"/bin/true\" ]; lifetime = \"stream\"; timeout = 5.0; }; },\n"
    "  { name = \"j\"; on = [ \"play_start\" ]; exec = { command = [ \"/bin/true\" ]; restart_delay = 1.0; }; },\n"
    "  { name = \"k\"; on = [ \"play_start\" ]; exec = { command = [ \"/bin/true\" ]; lifetime = \"forever\"; }; },\n"
    "  { name = \"l\"; on = [ \"connect\" ]; exec = { command = [ \"/bin/true\" ]; }; }\n"
    ");\n";
  g_autoptr (RhConfig) none = load_text (dir, bad, errors, &path);
  g_assert_null (none);
  const char *expected[] = {
    ":2: check \"a\": checks answer connect, publish or play, not publish_start",
    ":3: check \"b\": on_error must be \"deny\" or \"allow\"",
    ":4: check \"c\" has 2 actions",
    ":5: check \"d\": a check is never retried",
    ":6: rule \"e\": field \"stream_name\" is not carried by connect",
    ":7: rule \"f\": unknown key check.concurrency",
    ":10: rule \"g\": publish is a request that checks answer",
    ":11: rule \"h\": lifetime = \"stream\" needs on = [ \"publish_start\" ] or [ \"play_start\" ]",
    ":12: rule \"i\": a process with lifetime = \"stream\" has no timeout",
    ":13: rule \"j\": restart_delay needs lifetime = \"stream\"",
    ":14: rule \"k\": exec.lifetime must be \"event\" or \"stream\"",
    (":15: rule \"l\": connect is a request that checks answer; a rule reacts to connection_accept, "
     "handshake_complete or stream_create"),
  };
  assert_errors (errors, path, expected, G_N_ELEMENTS (expected));

  /* --hook-check: only connect, publish and play. */
  char *checks[] = { (char *) "publish=/bin/true", NULL };
  RhConfigOverrides overrides = { .chunk_size = RH_OVERRIDE_UNSET, .hook_checks = checks,
                                  .hook_concurrency = RH_OVERRIDE_UNSET };
  g_ptr_array_set_size (errors, 0);
  g_autoptr (RhConfig) flagged = rh_config_load (NULL, FALSE, &overrides, errors);
  g_assert_nonnull (flagged);
  g_assert_cmpuint (flagged->hooks.checks->len, ==, 1);
  g_assert_true (((RhRule *) g_ptr_array_index (flagged->hooks.checks, 0))->is_check);
  char *bad_checks[] = { (char *) "publish_start=/bin/true", NULL };
  RhConfigOverrides bad_overrides = { .chunk_size = RH_OVERRIDE_UNSET, .hook_checks = bad_checks,
                                      .hook_concurrency = RH_OVERRIDE_UNSET };
  g_autoptr (RhConfig) refused = rh_config_load (NULL, FALSE, &bad_overrides, errors);
  g_assert_null (refused);
  g_assert_cmpstr (g_ptr_array_index (errors, 0), ==, "--hook-check: \"publish_start=/bin/true\" is not "
                   "EVENT=VALUE with EVENT one of connect, publish, play");
  /* The list comes from the event table: every notification, in order. */
  char *bad_scripts[] = { (char *) "publish=/bin/true", NULL };
  RhConfigOverrides script_overrides = { .chunk_size = RH_OVERRIDE_UNSET, .hook_scripts = bad_scripts,
                                         .hook_concurrency = RH_OVERRIDE_UNSET };
  g_ptr_array_set_size (errors, 0);
  g_autoptr (RhConfig) no_script = rh_config_load (NULL, FALSE, &script_overrides, errors);
  g_assert_null (no_script);
  g_autoptr (GString) every = g_string_new (NULL);
  for (int type = 0; type < RH_EVENT_FIRST_CHECK; type++)
    g_string_append_printf (every, "%s%s", type > 0 ? ", " : "", rh_event_type_to_string ((RhEventType) type));
  g_autofree char *expected_script = g_strdup_printf ("--hook-script: \"publish=/bin/true\" is not EVENT=VALUE with "
                                                      "EVENT one of %s", every->str);
  g_assert_cmpstr (g_ptr_array_index (errors, 0), ==, expected_script);
  g_assert_nonnull (strstr (expected_script, "relay_stop"));
  rh_test_remove_tree (dir);
}

/* What a worker reads back from the event log: the envelope a node
 * wrote gives the same event (id, timestamp, node, every field with its
 * kind); anything else is refused with a reason, and fields this build
 * does not know are skipped. */
static void
test_event_from_json (void)
{
  rh_event_set_node_id ("n1");
  g_autoptr (RhEvent) original = rh_event_new (RH_EVENT_PUBLISH_START, "c000007", "live/cam\"1");
  rh_event_add_string (original, "app", "live");
  rh_event_add_string (original, "query", "token=a b\nc");
  rh_event_add_string (original, "client_ip", "10.0.0.1");
  rh_event_add_boolean (original, "tls", TRUE);
  rh_event_add_number (original, "epoch", 42);
  rh_event_set_node_id (NULL);
  g_autofree char *json = rh_event_to_json (original);
  g_autofree char *logged = g_strdup_printf ("%.*s,\"seq\":9,\"epoch\":42}", (int) strlen (json) - 1, json);
  g_autofree char *why = NULL;
  g_autoptr (RhEvent) back = rh_event_from_json (logged, strlen (logged), &why);
  g_assert_null (why);
  g_assert_nonnull (back);
  g_autofree char *again = rh_event_to_json (back);
  g_assert_cmpstr (again, ==, json);
  g_assert_cmpstr (back->id, ==, original->id);
  g_assert_cmpstr (back->node_id, ==, "n1");
  g_autofree char *tls = rh_event_lookup (back, "tls");
  g_assert_cmpstr (tls, ==, "true");

  /* Unknown data fields (a newer node) are skipped. */
  const char *newer = "{\"type\":\"play_stop\",\"timestamp\":5,\"id\":\"x-1\",\"stream_key\":\"a/b\","
                      "\"data\":{\"app\":\"a\",\"future\":[1,2]}}";
  g_autoptr (RhEvent) skipped = rh_event_from_json (newer, strlen (newer), &why);
  g_assert_nonnull (skipped);
  g_assert_cmpuint (skipped->data->len, ==, 1);
  g_assert_null (skipped->node_id);

  const struct { const char *json; const char *why; } bad[] = {
    { "", "not JSON" },
    { "{\"type\":", "not JSON" },
    { "[1]", "not a JSON object" },
    { "{\"timestamp\":1,\"id\":\"a\"}", "no known event type" },
    { "{\"type\":\"nope\",\"timestamp\":1,\"id\":\"a\"}", "no known event type" },
    { "{\"type\":\"publish\",\"timestamp\":1,\"id\":\"a\"}", "no known event type" },
    { "{\"type\":7,\"timestamp\":1,\"id\":\"a\"}", "\"type\" is not a string" },
    { "{\"type\":\"play_stop\",\"timestamp\":1}", "no valid id" },
    { "{\"type\":\"play_stop\",\"timestamp\":1,\"id\":\"a\\r\\nX-Evil: 1\"}", "no valid id" },
    { "{\"type\":\"play_stop\",\"id\":\"a\"}", "no timestamp" },
    { "{\"type\":\"play_stop\",\"timestamp\":1.5,\"id\":\"a\"}", "no timestamp" },
    { "{\"type\":\"play_stop\",\"timestamp\":1,\"id\":\"a\",\"data\":[]}", "\"data\" is not an object" },
    { "{\"type\":\"play_stop\",\"timestamp\":1,\"id\":\"a\",\"data\":{\"bytes_sent\":\"9\"}}",
      "data field \"bytes_sent\" of play_stop has the wrong kind of value" },
    { "{\"type\":\"play_stop\",\"timestamp\":1,\"id\":\"a\",\"data\":{\"app\":null}}",
      "data field \"app\" of play_stop has the wrong kind of value" },
    { "{\"type\":\"play_stop\",\"timestamp\":1,\"id\":\"a\",\"stream_key\":{}}", "\"stream_key\" is not a string" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_clear_pointer (&why, g_free);
      g_assert_null (rh_event_from_json (bad[i].json, strlen (bad[i].json), &why));
      if (!g_str_has_prefix (why, bad[i].why))
        g_error ("%s: %s", bad[i].json, why);
    }
}

typedef struct {
  guint calls;
  RhDispatchOutcome outcome;
  char *error;
} Tracked;

static void
on_tracked (const RhDispatchOutcome *outcome, gpointer user_data)
{
  Tracked *tracked = user_data;
  tracked->calls++;
  tracked->outcome = *outcome;
  tracked->error = g_strdup (outcome->error);
}

static gboolean
tracked_done (gpointer data)
{
  return ((Tracked *) data)->calls > 0;
}

/* A tracked event reports once every exec and webhook action it started
 * has finished, with the failures; one that starts none reports at once;
 * with stream actions off, a managed process is neither run nor counted. */
static void
test_dispatch_tracked (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *path = NULL;
  g_autoptr (GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (RhConfig) config = load_text (dir,
    "rules = (\n"
    "  { name = \"ok\"; on = [ \"publish_start\" ]; exec = { command = [ \"/bin/true\" ]; }; },\n"
    "  { name = \"bad\"; on = [ \"publish_start\" ]; exec = { command = [ \"/bin/false\" ]; }; },\n"
    "  { name = \"slow\"; on = [ \"publish_start\" ]; exec = { command = [ \"/bin/sleep\", \"0.2\" ]; }; },\n"
    "  { name = \"managed\"; on = [ \"publish_start\" ];\n"
    "    exec = { command = [ \"/bin/sleep\", \"60\" ]; lifetime = \"stream\"; }; }\n"
    ");\n", errors, &path);
  g_assert_nonnull (config);
  RhDispatcher *dispatcher = rh_dispatcher_new (-1);
  rh_dispatcher_configure (dispatcher, &config->hooks);
  rh_dispatcher_set_stream_actions (dispatcher, FALSE);

  Tracked none = { 0 };
  g_autoptr (RhEvent) other = rh_event_new (RH_EVENT_PLAY_START, "c1", "live/a");
  rh_dispatcher_emit_tracked (dispatcher, other, on_tracked, &none);
  g_assert_cmpuint (none.calls, ==, 1);
  g_assert_cmpuint (none.outcome.actions, ==, 0);
  g_assert_null (none.error);

  Tracked three = { 0 };
  g_autoptr (RhEvent) event = rh_event_new (RH_EVENT_PUBLISH_START, "c1", "live/a");
  gint64 started = g_get_monotonic_time ();
  rh_dispatcher_emit_tracked (dispatcher, event, on_tracked, &three);
  g_assert_cmpuint (three.calls, ==, 0);
  g_assert_true (rh_test_iterate_until (tracked_done, &three, 10000));
  /* Not before the slowest action ended. */
  g_assert_cmpint (g_get_monotonic_time () - started, >=, 200000);
  g_assert_cmpuint (three.calls, ==, 1);
  g_assert_cmpuint (three.outcome.actions, ==, 3);
  g_assert_cmpuint (three.outcome.failed, ==, 1);
  g_assert_cmpstr (three.error, ==, "exit status 1");
  RhDispatcherCounters counters;
  rh_dispatcher_get_counters (dispatcher, &counters);
  g_assert_cmpuint (counters.processes, ==, 0);
  rh_dispatcher_free (dispatcher);
  g_free (three.error);
  rh_test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Failing hooks log warnings; only criticals are fatal. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_test_add_func ("/hooks/event-json-env", test_event_json_and_env);
  g_test_add_func ("/hooks/event-schema", test_event_schema);
  g_test_add_func ("/hooks/event-boolean", test_event_boolean);
  g_test_add_func ("/hooks/event-from-json", test_event_from_json);
  g_test_add_func ("/hooks/dispatch-tracked", test_dispatch_tracked);
  g_test_add_func ("/hooks/conditions", test_conditions);
  g_test_add_func ("/hooks/templates", test_templates);
  g_test_add_func ("/hooks/durations", test_durations);
  g_test_add_func ("/hooks/stdio-formats", test_stdio_formats);
  g_test_add_func ("/hooks/signature", test_signature);
  g_test_add_func ("/hooks/rules-good", test_rules_good);
  g_test_add_func ("/hooks/rules-bad", test_rules_bad);
  g_test_add_func ("/hooks/cli-flags", test_cli_flags);
  g_test_add_func ("/hooks/rules-invalid-utf8", test_rules_invalid_utf8);
  g_test_add_func ("/hooks/check-answer", test_check_answer);
  g_test_add_func ("/hooks/checks-config", test_checks_config);
  return g_test_run ();
}
