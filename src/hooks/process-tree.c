#include "config.h"

#include "process-tree.h"

#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Held for reading through each spawn until its pid is recorded, and for
 * writing by the orphan reaper, so that it never takes a hook for an
 * orphan: spawner threads start hooks while the main thread reaps. */
static GRWLock spawning;

/* Process groups of hooks spawned and not reaped, also those the main
 * thread has not heard of yet (a spawner thread adds them): shutdown
 * kills them all. groups_lock guards live_groups between the spawner
 * threads and the main thread. */
static GMutex groups_lock;
static GHashTable *live_groups;   /* pid -> pid */

/* A hook's exit does not take groups_lock (a spawner may hold it): its
 * group is forgotten the next time the main loop takes the lock anyway
 * (the orphan reaper, once a second; shutdown). */
static GArray *forgotten_groups;   /* pid_t, main thread only */

/* Processes a walk over our descendants looks at, at most. */
#define MAX_DESCENDANTS 4096

/* The children of pid, from /proc (every thread's list). */
static void
add_children (pid_t pid, GArray *pids)
{
  g_autofree char *tasks_path = g_strdup_printf ("/proc/%d/task", (int) pid);
  g_autoptr (GDir) tasks = g_dir_open (tasks_path, 0, NULL);
  const char *task;
  while (tasks != NULL && (task = g_dir_read_name (tasks)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("%s/%s/children", tasks_path, task);
      g_autofree char *text = NULL;
      if (!g_file_get_contents (path, &text, NULL, NULL))
        continue;
      g_auto (GStrv) words = g_strsplit (g_strstrip (text), " ", -1);
      for (char **w = words; *w != NULL && pids->len < MAX_DESCENDANTS; w++)
        {
          pid_t child = (pid_t) atoi (*w);
          if (child > 1)
            g_array_append_val (pids, child);
        }
    }
}

/* Every process below the daemon (breadth first, bounded). */
static GArray *
descendants (void)
{
  GArray *pids = g_array_new (FALSE, FALSE, sizeof (pid_t));
  add_children (getpid (), pids);
  for (guint i = 0; i < pids->len && pids->len < MAX_DESCENDANTS; i++)
    add_children (g_array_index (pids, pid_t, i), pids);
  return pids;
}

/* Does pid's environment hold marker (a whole "NAME=value" entry)? */
static gboolean
environ_has (pid_t pid, const char *marker)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/environ", (int) pid);
  g_autofree char *data = NULL;
  gsize len;
  if (!g_file_get_contents (path, &data, &len, NULL))
    return FALSE;
  gsize marker_len = strlen (marker);
  for (gsize at = 0; at < len; at += strlen (data + at) + 1)
    if (len - at >= marker_len && memcmp (data + at, marker, marker_len) == 0
        && (at + marker_len == len || data[at + marker_len] == '\0'))
      return TRUE;
  return FALSE;
}

void
rh_process_tree_signal_marked (const char *marker, pid_t group, int signal_number)
{
  g_autoptr (GArray) pids = descendants ();
  for (guint i = 0; i < pids->len; i++)
    {
      pid_t pid = g_array_index (pids, pid_t, i);
      /* Those still in the group had this signal already: a second one
       * means "now" to some programs (ffmpeg drops its trailer). */
      if (getpgid (pid) != group && environ_has (pid, marker))
        kill (pid, signal_number);
    }
}

void
rh_process_tree_spawn_begin (void)
{
  g_rw_lock_reader_lock (&spawning);
}

void
rh_process_tree_spawn_end (pid_t pid)
{
  if (pid > 0)
    {
      g_mutex_lock (&groups_lock);
      if (live_groups == NULL)
        live_groups = g_hash_table_new (NULL, NULL);
      g_hash_table_add (live_groups, GINT_TO_POINTER (pid));
      g_mutex_unlock (&groups_lock);
    }
  g_rw_lock_reader_unlock (&spawning);
}

void
rh_process_tree_forget_group (pid_t pid)
{
  if (forgotten_groups == NULL)
    forgotten_groups = g_array_new (FALSE, FALSE, sizeof (pid_t));
  g_array_append_val (forgotten_groups, pid);
}

/* With groups_lock held. */
static void
apply_forgotten_groups (void)
{
  if (forgotten_groups == NULL)
    return;
  for (guint i = 0; live_groups != NULL && i < forgotten_groups->len; i++)
    g_hash_table_remove (live_groups, GINT_TO_POINTER (g_array_index (forgotten_groups, pid_t, i)));
  g_array_set_size (forgotten_groups, 0);
}

guint
rh_process_tree_kill_groups (void)
{
  guint killed = 0;
  g_mutex_lock (&groups_lock);
  apply_forgotten_groups ();
  if (live_groups != NULL)
    {
      GHashTableIter iter;
      gpointer key;
      g_hash_table_iter_init (&iter, live_groups);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        {
          kill (-(pid_t) GPOINTER_TO_INT (key), SIGKILL);
          killed++;
        }
    }
  g_mutex_unlock (&groups_lock);
  return killed;
}

void
rh_process_tree_kill_descendants (void)
{
  g_autoptr (GArray) rest = descendants ();
  for (guint i = 0; i < rest->len; i++)
    kill (g_array_index (rest, pid_t, i), SIGKILL);
}

/* Zombies of the daemon's adopted children: nothing else waits for them.
 * Hooks themselves are reaped where they are watched. */
static gboolean
reap_orphans (gpointer user_data)
{
  g_autoptr (GArray) children = g_array_new (FALSE, FALSE, sizeof (pid_t));
  /* No spawn between the listing and the waits (see spawning). */
  g_rw_lock_writer_lock (&spawning);
  g_mutex_lock (&groups_lock);
  apply_forgotten_groups ();
  add_children (getpid (), children);
  for (guint i = 0; i < children->len; i++)
    {
      pid_t pid = g_array_index (children, pid_t, i);
      if (live_groups == NULL || !g_hash_table_contains (live_groups, GINT_TO_POINTER (pid)))
        waitpid (pid, NULL, WNOHANG);
    }
  g_mutex_unlock (&groups_lock);
  g_rw_lock_writer_unlock (&spawning);
  return G_SOURCE_CONTINUE;
}

gboolean
rh_process_tree_adopt_orphans (void)
{
  if (prctl (PR_SET_CHILD_SUBREAPER, 1) != 0)
    return FALSE;
  g_timeout_add_seconds (1, reap_orphans, NULL);
  return TRUE;
}
