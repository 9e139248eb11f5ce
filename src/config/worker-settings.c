#include "config.h"

#include "worker-settings.h"

#include <glib/gi18n.h>
#include <string.h>

#include "config/reader.h"

void
rh_worker_config_init (RhWorkerConfig *worker)
{
  memset (worker, 0, sizeof *worker);
  worker->group = g_strdup ("hooks");
  worker->claim_after = 30;
  worker->max_deliveries = 5;
  worker->batch = 100;
}

void
rh_worker_config_clear (RhWorkerConfig *worker)
{
  g_free (worker->group);
  memset (worker, 0, sizeof *worker);
}

static void
load_group_name (const config_setting_t *setting, RhWorkerConfig *worker, GPtrArray *errors)
{
  const char *name = rh_config_get_string (setting);
  gsize len = name != NULL ? strlen (name) : 0;
  if (len == 0 || len > RH_WORKER_GROUP_MAX || strspn (name, RH_WORKER_GROUP_CHARACTERS) != len)
    {
      rh_config_error (errors, setting, _("worker.group must be 1 to %d letters, digits, '.', '_' or '-'"),
                       RH_WORKER_GROUP_MAX);
      return;
    }
  g_free (worker->group);
  worker->group = g_strdup (name);
}

void
rh_worker_config_load (const config_setting_t *group, RhWorkerConfig *worker, GPtrArray *errors)
{
  if (!config_setting_is_group (group))
    {
      rh_config_error (errors, group, _("%s must be a group: %s = { ... };"), "worker", "worker");
      return;
    }
  worker->enabled = TRUE;
  for (int i = 0; i < config_setting_length (group); i++)
    {
      const config_setting_t *setting = config_setting_get_elem (group, (unsigned) i);
      const char *name = config_setting_name (setting);
      if (strcmp (name, "group") == 0)
        load_group_name (setting, worker, errors);
      else if (strcmp (name, "claim_after") == 0)
        rh_config_read_seconds (setting, 0.5, 86400, &worker->claim_after, errors);
      else if (strcmp (name, "max_deliveries") == 0)
        rh_config_read_int (setting, 1, 1000, &worker->max_deliveries, errors);
      else if (strcmp (name, "batch") == 0)
        rh_config_read_int (setting, 1, 10000, &worker->batch, errors);
      else
        rh_config_error (errors, setting, _("unknown setting worker.%s (group, claim_after, max_deliveries, "
                                            "batch)"), name);
    }
}
