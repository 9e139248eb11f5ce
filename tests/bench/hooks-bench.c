/* hooks-bench: the hook engine's throughput, in process, on this machine.
 *   - events/s through stdio (json lines into a pipe drained by a thread)
 *   - exec hooks/s through the dispatcher vs a plain posix_spawn loop with
 *     the same concurrency (median of five rounds, each side in alternating
 *     slices), and the
 *     main-loop time it takes to start one hook
 *   - webhook POSTs/s to a local libsoup server
 * Bounded in count and time; loopback only. */
#include "config.h"

#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hooks/dispatcher.h"
#include "hooks/exec-action.h"



#define STDIO_EVENTS 200000
#define EXEC_RUNS 3000
/* Each side of a round runs in slices this long, alternating, so that
 * the machine's slow and fast moments (a VM's neighbours) hit both. */
#define EXEC_SLICE 250
#define WEBHOOK_POSTS 2000
#define CONCURRENCY 10

static RhEvent *
sample_event (void)
{
  RhEvent *event = rh_event_new (RH_EVENT_PUBLISH_START, "c000001", "live/bench");
  rh_event_add_string (event, "app", "live");
  rh_event_add_string (event, "stream_name", "bench");
  rh_event_add_string (event, "publish_type", "live");
  rh_event_add_string (event, "client_ip", "127.0.0.1");
  rh_event_add_string (event, "tc_url", "rtmp://127.0.0.1:1935/live");
  rh_event_add_string (event, "query", "");
  return event;
}

