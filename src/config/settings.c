/* Reads rtmphooks.conf with libconfig. Each setting of a section is
 * described once in a table (server_settings[], hooks_settings[]): name,
 * type, bounds, where it is stored. The tables drive parsing and
 * validation. */
#include "config.h"

#include "settings.h"

#include "config/reader.h"
#include "config/overrides.h"
#include "config/rules-loader.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <stddef.h>
#include <string.h>

typedef enum {
  SETTING_INT,
  SETTING_SECONDS,
  SETTING_BOOL,
  SETTING_LISTEN,
  SETTING_CHOICE,
  SETTING_STRINGS,       /* a string or a list of strings: GStrv */
  SETTING_RECORD,        /* the record group */
  SETTING_TLS,           /* server.tls */
  SETTING_RELAY_TLS,     /* server.relay_tls */
} SettingType;

typedef struct {
  const char *name;
  SettingType type;
  gsize offset;          /* into the section's struct */
  double min, max;
  const char *const *choices;  /* SETTING_CHOICE: index stored as gint */
} SettingSpec;

static const char *const duplicate_publish_choices[] = { "reject", "replace", NULL };
/* In RhHookEnvironment order. */
static const char *const environment_choices[] = { "inherit", "clean", NULL };

/* In RhStdioFormat order. */
static const char *const stdio_choices[] = { "", "json", "jsonl", "env", NULL };

#define FIELD(f) offsetof (RhServerConfig, f)

static const SettingSpec server_settings[] = {
  { "listen", SETTING_LISTEN, FIELD (listen), 0, 0, NULL },
  { "listen_tls", SETTING_LISTEN, FIELD (listen_tls), 0, 0, NULL },
  { "tls", SETTING_TLS, FIELD (tls), 0, 0, NULL },
  { "listen_backlog", SETTING_INT, FIELD (listen_backlog), 1, 65535, NULL },
  { "chunk_size", SETTING_INT, FIELD (chunk_size), 128, 65536, NULL },
  { "merge_window", SETTING_SECONDS, FIELD (merge_window), 0, 1, NULL },
  { "max_connections", SETTING_INT, FIELD (max_connections), 1, 1000000, NULL },
  { "per_ip_exempt", SETTING_STRINGS, FIELD (per_ip_exempt), 0, 0, NULL },
  { "applications", SETTING_STRINGS, FIELD (applications), 0, 0, NULL },
  { "max_connections_per_ip", SETTING_INT, FIELD (max_connections_per_ip), 0, 1000000, NULL },
  { "descriptor_reserve", SETTING_INT, FIELD (descriptor_reserve), 16, 1000000, NULL },
  { "handshake_timeout", SETTING_SECONDS, FIELD (handshake_timeout), 0.1, 3600, NULL },
  { "setup_timeout", SETTING_SECONDS, FIELD (setup_timeout), 1, 86400, NULL },
  { "idle_timeout", SETTING_SECONDS, FIELD (idle_timeout), 1, 86400, NULL },
  { "stall_timeout", SETTING_SECONDS, FIELD (stall_timeout), 0, 86400, NULL },
  { "max_message_size", SETTING_INT, FIELD (max_message_size), 1024, 64 * 1024 * 1024, NULL },
  { "max_input_memory", SETTING_INT, FIELD (max_input_memory), 1024 * 1024, G_MAXINT, NULL },
  { "duplicate_publish", SETTING_CHOICE, FIELD (duplicate_publish), 0, 0, duplicate_publish_choices },
  { "gop_cache", SETTING_BOOL, FIELD (gop_cache), 0, 0, NULL },
  { "gop_cache_max_bytes", SETTING_INT, FIELD (gop_cache_max_bytes), 0, 512 * 1024 * 1024, NULL },
  { "player_queue_soft_limit", SETTING_INT, FIELD (player_queue_soft_limit), 64 * 1024, 1024 * 1024 * 1024, NULL },
  { "player_queue_hard_limit", SETTING_INT, FIELD (player_queue_hard_limit), 64 * 1024, 1024 * 1024 * 1024, NULL },
  { "player_max_delay", SETTING_SECONDS, FIELD (player_max_delay), 0.1, 60, NULL },
  { "player_behind_timeout", SETTING_SECONDS, FIELD (player_behind_timeout), 1, 3600, NULL },
  { "player_send_buffer", SETTING_INT, FIELD (player_send_buffer), 0, 64 * 1024 * 1024, NULL },
  { "record", SETTING_RECORD, FIELD (record), 0, 0, NULL },
  { "relay", SETTING_STRINGS, FIELD (relay), 0, 0, NULL },
  { "relay_retry_max", SETTING_SECONDS, FIELD (relay_retry_max), 1, 3600, NULL },
  { "relay_tls", SETTING_RELAY_TLS, FIELD (relay_tls), 0, 0, NULL },
};

