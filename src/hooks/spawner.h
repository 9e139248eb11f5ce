/* Starting hook programs off the main loop. A spawn returns once the
 * child has exec'd, a few hundred microseconds: spawns happen on
 * threads of their own, in order, so the main loop never waits for one.
 * Jobs go to them through a queue and come back to the main thread in
 * batches: one main-loop wake-up for all the jobs spawned meanwhile. */
#pragma once

#include <glib.h>
#include "child-spawn.h"

G_BEGIN_DECLS

typedef struct _RhSpawnJob RhSpawnJob;

/* On the main thread, once per job: the spawner is done with it. */
typedef void (*RhSpawnDoneFunc) (RhSpawnJob *job);

struct _RhSpawnJob {
  /* In: what to run. They stay the caller's until done. */
  const char *const *argv;
  const char *const *envp;
  const guint8 *input;
  gsize input_len;
  RhSpawnDoneFunc done;
  /* Out: 0 and the child, or the errno of what failed (EAGAIN when no
   * spawner thread could be started). */
  int error;
  RhChild child;
};

/* Starts the spawner threads, once. Under a task limit (ulimit -u,
 * TasksMax) a thread may not be had: fewer spawners are slower; with
 * none every job fails with EAGAIN and the daemon goes on. */
void rh_spawner_start (void);

/* Queues job; its done is called later on the main thread, never from
 * inside this call. */
void rh_spawner_submit (RhSpawnJob *job);

/* Waits (at most timeout_us) until no spawn is under way: at shutdown,
 * so that none starts a process after the process groups are killed. */
void rh_spawner_wait_idle (gint64 timeout_us);

G_END_DECLS
