/* Decision checks: before the server accepts a connect, publish or play,
 * the checks matching the request run one after another (exec or webhook,
 * each with its timeout) and the first deny wins. The client waits; the
 * main loop does not. A check that fails to answer (timeout, crash,
 * unreachable, an unexpected status) follows its on_error policy. */
#pragma once

#include "dispatcher.h"
#include "event.h"
#include "hook-stats.h"

G_BEGIN_DECLS

/* Check outcomes, as RhHookStats results. */
enum {
  RH_CHECK_ALLOWED,
  RH_CHECK_DENIED,
  RH_CHECK_ERROR,
};

typedef struct {
  gboolean allowed;
  const char *check;        /* the check that decided (denied or renamed); NULL if none */
  const char *stream_name;  /* publish/play renamed to this; NULL keeps the name */
  const char *reason;       /* for the log and the client; NULL if none */
} RhVerdict;

typedef void (*RhVerdictFunc) (const RhVerdict *verdict, gpointer user_data);

typedef struct _RhCheckRunner RhCheckRunner;
typedef struct _RhCheckRequest RhCheckRequest;

/* Plans actions and posts webhooks through dispatcher, which must
 * outlive the runner. */
RhCheckRunner *rh_check_runner_new (RhDispatcher *dispatcher);
void rh_check_runner_free (RhCheckRunner *runner);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RhCheckRunner, rh_check_runner_free)
/* The checks in force from now on; running requests keep theirs. */
void rh_check_runner_configure (RhCheckRunner *runner, const RhHooksSettings *settings);

/* NULL when no check matches request (a connect, publish or play event):
 * allowed at once. Otherwise done is called once, later, unless the
 * request is cancelled first. */
RhCheckRequest *rh_check_runner_start (RhCheckRunner *runner, RhEvent *request,
                                       RhVerdictFunc done, gpointer user_data);
/* The client went away: done is not called; a running action finishes
 * (or times out) unobserved. */
void rh_check_request_cancel (RhCheckRequest *request);

/* The checks that match request, in order (dry run). */
GPtrArray *rh_check_runner_matching (RhCheckRunner *runner, const RhEvent *request);

/* Per-check counters: results "allowed", "denied", "error". */
RhHookStats *rh_check_runner_get_stats (RhCheckRunner *runner);
guint rh_check_runner_get_running (RhCheckRunner *runner);

G_END_DECLS