#define HOOKS_FIELD(f) offsetof (RhHooksSettings, f)

static const SettingSpec hooks_settings[] = {
  { "timeout", SETTING_SECONDS, HOOKS_FIELD (timeout), 0.001, 86400, NULL },
  { "concurrency", SETTING_INT, HOOKS_FIELD (concurrency), 1, 10000, NULL },
  { "queue", SETTING_INT, HOOKS_FIELD (queue), 1, 1000000, NULL },
  { "stdio", SETTING_CHOICE, HOOKS_FIELD (stdio), 0, 0, stdio_choices },
  { "require_https", SETTING_BOOL, HOOKS_FIELD (require_https), 0, 0, NULL },
  { "environment", SETTING_CHOICE, HOOKS_FIELD (environment), 0, 0, environment_choices },
  { "pass_env", SETTING_STRINGS, HOOKS_FIELD (pass_env), 0, 0, NULL },
  { "max_processes", SETTING_INT, HOOKS_FIELD (max_processes), 1, 100000, NULL },
  { "check_concurrency", SETTING_INT, HOOKS_FIELD (check_concurrency), 1, 100000, NULL },
};

#define HTTP_FIELD(f) offsetof (RhHttpConfig, f)

/* listen and token have loaders of their own. */
static const SettingSpec http_settings[] = {
  { "listen_backlog", SETTING_INT, HTTP_FIELD (listen_backlog), 1, 65535, NULL },
  { "max_connections", SETTING_INT, HTTP_FIELD (max_connections), 1, 100000, NULL },
  { "max_connections_per_ip", SETTING_INT, HTTP_FIELD (max_connections_per_ip), 1, 100000, NULL },
  { "timeout", SETTING_SECONDS, HTTP_FIELD (timeout), 0.1, 3600, NULL },
};

static void
hooks_settings_init (RhHooksSettings *hooks)
{
  rh_hooks_settings_set_defaults (hooks);
  hooks->rules = g_ptr_array_new_with_free_func ((GDestroyNotify) rh_rule_unref);
  hooks->checks = g_ptr_array_new_with_free_func ((GDestroyNotify) rh_rule_unref);
}

const char *const rh_default_per_ip_exempt[] = { "127.0.0.0/8", "::1/128", "::ffff:127.0.0.0/104", NULL };

