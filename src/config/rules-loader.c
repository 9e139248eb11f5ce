#include "config.h"

#include <glib/gi18n.h>

#include "rules-loader.h"

#include "hooks/process-supervisor.h"
#include "hooks/webhook-signature.h"

#include "config/reader.h"
#include "config/tls-settings.h"
#include "protocol/rtmp-url.h"

#include <gio/gio.h>
#include <string.h>

typedef struct {
  RhRule *rule;
  GPtrArray *errors;
  const config_setting_t *at;  /* where a field check error points */
} RuleContext;

/* Numbers in conditions (duration_seconds = 60;) mean equality. */
static GStrv
condition_values (const config_setting_t *setting, GPtrArray *errors)
{
  int type = config_setting_type (setting);
  if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64)
    {
      GStrv values = g_new0 (char *, 2);
      values[0] = g_strdup_printf ("%lld", config_setting_get_int64 (setting));
      return values;
    }
  if (type == CONFIG_TYPE_BOOL)
    {
      GStrv values = g_new0 (char *, 2);
      values[0] = g_strdup (config_setting_get_bool (setting) ? "true" : "false");
      return values;
    }
  return rh_config_read_strings (setting, config_setting_name (setting), errors);
}

/* ---- checks shared with the command line ---- */

gboolean
rh_rules_check_program (const char *program, char **absolute, GError **error)
{
  g_autofree char *path = g_path_is_absolute (program) ? g_strdup (program)
                          : strchr (program, '/') != NULL ? g_canonicalize_filename (program, NULL)
                          : g_find_program_in_path (program);
  if (path == NULL || !g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("program %s not found"), program);
      return FALSE;
    }
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR) || !g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, _("%s is not an executable file"), path);
      return FALSE;
    }
  *absolute = g_steal_pointer (&path);
  return TRUE;
}

/* Scheme and host must be literal so they can be checked here; templates
 * may fill the path and query. */
/* The host of a URL's authority: without user info, port or brackets. */
static gboolean
is_loopback_host (const char *authority)
{
  const char *at = strrchr (authority, '@');
  const char *host = at != NULL ? at + 1 : authority;
  g_autofree char *name = NULL;
  if (host[0] == '[')
    {
      const char *close = strchr (host, ']');
      name = close != NULL ? g_strndup (host + 1, (gsize) (close - host - 1)) : g_strdup (host);
    }
  else
    {
      const char *colon = strchr (host, ':');
      name = colon != NULL ? g_strndup (host, (gsize) (colon - host)) : g_strdup (host);
    }
  if (g_ascii_strcasecmp (name, "localhost") == 0)
    return TRUE;
  g_autoptr (GInetAddress) address = g_inet_address_new_from_string (name);
  return address != NULL && g_inet_address_get_is_loopback (address);
}

gboolean
rh_rules_check_url (const char *text, gint require_https, GError **error)
{
  g_autofree char *scheme = g_uri_parse_scheme (text);
  const char *rest = strstr (text, "://");
  const char *variable = strstr (text, "${");
  if (scheme == NULL || rest == NULL
      || (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("webhook URL \"%s\" must start with http:// or https://"), text);
      return FALSE;
    }
  const char *host_end = strpbrk (rest + 3, "/?#");
  g_autofree char *authority = host_end != NULL ? g_strndup (rest + 3, (gsize) (host_end - rest - 3))
                                                : g_strdup (rest + 3);
  if (authority[0] == '\0' || (variable != NULL && (host_end == NULL || variable < host_end)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("webhook URL \"%s\" needs a literal host"), text);
      return FALSE;
    }
  if (variable == NULL && !g_uri_is_valid (text, G_URI_FLAGS_NONE, error))
    {
      g_prefix_error (error, _("webhook URL \"%s\": "), text);
      return FALSE;
    }
  gboolean plain = g_ascii_strcasecmp (scheme, "https") != 0;
  if (plain && require_https == RH_REQUIRE_HTTPS_YES)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("webhook URL \"%s\" is not https and require_https is set"), text);
      return FALSE;
    }
  /* Events carry stream keys and client addresses: they cross a network
   * in clear only when the operator says so. */
  if (plain && require_https == RH_REQUIRE_HTTPS_UNLESS_LOOPBACK && !is_loopback_host (authority))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("webhook URL \"%s\" is plain http to a host that is not loopback: use https, "
                     "or set require_https = false"), text);
      return FALSE;
    }
  return TRUE;
}

