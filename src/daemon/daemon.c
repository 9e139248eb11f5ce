#include "config.h"

#include "daemon.h"

#include "api/api-server.h"
#include "cluster/directory.h"
#include "cluster/event-log.h"
#include "cluster/worker.h"
#include "hooks/check-runner.h"
#include "hooks/dispatcher.h"
#include "hooks/exec-action.h"
#include "server/stream-info.h"
#include "server/server.h"
#include "util/descriptors.h"
#include "util/service-notify.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <inttypes.h>
#include <glib/gstdio.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

struct _RhDaemon {
  char *config_path;
  gboolean config_must_exist;
  RhConfigOverrides overrides;
  RhConfig *config;
  RhServer *server;
  RhDirectory *directory;   /* in a fleet */
  RhEventLog *event_log;    /* in a fleet with cluster.events */
  RhWorker *worker;         /* a hook worker: no RTMP, events from Redis */
  gboolean local_hooks;     /* rules run here (FALSE: a pure producer) */
  RhDispatcher *dispatcher;
  RhCheckRunner *checks;
  RhApiSources api_sources;
  RhApiServer *api;
  GMainLoop *loop;
  guint drain_id;
  gint64 drain_deadline;
  int exit_status;
  guint signal_ids[4];
  guint status_id;
  char *last_status;
  char *pid_file;
};

void
rh_daemon_set_pid_file (RhDaemon *daemon, const char *path)
{
  g_free (daemon->pid_file);
  daemon->pid_file = g_strdup (path);
}

static void
log_config_warnings (const RhConfig *config)
{
  for (guint i = 0; i < config->warnings->len; i++)
    g_warning ("%s", (const char *) g_ptr_array_index (config->warnings, i));
}

RhDaemon *
rh_daemon_new (const char *config_path, gboolean config_must_exist,
               const RhConfigOverrides *overrides, RhConfig *config)
{
  RhDaemon *daemon = g_new0 (RhDaemon, 1);
  daemon->config_path = g_strdup (config_path);
  daemon->config_must_exist = config_must_exist;
  /* The overrides point into main's option storage, which outlives us. */
  daemon->overrides = *overrides;
  daemon->config = rh_config_ref (config);
  log_config_warnings (config);
  daemon->loop = g_main_loop_new (NULL, FALSE);
  return daemon;
}

void
rh_daemon_free (RhDaemon *daemon)
{
  if (daemon == NULL)
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (daemon->signal_ids); i++)
    g_clear_handle_id (&daemon->signal_ids[i], g_source_remove);
  g_clear_handle_id (&daemon->drain_id, g_source_remove);
  g_clear_handle_id (&daemon->status_id, g_source_remove);
  g_free (daemon->last_status);
  rh_api_server_free (daemon->api);
  rh_worker_free (daemon->worker);
  rh_event_log_free (daemon->event_log);
  rh_directory_free (daemon->directory);
  rh_server_free (daemon->server);
  rh_check_runner_free (daemon->checks);
  rh_dispatcher_free (daemon->dispatcher);
  rh_config_unref (daemon->config);
  g_main_loop_unref (daemon->loop);
  g_free (daemon->config_path);
  g_free (daemon->pid_file);
  g_free (daemon);
}

static char *
status_text (RhDaemon *daemon)
{
  if (daemon->worker != NULL)
    {
      RhWorkerStats stats;
      rh_worker_get_stats (daemon->worker, &stats);
      return g_strdup_printf (_("hook worker: %u shard(s), %u event(s) in hand"), stats.shards_owned, stats.held);
    }
  return g_strdup_printf (_("%u connection(s), %u stream(s)"),
                          rh_server_get_n_connections (daemon->server),
                          rh_server_get_n_streams (daemon->server));
}

/* systemctl status shows the counts; sent only when they change. */
static gboolean
on_status_tick (gpointer user_data)
{
  RhDaemon *daemon = user_data;
  g_autofree char *status = status_text (daemon);
  if (g_strcmp0 (status, daemon->last_status) != 0)
    {
      rh_service_notify_status (status);
      g_free (daemon->last_status);
      daemon->last_status = g_steal_pointer (&status);
    }
  return G_SOURCE_CONTINUE;
}

/* A node's identity and its Redis are fixed for its life: another node id
 * or Redis would orphan the claims it holds. */
