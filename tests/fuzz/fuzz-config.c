/* libFuzzer harness for the configuration loader: any bytes as
 * /etc/rtmphooks.conf. A file must load or be refused with errors; never
 * crash (what -t and SIGHUP do with it). A file that loads then meets
 * one event of every type, every field filled: each rule and check is
 * matched against it and each matching action planned as the daemon
 * would run it (argv, environment, URL, headers, body), without running
 * anything. What -t accepts must not crash at run time. */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config/settings.h"
#include "hooks/dispatcher.h"
#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

/* An event of type with every field its schema lists. */
static RhEvent *
full_event (RhEventType type)
{
  static const char *const names[] = {
    "client_ip", "client_port", "server_ip", "server_port", "handshake", "duration_seconds",
    "bytes_received", "bytes_sent", "reason", "app", "stream_name", "publish_type", "tc_url", "query",
    "video_packets", "audio_packets", "track", "codec", "rule", "pid", "exit_status", "signal",
    "restarts", "flash_ver", NULL
  };
  gboolean has_key = rh_event_type_has_field (type, "stream_key", NULL);
  RhEvent *event = rh_event_new (type, "c000001", has_key ? "live/cam1" : NULL);
  for (const char *const *name = names; *name != NULL; name++)
    {
      RhFieldType field_type;
      if (!rh_event_type_has_field (type, *name, &field_type))
        continue;
      if (field_type == RH_FIELD_NUMBER)
        rh_event_add_number (event, *name, 42);
      else if (field_type == RH_FIELD_IP)
        rh_event_add_string (event, *name, "10.1.2.3");
      else
        rh_event_add_string (event, *name, "a b/../$(id)\n\"x\"?k=v&y");
    }
  return event;
}

static void
plan_all (RhDispatcher *dispatcher, GPtrArray *rules, RhEvent *event)
{
  for (guint i = 0; i < rules->len; i++)
    {
      RhRule *rule = g_ptr_array_index (rules, i);
      if (!rh_rule_matches (rule, event))
        continue;
      for (guint a = 0; a < rule->actions->len; a++)
        {
          RhActionPlan plan;
          rh_dispatcher_plan (dispatcher, rule, g_ptr_array_index (rule->actions, a), event, &plan);
          if (plan.argv != NULL && plan.argv[0] == NULL)
            __builtin_trap ();   /* an exec with nothing to run */
          rh_action_plan_clear (&plan);
        }
    }
}

static char *path;

static void
remove_file (void)
{
  g_unlink (path);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  if (path == NULL)
    {
      int fd = g_file_open_tmp ("rtmphooks-fuzz-XXXXXX.conf", &path, NULL);
      g_assert (fd >= 0);
      close (fd);
      atexit (remove_file);
    }
  g_assert (g_file_set_contents (path, (const char *) data, (gssize) size, NULL));
  GPtrArray *errors = g_ptr_array_new_with_free_func (g_free);
  RhConfig *config = rh_config_load (path, TRUE, NULL, errors);
  /* Loaded, or refused with at least one error: never both, never neither. */
  g_assert ((config != NULL) == (errors->len == 0));
  if (config != NULL)
    {
      RhDispatcher *dispatcher = rh_dispatcher_new (-1);
      rh_dispatcher_configure (dispatcher, &config->hooks);
      for (int type = 0; type < RH_EVENT_N_TYPES; type++)
        {
          RhEvent *event = full_event ((RhEventType) type);
          plan_all (dispatcher, config->hooks.rules, event);
          plan_all (dispatcher, config->hooks.checks, event);
          rh_event_unref (event);
        }
      rh_dispatcher_free (dispatcher);
    }
  rh_config_unref (config);
  g_ptr_array_unref (errors);
  return 0;
}