static void
server_config_init (RhServerConfig *server)
{
  server->listen = g_array_new (FALSE, TRUE, sizeof (RhListenAddress));
  g_array_set_clear_func (server->listen, (GDestroyNotify) rh_listen_address_clear);
  RhListenAddress any = { NULL, 1935 };
  g_array_append_val (server->listen, any);
  server->listen_tls = g_array_new (FALSE, TRUE, sizeof (RhListenAddress));
  g_array_set_clear_func (server->listen_tls, (GDestroyNotify) rh_listen_address_clear);
  rh_relay_tls_config_init (&server->relay_tls);
  /* GLib's default (10) made a burst of clients wait for a TCP retry, a
   * second or more; nginx's 511 still overflows when 1000 players
   * reconnect at once on a busy machine. The kernel caps it at somaxconn. */
  server->listen_backlog = 4096;
  server->chunk_size = 4096;
  server->merge_window = 0.05;
  server->max_connections = 1000;
  /* A client address rarely needs more; local processes (a recorder, a
   * restreamer, a load test) are trusted. */
  server->max_connections_per_ip = 100;
  server->per_ip_exempt = g_strdupv ((char **) rh_default_per_ip_exempt);
  /* Descriptors clients may not take: the HTTP API's connections, the
   * hooks' pipes, recordings and relays. */
  server->descriptor_reserve = 256;
  server->handshake_timeout = 10.0;
  server->setup_timeout = 30.0;
  server->idle_timeout = 60.0;
  server->stall_timeout = 10.0;
  server->max_message_size = 16 * 1024 * 1024;
  server->max_input_memory = 256 * 1024 * 1024;
  server->duplicate_publish = RH_DUPLICATE_PUBLISH_REJECT;
  server->gop_cache = TRUE;
  server->gop_cache_max_bytes = 64 * 1024 * 1024;
  server->player_queue_soft_limit = 8 * 1024 * 1024;
  server->player_queue_hard_limit = 32 * 1024 * 1024;
  server->player_max_delay = 3;
  server->player_behind_timeout = 20;
  server->player_send_buffer = 256 * 1024;
  server->record.dir = g_strdup (RH_RECORD_DEFAULT_DIR);
  server->record.path = g_strdup (RH_RECORD_DEFAULT_PATH);
  /* 8 s of a 8 Mbit/s stream: a disk slower than that for longer is not
   * going to catch up. */
  server->record.max_buffer = 8 * 1024 * 1024;
  server->relay_retry_max = 30;
}

static void
load_listen (const config_setting_t *setting, GArray *listen, GPtrArray *errors)
{
  int type = config_setting_type (setting);
  if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST && type != CONFIG_TYPE_STRING)
    {
      rh_config_error (errors, setting, _("listen must be a string or a list of strings"));
      return;
    }
  g_array_set_size (listen, 0);
  int n = type == CONFIG_TYPE_STRING ? 1 : config_setting_length (setting);
  for (int i = 0; i < n; i++)
    {
      const config_setting_t *item = type == CONFIG_TYPE_STRING ? setting
                                     : config_setting_get_elem (setting, (unsigned) i);
      const char *text = config_setting_get_string (item);
      RhListenAddress address = { NULL, 0 };
      g_autoptr (GError) error = NULL;
      if (text == NULL)
        rh_config_error (errors, item, _("listen entries must be strings"));
      else if (!rh_listen_address_parse (text, &address, &error))
        rh_config_error (errors, item, "%s", error->message);
      else
        g_array_append_val (listen, address);
    }
  if (n == 0)
    rh_config_error (errors, setting, _("listen must name at least one address"));
}

static void load_setting (const SettingSpec *spec, const config_setting_t *setting, void *base,
                          GPtrArray *errors);
/* Warnings of the file being loaded (an expired certificate, say). */
static GPtrArray *loading_warnings;

static void
load_string (const config_setting_t *setting, char **field, GPtrArray *errors)
{
  const char *text = rh_config_get_string (setting);
  if (text == NULL || *text == '\0')
    {
      rh_config_error (errors, setting, _("%s must be a non-empty string"), config_setting_name (setting));
      return;
    }
  g_free (*field);
  *field = g_strdup (text);
}

