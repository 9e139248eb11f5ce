/* rtmphooksd: parses the command line and hands over to the daemon. */
#include "config.h"

#include "config/settings.h"
#include "util/log.h"
#include "daemon/daemon.h"
#include "daemon/dry-run.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#define DEFAULT_CONFIG SYSCONFDIR "/rtmphooks.conf"

/* GnuTLS's defaults without TLS 1.0 and 1.1, for the TLS listeners and
 * the rtmps:// relays alike, with AES-128-GCM preferred to AES-256-GCM:
 * every byte to every player is encrypted, and 10 AES rounds cost less
 * than 14 (ChaCha20 next, for clients without AES instructions); the
 * server's order decides. glib-networking reads it once, at its first
 * TLS connection; an operator's own G_TLS_GNUTLS_PRIORITY wins. */
#define TLS_PRIORITY "NORMAL:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1:-CIPHER-ALL:+AES-128-GCM:+CHACHA20-POLY1305:" \
                     "+AES-256-GCM:+AES-128-CCM:+AES-256-CCM:+AES-128-CBC:+AES-256-CBC:%SERVER_PRECEDENCE:%COMPAT"

int
main (int argc, char **argv)
{
  g_autofree char *config_path = NULL;
  g_auto (GStrv) listen = NULL;
  g_autofree char *log_level = NULL;
  gboolean test_config = FALSE;
  gboolean version = FALSE;
  gint chunk_size = RH_OVERRIDE_UNSET;
  g_auto (GStrv) hook_scripts = NULL;
  g_auto (GStrv) hook_webhooks = NULL;
  g_auto (GStrv) hook_checks = NULL;
  g_autofree char *hook_stdio_format = NULL;
  g_autofree char *hook_timeout = NULL;
  gint hook_concurrency = RH_OVERRIDE_UNSET;
  g_autofree char *fire = NULL;
  gboolean fire_run = FALSE;
  gboolean record_all = FALSE;
  g_autofree char *record_dir = NULL;
  g_auto (GStrv) relay = NULL;
  g_autofree char *pid_file = NULL;
  gboolean worker = FALSE;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, NULL, N_("FILE") },
    { "test-config", 't', 0, G_OPTION_ARG_NONE, &test_config,
      N_("Check the configuration, report every error, and exit"), NULL },
    { "listen", 0, 0, G_OPTION_ARG_STRING_ARRAY, &listen,
      N_("Listen on ADDR (\":1935\", \"IP:PORT\", \"[IPv6]:PORT\"); repeatable; replaces server.listen"),
      N_("ADDR") },
    { "chunk-size", 0, 0, G_OPTION_ARG_INT, &chunk_size,
      N_("Outgoing chunk size (128-65536)"), N_("N") },
    { "log-level", 0, 0, G_OPTION_ARG_STRING, &log_level,
      N_("error, warning, notice (default), info or debug"), N_("LEVEL") },
    { "hook-script", 0, 0, G_OPTION_ARG_STRING_ARRAY, &hook_scripts,
      N_("Run PATH (an executable, no shell) on EVENT; repeatable"), N_("EVENT=PATH") },
    { "hook-webhook", 0, 0, G_OPTION_ARG_STRING_ARRAY, &hook_webhooks,
      N_("POST the event JSON to URL on EVENT; repeatable"), N_("EVENT=URL") },
    { "hook-check", 0, 0, G_OPTION_ARG_STRING_ARRAY, &hook_checks,
      N_("Before accepting EVENT (connect, publish or play), run PATH: exit status 0 allows, "
         "anything else denies; repeatable"), N_("EVENT=PATH") },
    { "hook-stdio-format", 0, 0, G_OPTION_ARG_STRING, &hook_stdio_format,
      N_("Print every event on stdout: json, jsonl or env"), N_("FORMAT") },
    { "hook-timeout", 0, 0, G_OPTION_ARG_STRING, &hook_timeout,
      N_("Time limit of each hook action (30s, 500ms, 1m); default 30s"), N_("DURATION") },
    { "hook-concurrency", 0, 0, G_OPTION_ARG_INT, &hook_concurrency,
      N_("Hook actions running at once; default 10"), N_("N") },
    { "record-all", 0, 0, G_OPTION_ARG_NONE, &record_all,
      N_("Record every published stream to an FLV file (server.record.all)"), NULL },
    { "record-dir", 0, 0, G_OPTION_ARG_FILENAME, &record_dir,
      N_("Recording directory (server.record.dir)"), N_("DIR") },
    { "relay", 0, 0, G_OPTION_ARG_STRING_ARRAY, &relay,
      N_("Push every published stream to URL (rtmp://host[:port]/app/${stream_name}); repeatable"),
      N_("URL") },
    { "fire", 0, 0, G_OPTION_ARG_STRING, &fire,
      N_("Dry run: put a synthetic EVENT (fields as key=value arguments) through the rules, print "
         "what would run, and exit"), N_("EVENT") },
    { "run", 0, 0, G_OPTION_ARG_NONE, &fire_run,
      N_("With --fire: run the matching actions once and print their results"), NULL },
    { "pid-file", 0, 0, G_OPTION_ARG_FILENAME, &pid_file,
      N_("Write the daemon's pid to FILE once it serves (removed at exit)"), N_("FILE") },
    { "worker", 0, 0, G_OPTION_ARG_NONE, &worker,
      N_("Be a hook worker: serve no RTMP, run the rules on the fleet's event log in Redis (as a worker "
         "section does)"), NULL },
    { "version", 'V', 0, G_OPTION_ARG_NONE, &version, N_("Print the version and exit"), NULL },
    { NULL }
  };
  g_autoptr (GError) error = NULL;

  setlocale (LC_ALL, "");
  g_setenv ("G_TLS_GNUTLS_PRIORITY", TLS_PRIORITY, FALSE);
  /* RTMPHOOKS_LOCALEDIR: catalogues of an uninstalled build (the tests). */
  const char *localedir = g_getenv ("RTMPHOOKS_LOCALEDIR");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  /* Built here: a translated string cannot hold the path macro. */
  g_autofree char *config_help = g_strdup_printf (_("Configuration file (default %s)"), DEFAULT_CONFIG);
  entries[0].description = config_help;

  g_autoptr (GOptionContext) context = g_option_context_new (_("- RTMP server with event hooks"));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "rtmphooksd: %s\n", error->message);
      return 2;
    }
  if (argc > 1 && fire == NULL)
    {
      fprintf (stderr, _("rtmphooksd: unexpected argument \"%s\"\n"), argv[1]);
      return 2;
    }
  if (version)
    {
      printf ("rtmphooksd %s\n", PACKAGE_VERSION);
      return 0;
    }

  GLogLevelFlags level = G_LOG_LEVEL_MESSAGE;
  if (log_level != NULL && !rh_log_level_parse (log_level, &level))
    {
      fprintf (stderr, _("rtmphooksd: --log-level: unknown level \"%s\"\n"), log_level);
      return 2;
    }
  rh_log_init (level);

  /* The default file is optional; one named with -c must exist. */
  gboolean must_exist = config_path != NULL;
  if (config_path == NULL)
    config_path = g_strdup (DEFAULT_CONFIG);

  RhConfigOverrides overrides = {
    .listen = listen,
    .chunk_size = chunk_size,
    .hook_scripts = hook_scripts,
    .hook_webhooks = hook_webhooks,
    .hook_checks = hook_checks,
    .hook_stdio_format = hook_stdio_format,
    .hook_timeout = hook_timeout,
    .hook_concurrency = hook_concurrency,
    .record_all = record_all,
    .record_dir = record_dir,
    .relay = relay,
    .worker = worker,
  };
  g_autoptr (GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (RhConfig) config = rh_config_load (config_path, must_exist, &overrides, errors);
  for (guint i = 0; i < errors->len; i++)
    fprintf (stderr, "%s\n", (const char *) g_ptr_array_index (errors, i));
  for (guint i = 0; config != NULL && test_config && i < config->warnings->len; i++)
    fprintf (stderr, "%s\n", (const char *) g_ptr_array_index (config->warnings, i));
  if (config == NULL)
    {
      fprintf (stderr, _("rtmphooksd: %u configuration error(s)\n"), errors->len);
      return 1;
    }
  if (fire != NULL)
    return rh_dry_run (config, fire, (const char *const *) argv + 1, fire_run);
  if (fire_run)
    {
      fprintf (stderr, _("rtmphooksd: --run needs --fire\n"));
      return 2;
    }
  if (test_config)
    {
      if (config->path != NULL)
        fprintf (stderr, _("rtmphooksd: configuration %s is valid\n"), config->path);
      else
        fprintf (stderr, _("rtmphooksd: no file at %s: the built-in defaults are valid\n"), config_path);
      return 0;
    }

  g_autoptr (RhDaemon) daemon = rh_daemon_new (config_path, must_exist, &overrides, config);
  rh_daemon_set_pid_file (daemon, pid_file);
  return rh_daemon_run (daemon);
}
