#include "config.h"

#include <glib/gstdio.h>

#include <string.h>

#include "config/settings.h"
#include "testutil.h"

static char *
fixture (const char *name)
{
  return g_build_filename (rh_test_env ("RH_FIXTURES"), "config", name, NULL);
}

static gboolean
has_error (GPtrArray *errors, const char *expected)
{
  for (guint i = 0; i < errors->len; i++)
    if (strstr (g_ptr_array_index (errors, i), expected) != NULL)
      return TRUE;
  return FALSE;
}

static void
dump (GPtrArray *errors)
{
  for (guint i = 0; i < errors->len; i++)
    g_test_message ("%s", (const char *) g_ptr_array_index (errors, i));
}

static void
test_defaults (void)
{
  g_autoptr (GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (RhConfig) config = rh_config_load ("/nonexistent/rtmphooks.conf", FALSE, NULL, errors);
  g_assert_nonnull (config);
  g_assert_cmpuint (errors->len, ==, 0);
  g_assert_null (config->path);
  g_assert_cmpuint (config->server.listen->len, ==, 1);
  g_assert_null (g_array_index (config->server.listen, RhListenAddress, 0).host);
  g_assert_cmpuint (g_array_index (config->server.listen, RhListenAddress, 0).port, ==, 1935);
  g_assert_cmpint (config->server.chunk_size, ==, 4096);
  g_assert_cmpint (config->server.duplicate_publish, ==, RH_DUPLICATE_PUBLISH_REJECT);
  g_assert_true (config->server.gop_cache);
  g_assert_cmpfloat (config->server.player_max_delay, ==, 3);
  g_assert_cmpfloat (config->server.player_behind_timeout, ==, 20);
  g_assert_cmpint (config->server.max_connections_per_ip, ==, 100);
  g_assert_cmpstrv (config->server.per_ip_exempt, rh_default_per_ip_exempt);
  g_assert_cmpint (config->server.max_input_memory, ==, 256 * 1024 * 1024);

  /* A file named explicitly must exist. */
  g_autoptr (RhConfig) missing = rh_config_load ("/nonexistent/rtmphooks.conf", TRUE, NULL, errors);
  g_assert_null (missing);
  g_assert_true (has_error (errors, "/nonexistent/rtmphooks.conf: No such file"));
}

static void
test_good (void)
{
  g_autofree char *path = fixture ("good.conf");
  g_autoptr (GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (RhConfig) config = rh_config_load (path, TRUE, NULL, errors);
  dump (errors);
  g_assert_nonnull (config);
  const RhServerConfig *s = &config->server;
  g_assert_cmpuint (s->listen->len, ==, 3);
  g_autofree char *l0 = rh_listen_address_to_string (&g_array_index (s->listen, RhListenAddress, 0));
  g_autofree char *l1 = rh_listen_address_to_string (&g_array_index (s->listen, RhListenAddress, 1));
  g_autofree char *l2 = rh_listen_address_to_string (&g_array_index (s->listen, RhListenAddress, 2));
  g_assert_cmpstr (l0, ==, ":19350");
  g_assert_cmpstr (l1, ==, "127.0.0.1:19351");
  g_assert_cmpstr (l2, ==, "[::1]:19352");
  g_assert_cmpint (s->chunk_size, ==, 8192);
  g_assert_cmpint (s->max_connections, ==, 50);
  g_assert_cmpint (s->max_connections_per_ip, ==, 5);
  g_assert_cmpfloat (s->handshake_timeout, ==, 2.5);
  g_assert_cmpfloat (s->idle_timeout, ==, 30);
  g_assert_cmpint (s->max_message_size, ==, 1048576);
  g_assert_cmpint (s->duplicate_publish, ==, RH_DUPLICATE_PUBLISH_REPLACE);
  g_assert_false (s->gop_cache);
  g_assert_cmpint (s->player_queue_hard_limit, ==, 4000000);
  g_assert_cmpfloat (s->player_max_delay, ==, 1.5);
  g_assert_cmpfloat (s->player_behind_timeout, ==, 8);
  g_assert_cmpint (s->player_send_buffer, ==, 131072);
}

static void
test_syntax_error (void)
{
  g_autofree char *path = fixture ("syntax.conf");
  g_autoptr (GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (RhConfig) config = rh_config_load (path, TRUE, NULL, errors);
  g_assert_null (config);
  g_assert_cmpuint (errors->len, ==, 1);
  g_autofree char *expected = g_strdup_printf ("%s:3: syntax error", path);
  g_assert_cmpstr (g_ptr_array_index (errors, 0), ==, expected);
}

static void
test_every_error_reported (void)
{
  g_autofree char *path = fixture ("bad-values.conf");
  g_autoptr (GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (RhConfig) config = rh_config_load (path, TRUE, NULL, errors);
  dump (errors);
  g_assert_null (config);
  const char *expected[] = {
    ":2: invalid listen address \"nonsense\"",
    ":2: invalid listen address \":99999\"",
    ":3: chunk_size = 10 is out of range [128, 65536]",
    ":4: max_connections must be an integer",
    ":5: duplicate_publish must be one of \"reject\", \"replace\"",
    ":6: gop_cache must be true or false",
    ":7: unknown setting server.unknown_thing",
    ":10: player_max_delay = 0 is out of range [0.1, 60]",
    ":1: server.player_queue_hard_limit (1000000) is below player_queue_soft_limit (2000000)",
    ":11: server.per_ip_exempt: \"10.0.0.0/99\" is not an address or a CIDR block",
    ":11: server.per_ip_exempt: \"localhost\" is not an address or a CIDR block",
    ":1: server.max_input_memory (2000000) is below max_message_size (4000000)",
    ":15: unknown section \"surprise\"",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autofree char *line = g_strconcat (path, expected[i], NULL);
      if (!has_error (errors, line))
        g_error ("missing error: %s", line);
    }
  g_assert_cmpuint (errors->len, ==, G_N_ELEMENTS (expected));
}

static void
test_overrides (void)
{
  g_autofree char *path = fixture ("good.conf");
  char *listen[] = { (char *) "127.0.0.2:2000", NULL };
  RhConfigOverrides overrides = { listen, 256, .hook_concurrency = RH_OVERRIDE_UNSET };
  g_autoptr (GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (RhConfig) config = rh_config_load (path, TRUE, &overrides, errors);
  g_assert_nonnull (config);
  g_assert_cmpuint (config->server.listen->len, ==, 1);
  g_assert_cmpint (config->server.chunk_size, ==, 256);

  char *bad_listen[] = { (char *) "[::1]", NULL };
  RhConfigOverrides bad = { bad_listen, 5, .hook_concurrency = RH_OVERRIDE_UNSET };
  g_autoptr (RhConfig) none = rh_config_load (path, TRUE, &bad, errors);
  g_assert_null (none);
  g_assert_true (has_error (errors, "--listen: invalid listen address \"[::1]\""));
  g_assert_true (has_error (errors, "--chunk-size: 5 is out of range"));
}

static void
test_listen_addresses (void)
{
  static const struct { const char *text; const char *canonical; } good[] = {
    { ":1935", ":1935" }, { "0.0.0.0:1935", "0.0.0.0:1935" }, { "localhost:80", "127.0.0.1:80" },
    { "[::]:1935", "[::]:1935" }, { "[fe80::1]:5", "[fe80::1]:5" },
  };
  static const char *const bad[] = {
    "1935", ":0", ":65536", "::1:1935", "example.com:1935", "[1.2.3.4]:5", "[::1]:", ":", "",
    "[::1]1935", ":12ab",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      RhListenAddress address = { NULL, 0 };
      g_autoptr (GError) error = NULL;
      g_assert_true (rh_listen_address_parse (good[i].text, &address, &error));
      g_autofree char *text = rh_listen_address_to_string (&address);
      g_assert_cmpstr (text, ==, good[i].canonical);
      rh_listen_address_clear (&address);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      RhListenAddress address = { NULL, 0 };
      g_autoptr (GError) error = NULL;
      if (rh_listen_address_parse (bad[i], &address, &error))
        g_error ("accepted bad listen address \"%s\"", bad[i]);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    }
}

/* The http section: the token from the environment, and what is refused. */
static void
test_http_section (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rh-config-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "rtmphooks.conf", NULL);
  g_setenv ("RH_TEST_API_TOKEN", "t0k", TRUE);
  g_unsetenv ("RH_TEST_NO_SUCH_TOKEN");

  g_assert_true (g_file_set_contents (path, "http = { token = \"${env.RH_TEST_API_TOKEN}\"; };\n", -1, NULL));
  g_autoptr (GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (RhConfig) good = rh_config_load (path, TRUE, NULL, errors);
  dump (errors);
  g_assert_nonnull (good);
  g_assert_cmpstr (good->http.token, ==, "t0k");
  g_assert_cmpuint (good->http.listen->len, ==, 1);  /* 127.0.0.1:8080 */

  g_assert_true (g_file_set_contents (path,
    "http = {\n"
    "  token = \"${env.RH_TEST_NO_SUCH_TOKEN}\";\n"
    "  colour = 1;\n"
    "};\n"
    "http2 = { token = \"a${b\"; };\n", -1, NULL));
  g_autoptr (RhConfig) bad = rh_config_load (path, TRUE, NULL, errors);
  dump (errors);
  g_assert_null (bad);
  const char *expected[] = {
    ":2: http.token: the environment variable RH_TEST_NO_SUCH_TOKEN is not set",
    ":3: unknown setting http.colour",
    ":5: unknown section \"http2\"",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autofree char *line = g_strconcat (path, expected[i], NULL);
      if (!has_error (errors, line))
        g_error ("missing error: %s", line);
    }
  g_ptr_array_set_size (errors, 0);
  g_assert_true (g_file_set_contents (path, "http = { token = \"a${b}c\"; };\n", -1, NULL));
  g_autoptr (RhConfig) templated = rh_config_load (path, TRUE, NULL, errors);
  g_assert_null (templated);
  g_autofree char *line = g_strconcat (path, ":1: http.token is a literal or \"${env.NAME}\"", NULL);
  g_assert_true (has_error (errors, line));
  g_unlink (path);
  g_rmdir (dir);
}

static const RhAction *
only_action (RhConfig *config, const char *rule_name)
{
  for (guint i = 0; i < config->hooks.rules->len; i++)
    {
      RhRule *rule = g_ptr_array_index (config->hooks.rules, i);
      if (strcmp (rule->name, rule_name) == 0)
        {
          g_assert_cmpuint (rule->actions->len, ==, 1);
          g_assert_cmpuint (rule->events, ==, 1u << RH_EVENT_PUBLISH_START);
          return g_ptr_array_index (rule->actions, 0);
        }
    }
  g_error ("no rule \"%s\"", rule_name);
}

/* Recording and relay: server.record and server.relay become rules, as do
 * record and relay actions; what could write outside the recording
 * directory or push anywhere but rtmp:// is refused. */
static void
test_record_and_relay (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rh-config-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "rtmphooks.conf", NULL);
  g_assert_true (g_file_set_contents (path,
    "server = {\n"
    "  record = { all = true; dir = \"/srv/rec\"; path = \"${stream_name}.flv\"; max_buffer = 1048576; };\n"
    "  relay = [ \"rtmp://edge1:1936/live/${stream_name}\",\n"
    "            \"rtmp://edge2/live\",\n"
    "            \"rtmp://edge3/live/fixed?key=1\" ];\n"
    "};\n"
    "rules = (\n"
    "  { name = \"keep\"; on = [ \"publish_start\" ]; where = { app = \"studio\"; };\n"
    "    record = { path = \"studio/${stream_name}-${timestamp}.flv\"; }; },\n"
    "  { name = \"push\"; on = [ \"publish_start\" ]; relay = { url = \"rtmp://127.0.0.1/in/${stream_name}\"; }; },\n"
    "  { name = \"app-only\"; on = [ \"publish_start\" ]; relay = { url = \"rtmp://127.0.0.1/in/?k=v\"; }; }\n"
    ");\n", -1, NULL));
  g_autoptr (GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (RhConfig) good = rh_config_load (path, TRUE, NULL, errors);
  dump (errors);
  g_assert_nonnull (good);
  g_assert_true (good->server.record.all);
  g_assert_cmpstr (good->server.record.dir, ==, "/srv/rec");
  g_assert_cmpint (good->server.record.max_buffer, ==, 1048576);
  g_assert_cmpint (only_action (good, "keep")->kind, ==, RH_ACTION_RECORD);
  g_assert_cmpint (only_action (good, "push")->kind, ==, RH_ACTION_RELAY);
  g_assert_cmpstr (rh_template_get_text (only_action (good, "record-all")->path), ==, "${stream_name}.flv");
  g_assert_cmpstr (rh_template_get_text (only_action (good, "relay:rtmp://edge1:1936/live/${stream_name}")->url), ==,
                   "rtmp://edge1:1936/live/${stream_name}");
  /* No stream part: each stream under its own name. */
  g_assert_cmpstr (rh_template_get_text (only_action (good, "relay:rtmp://edge2/live")->url), ==,
                   "rtmp://edge2/live/${stream_name}");
  g_assert_cmpstr (rh_template_get_text (only_action (good, "app-only")->url), ==,
                   "rtmp://127.0.0.1/in/${stream_name}?k=v");
  /* One fixed name for every stream: valid, with a warning where it is written. */
  g_autofree char *fixed = g_strconcat (path, ":5: warning: server.relay \"rtmp://edge3/live/fixed?key=1\" names "
                                        "one stream", NULL);
  g_autofree char *open_apps = g_strconcat (path, ": warning: server.applications is not set", NULL);
  g_assert_cmpuint (good->warnings->len, ==, 2);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (good->warnings, 0), fixed));
  g_assert_true (g_str_has_prefix (g_ptr_array_index (good->warnings, 1), open_apps));

  g_assert_true (g_file_set_contents (path,
    "server = {\n"
    "  record = { all = true; dir = \"relative\"; size = 1; };\n"
    "  relay = [ \"http://edge1/live/x\", \"rtmp://${app}/live/x\" ];\n"
    "};\n"
    "rules = (\n"
    "  { name = \"a\"; on = [ \"publish_stop\" ]; record = { }; },\n"
    "  { name = \"b\"; on = [ \"publish_start\" ]; record = { path = \"../${stream_name}.flv\"; }; },\n"
    "  { name = \"c\"; on = [ \"publish_start\" ]; relay = { url = \"rtmp://edge1\"; }; },\n"
    "  { name = \"d\"; on = [ \"publish_start\" ]; record = { path = \"/etc/${stream_name}\"; }; },\n"
    "  { name = \"e\"; on = [ \"publish_start\" ]; relay = { }; }\n"
    ");\n", -1, NULL));
  g_autoptr (RhConfig) bad = rh_config_load (path, TRUE, NULL, errors);
  dump (errors);
  g_assert_null (bad);
  const char *expected[] = {
    ":2: record.dir must be an absolute path",
    ":2: unknown setting record.size",
    ":6: rule \"a\": record needs on = [ \"publish_start\" ]",
    ":7: rule \"b\": record.path \"../${stream_name}.flv\" must stay under the recording directory",
    ":8: rule \"c\": relay URL \"rtmp://edge1\" has no application: rtmp://host[:port]/app",
    ":9: rule \"d\": record.path \"/etc/${stream_name}\" must stay under the recording directory",
    ":10: rule \"e\": relay needs url = \"rtmp://host/app\" or \"rtmp://host/app/stream\"",
    ":3: server.relay: relay URL \"http://edge1/live/x\" must start with rtmp://",
    ":3: server.relay: relay URL \"rtmp://${app}/live/x\" needs a literal host",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autofree char *line = g_strconcat (path, expected[i], NULL);
      if (!has_error (errors, line))
        g_error ("missing error: %s", line);
    }

  /* The command line's flags. */
  g_ptr_array_set_size (errors, 0);
  g_auto (GStrv) relay = g_strsplit ("rtmp://127.0.0.1:1936/live/${stream_name} rtmp://127.0.0.1/edge "
                                     "rtmp://127.0.0.1/edge/one", " ", -1);
  RhConfigOverrides overrides = { .chunk_size = RH_OVERRIDE_UNSET, .hook_concurrency = RH_OVERRIDE_UNSET,
                                  .record_all = TRUE, .record_dir = "/tmp/rec", .relay = relay };
  g_autoptr (RhConfig) flags = rh_config_load ("/nonexistent/rtmphooks.conf", FALSE, &overrides, errors);
  dump (errors);
  g_assert_nonnull (flags);
  g_assert_cmpstr (flags->server.record.dir, ==, "/tmp/rec");
  g_assert_cmpstr (rh_template_get_text (only_action (flags, "record-all")->path), ==, RH_RECORD_DEFAULT_PATH);
  g_assert_cmpint (only_action (flags, "relay:rtmp://127.0.0.1:1936/live/${stream_name}")->kind, ==, RH_ACTION_RELAY);
  g_assert_cmpstr (rh_template_get_text (only_action (flags, "relay:rtmp://127.0.0.1/edge")->url), ==,
                   "rtmp://127.0.0.1/edge/${stream_name}");
  g_assert_cmpuint (flags->warnings->len, ==, 1);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (flags->warnings, 0),
                                   "--relay: warning: \"rtmp://127.0.0.1/edge/one\" names one stream"));
  g_auto (GStrv) bad_relay = g_strsplit ("ftp://x/y", " ", -1);
  RhConfigOverrides bad_flags = { .chunk_size = RH_OVERRIDE_UNSET, .hook_concurrency = RH_OVERRIDE_UNSET,
                                  .relay = bad_relay };
  g_autoptr (RhConfig) refused = rh_config_load ("/nonexistent/rtmphooks.conf", FALSE, &bad_flags, errors);
  g_assert_null (refused);
  g_assert_true (has_error (errors, "--relay: relay URL \"ftp://x/y\" must start with rtmp://"));
  overrides.record_dir = "tmp/rec";
  g_autoptr (RhConfig) relative = rh_config_load ("/nonexistent/rtmphooks.conf", FALSE, &overrides, errors);
  g_assert_null (relative);
  g_assert_true (has_error (errors, "--record-dir: \"tmp/rec\" is not an absolute path"));
  g_unlink (path);
  g_rmdir (dir);
}

/* server.applications: names and globs of them, never empty. */
static void
test_applications (void)
{
  rh_test_assert_config_error ("server = {\n  applications = [ \"live\", \"a/b\" ];\n};\n", 2,
                               "server.applications: \"a/b\" is not an application name or a glob of one");
  rh_test_assert_config_error ("server = {\n  applications = [ ];\n};\n", 2,
                               "server.applications is empty: no connect could be accepted");
  rh_test_assert_config_error ("server = {\n  applications = [ \"live\",\n    \".hidden\" ];\n};\n", 3,
                               "server.applications: \".hidden\" is not an application name");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/config/record-and-relay", test_record_and_relay);
  g_test_add_func ("/config/applications", test_applications);
  g_test_add_func ("/config/defaults", test_defaults);
  g_test_add_func ("/config/good", test_good);
  g_test_add_func ("/config/syntax-error", test_syntax_error);
  g_test_add_func ("/config/every-error-reported", test_every_error_reported);
  g_test_add_func ("/config/overrides", test_overrides);
  g_test_add_func ("/config/listen-addresses", test_listen_addresses);
  g_test_add_func ("/config/http-section", test_http_section);
  return g_test_run ();
}