/* Where the host starts: after rtmp:// or rtmps://; NULL for other schemes. */
static const char *
relay_url_host (const char *text)
{
  if (g_ascii_strncasecmp (text, "rtmp://", 7) == 0)
    return text + 7;
  if (g_ascii_strncasecmp (text, "rtmps://", 8) == 0)
    return text + 8;
  return NULL;
}

char *
rh_rules_relay_target (const char *text)
{
  const char *host = relay_url_host (text);
  if (host == NULL)
    return g_strdup (text);
  const char *path = strchr (host, '/');
  if (path == NULL)
    return g_strdup (text);
  gsize path_len = strcspn (path, "?");
  g_autofree char *app = g_strndup (path + 1, path_len - 1);
  gsize app_len = strlen (app);
  if (app_len > 0 && app[app_len - 1] == '/')
    app[--app_len] = '\0';
  if (app_len == 0 || strchr (app, '/') != NULL)
    return g_strdup (text);
  return g_strdup_printf ("%.*s/%s/${stream_name}%s", (int) (path - text), text, app, path + path_len);
}

gboolean
rh_rules_relay_stream_is_fixed (const char *text)
{
  g_autofree char *target = rh_rules_relay_target (text);
  const char *host = relay_url_host (text);
  if (strcmp (target, text) != 0 || host == NULL)
    return FALSE;
  const char *path = strchr (host, '/');
  const char *stream = path != NULL ? strchr (path + 1, '/') : NULL;
  return stream != NULL && strstr (stream, "${") == NULL;
}

gboolean
rh_rules_check_relay_url (const char *given, GError **error)
{
  g_autofree char *text = rh_rules_relay_target (given);
  const char *variable = strstr (text, "${");
  const char *host = relay_url_host (text);
  if (host == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("relay URL \"%s\" must start with rtmp:// or rtmps://"), given);
      return FALSE;
    }
  const char *app = strchr (host, '/');
  if (app == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("relay URL \"%s\" has no application: rtmp://host[:port]/app"), given);
      return FALSE;
    }
  if (app == host || (variable != NULL && variable < app))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("relay URL \"%s\" needs a literal host"), given);
      return FALSE;
    }
  /* The URL's shape, as the relay will parse it once expanded: each
   * template value stands in as one character. */
  g_autoptr (GRegex) values = g_regex_new ("\\$\\{[^}]*\\}", 0, 0, NULL);
  g_autofree char *sample = g_regex_replace_literal (values, text, -1, 0, "x", 0, NULL);
  RhRtmpUrl parsed;
  g_autoptr (GError) parse_error = NULL;
  if (!rh_rtmp_url_parse (sample, &parsed, &parse_error))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("relay URL \"%s\" must be rtmp://host[:port]/app (each stream under its own name) "
                     "or rtmp://host[:port]/app/stream"), given);
      return FALSE;
    }
  rh_rtmp_url_clear (&parsed);
  return TRUE;
}

/* ---- fields against events ---- */

static void
check_field (const char *field, gpointer user_data)
{
  RuleContext *ctx = user_data;
  for (int type = 0; type < RH_EVENT_N_TYPES; type++)
    if ((ctx->rule->events & (1u << type)) && !rh_event_type_has_field ((RhEventType) type, field, NULL))
      {
        rh_config_error (ctx->errors, ctx->at, _("rule \"%s\": field \"%s\" is not carried by %s"),
                         ctx->rule->name, field, rh_event_type_to_string ((RhEventType) type));
        return;
      }
}

static RhTemplate *
load_template_full (RuleContext *ctx, const config_setting_t *setting, const char *text, gboolean url)
{
  g_autoptr (GError) error = NULL;
  RhTemplate *template_ = url ? rh_template_new_url (text, &error) : rh_template_new (text, &error);
  if (template_ == NULL)
    {
      rh_config_error (ctx->errors, setting, _("rule \"%s\": %s"), ctx->rule->name, error->message);
      return NULL;
    }
  ctx->at = setting;
  rh_template_foreach_required_field (template_, check_field, ctx);
  return template_;
}

