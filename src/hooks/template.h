/* Templates in rule values, expanded per event (each argv element on its
 * own, never through a shell):
 *   ${field} ${data.field}   an event field (type, timestamp, id, conn_id,
 *                            stream_key, or a data field)
 *   ${env.NAME}              the daemon's environment at expansion time
 *   ${field:-default}        default when the field is absent or empty
 *   ${field|url}             a filter: url, json, upper, lower, or raw
 *                            (as it is, in a URL template)
 *   $$                       a literal $
 * Pure code. */
#pragma once

#include <glib.h>

#include "event.h"

G_BEGIN_DECLS

typedef struct _RhTemplate RhTemplate;

RhTemplate *rh_template_new (const char *text, GError **error);
/* A template for a URL: every value is percent-encoded unless it says
 * |raw (or another filter), so a client's string cannot add a path
 * segment, a query or a fragment. */
RhTemplate *rh_template_new_url (const char *text, GError **error);
/* A template that expands to text as it is ("$" included). */
RhTemplate *rh_template_new_literal (const char *text);
void rh_template_free (RhTemplate *template_);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RhTemplate, rh_template_free)

const char *rh_template_get_text (const RhTemplate *template_);
gboolean rh_template_is_literal (const RhTemplate *template_);

/* Calls func for each event field the template uses without a default
 * (env.* excluded), so a loader can check that the events carry them. */
void rh_template_foreach_required_field (const RhTemplate *template_,
                                         void (*func) (const char *field, gpointer user_data),
                                         gpointer user_data);

/* Calls func with NAME for each ${env.NAME} the template reads. */
void rh_template_foreach_env (const RhTemplate *template_, void (*func) (const char *name, gpointer user_data),
                              gpointer user_data);

char *rh_template_expand (const RhTemplate *template_, const RhEvent *event);

G_END_DECLS
