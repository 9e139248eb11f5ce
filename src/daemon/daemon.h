/* The daemon: owns the configuration snapshot, the server and the main
 * loop; handles signals (SIGTERM/SIGINT stop, SIGHUP reloads, SIGUSR1
 * logs counters). */
#pragma once

#include "config/settings.h"

G_BEGIN_DECLS

typedef struct _RhDaemon RhDaemon;

/* config_path may be NULL (built-in defaults); overrides come from the
 * command line, survive reloads, and must outlive the daemon. */
RhDaemon *rh_daemon_new (const char *config_path, gboolean config_must_exist,
                         const RhConfigOverrides *overrides, RhConfig *config);
void rh_daemon_free (RhDaemon *daemon);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RhDaemon, rh_daemon_free)

/* Where rh_daemon_run writes the daemon's pid once it serves (removed at
 * exit), for "kill -HUP $(cat FILE)" outside systemd; NULL: none. */
void rh_daemon_set_pid_file (RhDaemon *daemon, const char *path);

/* Runs until SIGTERM/SIGINT. Returns the exit status. */
int rh_daemon_run (RhDaemon *daemon);
/* Re-reads the configuration; on error the old one stays. */
gboolean rh_daemon_reload (RhDaemon *daemon);

G_END_DECLS