/* record = { all = true; dir = "..."; path = "..."; max_buffer = ...; } */
static void
load_record (const config_setting_t *section, RhRecordConfig *record, GPtrArray *errors)
{
  static const SettingSpec specs[] = {
    { "all", SETTING_BOOL, offsetof (RhRecordConfig, all), 0, 0, NULL },
    { "max_buffer", SETTING_INT, offsetof (RhRecordConfig, max_buffer), 64 * 1024, 1024 * 1024 * 1024, NULL },
  };
  if (!config_setting_is_group (section))
    {
      rh_config_error (errors, section, _("record must be a group: record = { all = true; dir = \"...\"; };"));
      return;
    }
  for (int i = 0; i < config_setting_length (section); i++)
    {
      const config_setting_t *setting = config_setting_get_elem (section, (unsigned) i);
      const char *name = config_setting_name (setting);
      if (strcmp (name, "dir") == 0)
        {
          load_string (setting, &record->dir, errors);
          if (record->dir[0] != '/')
            rh_config_error (errors, setting, _("record.dir must be an absolute path"));
        }
      else if (strcmp (name, "path") == 0)
        load_string (setting, &record->path, errors);
      else if (strcmp (name, "all") != 0 && strcmp (name, "max_buffer") != 0)
        rh_config_error (errors, setting, _("unknown setting record.%s (all, dir, path, max_buffer)"), name);
    }
  /* The two typed settings, through the common table. */
  for (gsize j = 0; j < G_N_ELEMENTS (specs); j++)
    {
      const config_setting_t *setting = config_setting_get_member (section, specs[j].name);
      if (setting != NULL)
        load_setting (&specs[j], setting, record, errors);
    }
}

static void
load_setting (const SettingSpec *spec, const config_setting_t *setting, void *base,
              GPtrArray *errors)
{
  void *field = (char *) base + spec->offset;
  double number;

  switch (spec->type)
    {
    case SETTING_LISTEN:
      load_listen (setting, *(GArray **) field, errors);
      return;
    case SETTING_RECORD:
      load_record (setting, field, errors);
      return;
    case SETTING_TLS:
      rh_tls_config_load (setting, field, errors, loading_warnings);
      return;
    case SETTING_RELAY_TLS:
      rh_relay_tls_config_load (setting, field, errors);
      return;
    case SETTING_STRINGS:
      {
        GStrv strings = rh_config_read_strings (setting, spec->name, errors);
        if (strings != NULL)
          {
            g_strfreev (*(GStrv *) field);
            *(GStrv *) field = strings;
          }
        return;
      }
    case SETTING_BOOL:
      if (config_setting_type (setting) != CONFIG_TYPE_BOOL)
        rh_config_error (errors, setting, _("%s must be true or false"), spec->name);
      else
        *(gboolean *) field = config_setting_get_bool (setting) ? TRUE : FALSE;
      return;
    case SETTING_CHOICE:
      {
        const char *text = config_setting_get_string (setting);
        for (int i = 0; text != NULL && spec->choices[i] != NULL; i++)
          if (strcmp (text, spec->choices[i]) == 0)
            {
              *(gint *) field = i;
              return;
            }
        g_autofree char *list = g_strjoinv ("\", \"", (char **) spec->choices);
        rh_config_error (errors, setting, _("%s must be one of \"%s\""), spec->name, list);
        return;
      }
    case SETTING_INT:
    case SETTING_SECONDS:
      if (!(spec->type == SETTING_SECONDS ? rh_config_get_seconds (setting, &number)
                                          : rh_config_get_number (setting, &number))
          || (spec->type == SETTING_INT && config_setting_type (setting) == CONFIG_TYPE_FLOAT))
        {
          rh_config_error (errors, setting, _("%s must be %s"), spec->name,
                           spec->type == SETTING_INT ? "an integer" : "a number of seconds or a duration such as \"1m30s\"");
          return;
        }
      if (number < spec->min || number > spec->max)
        {
          rh_config_error (errors, setting, _("%s = %g is out of range [%g, %g]"),
                           spec->name, number, spec->min, spec->max);
          return;
        }
      if (spec->type == SETTING_INT)
        *(gint *) field = (gint) number;
      else
        *(double *) field = number;
      return;
    }
}

static void
load_known_setting (const config_setting_t *setting, const SettingSpec *specs, gsize n_specs, void *base,
                    GPtrArray *errors)
{
  const char *name = config_setting_name (setting);
  for (gsize j = 0; j < n_specs; j++)
    if (strcmp (specs[j].name, name) == 0)
      {
        load_setting (&specs[j], setting, base, errors);
        return;
      }
  rh_config_error (errors, setting, _("unknown setting %s.%s"), config_setting_name (config_setting_parent (setting)),
                   name);
}

