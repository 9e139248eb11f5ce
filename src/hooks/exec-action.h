/* Runs one program for one event: an argv (never a shell), a built
 * environment (plus RTMPHOOKS_RUN, which marks the run's descendants), the event JSON on stdin, stdout/stderr logged line by line
 * under the rule's name (bounded), and a timeout after which the whole
 * process group gets SIGTERM, then SIGKILL after a grace period. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  gboolean spawned;
  gboolean timed_out;
  gboolean exited;      /* normal exit: exit_status is valid */
  int exit_status;
  int signal;           /* when killed by a signal */
  double seconds;
  int pid;              /* 0 if it never started */
  const char *first_line;  /* stdout's first line (cut like logged lines); NULL if none */
} RhExecResult;

typedef void (*RhExecDoneFunc) (const RhExecResult *result, gpointer user_data);

/* Lines of output logged per stream and run; the rest is counted. */
#define RH_EXEC_MAX_LOGGED_LINES 50
/* Bytes of one output line kept for the log; the rest is counted. */
#define RH_EXEC_MAX_LINE_BYTES 1024
#define RH_EXEC_KILL_GRACE_SECONDS 2.0

typedef struct _RhExecRun RhExecRun;

/* done is called exactly once, never from inside rh_exec_run; the run
 * returned is valid until then. timeout_seconds 0: no timeout (a managed
 * process, ended by rh_exec_stop). */
RhExecRun *rh_exec_run (const char *rule_name, const char *const *argv, const char *const *envp,
                        GBytes *stdin_bytes, double timeout_seconds,
                        RhExecDoneFunc done, gpointer user_data);
/* SIGTERM to the run's process group now, SIGKILL after the grace. */
void rh_exec_stop (RhExecRun *run);

/* SIGKILL to the process group of every hook still running, and to every
 * process below the daemon (the daemon is about to exit); returns how
 * many hooks. */
guint rh_exec_kill_all (void);

/* Makes the daemon a child subreaper: what a hook leaves behind (a
 * daemonized grandchild that left its process group with setsid) becomes
 * the daemon's child rather than init's, so that timeouts and shutdown
 * still find it (every hook and its descendants carry RTMPHOOKS_RUN in
 * their environment), and is reaped when it ends. FALSE if the kernel
 * refused. Also starts the spawner thread and the poller the runs use
 * (otherwise the first run does). */
gboolean rh_exec_adopt_orphans (void);

/* The variables passed on from the daemon's environment when
 * hooks.environment is "clean" (besides pass_env). */
extern const char *const rh_exec_inherited_variables[];

G_END_DECLS
