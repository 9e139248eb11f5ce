#include "config.h"

#include "worker-pool.h"

enum {
  JOB_IDLE,
  JOB_WAITING,      /* in the pool's queue */
  JOB_RUNNING,
  JOB_OVER,
};

struct _RhWorkerPool {
  char *name;
  guint max_threads;
  GMutex lock;
  GCond wake;
  GQueue waiting;               /* RhWorkerJob*, in no order: the earliest due is searched */
  guint n_threads;
  guint n_idle;                 /* threads waiting for work */
};

static RhWorkerJob *
take_due_job (RhWorkerPool *pool, gint64 now, gint64 *next_due)
{
  GList *earliest = NULL;
  for (GList *link = pool->waiting.head; link != NULL; link = link->next)
    if (earliest == NULL || ((RhWorkerJob *) link->data)->due < ((RhWorkerJob *) earliest->data)->due)
      earliest = link;
  if (earliest == NULL)
    {
      *next_due = G_MAXINT64;
      return NULL;
    }
  RhWorkerJob *job = earliest->data;
  if (job->due > now)
    {
      *next_due = job->due;
      return NULL;
    }
  g_queue_delete_link (&pool->waiting, earliest);
  return job;
}

static void
enqueue (RhWorkerPool *pool, RhWorkerJob *job, gint64 due)
{
  job->state = JOB_WAITING;
  job->due = due;
  g_queue_push_tail (&pool->waiting, job);
  g_cond_signal (&pool->wake);
}

static gpointer
worker_main (gpointer data)
{
  RhWorkerPool *pool = data;
  g_mutex_lock (&pool->lock);
  for (;;)
    {
      gint64 next_due;
      RhWorkerJob *job = take_due_job (pool, g_get_monotonic_time (), &next_due);
      if (job == NULL)
        {
          pool->n_idle++;
          if (next_due == G_MAXINT64)
            g_cond_wait (&pool->wake, &pool->lock);
          else
            g_cond_wait_until (&pool->wake, &pool->lock, next_due);
          pool->n_idle--;
          continue;
        }
      job->state = JOB_RUNNING;
      job->again = FALSE;
      g_mutex_unlock (&pool->lock);
      gboolean over = job->run (job);
      g_mutex_lock (&pool->lock);
      if (over)
        {
          job->state = JOB_OVER;
          g_mutex_unlock (&pool->lock);
          job->done (job);
          g_mutex_lock (&pool->lock);
        }
      else if (job->again)
        enqueue (pool, job, job->again_due);
      else
        job->state = JOB_IDLE;
    }
  return NULL;
}

RhWorkerPool *
rh_worker_pool_new (const char *name, guint max_threads)
{
  RhWorkerPool *pool = g_new0 (RhWorkerPool, 1);
  pool->name = g_strdup (name);
  pool->max_threads = MAX (max_threads, 1);
  g_mutex_init (&pool->lock);
  g_cond_init (&pool->wake);
  g_queue_init (&pool->waiting);
  return pool;
}

/* Under the lock. A thread for the job when none is free and the pool
 * may grow; FALSE with error only when the pool has no thread at all. */
static gboolean
ensure_thread (RhWorkerPool *pool, GError **error)
{
  if (pool->n_idle > pool->waiting.length || pool->n_threads >= pool->max_threads)
    return TRUE;
  g_autoptr (GError) local_error = NULL;
  GThread *thread = g_thread_try_new (pool->name, worker_main, pool, &local_error);
  if (thread != NULL)
    {
      g_thread_unref (thread);
      pool->n_threads++;
      return TRUE;
    }
  if (pool->n_threads > 0)
    return TRUE;
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

gboolean
rh_worker_pool_schedule (RhWorkerPool *pool, RhWorkerJob *job, gint64 due, GError **error)
{
  gboolean ok = TRUE;
  g_mutex_lock (&pool->lock);
  switch (job->state)
    {
    case JOB_IDLE:
      ok = ensure_thread (pool, error);
      if (ok)
        enqueue (pool, job, due);
      break;
    case JOB_WAITING:
      if (due < job->due)
        {
          job->due = due;
          g_cond_signal (&pool->wake);
        }
      break;
    case JOB_RUNNING:
      job->again_due = job->again ? MIN (job->again_due, due) : due;
      job->again = TRUE;
      break;
    default:
      break;
    }
  g_mutex_unlock (&pool->lock);
  return ok;
}