static RhTemplate *
load_template (RuleContext *ctx, const config_setting_t *setting, const char *text)
{
  return load_template_full (ctx, setting, text, FALSE);
}

/* The field type to parse a condition with: the same in every event of the
 * rule that carries it. */
static RhFieldType
field_type_for (RhRule *rule, const char *field)
{
  RhFieldType type = RH_FIELD_STRING;
  for (int t = 0; t < RH_EVENT_N_TYPES; t++)
    if ((rule->events & (1u << t)) && rh_event_type_has_field ((RhEventType) t, field, &type))
      return type;
  return type;
}

static void
load_conditions (RuleContext *ctx, const config_setting_t *group)
{
  if (!config_setting_is_group (group))
    {
      rh_config_error (ctx->errors, group, _("rule \"%s\": %s must be a group of field = value"),
                       ctx->rule->name, config_setting_name (group));
      return;
    }
  for (int i = 0; i < config_setting_length (group); i++)
    {
      const config_setting_t *setting = config_setting_get_elem (group, (unsigned) i);
      const char *field = config_setting_name (setting);
      g_auto (GStrv) values = condition_values (setting, ctx->errors);
      if (values == NULL)
        continue;
      ctx->at = setting;
      check_field (field, ctx);
      g_autoptr (GError) error = NULL;
      RhCondition *condition = rh_condition_new (field, field_type_for (ctx->rule, field),
                                                 (const char *const *) values, &error);
      if (condition == NULL)
        rh_config_error (ctx->errors, setting, _("rule \"%s\": %s"), ctx->rule->name, error->message);
      else
        g_ptr_array_add (ctx->rule->conditions, condition);
    }
}

static gboolean
valid_env_name (const char *name)
{
  if (!g_ascii_isalpha (name[0]) && name[0] != '_')
    return FALSE;
  for (const char *c = name; *c != '\0'; c++)
    if (!g_ascii_isalnum (*c) && *c != '_')
      return FALSE;
  return TRUE;
}

static void
load_env (RuleContext *ctx, const config_setting_t *group)
{
  if (!config_setting_is_group (group))
    {
      rh_config_error (ctx->errors, group, _("rule \"%s\": env must be a group of NAME = \"value\""),
                       ctx->rule->name);
      return;
    }
  for (int i = 0; i < config_setting_length (group); i++)
    {
      const config_setting_t *setting = config_setting_get_elem (group, (unsigned) i);
      const char *name = config_setting_name (setting);
      const char *text = rh_config_get_string (setting);
      if (!valid_env_name (name) || g_str_has_prefix (name, "RTMP_"))
        {
          rh_config_error (ctx->errors, setting, _("rule \"%s\": env name \"%s\" is invalid or reserved "
                           "(RTMP_* is the event's)"), ctx->rule->name, name);
          continue;
        }
      if (text == NULL)
        {
          rh_config_error (ctx->errors, setting, _("rule \"%s\": env %s must be a string"), ctx->rule->name, name);
          continue;
        }
      RhTemplate *value = load_template (ctx, setting, text);
      if (value != NULL)
        g_ptr_array_add (ctx->rule->env, rh_named_template_new (name, value));
    }
}

static gboolean
check_keys (RuleContext *ctx, const config_setting_t *group, const char *what,
            const char *const *known)
{
  gboolean ok = TRUE;
  for (int i = 0; i < config_setting_length (group); i++)
    {
      const config_setting_t *setting = config_setting_get_elem (group, (unsigned) i);
      if (!g_strv_contains (known, config_setting_name (setting)))
        {
          g_autofree char *list = g_strjoinv (", ", (char **) known);
          rh_config_error (ctx->errors, setting, _("rule \"%s\": unknown key %s.%s (expected %s)"),
                           ctx->rule->name, what, config_setting_name (setting), list);
          ok = FALSE;
        }
    }
  return ok;
}

