/* Client strings in log lines: escaped, cut, and secrets masked. */
#include "config.h"

#include <string.h>

#include "common/log.h"
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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/log/quote", test_quote);
  g_test_add_func ("/log/mask-secrets", test_mask_secrets);
  g_test_add_func ("/log/event-invalid-utf8", test_event_invalid_utf8);
  return g_test_run ();
}
