/* Events on standard output: "json" (RTMP_EVENT: <json>), "jsonl" (bare
 * JSON lines) or "env" (# RTMP Event: TYPE, KEY=VALUE lines, a blank
 * line). Writes never block: a slow reader fills a bounded buffer, past
 * which events are dropped, counted and logged. */
#pragma once

#include <glib.h>

#include "event.h"

G_BEGIN_DECLS

typedef enum {
  RH_STDIO_OFF,
  RH_STDIO_JSON,
  RH_STDIO_JSONL,
  RH_STDIO_ENV,
} RhStdioFormat;

gboolean rh_stdio_format_parse (const char *text, RhStdioFormat *format);

typedef struct _RhStdioOutput RhStdioOutput;

RhStdioOutput *rh_stdio_output_new (int fd, gsize max_buffered);
void rh_stdio_output_free (RhStdioOutput *output);

/* The formatted text of one event, newline-terminated. */
char *rh_stdio_format_event (RhStdioFormat format, const RhEvent *event);
void rh_stdio_output_write (RhStdioOutput *output, RhStdioFormat format, const RhEvent *event);

guint64 rh_stdio_output_get_written (const RhStdioOutput *output);
guint64 rh_stdio_output_get_dropped (const RhStdioOutput *output);
/* Tries, within timeout_ms, to write what is still buffered (shutdown). */
void rh_stdio_output_drain (RhStdioOutput *output, guint timeout_ms);

G_END_DECLS