static void
warn_cluster_changes (const RhClusterConfig *running, const RhClusterConfig *loaded)
{
  if (running->enabled != loaded->enabled || g_strcmp0 (running->node_id, loaded->node_id) != 0
      || g_strcmp0 (running->redis_socket, loaded->redis_socket) != 0
      || g_strcmp0 (running->redis_host, loaded->redis_host) != 0 || running->redis_port != loaded->redis_port
      || g_strcmp0 (running->redis_user, loaded->redis_user) != 0
      || g_strcmp0 (running->redis_password, loaded->redis_password) != 0
      || g_strcmp0 (running->advertise, loaded->advertise) != 0 || running->lease != loaded->lease
      || running->heartbeat != loaded->heartbeat || running->redis_timeout != loaded->redis_timeout
      || running->when_backend_down != loaded->when_backend_down || running->events != loaded->events
      || running->events_shards != loaded->events_shards || running->events_spool != loaded->events_spool
      || running->events_max_len != loaded->events_max_len
      || running->events_local_hooks != loaded->events_local_hooks)
    g_warning (_("the cluster section changed: it takes effect at the next restart (pull_idle and max_hops "
                 "apply now)"));
}

gboolean
rh_daemon_reload (RhDaemon *daemon)
{
  rh_service_notify_reloading ();
  g_autoptr (GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (RhConfig) config = rh_config_load (daemon->config_path, daemon->config_must_exist,
                                                &daemon->overrides, errors);
  if (config == NULL)
    {
      for (guint i = 0; i < errors->len; i++)
        g_warning ("%s", (const char *) g_ptr_array_index (errors, i));
      g_warning (_("reload failed: %u error(s); the previous configuration stays in force"),
                 errors->len);
      g_autofree char *status = g_strdup_printf (_("reload failed: %u error(s); the previous "
                                                   "configuration stays in force"), errors->len);
      rh_service_notify_ready (status);
      daemon->api_sources.reloads_failed++;
      return FALSE;
    }
  log_config_warnings (config);
  warn_cluster_changes (&daemon->config->cluster, &config->cluster);
  const RhWorkerConfig *running = &daemon->config->worker, *loaded = &config->worker;
  if (running->enabled != loaded->enabled || g_strcmp0 (running->group, loaded->group) != 0
      || running->claim_after != loaded->claim_after || running->max_deliveries != loaded->max_deliveries
      || running->batch != loaded->batch)
    g_warning (_("the worker section changed: it takes effect at the next restart"));
  rh_server_apply_config (daemon->server, config, FALSE, NULL);
  rh_dispatcher_configure (daemon->dispatcher, &config->hooks);
  rh_check_runner_configure (daemon->checks, &config->hooks);
  g_autoptr (GError) error = NULL;
  if (daemon->api != NULL && !rh_api_server_apply_config (daemon->api, &config->http, &error))
    g_warning ("%s", error->message);
  daemon->api_sources.reloads_ok++;
  daemon->api_sources.config_loaded_at = config->loaded_at;
  rh_config_unref (daemon->config);
  daemon->config = g_steal_pointer (&config);
  g_message (_("configuration reloaded from %s"),
             daemon->config_path != NULL ? daemon->config_path : _("built-in defaults"));
  rh_service_notify_ready (_("configuration reloaded"));
  return TRUE;
}

/* After shutdown, running and queued actions get up to the hook timeout
 * to finish before the process exits. */
static gboolean
on_drain_tick (gpointer user_data)
{
  RhDaemon *daemon = user_data;
  RhDispatcherCounters hooks;
  rh_dispatcher_get_counters (daemon->dispatcher, &hooks);
  /* Recordings end at the publish's end: their files get closed. */
  guint outputs = rh_outputs_get_n_active (rh_server_get_outputs (daemon->server));
  /* The last events (the closes of shutdown) reach the event log too,
   * while Redis takes them. */
  RhEventLogStats log = { 0 };
  if (daemon->event_log != NULL && rh_redis_link_is_up (rh_event_log_get_link (daemon->event_log)))
    rh_event_log_get_stats (daemon->event_log, &log);
  gboolean idle = hooks.running == 0 && hooks.queued == 0 && hooks.processes == 0 && outputs == 0
                  && (daemon->worker == NULL || rh_worker_is_stopped (daemon->worker))
                  && log.spooled == 0 && log.in_flight == 0;
  if (!idle && g_get_monotonic_time () < daemon->drain_deadline)
    return G_SOURCE_CONTINUE;
  if (daemon->event_log != NULL)
    {
      rh_event_log_get_stats (daemon->event_log, &log);
      if (log.spooled + log.in_flight > 0)
        g_warning (_("exiting with %u event(s) not in the event log: Redis did not take them in time"),
                   log.spooled + log.in_flight);
    }
  if (!idle)
    g_warning (_("exiting with %u hook action(s) still running, %u queued, %u managed process(es) and "
                 "%u recording(s) or relay(s)"), hooks.running, hooks.queued, hooks.processes, outputs);
  /* Nothing a hook started may outlive the daemon: what hooks left
   * running after they exited goes too. */
  rh_exec_kill_all ();
  rh_dispatcher_drain_stdio (daemon->dispatcher, 1000);
  daemon->drain_id = 0;
  g_main_loop_quit (daemon->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_stop_signal (gpointer user_data)
{
  RhDaemon *daemon = user_data;
  if (daemon->drain_id != 0)
    return G_SOURCE_CONTINUE;
  g_message (_("shutting down"));
  rh_service_notify_stopping ();
  /* Sessions end with reason server_shutdown: their stop events fire. */
  rh_server_shutdown (daemon->server);
  /* A worker finishes what runs, acknowledges it, and leaves its group. */
  if (daemon->worker != NULL)
    rh_worker_stop (daemon->worker);
  rh_api_server_free (daemon->api);
  daemon->api = NULL;
  daemon->drain_deadline = g_get_monotonic_time ()
                           + (gint64) (daemon->config->hooks.timeout * G_USEC_PER_SEC);
  daemon->drain_id = g_timeout_add (50, on_drain_tick, daemon);
  return G_SOURCE_CONTINUE;
}

static void
on_event (RhEvent *event, gpointer user_data)
{
  RhDaemon *daemon = user_data;
  if (daemon->local_hooks)
    rh_dispatcher_emit (daemon->dispatcher, event);
  if (daemon->event_log != NULL)
    rh_event_log_append (daemon->event_log, event);
}

static void
on_output_start (const RhAction *action, const char *rule_name, const RhEvent *event, const char *target,
                 gpointer user_data)
{
  RhDaemon *daemon = user_data;
  g_autofree char *app = rh_event_lookup (event, "app");
  g_autofree char *name = rh_event_lookup (event, "stream_name");
  if (app == NULL || name == NULL)
    return;
  RhOutputs *outputs = rh_server_get_outputs (daemon->server);
  if (action->kind == RH_ACTION_RECORD)
    rh_outputs_start_recording (outputs, rule_name, app, name, target);
  else
    rh_outputs_start_relay (outputs, rule_name, app, name, target, action->ca_database, action->tls_verify);
}

static RhCheckRequest *
on_check (RhEvent *request, RhVerdictFunc done, gpointer done_data, gpointer user_data)
{
  RhDaemon *daemon = user_data;
  return rh_check_runner_start (daemon->checks, request, done, done_data);
}

/* Recordings, relays and managed processes belong to a publish on a
 * node: a worker has none, and says which rules lose them. */
static void
warn_stream_actions (const RhHooksSettings *hooks)
{
  for (guint i = 0; hooks->rules != NULL && i < hooks->rules->len; i++)
    {
      const RhRule *rule = g_ptr_array_index (hooks->rules, i);
      for (guint a = 0; a < rule->actions->len; a++)
        {
          const RhAction *action = g_ptr_array_index (rule->actions, a);
          if (action->managed || action->kind == RH_ACTION_RECORD || action->kind == RH_ACTION_RELAY)
            {
              g_warning (_("rule \"%s\": recordings, relays and processes that live with a stream run only on "
                           "nodes; this hook worker skips them"), rule->name);
              break;
            }
        }
    }
}

static void
start_worker (RhDaemon *daemon)
{
  const RhConfig *config = daemon->config;
  warn_stream_actions (&config->hooks);
  daemon->worker = rh_worker_new (&config->cluster, &config->worker, daemon->dispatcher,
                                  (guint) config->hooks.concurrency * 2);
  rh_worker_start (daemon->worker);
  g_message (_("hook worker %s in group %s: reading the event log (%d streams) in Redis; no RTMP listener"),
             config->cluster.node_id, config->worker.group, config->cluster.events_shards);
}

static gboolean
on_reload_signal (gpointer user_data)
{
  rh_daemon_reload (user_data);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_stats_signal (gpointer user_data)
{
  RhDaemon *daemon = user_data;
  rh_server_log_stats (daemon->server);
  rh_dispatcher_log_stats (daemon->dispatcher);
  return G_SOURCE_CONTINUE;
}

int
rh_daemon_run (RhDaemon *daemon)
{
  g_autoptr (GError) error = NULL;

  /* A player that vanishes mid-write must cost an EPIPE, not the process. */
  signal (SIGPIPE, SIG_IGN);
  if (!rh_exec_adopt_orphans ())
    g_warning (_("cannot become a child subreaper: what hooks daemonize escapes timeouts and shutdown"));
  guint64 descriptors = rh_descriptors_raise_limit ();
  g_message (_("descriptor limit %" PRIu64 ": RTMP clients may hold %" PRIu64
               ", the rest is kept for hooks, recordings, relays and the HTTP API"),
             descriptors, rh_descriptors_get_client_share ((guint64) daemon->config->server.descriptor_reserve));

  daemon->dispatcher = rh_dispatcher_new (STDOUT_FILENO);
  rh_dispatcher_configure (daemon->dispatcher, &daemon->config->hooks);
  daemon->checks = rh_check_runner_new (daemon->dispatcher);
  rh_check_runner_configure (daemon->checks, &daemon->config->hooks);
  daemon->local_hooks = TRUE;
  if (daemon->config->cluster.enabled)
    rh_event_set_node_id (daemon->config->cluster.node_id);
  daemon->server = rh_server_new (daemon->config);
  rh_server_set_event_sink (daemon->server, on_event, on_check, daemon);
  if (daemon->config->worker.enabled)
    start_worker (daemon);
  else if (daemon->config->cluster.enabled)
    {
      /* Before the listeners: every publish claims its key. */
      daemon->directory = rh_directory_new (&daemon->config->cluster, daemon->server);
      rh_directory_start (daemon->directory);
      g_message (_("cluster: node %s, advertised as %s"), daemon->config->cluster.node_id,
                 daemon->config->cluster.advertise);
      if (daemon->config->cluster.events)
        {
          daemon->event_log = rh_event_log_new (&daemon->config->cluster, rh_directory_get_epoch, daemon->directory);
          rh_event_log_start (daemon->event_log);
          daemon->local_hooks = daemon->config->cluster.events_local_hooks;
          g_message (_("cluster: events go to the event log in Redis (%d streams)%s"),
                     daemon->config->cluster.events_shards,
                     daemon->local_hooks ? "" : _("; rules do not run on this node"));
        }
    }
  RhOutputStarter starter = { on_output_start, daemon };
  rh_dispatcher_set_outputs (daemon->dispatcher, &starter);
  if (!rh_server_apply_config (daemon->server, daemon->config, TRUE, &error))
    {
      g_critical ("%s", error->message);
      return 1;
    }
  daemon->api_sources.server = daemon->server;
  daemon->api_sources.dispatcher = daemon->dispatcher;
  daemon->api_sources.checks = daemon->checks;
  daemon->api_sources.directory = daemon->directory;
  daemon->api_sources.event_log = daemon->event_log;
  daemon->api_sources.worker = daemon->worker;
  daemon->api_sources.config_loaded_at = daemon->config->loaded_at;
  daemon->api_sources.started_at = g_get_real_time () / G_USEC_PER_SEC;
  daemon->api = rh_api_server_new (&daemon->api_sources);
  if (!rh_api_server_apply_config (daemon->api, &daemon->config->http, &error))
    {
      g_critical ("%s", error->message);
      return 1;
    }
  daemon->signal_ids[0] = g_unix_signal_add (SIGTERM, on_stop_signal, daemon);
  daemon->signal_ids[1] = g_unix_signal_add (SIGINT, on_stop_signal, daemon);
  daemon->signal_ids[2] = g_unix_signal_add (SIGHUP, on_reload_signal, daemon);
  daemon->signal_ids[3] = g_unix_signal_add (SIGUSR1, on_stats_signal, daemon);

  g_autofree char *pid_text = g_strdup_printf ("%d\n", (int) getpid ());
  if (daemon->pid_file != NULL && !g_file_set_contents (daemon->pid_file, pid_text, -1, &error))
    {
      g_critical (_("cannot write the pid file: %s"), error->message);
      return 1;
    }
  g_message (_("rtmphooksd %s started"), PACKAGE_VERSION);
  g_autofree char *status = status_text (daemon);
  rh_service_notify_ready (status);
  daemon->status_id = g_timeout_add_seconds (2, on_status_tick, daemon);
  g_main_loop_run (daemon->loop);
  /* Only ours: another daemon may have taken the file over since. */
  g_autofree char *in_file = NULL;
  if (daemon->pid_file != NULL && g_file_get_contents (daemon->pid_file, &in_file, NULL, NULL)
      && strcmp (in_file, pid_text) == 0)
    g_unlink (daemon->pid_file);
  g_message (_("stopped"));
  return daemon->exit_status;
}
