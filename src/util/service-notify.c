#include "config.h"

#include "service-notify.h"

#include <systemd/sd-daemon.h>

static void
notify (const char *state, const char *status)
{
  g_autofree char *message = status != NULL ? g_strdup_printf ("%s\nSTATUS=%s", state, status)
                                            : g_strdup (state);
  int result = sd_notify (0, message);
  if (result < 0)
    g_warning ("sd_notify: %s", g_strerror (-result));
}

void
rh_service_notify_ready (const char *status)
{
  notify ("READY=1", status);
}

void
rh_service_notify_reloading (void)
{
  notify ("RELOADING=1", "reloading the configuration");
}

void
rh_service_notify_stopping (void)
{
  notify ("STOPPING=1", "shutting down");
}

void
rh_service_notify_status (const char *status)
{
  g_autofree char *message = g_strdup_printf ("STATUS=%s", status);
  int result = sd_notify (0, message);
  if (result < 0)
    g_warning ("sd_notify: %s", g_strerror (-result));
}
