/* What the hook engine has done, per rule: runs by result, a duration
 * histogram and the last error. Kept by rule name, so the counts survive
 * a reload that keeps the rule. Read by SIGUSR1's log line and the HTTP
 * API's /metrics and /api/v1/hooks. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  RH_HOOK_RESULT_OK,
  RH_HOOK_RESULT_FAILED,
  RH_HOOK_RESULT_TIMEOUT,
  RH_HOOK_N_RESULTS,
} RhHookResult;

/* Upper bounds of the duration histogram's buckets, in seconds (+Inf is
 * implicit). */
#define RH_HOOK_DURATION_BUCKETS 12
extern const double rh_hook_duration_bounds[RH_HOOK_DURATION_BUCKETS];

typedef struct {
  char *rule;
  guint64 runs[RH_HOOK_N_RESULTS];
  guint64 dropped;                                   /* queue full */
  guint64 buckets[RH_HOOK_DURATION_BUCKETS + 1];     /* not cumulative; last is +Inf */
  double duration_sum;                               /* seconds */
  char *last_error;                                  /* NULL: none yet */
  gint64 last_error_at;                              /* real time, microseconds */
} RhRuleStats;

typedef struct _RhHookStats RhHookStats;

/* Results named "ok", "failed", "timeout". */
RhHookStats *rh_hook_stats_new (void);
/* Results named otherwise (a decision check's "allowed", "denied", "error"). */
RhHookStats *rh_hook_stats_new_with_names (const char *const names[RH_HOOK_N_RESULTS]);
void rh_hook_stats_free (RhHookStats *stats);

void rh_hook_stats_record (RhHookStats *stats, const char *rule, RhHookResult result,
                           double seconds, const char *error);
void rh_hook_stats_record_drop (RhHookStats *stats, const char *rule);

/* Rules in name order. */
GPtrArray *rh_hook_stats_list (RhHookStats *stats);   /* const RhRuleStats*, container only */

const char *rh_hook_stats_result_name (const RhHookStats *stats, int result);

G_END_DECLS