/* CPU seconds this process's own threads used (children not counted). */
static double
own_cpu (void)
{
  struct rusage usage;
  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

/* The machine's busy and idle CPU seconds so far, from /proc/stat: the
 * children's share of the cost shows here, not in own_cpu. */
static void
machine_cpu (double *busy, double *idle)
{
  g_autofree char *text = NULL;
  *busy = *idle = 0;
  if (!g_file_get_contents ("/proc/stat", &text, NULL, NULL))
    return;
  /* cpu  user nice system idle iowait irq softirq steal ... */
  guint64 v[8] = { 0 };
  if (sscanf (text, "cpu %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
              " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
              &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
    return;
  double ticks = (double) sysconf (_SC_CLK_TCK);
  *busy = (double) (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / ticks;
  *idle = (double) (v[3] + v[4]) / ticks;
}

static double
now (void)
{
  return (double) g_get_monotonic_time () / G_USEC_PER_SEC;
}

/* CPU seconds of each of this process's threads, by name ("main" for
 * the first): where the CPU per hook goes. */
static void
print_thread_cpu (const char *label, guint runs)
{
  g_autoptr (GDir) tasks = g_dir_open ("/proc/self/task", 0, NULL);
  const char *task;
  long ticks = sysconf (_SC_CLK_TCK);
  while (tasks != NULL && (task = g_dir_read_name (tasks)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/proc/self/task/%s/stat", task);
      g_autofree char *text = NULL;
      if (!g_file_get_contents (path, &text, NULL, NULL))
        continue;
      /* "tid (name) state ..." then utime and stime as fields 14 and 15. */
      char *open = strchr (text, '('), *close = strrchr (text, ')');
      if (open == NULL || close == NULL)
        continue;
      g_autofree char *name = g_strndup (open + 1, (gsize) (close - open - 1));
      g_auto (GStrv) fields = g_strsplit (close + 2, " ", 0);
      if (g_strv_length (fields) < 13)
        continue;
      double seconds = (double) (g_ascii_strtoull (fields[11], NULL, 10) + g_ascii_strtoull (fields[12], NULL, 10)) / ticks;
      if (seconds > 0)
        printf ("%s: thread %s (%s): %.0f us per hook\n", label, task, name, seconds / runs * 1e6);
    }
}

/* ---- stdio ---- */

static gpointer
drain (gpointer data)
{
  int fd = GPOINTER_TO_INT (data);
  char buffer[65536];
  while (read (fd, buffer, sizeof buffer) > 0)
    ;
  return NULL;
}

static void
bench_stdio (void)
{
  int fds[2];
  g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
  GThread *reader = g_thread_new ("drain", drain, GINT_TO_POINTER (fds[0]));
  RhDispatcher *dispatcher = rh_dispatcher_new (fds[1]);
  g_autoptr (GPtrArray) rules = g_ptr_array_new ();
  RhHooksSettings settings;
  rh_hooks_settings_set_defaults (&settings);
  settings.concurrency = CONCURRENCY;
  settings.stdio = RH_STDIO_JSON;
  settings.rules = rules;
  rh_dispatcher_configure (dispatcher, &settings);

  double start = now ();
  for (int i = 0; i < STDIO_EVENTS; i++)
    {
      RhEvent *event = sample_event ();
      rh_dispatcher_emit (dispatcher, event);
      rh_event_unref (event);
      /* Let the output watch run now and then, as the daemon's loop would. */
      if (i % 64 == 0)
        while (g_main_context_iteration (NULL, FALSE))
          ;
    }
  rh_dispatcher_drain_stdio (dispatcher, 5000);
  double seconds = now () - start;
  printf ("stdio: %d events in %.2fs = %.0f events/s\n", STDIO_EVENTS, seconds, STDIO_EVENTS / seconds);
  rh_dispatcher_log_stats (dispatcher);
  rh_dispatcher_free (dispatcher);
  close (fds[1]);
  g_thread_join (reader);
  close (fds[0]);
}

/* ---- exec ---- */

static void
run_until_idle (RhDispatcher *dispatcher)
{
  while (rh_dispatcher_get_running (dispatcher) > 0 || rh_dispatcher_get_queued (dispatcher) > 0)
    g_main_context_iteration (NULL, TRUE);
}

/* Runs that many hooks with the given concurrency; returns seconds. */
static double
run_exec_hooks (const char *path, gint concurrency, int runs)
{
  RhDispatcher *dispatcher = rh_dispatcher_new (STDOUT_FILENO);
  g_autoptr (GPtrArray) rules = g_ptr_array_new_with_free_func ((GDestroyNotify) rh_rule_unref);
  g_ptr_array_add (rules, rh_rule_new_script ("true", 1u << RH_EVENT_PUBLISH_START, path));
  RhHooksSettings settings;
  rh_hooks_settings_set_defaults (&settings);
  settings.concurrency = concurrency;
  settings.queue = runs;
  settings.rules = rules;
  rh_dispatcher_configure (dispatcher, &settings);

  double start = now ();
  for (int i = 0; i < runs; i++)
    {
      RhEvent *event = sample_event ();
      rh_dispatcher_emit (dispatcher, event);
      rh_event_unref (event);
    }
  run_until_idle (dispatcher);
  double seconds = now () - start;
  rh_dispatcher_free (dispatcher);
  return seconds;
}

/* The floor: posix_spawn + waitpid of the same program, CONCURRENCY at
 * a time; returns seconds. */
static double
run_spawn_loop (const char *path, int runs)
{
  double start = now ();
  int running = 0;
  for (int i = 0; i < runs; i++)
    {
      pid_t pid;
      char *argv[] = { (char *) path, NULL };
      if (running == CONCURRENCY)
        {
          waitpid (-1, NULL, 0);
          running--;
        }
      if (posix_spawn (&pid, path, NULL, NULL, argv, environ) == 0)
        running++;
    }
  while (running-- > 0)
    waitpid (-1, NULL, 0);
  return now () - start;
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static int
compare_gint64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

static guint exec_done;

static void
on_exec_done (const RhExecResult *result, gpointer data)
{
  exec_done++;
}

/* What starting one hook costs the main loop: the time rh_exec_run takes
 * (the spawn itself happens on another thread). */
static void
bench_exec_stall (const char *path)
{
  enum { N = 500 };
  static gint64 took[N];
  const char *argv[] = { path, NULL };
  g_auto (GStrv) envp = g_get_environ ();
  g_autoptr (GBytes) input = g_bytes_new_static ("{}\n", 3);
  exec_done = 0;
  for (int i = 0; i < N; i++)
    {
      gint64 start = g_get_monotonic_time ();
      rh_exec_run ("stall", argv, (const char *const *) envp, input, 10, on_exec_done, NULL);
      took[i] = g_get_monotonic_time () - start;
      while (exec_done <= (guint) i)
        g_main_context_iteration (NULL, TRUE);
    }
  qsort (took, N, sizeof took[0], compare_gint64);
  printf ("exec: main-loop time to start one hook: median %" G_GINT64_FORMAT " us, p90 %" G_GINT64_FORMAT
          " us, p99 %" G_GINT64_FORMAT " us, max %" G_GINT64_FORMAT " us (%d starts)\n",
          took[N / 2], took[N * 9 / 10], took[N * 99 / 100], took[N - 1], N);
}

static void
bench_exec (void)
{
  const char *true_path = "/bin/true";
  enum { ROUNDS = 5 };
  double ratios[ROUNDS];
  /* Interleaved, so that a noisy moment hits both sides. */
  for (int r = 0; r < ROUNDS; r++)
    {
      double hooks_seconds = 0, hooks_cpu = 0, spawn_seconds = 0, spawn_cpu = 0;
      double hooks_busy = 0, hooks_idle = 0, spawn_busy = 0, spawn_idle = 0;
      for (int done = 0; done < EXEC_RUNS; done += EXEC_SLICE)
        {
          double cpu = own_cpu (), busy0, idle0, busy1, idle1, busy2, idle2;
          machine_cpu (&busy0, &idle0);
          hooks_seconds += run_exec_hooks (true_path, CONCURRENCY, EXEC_SLICE);
          hooks_cpu += own_cpu () - cpu;
          machine_cpu (&busy1, &idle1);
          cpu = own_cpu ();
          spawn_seconds += run_spawn_loop (true_path, EXEC_SLICE);
          spawn_cpu += own_cpu () - cpu;
          machine_cpu (&busy2, &idle2);
          hooks_busy += busy1 - busy0;
          hooks_idle += idle1 - idle0;
          spawn_busy += busy2 - busy1;
          spawn_idle += idle2 - idle1;
        }
      ratios[r] = spawn_seconds / hooks_seconds;
      /* Children take both cores: what the daemon's side spends per hook
       * is what the ratio loses; the machine's CPU per hook (ours, the
       * children's, the kernel's) and its idle share tell the rest. */
      printf ("exec: round %d: %d hooks in %.2fs = %.0f hooks/s (%.0f us of our CPU, %.0f us of the machine's "
              "each, %.0f%% idle); posix_spawn loop %.0f/s (%.0f us, %.0f us, %.0f%% idle); ratio %.2f\n",
              r + 1, EXEC_RUNS, hooks_seconds, EXEC_RUNS / hooks_seconds, hooks_cpu / EXEC_RUNS * 1e6,
              hooks_busy / EXEC_RUNS * 1e6, 100 * hooks_idle / MAX (hooks_busy + hooks_idle, 1e-9),
              EXEC_RUNS / spawn_seconds, spawn_cpu / EXEC_RUNS * 1e6, spawn_busy / EXEC_RUNS * 1e6,
              100 * spawn_idle / MAX (spawn_busy + spawn_idle, 1e-9), ratios[r]);
    }
  qsort (ratios, ROUNDS, sizeof ratios[0], compare_doubles);
  printf ("exec: hooks/s as a share of a bare posix_spawn loop: median %.2fx (spread %.2f-%.2f)\n",
          ratios[ROUNDS / 2], ratios[0], ratios[ROUNDS - 1]);
  bench_exec_stall (true_path);
}

/* ---- webhook ---- */

static void
on_request (SoupServer *server, SoupServerMessage *message, const char *path, GHashTable *query,
            gpointer data)
{
  soup_server_message_set_status (message, 200, NULL);
}

static GMainLoop *server_loop;

static gpointer
serve (gpointer data)
{
  GMainContext *context = data;
  g_main_context_push_thread_default (context);
  g_main_loop_run (server_loop);
  return NULL;
}

static void
bench_webhook (void)
{
  GMainContext *context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  SoupServer *server = soup_server_new (NULL, NULL);
  soup_server_add_handler (server, NULL, on_request, NULL, NULL);
  g_assert_true (soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, NULL));
  GSList *uris = soup_server_get_uris (server);
  int port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  g_main_context_pop_thread_default (context);
  server_loop = g_main_loop_new (context, FALSE);
  GThread *thread = g_thread_new ("server", serve, context);

  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%d/hook", port);
  RhDispatcher *dispatcher = rh_dispatcher_new (STDOUT_FILENO);
  g_autoptr (GPtrArray) rules = g_ptr_array_new_with_free_func ((GDestroyNotify) rh_rule_unref);
  g_ptr_array_add (rules, rh_rule_new_webhook ("post", 1u << RH_EVENT_PUBLISH_START, rh_template_new_literal (url)));
  RhHooksSettings settings;
  rh_hooks_settings_set_defaults (&settings);
  settings.concurrency = CONCURRENCY;
  settings.queue = WEBHOOK_POSTS;
  settings.rules = rules;
  rh_dispatcher_configure (dispatcher, &settings);
  double start = now ();
  for (int i = 0; i < WEBHOOK_POSTS; i++)
    {
      RhEvent *event = sample_event ();
      rh_dispatcher_emit (dispatcher, event);
      rh_event_unref (event);
    }
  run_until_idle (dispatcher);
  double seconds = now () - start;
  printf ("webhook: %d POSTs in %.2fs = %.0f POSTs/s\n", WEBHOOK_POSTS, seconds, WEBHOOK_POSTS / seconds);
  rh_dispatcher_log_stats (dispatcher);
  rh_dispatcher_free (dispatcher);
  g_main_loop_quit (server_loop);
  g_thread_join (thread);
  g_object_unref (server);
}

int
main (int argc, char **argv)
{
  /* As in the daemon: a hook that exits before reading stdin costs EPIPE. */
  signal (SIGPIPE, SIG_IGN);
  setvbuf (stdout, NULL, _IOLBF, 0);
  /* One part alone: hooks-bench stdio|exec|webhook (or exec-hooks: only
   * the hooks' side of exec, for a profiler). */
  const char *only = argc > 1 ? argv[1] : NULL;
  if (only == NULL || g_str_equal (only, "stdio"))
    bench_stdio ();
  if (only == NULL || g_str_equal (only, "exec"))
    bench_exec ();
  if (only == NULL || g_str_equal (only, "webhook"))
    bench_webhook ();
  /* The hook side alone, to look at under perf. */
  if (only != NULL && g_str_equal (only, "exec-hooks"))
    for (int r = 0; r < 3; r++)
      printf ("exec-hooks: %d hooks in %.2fs\n", EXEC_RUNS, run_exec_hooks ("/bin/true", CONCURRENCY, EXEC_RUNS));
  if (only != NULL && g_str_equal (only, "exec-hooks"))
    print_thread_cpu ("exec-hooks", 3 * EXEC_RUNS);
  return 0;
}
