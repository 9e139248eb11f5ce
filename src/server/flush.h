/* Writes queued during one main loop turn go out together: items (the
 * connections) are scheduled once, and flushed all at once either when
 * the caller asks (right after reading, so fan-out leaves at once) or by
 * a GSource that is ready whenever something is scheduled. It knows
 * nothing of what an item is. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _RhFlush RhFlush;

/* flush is called once per scheduled item; ref/unref keep items alive
 * while they wait. */
RhFlush *rh_flush_new (GFunc flush, gpointer (*ref) (gpointer), GDestroyNotify unref,
                       gpointer user_data);
void rh_flush_free (RhFlush *flush);

/* The merge window: items scheduled in one round wait up to window_usec
 * after the first of them, so that each gets one write for everything
 * queued meanwhile (0, the default: the round goes out at the next main
 * loop turn). */
void rh_flush_set_window (RhFlush *flush, gint64 window_usec);
gint64 rh_flush_get_window (RhFlush *flush);

void rh_flush_schedule (RhFlush *flush, gpointer item);
/* Flushes everything scheduled, now. */
void rh_flush_run (RhFlush *flush);

G_END_DECLS
