#include "config.h"

#include "overrides.h"

#include <glib/gi18n.h>
#include <string.h>

#include "config/rules-loader.h"
#include "util/duration.h"

static gboolean
split_event_flag (const char *flag, const char *text, RhEventType *type, const char **value,
                  GPtrArray *errors)
{
  const char *equals = strchr (text, '=');
  g_autofree char *event_name = equals != NULL ? g_strndup (text, (gsize) (equals - text)) : NULL;
  gboolean check = g_str_equal (flag, "--hook-check");
  guint32 allowed = check ? RH_EVENT_CHECKS : RH_EVENT_NOTIFICATIONS;
  if (equals == NULL || equals[1] == '\0' || !rh_event_type_from_string (event_name, type)
      || !(allowed & (1u << *type)))
    {
      g_autofree char *known = rh_event_type_list (allowed);
      g_ptr_array_add (errors, g_strdup_printf (_("%s: \"%s\" is not EVENT=VALUE with EVENT one of %s"), flag, text,
                                                known));
      return FALSE;
    }
  *value = equals + 1;
  return TRUE;
}

/* --hook-script EVENT=PATH: a rule running PATH on EVENT. */
static void
add_script_rule (RhConfig *config, const char *text, GPtrArray *errors)
{
  RhEventType type;
  const char *program;
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;

  if (!split_event_flag ("--hook-script", text, &type, &program, errors))
    return;
  if (!rh_rules_check_program (program, &path, &error))
    {
      g_ptr_array_add (errors, g_strdup_printf (_("--hook-script: %s"), error->message));
      return;
    }
  g_autofree char *name = g_strdup_printf ("script:%s:%s", rh_event_type_to_string (type), path);
  g_ptr_array_add (config->hooks.rules, rh_rule_new_script (name, 1u << type, path));
}

/* --hook-check EVENT=PATH: a decision check running PATH on EVENT
 * (connect, publish or play); a check that fails denies. */
static void
add_check (RhConfig *config, const char *text, GPtrArray *errors)
{
  RhEventType type;
  const char *program;
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;

  if (!split_event_flag ("--hook-check", text, &type, &program, errors))
    return;
  if (!rh_rules_check_program (program, &path, &error))
    {
      g_ptr_array_add (errors, g_strdup_printf (_("--hook-check: %s"), error->message));
      return;
    }
  g_autofree char *name = g_strdup_printf ("check:%s:%s", rh_event_type_to_string (type), path);
  RhRule *check = rh_rule_new_script (name, 1u << type, path);
  check->is_check = TRUE;
  g_ptr_array_add (config->hooks.checks, check);
}

/* --hook-webhook EVENT=URL: a rule posting EVENT to URL. */
static void
add_webhook_rule (RhConfig *config, const char *text, GPtrArray *errors)
{
  RhEventType type;
  const char *url;
  g_autoptr (GError) error = NULL;

  if (!split_event_flag ("--hook-webhook", text, &type, &url, errors))
    return;
  if (strstr (url, "${") != NULL || !rh_rules_check_url (url, config->hooks.require_https, &error))
    {
      g_ptr_array_add (errors, g_strdup_printf (_("--hook-webhook: %s"),
                                                error != NULL ? error->message : "no templates here"));
      return;
    }
  g_autofree char *name = g_strdup_printf ("webhook:%s", rh_event_type_to_string (type));
  g_ptr_array_add (config->hooks.rules, rh_rule_new_webhook (name, 1u << type,
                                                             rh_template_new_literal (url)));
}

static void
apply_hook_overrides (RhConfig *config, const RhConfigOverrides *overrides, GPtrArray *errors)
{
  for (char **s = overrides->hook_scripts; s != NULL && *s != NULL; s++)
    add_script_rule (config, *s, errors);
  for (char **s = overrides->hook_webhooks; s != NULL && *s != NULL; s++)
    add_webhook_rule (config, *s, errors);
  for (char **s = overrides->hook_checks; s != NULL && *s != NULL; s++)
    add_check (config, *s, errors);
  if (overrides->hook_stdio_format != NULL)
    {
      RhStdioFormat format;
      if (rh_stdio_format_parse (overrides->hook_stdio_format, &format))
        config->hooks.stdio = format;
      else
        g_ptr_array_add (errors, g_strdup_printf (_("--hook-stdio-format: \"%s\" is not json, jsonl, "
                                                  "env or empty"), overrides->hook_stdio_format));
    }
  if (overrides->hook_timeout != NULL)
    {
      double seconds;
      if (rh_duration_parse (overrides->hook_timeout, &seconds) && seconds > 0)
        config->hooks.timeout = seconds;
      else
        g_ptr_array_add (errors, g_strdup_printf (_("--hook-timeout: \"%s\" is not a duration "
                                                  "such as 30s, 500ms or 1m"), overrides->hook_timeout));
    }
  if (overrides->hook_concurrency != RH_OVERRIDE_UNSET)
    {
      if (overrides->hook_concurrency < 1 || overrides->hook_concurrency > 10000)
        g_ptr_array_add (errors, g_strdup_printf (_("--hook-concurrency: %d is out of range [1, 10000]"),
                                                  overrides->hook_concurrency));
      else
        config->hooks.concurrency = overrides->hook_concurrency;
    }
}

