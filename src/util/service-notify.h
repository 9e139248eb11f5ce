/* Tells the service manager (systemd, Type=notify) what the daemon is
 * doing. Without NOTIFY_SOCKET in the environment every call does nothing. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* READY=1: every listener is bound; also after a reload. */
void rh_service_notify_ready (const char *status);
/* RELOADING=1 before a configuration reload (then ready again). */
void rh_service_notify_reloading (void);
/* STOPPING=1 at the start of shutdown. */
void rh_service_notify_stopping (void);
/* STATUS= shown by systemctl status. */
void rh_service_notify_status (const char *status);

G_END_DECLS
