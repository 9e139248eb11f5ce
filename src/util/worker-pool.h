/* A few threads that run many jobs, each job on one thread at a time and
 * when it is due. Recordings use it: thousands of recordings need not be
 * thousands of threads, and a job scheduled again while it runs runs
 * once more after, never twice at once, so its writes stay in order.
 *
 * Threads start as work needs them, up to the pool's maximum. When a
 * thread cannot be created (a task limit: ulimit -u, systemd's TasksMax)
 * the threads already there take the job; with none there, scheduling
 * fails with an error, and the caller fails that one job, never the
 * process. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _RhWorkerPool RhWorkerPool;
typedef struct _RhWorkerJob RhWorkerJob;

struct _RhWorkerJob {
  /* Runs on a pool thread; TRUE when the job is over: it is never run
   * again, and done is called once the pool no longer touches it. */
  gboolean (*run) (RhWorkerJob *job);
  void (*done) (RhWorkerJob *job);
  /* The pool's, under its lock. */
  guint state;
  gint64 due;
  gboolean again;
  gint64 again_due;
};

RhWorkerPool *rh_worker_pool_new (const char *name, guint max_threads);

/* Runs job at due (monotonic microseconds) or as soon as a thread is
 * free after it; an earlier due of a job already waiting wins. FALSE with
 * error when no thread exists and none could be created: the job is not
 * scheduled. */
gboolean rh_worker_pool_schedule (RhWorkerPool *pool, RhWorkerJob *job, gint64 due, GError **error);

G_END_DECLS