static void
load_section (const config_setting_t *section, const SettingSpec *specs, gsize n_specs,
              void *base, GPtrArray *errors)
{
  const char *section_name = config_setting_name (section);
  if (!config_setting_is_group (section))
    {
      rh_config_error (errors, section, _("%s must be a group: %s = { ... };"), section_name,
                       section_name);
      return;
    }
  for (int i = 0; i < config_setting_length (section); i++)
    load_known_setting (config_setting_get_elem (section, (unsigned) i), specs, n_specs, base, errors);
}

static gboolean
is_loopback (const RhListenAddress *address)
{
  if (address->host == NULL)
    return FALSE;
  g_autoptr (GInetAddress) ip = g_inet_address_new_from_string (address->host);
  return ip != NULL && g_inet_address_get_is_loopback (ip);
}

/* A bearer token is sent in a header: a space, a tab or a control
 * character in it could never match what a client sends (a token of
 * blanks passed -t and then refused every request). */
static gboolean
token_is_usable (const char *token)
{
  for (const char *p = token; *p != '\0'; p++)
    if ((guchar) *p <= 0x20 || *p == 0x7f)
      return FALSE;
  return TRUE;
}

/* "${env.NAME}" reads the daemon's environment at load; anything else is
 * the token itself. */
static char *
load_token (const config_setting_t *setting, GPtrArray *errors, char **variable)
{
  const char *text = rh_config_get_string (setting);
  if (text == NULL || *text == '\0')
    {
      rh_config_error (errors, setting, _("http.token must be a non-empty string"));
      return NULL;
    }
  if (!token_is_usable (text))
    {
      rh_config_error (errors, setting, _("http.token must not contain spaces or control characters "
                                          "(no client could send it)"));
      return NULL;
    }
  if (!g_str_has_prefix (text, "${env.") || !g_str_has_suffix (text, "}"))
    {
      if (strchr (text, '$') != NULL)
        rh_config_error (errors, setting, _("http.token is a literal or \"${env.NAME}\""));
      return g_strdup (text);
    }
  g_autofree char *name = g_strndup (text + 6, strlen (text) - 7);
  *variable = g_strdup (name);
  const char *value = g_getenv (name);
  if (value == NULL || *value == '\0')
    {
      rh_config_error (errors, setting, _("http.token: the environment variable %s is not set"), name);
      return NULL;
    }
  if (!token_is_usable (value))
    {
      rh_config_error (errors, setting, _("http.token: the environment variable %s holds spaces or control "
                                          "characters (no client could send it)"), name);
      return NULL;
    }
  return g_strdup (value);
}

/* http = { listen = [ ... ]; token = "..."; }: present means on, on
 * 127.0.0.1:8080 unless listen says otherwise. Without a token only
 * loopback addresses are allowed: the API can drop streams. */
static void
load_http (const config_setting_t *section, RhHttpConfig *http, GPtrArray *errors)
{
  if (!config_setting_is_group (section))
    {
      rh_config_error (errors, section, _("%s must be a group: %s = { ... };"), "http", "http");
      return;
    }
  const config_setting_t *listen = NULL;
  for (int i = 0; i < config_setting_length (section); i++)
    {
      const config_setting_t *setting = config_setting_get_elem (section, (unsigned) i);
      const char *name = config_setting_name (setting);
      if (strcmp (name, "listen") == 0)
        {
          listen = setting;
          load_listen (setting, http->listen, errors);
        }
      else if (strcmp (name, "token") == 0)
        http->token = load_token (setting, errors, &http->token_variable);
      else
        load_known_setting (setting, http_settings, G_N_ELEMENTS (http_settings), http, errors);
    }
  if (listen == NULL)
    {
      RhListenAddress address = { NULL, 0 };
      rh_listen_address_parse (RH_HTTP_DEFAULT_LISTEN, &address, NULL);
      g_array_append_val (http->listen, address);
    }
  for (guint i = 0; http->token == NULL && i < http->listen->len; i++)
    {
      const RhListenAddress *address = &g_array_index (http->listen, RhListenAddress, i);
      if (!is_loopback (address))
        {
          g_autofree char *text = rh_listen_address_to_string (address);
          rh_config_error (errors, listen != NULL ? listen : section,
                           _("http.listen \"%s\" is not a loopback address: set http.token"), text);
        }
    }
}

