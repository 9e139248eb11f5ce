#include "config.h"

#include "action-plan.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>

#include "exec-action.h"
#include "webhook-signature.h"
#include "util/log.h"

/* g_strv_builder_take() is GLib 2.80; we target 2.74. */
static void
builder_take (GStrvBuilder *builder, char *value)
{
  g_strv_builder_add (builder, value);
  g_free (value);
}

/* What exec actions start from: the daemon's environment, or in clean
 * mode the basic variables and those pass_env names. */
static gboolean
named_by_pass_env (const RhHooksSettings *settings, const char *name)
{
  for (char **glob = settings->pass_env; glob != NULL && *glob != NULL; glob++)
    if (g_pattern_match_simple (*glob, name))
      return TRUE;
  return FALSE;
}

GStrv
rh_action_plan_base_environment (const RhHooksSettings *settings)
{
  g_auto (GStrv) inherited = g_get_environ ();
  g_autoptr (GStrvBuilder) env = g_strv_builder_new ();
  for (char **e = inherited; *e != NULL; e++)
    {
      const char *equals = strchr (*e, '=');
      if (equals == NULL)
        continue;
      g_autofree char *name = g_strndup (*e, (gsize) (equals - *e));
      gboolean pass;
      /* What the configuration holds as a secret reaches a hook only when
       * pass_env asks for it, whatever the mode. */
      if (settings->secret_variables != NULL && g_strv_contains ((const char *const *) settings->secret_variables, name))
        pass = named_by_pass_env (settings, name);
      else if (settings->environment == RH_HOOK_ENVIRONMENT_INHERIT)
        pass = TRUE;
      else
        pass = g_strv_contains (rh_exec_inherited_variables, name) || named_by_pass_env (settings, name);
      if (pass)
        g_strv_builder_add (env, *e);
    }
  return g_strv_builder_end (env);
}

/* Do two NAME=value entries name the same variable? */
static gboolean
same_variable (const char *a, const char *b)
{
  for (; *a == *b; a++, b++)
    if (*a == '=' || *a == '\0')
      return *a == '=';
  return FALSE;
}

/* Is entry's variable set again in entries[from...]? */
static gboolean
defined_from (GPtrArray *entries, guint from, const char *entry)
{
  for (guint i = from; i < entries->len; i++)
    if (same_variable (g_ptr_array_index (entries, i), entry))
      return TRUE;
  return FALSE;
}

void
rh_action_plan_build (const RhRule *rule, const RhAction *action, const RhEvent *event, double default_timeout,
                      const char *const *base_env, RhActionPlan *plan)
{
  memset (plan, 0, sizeof *plan);
  plan->timeout = action->timeout > 0 ? action->timeout : default_timeout;
  if (action->kind == RH_ACTION_EXEC)
    {
      g_autoptr (GStrvBuilder) argv = g_strv_builder_new ();
      for (guint i = 0; i < action->argv->len; i++)
        builder_take (argv, rh_template_expand (g_ptr_array_index (action->argv, i), event));
      plan->argv = g_strv_builder_end (argv);

      /* Inherited variables, then the rule's env, then RTMP_*: later wins.
       * Built per run, so each string is allocated once. */
      GPtrArray *overrides = g_ptr_array_sized_new (rule->env->len + 16);
      for (guint i = 0; i < rule->env->len; i++)
        {
          const RhNamedTemplate *entry = g_ptr_array_index (rule->env, i);
          g_autofree char *value = rh_template_expand (entry->value, event);
          g_ptr_array_add (overrides, g_strconcat (entry->name, "=", value, NULL));
        }
      char **event_env = rh_event_to_environment (event);
      for (char **e = event_env; *e != NULL; e++)
        g_ptr_array_add (overrides, *e);
      g_free (event_env);
      guint base_len = g_strv_length ((char **) base_env);
      GPtrArray *envp = g_ptr_array_sized_new (base_len + overrides->len + 1);
      for (guint i = 0; i < base_len; i++)
        if (!defined_from (overrides, 0, base_env[i]))
          g_ptr_array_add (envp, g_strdup (base_env[i]));
      for (guint i = 0; i < overrides->len; i++)
        {
          char *entry = g_ptr_array_index (overrides, i);
          if (defined_from (overrides, i + 1, entry))
            g_free (entry);
          else
            g_ptr_array_add (envp, entry);
        }
      g_ptr_array_free (overrides, TRUE);
      g_ptr_array_add (envp, NULL);
      plan->envp = (GStrv) g_ptr_array_free (envp, FALSE);
      if (action->stdin_json)
        {
          g_autofree char *json = rh_event_to_json (event);
          plan->input = g_strconcat (json, "\n", NULL);
        }
      return;
    }
  if (action->kind == RH_ACTION_RECORD)
    {
      plan->url = rh_template_expand (action->path, event);
      return;
    }
  plan->url = rh_template_expand (action->url, event);
  if (action->kind == RH_ACTION_RELAY)
    return;
  plan->secret = action->secret != NULL ? rh_template_expand (action->secret, event) : NULL;
  g_autoptr (GStrvBuilder) headers = g_strv_builder_new ();
  for (guint i = 0; i < action->headers->len; i++)
    {
      const RhNamedTemplate *header = g_ptr_array_index (action->headers, i);
      g_strv_builder_add (headers, header->name);
      builder_take (headers, rh_template_expand (header->value, event));
    }
  plan->headers = g_strv_builder_end (headers);
  plan->input = rh_event_to_json (event);
}

