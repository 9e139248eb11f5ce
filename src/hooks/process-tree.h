/* The processes below the daemon: which process groups hooks own, how
 * a run's escaped descendants are found (by the RTMPHOOKS_RUN marker in
 * their environment), and the reaping of orphans the daemon adopts as a
 * child subreaper. Spawner threads record groups; everything else runs
 * on the main thread. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* Around one spawn, on a spawner thread: between begin and end the
 * orphan reaper does not run, so it never takes a hook being started
 * for an orphan. pid > 0 records the new process group as live. */
void rh_process_tree_spawn_begin (void);
void rh_process_tree_spawn_end (pid_t pid);

/* On the main thread: the hook whose group this was has been reaped. */
void rh_process_tree_forget_group (pid_t pid);

/* SIGKILL to every live group; returns how many. */
guint rh_process_tree_kill_groups (void);

/* SIGKILL to every process below the daemon. */
void rh_process_tree_kill_descendants (void);

/* Sends signal_number to every descendant outside group whose
 * environment holds marker (a whole "NAME=value" entry): what of a run
 * left its process group with setsid. */
void rh_process_tree_signal_marked (const char *marker, pid_t group, int signal_number);

/* Makes the daemon a child subreaper and reaps its adopted orphans once
 * a second. FALSE if the kernel refused. */
gboolean rh_process_tree_adopt_orphans (void);

G_END_DECLS
