#include "config.h"

#include "spawner.h"

#include <errno.h>
#include <glib/gi18n.h>
#include "process-tree.h"

/* Two spawner threads, so that one child's exec (a few hundred
 * microseconds in which its spawner waits) does not hold up the next. */
#define SPAWNER_THREADS 2

static GAsyncQueue *to_spawn;      /* RhSpawnJob* */
/* How many threads could be started. */
static guint spawners;
/* Jobs queued and not yet spawned: shutdown waits for them. */
static gint spawns_in_flight;

/* Jobs spawned and not yet seen by the main thread. spawned_lock guards
 * the array and the flag between the spawner threads and the main
 * thread; the flag says a wake-up of the main loop is already on its way. */
static GMutex spawned_lock;
static GPtrArray *spawned;         /* RhSpawnJob*, under spawned_lock */
static gboolean spawned_wake_pending;

/* On the main thread: every job spawned since the last call. */
static gboolean
on_spawned_batch (gpointer user_data)
{
  g_mutex_lock (&spawned_lock);
  g_autoptr (GPtrArray) batch = g_steal_pointer (&spawned);
  spawned = g_ptr_array_new ();
  spawned_wake_pending = FALSE;
  g_mutex_unlock (&spawned_lock);
  for (guint i = 0; i < batch->len; i++)
    {
      RhSpawnJob *job = g_ptr_array_index (batch, i);
      job->done (job);
    }
  return G_SOURCE_REMOVE;
}

/* To the main thread, in a batch with the others spawned meanwhile. */
static void
hand_back (RhSpawnJob *job)
{
  g_mutex_lock (&spawned_lock);
  g_ptr_array_add (spawned, job);
  gboolean wake = !spawned_wake_pending;
  spawned_wake_pending = TRUE;
  g_mutex_unlock (&spawned_lock);
  if (wake)
    g_idle_add_full (G_PRIORITY_DEFAULT, on_spawned_batch, NULL, NULL);
}

/* On a spawner thread: the program, its pipes and its pidfd (see
 * child-spawn.h for what the child gets). */
static void
spawn (RhSpawnJob *job, RhChildStack *stack)
{
  rh_process_tree_spawn_begin ();
  job->error = rh_child_spawn (job->argv, job->envp, job->input, job->input_len, stack, &job->child);
  rh_process_tree_spawn_end (job->error == 0 ? job->child.pid : 0);
  /* Shutdown waits for this: from here on its group is a live one. */
  g_atomic_int_dec_and_test (&spawns_in_flight);
  hand_back (job);
}

static gpointer
spawner_main (gpointer data)
{
  /* The thread lives as long as the process, and so does its stack. */
  RhChildStack *stack = g_new (RhChildStack, 1);
  for (;;)
    spawn (g_async_queue_pop (to_spawn), stack);
  return NULL;
}

void
rh_spawner_start (void)
{
  if (to_spawn != NULL)
    return;
  spawned = g_ptr_array_new ();
  to_spawn = g_async_queue_new ();
  for (int i = 0; i < SPAWNER_THREADS; i++)
    {
      g_autoptr (GError) error = NULL;
      GThread *thread = g_thread_try_new ("spawner", spawner_main, NULL, &error);
      if (thread == NULL)
        {
          g_warning (_("cannot start a hook spawner thread: %s"), error->message);
          continue;
        }
      g_thread_unref (thread);
      spawners++;
    }
}

void
rh_spawner_submit (RhSpawnJob *job)
{
  rh_spawner_start ();
  if (spawners == 0)
    {
      job->error = EAGAIN;  /* "Resource temporarily unavailable": no thread */
      hand_back (job);
      return;
    }
  g_atomic_int_inc (&spawns_in_flight);
  g_async_queue_push (to_spawn, job);
}

void
rh_spawner_wait_idle (gint64 timeout_us)
{
  gint64 deadline = g_get_monotonic_time () + timeout_us;
  while (g_atomic_int_get (&spawns_in_flight) > 0 && g_get_monotonic_time () < deadline)
    g_usleep (1000);
}
