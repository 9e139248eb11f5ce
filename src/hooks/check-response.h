/* What a decision check answered, beyond allow or deny: an optional JSON
 * object {"stream_name": "...", "reason": "..."} on an exec check's first
 * line of stdout or in a webhook check's body. Anything else (no object,
 * bad JSON, other members, other types) is no answer, never an error. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A longer answer is no answer (it also bounds the JSON parser's
 * nesting); a reason is cut to RH_CHECK_REASON_MAX bytes. */
#define RH_CHECK_ANSWER_MAX 4096
#define RH_CHECK_REASON_MAX 256

typedef struct {
  char *stream_name;   /* NULL: keep the requested name */
  char *reason;        /* NULL: none; valid UTF-8 without control characters */
} RhCheckAnswer;

void rh_check_answer_parse (const char *data, gsize len, RhCheckAnswer *answer);
void rh_check_answer_clear (RhCheckAnswer *answer);

G_END_DECLS