/* server.record.all and server.relay are publish_start rules like any
 * other (named "record-all" and "relay:URL"): one path for all outputs. */
void
rh_config_add_output_rules (RhConfig *config, GPtrArray *errors)
{
  if (config->server.record.all)
    {
      g_autoptr (GError) error = NULL;
      RhTemplate *path = rh_template_new_url (config->server.record.path, &error);
      if (path == NULL)
        g_ptr_array_add (errors, g_strdup_printf (_("server.record.path: %s"), error->message));
      else if (config->server.record.path[0] == '/' || strstr (config->server.record.path, "..") != NULL)
        {
          g_ptr_array_add (errors, g_strdup_printf (_("server.record.path \"%s\" must stay under the recording "
                                                    "directory (relative, no \"..\")"), config->server.record.path));
          rh_template_free (path);
        }
      else
        g_ptr_array_add (config->hooks.rules, rh_rule_new_record ("record-all", path));
    }
  for (char **url = config->server.relay; url != NULL && *url != NULL; url++)
    {
      g_autoptr (GError) error = NULL;
      if (!rh_rules_check_relay_url (*url, NULL))
        continue;  /* reported where it was given */
      g_autofree char *text = rh_rules_relay_target (*url);
      RhTemplate *target = rh_template_new_url (text, &error);
      if (target == NULL)
        {
          g_ptr_array_add (errors, g_strdup_printf (_("server.relay: %s"), error->message));
          continue;
        }
      g_autofree char *name = g_strdup_printf ("relay:%s", *url);
      g_ptr_array_add (config->hooks.rules, rh_rule_new_relay (name, target));
    }
}

void
rh_config_apply_overrides (RhConfig *config, const RhConfigOverrides *overrides, GPtrArray *errors,
                           GPtrArray *warnings)
{
  if (overrides == NULL)
    return;
  apply_hook_overrides (config, overrides, errors);
  if (overrides->record_all)
    config->server.record.all = TRUE;
  if (overrides->record_dir != NULL)
    {
      if (overrides->record_dir[0] != '/')
        g_ptr_array_add (errors, g_strdup_printf (_("--record-dir: \"%s\" is not an absolute path"),
                                                  overrides->record_dir));
      g_free (config->server.record.dir);
      config->server.record.dir = g_strdup (overrides->record_dir);
    }
  if (overrides->relay != NULL && overrides->relay[0] != NULL)
    {
      for (char **url = overrides->relay; *url != NULL; url++)
        {
          g_autoptr (GError) error = NULL;
          if (!rh_rules_check_relay_url (*url, &error))
            g_ptr_array_add (errors, g_strdup_printf ("--relay: %s", error->message));
          else if (rh_rules_relay_stream_is_fixed (*url))
            g_ptr_array_add (warnings, g_strdup_printf (_("--relay: warning: \"%s\" names one stream: every "
                                                          "stream published here is pushed to that name, and "
                                                          "the target refuses all but the first; "
                                                          "rtmp://host/app pushes each under its own name"),
                                                        *url));
        }
      /* Added to the file's list. */
      g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
      if (config->server.relay != NULL)
        g_strv_builder_addv (builder, (const char **) config->server.relay);
      g_strv_builder_addv (builder, (const char **) overrides->relay);
      g_strfreev (config->server.relay);
      config->server.relay = g_strv_builder_end (builder);
    }
  if (overrides->listen != NULL && overrides->listen[0] != NULL)
    {
      g_array_set_size (config->server.listen, 0);
      for (char **l = overrides->listen; *l != NULL; l++)
        {
          RhListenAddress address = { NULL, 0 };
          g_autoptr (GError) error = NULL;
          if (rh_listen_address_parse (*l, &address, &error))
            g_array_append_val (config->server.listen, address);
          else
            g_ptr_array_add (errors, g_strdup_printf (_("--listen: %s"), error->message));
        }
    }
  if (overrides->chunk_size != RH_OVERRIDE_UNSET)
    {
      if (overrides->chunk_size < 128 || overrides->chunk_size > 65536)
        g_ptr_array_add (errors, g_strdup_printf (_("--chunk-size: %d is out of range [128, 65536]"),
                                                  overrides->chunk_size));
      else
        config->server.chunk_size = overrides->chunk_size;
    }
}