/* lifetime = "stream": only where a start event has a matching stop. */
static void
load_lifetime (RuleContext *ctx, const config_setting_t *group, RhAction *action)
{
  const guint32 starts = (1u << RH_EVENT_PUBLISH_START) | (1u << RH_EVENT_PLAY_START);
  const config_setting_t *setting = config_setting_get_member (group, "lifetime");
  const config_setting_t *delay = config_setting_get_member (group, "restart_delay");
  if (setting != NULL)
    {
      const char *text = rh_config_get_string (setting);
      if (g_strcmp0 (text, "stream") == 0)
        action->managed = TRUE;
      else if (g_strcmp0 (text, "event") != 0)
        rh_config_error (ctx->errors, setting, _("rule \"%s\": exec.lifetime must be \"event\" or \"stream\""),
                         ctx->rule->name);
    }
  if (action->managed && ctx->rule->is_check)
    rh_config_error (ctx->errors, setting, _("check \"%s\": a check cannot have lifetime = \"stream\""),
                     ctx->rule->name);
  else if (action->managed && (ctx->rule->events == 0 || (ctx->rule->events & ~starts) != 0))
    rh_config_error (ctx->errors, setting, _("rule \"%s\": lifetime = \"stream\" needs on = "
                     "[ \"publish_start\" ] or [ \"play_start\" ] (the process ends at the matching stop)"),
                     ctx->rule->name);
  if (action->managed && config_setting_get_member (group, "timeout") != NULL)
    rh_config_error (ctx->errors, config_setting_get_member (group, "timeout"),
                     _("rule \"%s\": a process with lifetime = \"stream\" has no timeout (it ends with "
                       "its stream)"), ctx->rule->name);
  if (delay != NULL && !action->managed)
    rh_config_error (ctx->errors, delay, _("rule \"%s\": restart_delay needs lifetime = \"stream\""),
                     ctx->rule->name);
  else if (delay != NULL)
    rh_config_read_seconds (delay, 0.1, RH_MANAGED_MAX_RESTART_DELAY, &action->restart_delay, ctx->errors);
}

static void
load_exec (RuleContext *ctx, const config_setting_t *group)
{
  static const char *const keys[] = { "command", "stdin", "timeout", "lifetime", "restart_delay", NULL };
  RhAction *action = rh_action_new (RH_ACTION_EXEC);
  const config_setting_t *setting;

  check_keys (ctx, group, "exec", keys);
  setting = config_setting_get_member (group, "command");
  g_auto (GStrv) command = setting != NULL ? rh_config_read_strings (setting, "exec.command", ctx->errors) : NULL;
  if (setting == NULL || (command != NULL && command[0] == NULL))
    rh_config_error (ctx->errors, setting != NULL ? setting : group,
                     _("rule \"%s\": exec needs command = [ \"/path/to/program\", ... ]"), ctx->rule->name);
  for (int i = 0; command != NULL && command[i] != NULL; i++)
    {
      if (i == 0)
        {
          g_autofree char *path = NULL;
          g_autoptr (GError) error = NULL;
          if (strstr (command[0], "${") != NULL)
            rh_config_error (ctx->errors, setting, _("rule \"%s\": the program must be a literal path, "
                             "not a template"), ctx->rule->name);
          else if (!rh_rules_check_program (command[0], &path, &error))
            rh_config_error (ctx->errors, setting, _("rule \"%s\": %s"), ctx->rule->name, error->message);
          else
            g_ptr_array_add (action->argv, rh_template_new_literal (path));
          continue;
        }
      RhTemplate *argument = load_template (ctx, setting, command[i]);
      if (argument != NULL)
        g_ptr_array_add (action->argv, argument);
    }
  if ((setting = config_setting_get_member (group, "stdin")) != NULL)
    {
      const char *text = rh_config_get_string (setting);
      if (g_strcmp0 (text, "json") == 0 || g_strcmp0 (text, "none") == 0)
        action->stdin_json = g_strcmp0 (text, "json") == 0;
      else
        rh_config_error (ctx->errors, setting, _("rule \"%s\": exec.stdin must be \"json\" or \"none\""),
                         ctx->rule->name);
    }
  if ((setting = config_setting_get_member (group, "timeout")) != NULL)
    rh_config_read_seconds (setting, 0.001, 86400, &action->timeout, ctx->errors);
  load_lifetime (ctx, group, action);
  g_ptr_array_add (ctx->rule->actions, action);
}

