/* hooks-bench: the hook engine's throughput, in process, on this machine.
 *   - events/s through stdio (json lines into a pipe drained by a thread)
 *   - exec hooks/s through the dispatcher vs a plain posix_spawn loop with
 *     the same concurrency, and the longest main-loop stall meanwhile
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
#include <sys/wait.h>
#include <unistd.h>

#include "hooks/dispatcher.h"



#define STDIO_EVENTS 200000
#define EXEC_RUNS 1000
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

static double
now (void)
{
  return (double) g_get_monotonic_time () / G_USEC_PER_SEC;
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

static gint64 last_tick;
static gint64 longest_stall;

static gboolean
on_tick (gpointer data)
{
  gint64 t = g_get_monotonic_time ();
  if (last_tick != 0)
    longest_stall = MAX (longest_stall, t - last_tick);
  last_tick = t;
  return G_SOURCE_CONTINUE;
}

static void
run_until_idle (RhDispatcher *dispatcher)
{
  while (rh_dispatcher_get_running (dispatcher) > 0 || rh_dispatcher_get_queued (dispatcher) > 0)
    g_main_context_iteration (NULL, TRUE);
}

/* Runs EXEC_RUNS hooks with the given concurrency; returns seconds. */
static double
run_exec_hooks (const char *path, gint concurrency)
{
  RhDispatcher *dispatcher = rh_dispatcher_new (STDOUT_FILENO);
  g_autoptr (GPtrArray) rules = g_ptr_array_new_with_free_func ((GDestroyNotify) rh_rule_unref);
  g_ptr_array_add (rules, rh_rule_new_script ("true", 1u << RH_EVENT_PUBLISH_START, path));
  RhHooksSettings settings;
  rh_hooks_settings_set_defaults (&settings);
  settings.concurrency = concurrency;
  settings.queue = EXEC_RUNS;
  settings.rules = rules;
  rh_dispatcher_configure (dispatcher, &settings);

  guint tick = g_timeout_add (1, on_tick, NULL);
  last_tick = 0;
  longest_stall = 0;
  double start = now ();
  for (int i = 0; i < EXEC_RUNS; i++)
    {
      RhEvent *event = sample_event ();
      rh_dispatcher_emit (dispatcher, event);
      rh_event_unref (event);
    }
  run_until_idle (dispatcher);
  double seconds = now () - start;
  g_source_remove (tick);
  rh_dispatcher_free (dispatcher);
  return seconds;
}

static void
bench_exec (void)
{
  const char *true_path = "/bin/true";
  /* One at a time: the longest gap is the stall of a single spawn. */
  run_exec_hooks (true_path, 1);
  double single_stall = longest_stall / 1000.0;
  double hooks_seconds = run_exec_hooks (true_path, CONCURRENCY);

  /* The floor: posix_spawn + waitpid, CONCURRENCY at a time. */
  double start = now ();
  int running = 0;
  for (int i = 0; i < EXEC_RUNS; i++)
    {
      pid_t pid;
      char *argv[] = { (char *) true_path, NULL };
      if (running == CONCURRENCY)
        {
          waitpid (-1, NULL, 0);
          running--;
        }
      if (posix_spawn (&pid, true_path, NULL, NULL, argv, environ) == 0)
        running++;
    }
  while (running-- > 0)
    waitpid (-1, NULL, 0);
  double spawn_seconds = now () - start;

  printf ("exec: %d hooks in %.2fs = %.0f hooks/s; posix_spawn loop %.0f/s; ratio %.2f\n",
          EXEC_RUNS, hooks_seconds, EXEC_RUNS / hooks_seconds, EXEC_RUNS / spawn_seconds,
          spawn_seconds / hooks_seconds);
  printf ("exec: longest main-loop gap with a 1 ms timer: %.2f ms one hook at a time (the stall per "
          "spawn), %.2f ms with %d starting together\n", single_stall, longest_stall / 1000.0, CONCURRENCY);
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
  bench_stdio ();
  bench_exec ();
  bench_webhook ();
  return 0;
}
