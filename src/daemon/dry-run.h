/* rtmphooksd --fire EVENT [key=value ...] [--run]: a synthetic event put
 * through the configuration's rules (or, for connect, publish and play,
 * its decision checks). Prints the event, which rules it
 * matches, and exactly what each matching action would do (argv,
 * environment and stdin; URL, headers and body); with run, does it once
 * and prints each rule's result. An operator tests a rule without a
 * stream. */
#pragma once

#include "config/settings.h"

G_BEGIN_DECLS

/* Returns the exit status: 0, 1 when an action failed or a check denied,
 * 2 on bad input. */
int rh_dry_run (RhConfig *config, const char *event_name, const char *const *assignments,
                gboolean run);

G_END_DECLS