/* server.relay: each URL checked where it is written. */
static void
check_server_relays (const config_setting_t *section, const RhServerConfig *server, GPtrArray *errors,
                     GPtrArray *warnings)
{
  const config_setting_t *relay = config_setting_get_member (section, "relay");
  for (guint i = 0; server->relay != NULL && server->relay[i] != NULL; i++)
    {
      const config_setting_t *at = rh_config_is_list (relay) ? config_setting_get_elem (relay, i) : relay;
      g_autoptr (GError) error = NULL;
      if (!rh_rules_check_relay_url (server->relay[i], &error))
        rh_config_error (errors, at, "server.relay: %s", error->message);
      else if (rh_rules_relay_stream_is_fixed (server->relay[i]))
        rh_config_error (warnings, at, _("warning: server.relay \"%s\" names one stream: every stream "
                                         "published here is pushed to that name, and the target refuses "
                                         "all but the first; rtmp://host/app pushes each under its own name"),
                         server->relay[i]);
    }
}

/* server.applications: names as a connect may give them, with * and ?
 * for any characters. */
static void
check_applications (const config_setting_t *section, const RhServerConfig *server, GPtrArray *errors)
{
  const config_setting_t *list = config_setting_get_member (section, "applications");
  for (guint i = 0; server->applications != NULL && server->applications[i] != NULL; i++)
    {
      const char *glob = server->applications[i];
      const config_setting_t *at = rh_config_is_list (list) ? config_setting_get_elem (list, i) : list;
      gsize len = strlen (glob);
      if (len == 0 || len > 128 || glob[0] == '.' || strspn (glob, RH_APPLICATION_GLOB_CHARACTERS) != len)
        rh_config_error (errors, at, _("server.applications: \"%s\" is not an application name or a glob of "
                                       "one (letters, digits, _.~@+=:,- and * or ?)"), glob);
    }
  if (list != NULL && server->applications != NULL && server->applications[0] == NULL)
    rh_config_error (errors, list, _("server.applications is empty: no connect could be accepted"));
}

static void
check_server (const config_setting_t *section, const RhServerConfig *server, GPtrArray *errors,
              GPtrArray *warnings)
{
  check_server_relays (section, server, errors, warnings);
  check_applications (section, server, errors);
  const config_setting_t *listen_tls = config_setting_get_member (section, "listen_tls");
  if (listen_tls != NULL && server->listen_tls->len > 0 && config_setting_get_member (section, "tls") == NULL)
    rh_config_error (errors, listen_tls, _("server.listen_tls needs server.tls = { certificate = \"...\"; "
                                           "key = \"...\"; }"));
  for (char **block = server->per_ip_exempt; block != NULL && *block != NULL; block++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GInetAddressMask) mask = g_inet_address_mask_new_from_string (*block, &error);
      if (mask == NULL)
        rh_config_error (errors, config_setting_get_member (section, "per_ip_exempt"),
                         _("server.per_ip_exempt: \"%s\" is not an address or a CIDR block"), *block);
    }
  if (server->max_input_memory < server->max_message_size)
    rh_config_error (errors, section, _("server.max_input_memory (%d) is below max_message_size (%d)"),
                     server->max_input_memory, server->max_message_size);
  if (server->player_queue_hard_limit < server->player_queue_soft_limit)
    rh_config_error (errors, section,
                     _("server.player_queue_hard_limit (%d) is below player_queue_soft_limit (%d)"),
                     server->player_queue_hard_limit, server->player_queue_soft_limit);
}

static void
add_secret_variable (const char *name, gpointer hooks)
{
  rh_hooks_settings_add_secret_variable (hooks, name);
}

/* The environment variables read as secrets: webhook secrets and
 * Authorization headers of rules and checks, and http.token. */
