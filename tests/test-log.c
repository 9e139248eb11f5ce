/* Client strings in log lines: escaped, cut, and secrets masked. */
#include "config.h"

#include <string.h>

#include "util/log.h"
#include "hooks/event.h"

static void
test_quote (void)
{
  static const struct { const char *in, *out; } cases[] = {
    { "live", "live" },
    { "a\nb", "a\\x0ab" },
    { "forged\r\n2026-01-01 notice: x", "forged\\x0d\\x0a2026-01-01 notice: x" },
    { "q\"uo\\te", "q\\\"uo\\\\te" },
    { "bad\xff\xfe", "bad\\xff\\xfe" },
    { "caf\xc3\xa9", "caf\xc3\xa9" },
    { "tab\there\x7f", "tab\\x09here\\x7f" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *quoted = rh_log_quote (cases[i].in);
      g_assert_cmpstr (quoted, ==, cases[i].out);
    }
  g_autofree char *empty = rh_log_quote (NULL);
  g_assert_cmpstr (empty, ==, "");

  /* 4 MB of newlines: one short line. */
  gsize big = 4 * 1024 * 1024;
  g_autofree char *newlines = g_malloc (big + 1);
  memset (newlines, '\n', big);
  newlines[big] = '\0';
  g_autofree char *cut = rh_log_quote (newlines);
  g_assert_null (strchr (cut, '\n'));
  g_assert_cmpuint (strlen (cut), <, RH_LOG_TEXT_MAX + 64);
  g_assert_true (g_str_has_suffix (cut, "...(4194304 bytes)"));
}

static void
test_mask_secrets (void)
{
  static const struct { const char *in, *out; } cases[] = {
    { "rtmp://127.0.0.1:1935/live", "rtmp://127.0.0.1:1935/live" },
    { "rtmp://127.0.0.1:1935/live?auth=SECRET", "rtmp://127.0.0.1:1935/live?auth=***" },
    { "rtmp://h/live?a=1&b=2&flag", "rtmp://h/live?a=***&b=***&***" },
    { "rtmp://user:pw@h/live", "rtmp://user:***@h/live" },
    { "rtmp://user@h/live", "rtmp://user@h/live" },
    { "test?key=SECRET", "test?key=***" },
    { "rtmp://h/live?k=a\nb", "rtmp://h/live?k=***" },
    { "rtmp://h/li\nve", "rtmp://h/li\\x0ave" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *masked = rh_log_mask_secrets (cases[i].in);
      g_assert_cmpstr (masked, ==, cases[i].out);
    }
}

/* Event JSON stays valid UTF-8 whatever bytes the client sent. */
static void
test_event_invalid_utf8 (void)
{
  RhEvent *event = rh_event_new (RH_EVENT_PUBLISH_START, "c000001", "live/x");
  rh_event_add_string (event, "query", "k=\xff\xfe" "ok");
  g_autofree char *json = rh_event_to_json (event);
  g_assert_true (g_utf8_validate (json, -1, NULL));
  g_assert_nonnull (strstr (json, "k=\xef\xbf\xbd\xef\xbf\xbdok"));
  rh_event_unref (event);
}

static GLogWriterOutput
capture_journal (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  GHashTable *captured = user_data;
  for (gsize i = 0; i < n_fields; i++)
    g_hash_table_insert (captured, g_strdup (fields[i].key),
                         fields[i].length < 0 ? g_strdup (fields[i].value)
                                              : g_strndup (fields[i].value, (gsize) fields[i].length));
  return G_LOG_WRITER_HANDLED;
}

/* On the journal a line about a connection, a stream or a rule carries
 * them as fields (journalctl RTMP_STREAM_KEY=live/cam). */
static void
test_journal_fields (void)
{
  g_autoptr (GHashTable) captured = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  rh_log_init_full (G_LOG_LEVEL_INFO, TRUE, capture_journal, captured);

  rh_log (G_LOG_LEVEL_WARNING, "c000042", "live/cam", "recorder", "hook \"%s\" failed", "recorder");
  g_assert_cmpstr (g_hash_table_lookup (captured, "MESSAGE"), ==, "hook \"recorder\" failed");
  g_assert_cmpstr (g_hash_table_lookup (captured, "PRIORITY"), ==, "4");
  g_assert_cmpstr (g_hash_table_lookup (captured, "RTMP_CONN_ID"), ==, "c000042");
  g_assert_cmpstr (g_hash_table_lookup (captured, "RTMP_STREAM_KEY"), ==, "live/cam");
  g_assert_cmpstr (g_hash_table_lookup (captured, "RTMP_RULE"), ==, "recorder");
  g_assert_cmpstr (g_hash_table_lookup (captured, "GLIB_DOMAIN"), ==, "rtmphooks");

  /* Fields a line does not have are absent, not empty. */
  g_hash_table_remove_all (captured);
  rh_log (G_LOG_LEVEL_MESSAGE, NULL, "live/cam", NULL, "stream %s", "live/cam");
  g_assert_cmpstr (g_hash_table_lookup (captured, "PRIORITY"), ==, "5");
  g_assert_false (g_hash_table_contains (captured, "RTMP_CONN_ID"));
  g_assert_false (g_hash_table_contains (captured, "RTMP_RULE"));

  /* Below the configured level nothing is written. */
  g_hash_table_remove_all (captured);
  rh_log (G_LOG_LEVEL_DEBUG, "c000001", NULL, NULL, "noise");
  g_assert_cmpuint (g_hash_table_size (captured), ==, 0);

  /* Plain g_message lines reach the journal too. */
  g_message ("plain %d", 7);
  g_assert_cmpstr (g_hash_table_lookup (captured, "MESSAGE"), ==, "plain 7");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/log/quote", test_quote);
  g_test_add_func ("/log/mask-secrets", test_mask_secrets);
  g_test_add_func ("/log/event-invalid-utf8", test_event_invalid_utf8);
  g_test_add_func ("/log/journal-fields", test_journal_fields);
  return g_test_run ();
}
