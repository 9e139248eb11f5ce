#include "config.h"

#include "hooks-settings.h"

void
rh_hooks_settings_add_secret_variable (RhHooksSettings *settings, const char *name)
{
  if (settings->secret_variables != NULL && g_strv_contains ((const char *const *) settings->secret_variables, name))
    return;
  guint n = settings->secret_variables != NULL ? g_strv_length (settings->secret_variables) : 0;
  settings->secret_variables = g_renew (char *, settings->secret_variables, n + 2);
  settings->secret_variables[n] = g_strdup (name);
  settings->secret_variables[n + 1] = NULL;
}

GStrv
rh_hooks_settings_secret_values (const RhHooksSettings *settings)
{
  g_autoptr (GStrvBuilder) values = g_strv_builder_new ();
  for (char **name = settings->secret_variables; name != NULL && *name != NULL; name++)
    {
      const char *value = g_getenv (*name);
      if (value != NULL && *value != '\0')
        g_strv_builder_add (values, value);
    }
  return g_strv_builder_end (values);
}

void
rh_hooks_settings_set_defaults (RhHooksSettings *settings)
{
  settings->timeout = 30.0;
  settings->concurrency = 10;
  settings->queue = 4096;
  settings->stdio = RH_STDIO_OFF;
  settings->require_https = RH_REQUIRE_HTTPS_UNLESS_LOOPBACK;
  settings->environment = RH_HOOK_ENVIRONMENT_INHERIT;
  settings->pass_env = NULL;
  settings->secret_variables = NULL;
  settings->max_processes = 100;
  settings->check_concurrency = 100;
}
