/* Managed processes (exec with lifetime = "stream"): a program that runs
 * as long as the publisher or player whose start event began it. One
 * that exits early is restarted after a delay that doubles up to
 * RH_MANAGED_MAX_RESTART_DELAY (back to the first delay after
 * RH_MANAGED_GOOD_RUN seconds of running); at the matching stop event its
 * process group gets SIGTERM, then SIGKILL after the grace. Every exit
 * is reported as a process_exit event. */
#pragma once

#include "event.h"
#include "rule.h"

G_BEGIN_DECLS

#define RH_MANAGED_MAX_RESTART_DELAY 60.0
#define RH_MANAGED_GOOD_RUN 60.0

/* event: a process_exit, borrowed. */
typedef void (*RhProcessExitFunc) (RhEvent *event, gpointer user_data);

typedef struct _RhSupervisor RhSupervisor;

RhSupervisor *rh_supervisor_new (RhProcessExitFunc on_exit, gpointer user_data);
/* Forgets every process without signalling it (the daemon is exiting and
 * has killed them all). */
void rh_supervisor_free (RhSupervisor *supervisor);
/* Managed processes at most (running or waiting to restart). */
void rh_supervisor_set_limit (RhSupervisor *supervisor, guint max_processes);

/* Starts rule's managed action for start (a publish_start or play_start)
 * with this argv, environment and stdin. FALSE when the limit is
 * reached (nothing started). */
gboolean rh_supervisor_start (RhSupervisor *supervisor, RhRule *rule, const RhAction *action,
                              const RhEvent *start, const char *const *argv, const char *const *envp,
                              GBytes *input);
/* stop is a publish_stop or play_stop: ends the processes its start began. */
void rh_supervisor_stop_for (RhSupervisor *supervisor, const RhEvent *stop);

guint rh_supervisor_get_count (RhSupervisor *supervisor);     /* running or waiting */
guint64 rh_supervisor_get_starts (RhSupervisor *supervisor);  /* restarts included */
guint64 rh_supervisor_get_restarts (RhSupervisor *supervisor);
guint64 rh_supervisor_get_refused (RhSupervisor *supervisor); /* over the limit */

G_END_DECLS
