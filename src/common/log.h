/* Structured logging to stderr (or the journal); stdout is kept for event
 * output. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Accepts error, warning, notice, info, debug. */
gboolean rh_log_level_parse (const char *name, GLogLevelFlags *level);
void rh_log_init (GLogLevelFlags level);
gboolean rh_log_enabled (GLogLevelFlags level);

/* How much of one client-supplied string a log line shows. */
#define RH_LOG_TEXT_MAX 256

/* Client text made safe for one log line: escaped, cut (free it). */
char *rh_log_quote (const char *text);
/* The same, with query values and a URL's password replaced by "***". */
char *rh_log_mask_secrets (const char *text);

G_END_DECLS
