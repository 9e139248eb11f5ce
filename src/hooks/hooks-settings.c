#include "config.h"

#include "hooks-settings.h"

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
  settings->max_processes = 100;
  settings->check_concurrency = 100;
}