static gboolean
valid_header_name (const char *name)
{
  for (const char *c = name; *c != '\0'; c++)
    if (!g_ascii_isalnum (*c) && strchr ("!#$%&'*+-.^_`|~", *c) == NULL)
      return FALSE;
  return *name != '\0';
}

static void
load_webhook (RuleContext *ctx, const config_setting_t *group, const RhHooksSettings *hooks)
{
  static const char *const keys[] = { "url", "headers", "secret", "retries", "timeout", "require_https", NULL };
  RhAction *action = rh_action_new (RH_ACTION_WEBHOOK);
  const config_setting_t *setting;

  check_keys (ctx, group, "webhook", keys);
  action->require_https = hooks->require_https;
  if ((setting = config_setting_get_member (group, "require_https")) != NULL)
    {
      if (config_setting_type (setting) == CONFIG_TYPE_BOOL)
        action->require_https = config_setting_get_bool (setting);
      else
        rh_config_error (ctx->errors, setting, _("require_https must be true or false"));
    }
  setting = config_setting_get_member (group, "url");
  const char *url = setting != NULL ? rh_config_get_string (setting) : NULL;
  g_autoptr (GError) error = NULL;
  if (url == NULL)
    rh_config_error (ctx->errors, setting != NULL ? setting : group,
                     _("rule \"%s\": webhook needs url = \"https://...\""), ctx->rule->name);
  else if (!rh_rules_check_url (url, action->require_https, &error))
    rh_config_error (ctx->errors, setting, _("rule \"%s\": %s"), ctx->rule->name, error->message);
  else
    action->url = load_template_full (ctx, setting, url, TRUE);

  if ((setting = config_setting_get_member (group, "headers")) != NULL)
    {
      if (!config_setting_is_group (setting))
        rh_config_error (ctx->errors, setting, _("rule \"%s\": headers must be a group of Name = \"value\""),
                         ctx->rule->name);
      for (int i = 0; config_setting_is_group (setting) && i < config_setting_length (setting); i++)
        {
          const config_setting_t *header = config_setting_get_elem (setting, (unsigned) i);
          const char *text = rh_config_get_string (header);
          if (!valid_header_name (config_setting_name (header)) || text == NULL)
            {
              rh_config_error (ctx->errors, header, _("rule \"%s\": bad header %s"), ctx->rule->name,
                               config_setting_name (header));
              continue;
            }
          RhTemplate *value = load_template (ctx, header, text);
          if (value != NULL)
            g_ptr_array_add (action->headers, rh_named_template_new (config_setting_name (header), value));
        }
    }
  if ((setting = config_setting_get_member (group, "secret")) != NULL)
    {
      const char *text = rh_config_get_string (setting);
      if (text == NULL || *text == '\0')
        rh_config_error (ctx->errors, setting, _("rule \"%s\": secret must be a non-empty string"),
                         ctx->rule->name);
      else if (strchr (text, '$') == NULL)
        {
          /* A literal secret can be checked now rather than at each event. */
          g_autoptr (GError) secret_error = NULL;
          g_autoptr (GBytes) key = rh_webhook_secret_decode (text, &secret_error);
          if (key == NULL)
            rh_config_error (ctx->errors, setting, _("rule \"%s\": %s"), ctx->rule->name,
                             secret_error->message);
          else
            action->secret = load_template (ctx, setting, text);
        }
      else
        action->secret = load_template (ctx, setting, text);
    }
  if ((setting = config_setting_get_member (group, "retries")) != NULL && ctx->rule->is_check)
    rh_config_error (ctx->errors, setting, _("check \"%s\": a check is never retried (on_error decides)"),
                     ctx->rule->name);
  else if (setting != NULL)
    rh_config_read_int (setting, 0, 10, &action->retries, ctx->errors);
  if ((setting = config_setting_get_member (group, "timeout")) != NULL)
    rh_config_read_seconds (setting, 0.001, 3600, &action->timeout, ctx->errors);
  g_ptr_array_add (ctx->rule->actions, action);
}

/* relay = { ...; ca_file = "/path/ca.pem"; verify = false; }: how an
 * rtmps:// target's certificate is checked, instead of server.relay_tls. */
