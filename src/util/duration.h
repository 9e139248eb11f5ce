/* Durations as operators write them: "30s", "500ms", "1m", "1h", plain
 * seconds ("2.5"), or several parts the way Go
 * writes them ("1m30s", "1h15m", "1.5s250ms"). Units: ns, us (or µs), ms,
 * s, m, h. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean rh_duration_parse (const char *text, double *seconds);

G_END_DECLS
