/* libFuzzer harness for what a hook worker reads from the fleet's event
 * log: an entry's JSON envelope, as any program with access to Redis may
 * have written it. An event the parser accepts must be one the rest of
 * the hook engine can take: written back to JSON it parses again to the
 * same event, and its id is fit for a header. */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "hooks/event-json.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autofree char *why = NULL;
  g_autoptr (RhEvent) event = rh_event_from_json ((const char *) data, size, &why);
  if (event == NULL)
    {
      if (why == NULL)
        __builtin_trap ();
      return 0;
    }
  if (why != NULL || strpbrk (event->id, "\r\n ") != NULL || strlen (event->id) > RH_EVENT_ID_MAX)
    __builtin_trap ();
  g_autofree char *json = rh_event_to_json (event);
  g_autofree char *why_again = NULL;
  g_autoptr (RhEvent) again = rh_event_from_json (json, strlen (json), &why_again);
  if (again == NULL)
    __builtin_trap ();
  g_autofree char *json_again = rh_event_to_json (again);
  if (strcmp (json, json_again) != 0)
    __builtin_trap ();
  g_auto (GStrv) environment = rh_event_to_environment (event);
  if (environment == NULL || environment[0] == NULL)
    __builtin_trap ();
  return 0;
}