static void
load_relay_tls (RuleContext *ctx, const config_setting_t *group, RhAction *action)
{
  const config_setting_t *setting;
  if ((setting = config_setting_get_member (group, "ca_file")) != NULL)
    {
      const char *path = rh_config_get_string (setting);
      g_autoptr (GError) error = NULL;
      if (path == NULL || path[0] != '/')
        rh_config_error (ctx->errors, setting, _("rule \"%s\": relay.ca_file must be an absolute path"),
                         ctx->rule->name);
      else if ((action->ca_database = rh_tls_load_ca_file (path, &error)) == NULL)
        rh_config_error (ctx->errors, setting, _("rule \"%s\": relay.ca_file: %s"), ctx->rule->name,
                         error->message);
    }
  if ((setting = config_setting_get_member (group, "verify")) != NULL)
    {
      if (config_setting_type (setting) != CONFIG_TYPE_BOOL)
        rh_config_error (ctx->errors, setting, _("rule \"%s\": relay.verify must be true or false"),
                         ctx->rule->name);
      else
        action->tls_verify = config_setting_get_bool (setting) ? 1 : 0;
    }
}

/* record = { path = "..."; } and relay = { url = "rtmp://..."; }: they
 * begin with a publish and end with it. */
static void
load_output (RuleContext *ctx, const config_setting_t *group, RhActionKind kind)
{
  static const char *const record_keys[] = { "path", NULL };
  static const char *const relay_keys[] = { "url", "ca_file", "verify", NULL };
  gboolean record = kind == RH_ACTION_RECORD;
  const char *what = record ? "record" : "relay";
  check_keys (ctx, group, what, record ? record_keys : relay_keys);
  if (ctx->rule->events != (1u << RH_EVENT_PUBLISH_START))
    rh_config_error (ctx->errors, group, _("rule \"%s\": %s needs on = [ \"publish_start\" ] (it ends with "
                     "the publish)"), ctx->rule->name, what);
  const config_setting_t *setting = config_setting_get_member (group, record ? "path" : "url");
  const char *text = setting != NULL ? rh_config_get_string (setting) : NULL;
  g_autoptr (GError) error = NULL;
  RhAction *action = rh_action_new (kind);
  if (record)
    {
      /* Values are percent-encoded as in a URL: none can add a directory. */
      if (setting != NULL && text == NULL)
        rh_config_error (ctx->errors, setting, _("rule \"%s\": record.path must be a string"), ctx->rule->name);
      else if (text != NULL && (*text == '/' || strstr (text, "..") != NULL))
        rh_config_error (ctx->errors, setting, _("rule \"%s\": record.path \"%s\" must stay under the "
                         "recording directory (relative, no \"..\")"), ctx->rule->name, text);
      else
        action->path = load_template_full (ctx, setting != NULL ? setting : group,
                                           text != NULL ? text : RH_RECORD_DEFAULT_PATH, TRUE);
    }
  else if (text == NULL)
    rh_config_error (ctx->errors, setting != NULL ? setting : group,
                     _("rule \"%s\": relay needs url = \"rtmp://host/app\" or \"rtmp://host/app/stream\""), ctx->rule->name);
  else if (!rh_rules_check_relay_url (text, &error))
    rh_config_error (ctx->errors, setting, _("rule \"%s\": %s"), ctx->rule->name, error->message);
  else
    {
      g_autofree char *target = rh_rules_relay_target (text);
      action->url = load_template_full (ctx, setting, target, TRUE);
    }
  if (!record)
    load_relay_tls (ctx, group, action);
  g_ptr_array_add (ctx->rule->actions, action);
}

/* exec = { ... } or exec = ( { ... }, { ... } ): one or more actions. */
static void
load_actions (RuleContext *ctx, const config_setting_t *setting, const RhHooksSettings *hooks)
{
  const char *kind = config_setting_name (setting);
  int n = config_setting_is_group (setting) ? 1 : rh_config_is_list (setting) ? config_setting_length (setting) : 0;
  if (n == 0)
    rh_config_error (ctx->errors, setting, _("rule \"%s\": %s must be a group or a list of groups"),
                     ctx->rule->name, config_setting_name (setting));
  for (int i = 0; i < n; i++)
    {
      const config_setting_t *group = config_setting_is_group (setting) ? setting
                                      : config_setting_get_elem (setting, (unsigned) i);
      if (!config_setting_is_group (group))
        {
          rh_config_error (ctx->errors, group, _("rule \"%s\": %s must be a group or a list of groups"),
                           ctx->rule->name, config_setting_name (setting));
          continue;
        }
      if (strcmp (kind, "webhook") == 0)
        load_webhook (ctx, group, hooks);
      else if (strcmp (kind, "record") == 0)
        load_output (ctx, group, RH_ACTION_RECORD);
      else if (strcmp (kind, "relay") == 0)
        load_output (ctx, group, RH_ACTION_RELAY);
      else
        load_exec (ctx, group);
    }
}

