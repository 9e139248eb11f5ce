/* Takes every event from the server and turns it into work: stdio output
 * at once (non-blocking), and one job per matching rule in a bounded FIFO
 * queue. At most `concurrency` jobs run at once; jobs start in event
 * order, so for one rule and one stream key a publish_stop action never
 * starts before the publish_start one; a rule with its own concurrency cap
 * holds back only its own jobs. A full queue drops with a counter and a
 * rate-limited log line. The media path never waits for a hook. */
#pragma once

#include "event.h"
#include "hook-stats.h"
#include "action-plan.h"
#include "hooks-settings.h"
#include "rule.h"
#include "stdio-output.h"
#include "webhook-action.h"

G_BEGIN_DECLS

typedef struct _RhDispatcher RhDispatcher;

RhDispatcher *rh_dispatcher_new (int stdout_fd);
void rh_dispatcher_free (RhDispatcher *dispatcher);

/* Rules and limits in force from now on; running jobs keep their rule. */
void rh_dispatcher_configure (RhDispatcher *dispatcher, const RhHooksSettings *settings);
void rh_dispatcher_emit (RhDispatcher *dispatcher, RhEvent *event);

/* What became of the actions one event started. */
typedef struct {
  guint actions;        /* hook actions it queued (exec and webhook) */
  guint failed;         /* of those: failed after their retries, timed out, or dropped (queue full) */
  const char *error;    /* the first failure's description, or NULL */
} RhDispatchOutcome;
typedef void (*RhDispatchDoneFunc) (const RhDispatchOutcome *outcome, gpointer user_data);
/* rh_dispatcher_emit, and done once every exec and webhook action the
 * event started has finished: what a hook worker waits for before it
 * acknowledges the event. done is called exactly once, before this
 * returns when the event starts no action. Not called if the dispatcher
 * is freed first. */
void rh_dispatcher_emit_tracked (RhDispatcher *dispatcher, RhEvent *event, RhDispatchDoneFunc done,
                                 gpointer user_data);

/* Recordings, relays and managed processes live with a publish on this
 * machine; a hook worker has no streams, so it turns them off (they are
 * skipped, and not counted as actions). On by default. */
void rh_dispatcher_set_stream_actions (RhDispatcher *dispatcher, gboolean enabled);

/* Who starts recordings and relays (the server): record and relay
 * actions of publish_start rules go there at once, with their path or URL
 * expanded for the event. */
typedef struct {
  void (*start) (const RhAction *action, const char *rule_name, const RhEvent *event, const char *target,
                 gpointer user_data);
  gpointer user_data;
} RhOutputStarter;
void rh_dispatcher_set_outputs (RhDispatcher *dispatcher, const RhOutputStarter *starter);

guint rh_dispatcher_get_running (RhDispatcher *dispatcher);
guint rh_dispatcher_get_queued (RhDispatcher *dispatcher);
void rh_dispatcher_log_stats (RhDispatcher *dispatcher);

typedef struct {
  guint64 events;          /* events produced */
  guint64 runs;            /* actions started */
  guint64 failures;
  guint64 timeouts;
  guint64 drops;           /* actions dropped: queue full */
  guint running;
  guint queued;
  guint64 stdio_written;
  guint64 stdio_dropped;
  guint processes;         /* managed, running or waiting to restart */
  guint64 process_starts;
  guint64 process_restarts;
  guint64 process_refused; /* over max_processes */
} RhDispatcherCounters;

void rh_dispatcher_get_counters (RhDispatcher *dispatcher, RhDispatcherCounters *counters);
/* What an action would do for an event, exactly as a job of this
 * dispatcher runs it (its default timeout and base environment). */
void rh_dispatcher_plan (RhDispatcher *dispatcher, const RhRule *rule, const RhAction *action,
                         const RhEvent *event, RhActionPlan *plan);

/* The client that posts webhooks (decision checks use it too). */
RhWebhookClient *rh_dispatcher_get_webhook_client (RhDispatcher *dispatcher);

/* Per-rule counters (the dispatcher's own). */
RhHookStats *rh_dispatcher_get_stats (RhDispatcher *dispatcher);
/* Flushes stdio output within timeout_ms (shutdown). */
void rh_dispatcher_drain_stdio (RhDispatcher *dispatcher, guint timeout_ms);

G_END_DECLS