GBytes *
rh_action_plan_take_input (RhActionPlan *plan)
{
  if (plan->input == NULL)
    return g_bytes_new_static ("", 0);
  gsize len = strlen (plan->input);
  return g_bytes_new_take (g_steal_pointer (&plan->input), len);
}

void
rh_action_plan_clear (RhActionPlan *plan)
{
  g_clear_pointer (&plan->argv, g_strfreev);
  g_clear_pointer (&plan->envp, g_strfreev);
  g_clear_pointer (&plan->input, g_free);
  g_clear_pointer (&plan->url, g_free);
  g_clear_pointer (&plan->headers, g_strfreev);
  if (plan->secret != NULL)
    memset (plan->secret, 0, strlen (plan->secret));
  g_clear_pointer (&plan->secret, g_free);
}

static gboolean
has_control_characters (const char *value)
{
  for (const guchar *c = (const guchar *) value; *c != '\0'; c++)
    if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
      return TRUE;
  return FALSE;
}

static void
mask_in_place (char **text, const char *const *secrets)
{
  char *masked = rh_log_mask_values (*text, secrets);
  g_free (*text);
  *text = masked;
}

void
rh_action_plan_mask (RhActionPlan *plan, const char *const *secrets)
{
  for (char **arg = plan->argv; arg != NULL && *arg != NULL; arg++)
    mask_in_place (arg, secrets);
  for (char **entry = plan->envp; entry != NULL && *entry != NULL; entry++)
    mask_in_place (entry, secrets);
  /* Header names stay; their values are masked. */
  for (char **h = plan->headers; h != NULL && h[0] != NULL && h[1] != NULL; h += 2)
    mask_in_place (&h[1], secrets);
  if (plan->url != NULL)
    mask_in_place (&plan->url, secrets);
}

gboolean
rh_action_plan_webhook_ready (const RhActionPlan *plan, GBytes **signing_key, char **why)
{
  *signing_key = NULL;
  /* A value from a client (a query) must not end a header line or start
   * another one: such a request is not sent. */
  for (char **h = plan->headers; h != NULL && h[0] != NULL && h[1] != NULL; h += 2)
    if (has_control_characters (h[1]))
      {
        *why = g_strdup_printf (_("header %s would hold a line break or control character"), h[0]);
        return FALSE;
      }
  if (plan->secret == NULL)
    return TRUE;
  g_autoptr (GError) error = NULL;
  /* An empty secret (an unset ${env.X}) would sign with a known key. */
  if (*plan->secret == '\0')
    g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("it expanded to nothing"));
  else
    *signing_key = rh_webhook_secret_decode (plan->secret, &error);
  if (*signing_key == NULL)
    {
      *why = g_strdup_printf (_("bad secret (%s)"), error->message);
      return FALSE;
    }
  return TRUE;
}
