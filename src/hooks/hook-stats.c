#include "config.h"

#include "hook-stats.h"

#include <string.h>

const double rh_hook_duration_bounds[RH_HOOK_DURATION_BUCKETS] = {
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
};

struct _RhHookStats {
  GHashTable *rules;   /* name -> RhRuleStats* */
  const char *const *result_names;
};

static const char *const rule_result_names[RH_HOOK_N_RESULTS] = { "ok", "failed", "timeout" };

static void
rule_stats_free (gpointer data)
{
  RhRuleStats *stats = data;
  g_free (stats->rule);
  g_free (stats->last_error);
  g_free (stats);
}

RhHookStats *
rh_hook_stats_new_with_names (const char *const names[RH_HOOK_N_RESULTS])
{
  RhHookStats *stats = g_new0 (RhHookStats, 1);
  stats->rules = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, rule_stats_free);
  stats->result_names = names;
  return stats;
}

RhHookStats *
rh_hook_stats_new (void)
{
  return rh_hook_stats_new_with_names (rule_result_names);
}

void
rh_hook_stats_free (RhHookStats *stats)
{
  if (stats == NULL)
    return;
  g_hash_table_unref (stats->rules);
  g_free (stats);
}

static RhRuleStats *
rule_stats (RhHookStats *stats, const char *rule)
{
  RhRuleStats *entry = g_hash_table_lookup (stats->rules, rule);
  if (entry == NULL)
    {
      entry = g_new0 (RhRuleStats, 1);
      entry->rule = g_strdup (rule);
      g_hash_table_insert (stats->rules, entry->rule, entry);
    }
  return entry;
}

void
rh_hook_stats_record (RhHookStats *stats, const char *rule, RhHookResult result, double seconds,
                      const char *error)
{
  RhRuleStats *entry = rule_stats (stats, rule);
  entry->runs[result]++;
  guint bucket = 0;
  while (bucket < RH_HOOK_DURATION_BUCKETS && seconds > rh_hook_duration_bounds[bucket])
    bucket++;
  entry->buckets[bucket]++;
  entry->duration_sum += seconds;
  if (error != NULL)
    {
      g_free (entry->last_error);
      entry->last_error = g_strdup (error);
      entry->last_error_at = g_get_real_time ();
    }
}

void
rh_hook_stats_record_drop (RhHookStats *stats, const char *rule)
{
  rule_stats (stats, rule)->dropped++;
}

static gint
compare_rule (gconstpointer a, gconstpointer b)
{
  const RhRuleStats *x = *(const RhRuleStats *const *) a;
  const RhRuleStats *y = *(const RhRuleStats *const *) b;
  return strcmp (x->rule, y->rule);
}

GPtrArray *
rh_hook_stats_list (RhHookStats *stats)
{
  GPtrArray *list = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init (&iter, stats->rules);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (list, value);
  g_ptr_array_sort (list, compare_rule);
  return list;
}

const char *
rh_hook_stats_result_name (const RhHookStats *stats, int result)
{
  return stats->result_names[result];
}