static void
collect_secret_variables (RhConfig *config)
{
  RhHooksSettings *hooks = &config->hooks;
  if (config->http.token_variable != NULL)
    rh_hooks_settings_add_secret_variable (hooks, config->http.token_variable);
  if (config->cluster.redis_password_variable != NULL)
    rh_hooks_settings_add_secret_variable (hooks, config->cluster.redis_password_variable);
  GPtrArray *lists[] = { hooks->rules, hooks->checks };
  for (guint l = 0; l < G_N_ELEMENTS (lists); l++)
    for (guint r = 0; lists[l] != NULL && r < lists[l]->len; r++)
      {
        const RhRule *rule = g_ptr_array_index (lists[l], r);
        for (guint a = 0; a < rule->actions->len; a++)
          {
            const RhAction *action = g_ptr_array_index (rule->actions, a);
            if (action->secret != NULL)
              rh_template_foreach_env (action->secret, add_secret_variable, hooks);
            for (guint h = 0; action->headers != NULL && h < action->headers->len; h++)
              {
                const RhNamedTemplate *header = g_ptr_array_index (action->headers, h);
                if (g_ascii_strcasecmp (header->name, "Authorization") == 0)
                  rh_template_foreach_env (header->value, add_secret_variable, hooks);
              }
          }
      }
}