static guint32
load_events (const char *name, const config_setting_t *setting, gboolean check, GPtrArray *errors)
{
  g_auto (GStrv) names = rh_config_read_strings (setting, "on", errors);
  guint32 allowed = check ? RH_EVENT_CHECKS : RH_EVENT_NOTIFICATIONS;
  guint32 events = 0;
  for (int i = 0; names != NULL && names[i] != NULL; i++)
    {
      RhEventType type;
      if (strcmp (names[i], "*") == 0)
        events |= allowed;
      else if (!rh_event_type_from_string (names[i], &type))
        {
          g_autofree char *known = rh_event_type_list (allowed);
          rh_config_error (errors, setting, _("rule \"%s\": unknown event \"%s\" (one of %s, or \"*\")"), name,
                           names[i], known);
        }
      else if (!(allowed & (1u << type)) && check)
        rh_config_error (errors, setting, _("check \"%s\": checks answer connect, publish or play, "
                         "not %s (a rule reacts to that)"), name, names[i]);
      else if (!(allowed & (1u << type)) && type == RH_EVENT_CONNECT)
        rh_config_error (errors, setting, _("rule \"%s\": connect is a request that checks answer; a rule "
                         "reacts to connection_accept, handshake_complete or stream_create"), name);
      else if (!(allowed & (1u << type)))
        rh_config_error (errors, setting, _("rule \"%s\": %s is a request that checks answer; a rule "
                         "reacts to %s_start or connection events"), name, names[i], names[i]);
      else
        events |= 1u << type;
    }
  if (names != NULL && names[0] == NULL)
    rh_config_error (errors, setting, _("rule \"%s\": on lists no event"), name);
  return events;
}

static void
load_on_error (RuleContext *ctx, const config_setting_t *setting)
{
  const char *text = rh_config_get_string (setting);
  if (g_strcmp0 (text, "allow") == 0 || g_strcmp0 (text, "deny") == 0)
    ctx->rule->allow_on_error = g_strcmp0 (text, "allow") == 0;
  else
    rh_config_error (ctx->errors, setting, _("check \"%s\": on_error must be \"deny\" or \"allow\""),
                     ctx->rule->name);
}

/* A rule, or with check a decision check: the same conditions, env and
 * actions; a check has exactly one action and an on_error policy. */
