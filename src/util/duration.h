/* Durations as operators write them: "30s", "500ms", "1m", "1h" or plain
 * seconds ("2.5"). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean rh_duration_parse (const char *text, double *seconds);

G_END_DECLS