RhConfig *
rh_config_load (const char *path, gboolean must_exist,
                const RhConfigOverrides *overrides, GPtrArray *errors)
{
  g_autoptr (RhConfig) config = g_new0 (RhConfig, 1);
  guint errors_before = errors->len;

  config->ref_count = 1;
  server_config_init (&config->server);
  hooks_settings_init (&config->hooks);
  config->http.listen = g_array_new (FALSE, TRUE, sizeof (RhListenAddress));
  config->http.listen_backlog = 4096;
  config->http.max_connections = 64;
  config->http.max_connections_per_ip = 16;
  config->http.timeout = 10;
  g_array_set_clear_func (config->http.listen, (GDestroyNotify) rh_listen_address_clear);
  rh_cluster_config_init (&config->cluster);
  rh_worker_config_init (&config->worker);
  config->loaded_at = g_get_real_time () / G_USEC_PER_SEC;
  config->warnings = g_ptr_array_new_with_free_func (g_free);

  if (path != NULL && !must_exist && !g_file_test (path, G_FILE_TEST_EXISTS))
    path = NULL;  /* no default file: built-in defaults */

  if (path != NULL)
    {
      config_t cfg;
      config_init (&cfg);
      config_set_options (&cfg, CONFIG_OPTION_AUTOCONVERT);
      g_autofree char *dir = g_path_get_dirname (path);
      config_set_include_dir (&cfg, dir);
      if (!config_read_file (&cfg, path))
        {
          if (config_error_type (&cfg) == CONFIG_ERR_FILE_IO)
            g_ptr_array_add (errors, g_strdup_printf ("%s: %s", path, g_strerror (errno)));
          else
            g_ptr_array_add (errors, g_strdup_printf ("%s:%d: %s",
                                                      config_error_file (&cfg) != NULL
                                                      ? config_error_file (&cfg) : path,
                                                      config_error_line (&cfg),
                                                      config_error_text (&cfg)));
          config_destroy (&cfg);
          return NULL;
        }
      config->path = g_strdup (path);
      const config_setting_t *root = config_root_setting (&cfg);
      if (!rh_config_check_utf8 (root, errors))
        {
          config_destroy (&cfg);
          return NULL;
        }
      static const char *const sections[] = { "server", "hooks", "filters", "rules", "checks", "http", "cluster",
                                              "worker", NULL };
      for (int i = 0; i < config_setting_length (root); i++)
        {
          const config_setting_t *section = config_setting_get_elem (root, (unsigned) i);
          if (!g_strv_contains (sections, config_setting_name (section)))
            rh_config_error (errors, section,
                             _("unknown section \"%s\" (expected server, hooks, filters, rules, checks, http, cluster "
                               "or worker)"),
                             config_setting_name (section));
        }
      /* In this order whatever the file's: rules use the hooks defaults. */
      const config_setting_t *section;
      if ((section = config_setting_get_member (root, "server")) != NULL)
        {
          loading_warnings = config->warnings;
          load_section (section, server_settings, G_N_ELEMENTS (server_settings), &config->server,
                        errors);
          loading_warnings = NULL;
          check_server (section, &config->server, errors, config->warnings);
        }
      if ((section = config_setting_get_member (root, "hooks")) != NULL)
        load_section (section, hooks_settings, G_N_ELEMENTS (hooks_settings), &config->hooks, errors);
      rh_rules_config_load (config_setting_get_member (root, "filters"),
                            config_setting_get_member (root, "rules"),
                            config_setting_get_member (root, "checks"), &config->hooks, errors);
      if ((section = config_setting_get_member (root, "http")) != NULL)
        load_http (section, &config->http, errors);
      if ((section = config_setting_get_member (root, "worker")) != NULL)
        rh_worker_config_load (section, &config->worker, errors);
      if (overrides != NULL && overrides->worker)
        config->worker.enabled = TRUE;
      /* A worker serves no RTMP: nothing to advertise. */
      if ((section = config_setting_get_member (root, "cluster")) != NULL)
        rh_cluster_config_load (section, &config->cluster, !config->worker.enabled, errors);
      if (config->worker.enabled && !config->cluster.enabled)
        g_ptr_array_add (errors, g_strdup_printf (_("%s: a hook worker needs a cluster section naming the Redis "
                                                    "that holds the event log: cluster = { redis = \"HOST:PORT\"; };"),
                                                  path));
      if (config->worker.enabled && config->hooks.checks != NULL && config->hooks.checks->len > 0)
        g_ptr_array_add (config->warnings,
                         g_strdup_printf (_("%s: warning: a hook worker answers no client: its checks are never "
                                            "asked (decision checks run on the node that must answer)"), path));
      /* A worker accepts no connect: nothing to scope. */
      if (config->server.applications == NULL && !config->worker.enabled)
        g_ptr_array_add (config->warnings,
                         g_strdup_printf (_("%s: warning: server.applications is not set: a connect to any "
                                            "application is accepted, and a check scoped to one app leaves "
                                            "the others open; list those served, such as "
                                            "server.applications = [ \"live\" ]"), path));
      config_destroy (&cfg);
    }

  if (path == NULL && overrides != NULL && overrides->worker)
    g_ptr_array_add (errors, g_strdup (_("--worker needs a configuration file with a cluster section naming the "
                                         "Redis that holds the event log")));
  rh_config_apply_overrides (config, overrides, errors, config->warnings);
  collect_secret_variables (config);
  rh_config_add_output_rules (config, errors);
  if (errors->len > errors_before)
    return NULL;
  return g_steal_pointer (&config);
}

RhConfig *
rh_config_ref (RhConfig *config)
{
  g_atomic_int_inc (&config->ref_count);
  return config;
}

void
rh_config_unref (RhConfig *config)
{
  if (config == NULL || !g_atomic_int_dec_and_test (&config->ref_count))
    return;
  g_array_unref (config->server.listen);
  g_array_unref (config->server.listen_tls);
  rh_tls_config_clear (&config->server.tls);
  rh_relay_tls_config_clear (&config->server.relay_tls);
  g_ptr_array_unref (config->hooks.rules);
  g_ptr_array_unref (config->hooks.checks);
  g_strfreev (config->hooks.pass_env);
  g_strfreev (config->hooks.secret_variables);
  g_free (config->http.token_variable);
  g_strfreev (config->server.per_ip_exempt);
  g_strfreev (config->server.applications);
  g_free (config->server.record.dir);
  g_free (config->server.record.path);
  g_strfreev (config->server.relay);
  g_array_unref (config->http.listen);
  g_free (config->http.token);
  rh_cluster_config_clear (&config->cluster);
  rh_worker_config_clear (&config->worker);
  g_free (config->path);
  g_clear_pointer (&config->warnings, g_ptr_array_unref);
  g_free (config);
}
