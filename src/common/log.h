/* Structured logging to stderr (or the journal); stdout is kept for event
 * output. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Accepts error, warning, notice, info, debug. */
gboolean rh_log_level_parse (const char *name, GLogLevelFlags *level);
void rh_log_init (GLogLevelFlags level);
gboolean rh_log_enabled (GLogLevelFlags level);

G_END_DECLS