static void
load_rule (const config_setting_t *group, const config_setting_t *filters, RhHooksSettings *hooks,
           GHashTable *names, gboolean check, GPtrArray *errors)
{
  static const char *const rule_keys[] = {
    "name", "on", "filter", "where", "env", "exec", "webhook", "record", "relay", "concurrency", NULL
  };
  static const char *const check_keys_[] = {
    "name", "on", "filter", "where", "env", "exec", "webhook", "on_error", NULL
  };
  const char *what = check ? "check" : "rule";
  const config_setting_t *setting = config_setting_get_member (group, "name");
  const char *name = setting != NULL ? rh_config_get_string (setting) : NULL;
  guint errors_before = errors->len;

  if (name == NULL || *name == '\0')
    {
      rh_config_error (errors, group, check ? _("a check needs name = \"...\"") : _("a rule needs name = \"...\""));
      return;
    }
  if (!g_hash_table_add (names, (gpointer) name))
    rh_config_error (errors, setting, _("%s name \"%s\" is used twice"), what, name);
  setting = config_setting_get_member (group, "on");
  if (setting == NULL)
    {
      rh_config_error (errors, group, _("%s \"%s\" needs on = [ \"event\", ... ]"), what, name);
      return;
    }

  g_autoptr (RhRule) rule = rh_rule_new (name, load_events (name, setting, check, errors));
  rule->is_check = check;
  RuleContext ctx = { rule, errors, group };
  check_keys (&ctx, group, what, check ? check_keys_ : rule_keys);

  if ((setting = config_setting_get_member (group, "filter")) != NULL)
    {
      g_auto (GStrv) filter_names = rh_config_read_strings (setting, "filter", errors);
      for (int i = 0; filter_names != NULL && filter_names[i] != NULL; i++)
        {
          const config_setting_t *filter = filters != NULL ? config_setting_get_member (filters, filter_names[i]) : NULL;
          if (filter == NULL)
            rh_config_error (errors, setting, _("rule \"%s\": no filter named \"%s\""), name, filter_names[i]);
          else
            load_conditions (&ctx, filter);
        }
    }
  if ((setting = config_setting_get_member (group, "where")) != NULL)
    load_conditions (&ctx, setting);
  if ((setting = config_setting_get_member (group, "env")) != NULL)
    load_env (&ctx, setting);
  if ((setting = config_setting_get_member (group, "exec")) != NULL)
    load_actions (&ctx, setting, hooks);
  if ((setting = config_setting_get_member (group, "webhook")) != NULL)
    load_actions (&ctx, setting, hooks);
  if ((setting = config_setting_get_member (group, "record")) != NULL && !check)
    load_actions (&ctx, setting, hooks);
  if ((setting = config_setting_get_member (group, "relay")) != NULL && !check)
    load_actions (&ctx, setting, hooks);
  if ((setting = config_setting_get_member (group, "concurrency")) != NULL && !check)
    rh_config_read_int (setting, 0, 10000, &rule->concurrency, errors);
  if ((setting = config_setting_get_member (group, "on_error")) != NULL && check)
    load_on_error (&ctx, setting);
  if (rule->actions->len == 0 && errors->len == errors_before)
    rh_config_error (errors, group, check ? _("%s \"%s\" has no action (exec or webhook)")
                                                    : _("%s \"%s\" has no action (exec, webhook, record or relay)"), what, name);
  if (check && rule->actions->len > 1)
    rh_config_error (errors, group, _("check \"%s\" has %u actions: a check has exactly one (exec or "
                     "webhook); write several checks, they run in order"), name, rule->actions->len);

  if (errors->len == errors_before)
    g_ptr_array_add (check ? hooks->checks : hooks->rules, g_steal_pointer (&rule));
}

/* rules = ( ... ) or checks = ( ... ). */
static void
load_list (const config_setting_t *list, const config_setting_t *filters, RhHooksSettings *hooks,
           gboolean check, GPtrArray *errors)
{
  if (!rh_config_is_list (list))
    {
      rh_config_error (errors, list, check ? _("checks must be a list: checks = ( { ... }, { ... } );")
                                           : _("rules must be a list: rules = ( { ... }, { ... } );"));
      return;
    }
  g_autoptr (GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
  for (int i = 0; i < config_setting_length (list); i++)
    {
      const config_setting_t *group = config_setting_get_elem (list, (unsigned) i);
      if (!config_setting_is_group (group))
        rh_config_error (errors, group, check ? _("each check must be a group { name = ...; on = ...; ... }")
                                              : _("each rule must be a group { name = ...; on = ...; ... }"));
      else
        load_rule (group, filters, hooks, names, check, errors);
    }
}

void
rh_rules_config_load (const config_setting_t *filters, const config_setting_t *rules,
                      const config_setting_t *checks, RhHooksSettings *hooks, GPtrArray *errors)
{
  if (filters != NULL && !config_setting_is_group (filters))
    {
      rh_config_error (errors, filters, _("filters must be a group: filters = { name = { ... }; };"));
      filters = NULL;
    }
  /* A filter's fields are checked against each rule that uses it; here
   * only its shape. */
  for (int i = 0; filters != NULL && i < config_setting_length (filters); i++)
    {
      const config_setting_t *filter = config_setting_get_elem (filters, (unsigned) i);
      if (!config_setting_is_group (filter))
        rh_config_error (errors, filter, _("filter \"%s\" must be a group of field = value"),
                         config_setting_name (filter));
    }
  if (rules != NULL)
    load_list (rules, filters, hooks, FALSE, errors);
  if (checks != NULL)
    load_list (checks, filters, hooks, TRUE, errors);
}
