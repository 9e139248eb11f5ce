/* Logging to stderr, or to the journal with structured fields when stderr
 * is the journal; stdout is kept for event output. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Accepts error, warning, notice, info, debug. */
gboolean rh_log_level_parse (const char *name, GLogLevelFlags *level);
/* Journal records when stderr is connected to journald (JOURNAL_STREAM),
 * otherwise "TIME rtmphooksd[PID] LEVEL: MESSAGE" lines with UTC time. */
void rh_log_init (GLogLevelFlags level);
/* The same with the choice made by the caller; journal records go to
 * journal_writer (GLib's journald writer when NULL). For tests. */
void rh_log_init_full (GLogLevelFlags level, gboolean to_journal, GLogWriterFunc journal_writer,
                       gpointer journal_data);
gboolean rh_log_enabled (GLogLevelFlags level);

/* A log line about a connection, a stream or a hook rule (each may be
 * NULL). In the journal they are the fields RTMP_CONN_ID, RTMP_STREAM_KEY
 * and RTMP_RULE, so that journalctl RTMP_STREAM_KEY=live/cam finds them. */
void rh_log (GLogLevelFlags level, const char *conn_id, const char *stream_key, const char *rule,
             const char *format, ...) G_GNUC_PRINTF (5, 6);

/* How much of one client-supplied string a log line shows. */
#define RH_LOG_TEXT_MAX 256

/* Client text made safe for one log line: escaped, cut (free it). */
char *rh_log_quote (const char *text);
/* The same, with query values and a URL's password replaced by "***". */
char *rh_log_mask_secrets (const char *text);
/* text with every occurrence of each of values (secrets the daemon holds:
 * tokens, webhook keys) replaced by "***". */
char *rh_log_mask_values (const char *text, const char *const *values);

G_END_DECLS
