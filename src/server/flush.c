#include "config.h"

#include "flush.h"

typedef struct {
  GSource source;
  RhFlush *flush;
} FlushSource;

struct _RhFlush {
  GSource *source;
  GPtrArray *scheduled;   /* items waiting (ref'd) */
  GPtrArray *flushing;    /* the other of two arrays swapped per run */
  GFunc flush_item;
  gpointer (*ref) (gpointer);
  gpointer user_data;
  gint64 window;          /* microseconds a first scheduled item may wait */
};

static gboolean
flush_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  rh_flush_run (((FlushSource *) source)->flush);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs flush_funcs = { NULL, NULL, flush_dispatch, NULL, NULL, NULL };

RhFlush *
rh_flush_new (GFunc flush_item, gpointer (*ref) (gpointer), GDestroyNotify unref, gpointer user_data)
{
  RhFlush *flush = g_new0 (RhFlush, 1);
  flush->flush_item = flush_item;
  flush->ref = ref;
  flush->user_data = user_data;
  flush->scheduled = g_ptr_array_new_with_free_func (unref);
  flush->flushing = g_ptr_array_new_with_free_func (unref);
  flush->source = g_source_new (&flush_funcs, sizeof (FlushSource));
  ((FlushSource *) flush->source)->flush = flush;
  g_source_set_priority (flush->source, G_PRIORITY_DEFAULT);
  g_source_attach (flush->source, NULL);
  return flush;
}

void
rh_flush_free (RhFlush *flush)
{
  if (flush == NULL)
    return;
  g_source_destroy (flush->source);
  g_source_unref (flush->source);
  g_ptr_array_unref (flush->scheduled);
  g_ptr_array_unref (flush->flushing);
  g_free (flush);
}

void
rh_flush_set_window (RhFlush *flush, gint64 window_usec)
{
  flush->window = MAX (window_usec, 0);
}

gint64
rh_flush_get_window (RhFlush *flush)
{
  return flush->window;
}

void
rh_flush_schedule (RhFlush *flush, gpointer item)
{
  /* The first item of a round sets when the round goes out. */
  if (flush->scheduled->len == 0)
    g_source_set_ready_time (flush->source, flush->window == 0 ? 0
                                            : g_source_get_time (flush->source) + flush->window);
  g_ptr_array_add (flush->scheduled, flush->ref (item));
}

void
rh_flush_run (RhFlush *flush)
{
  /* Flushing can close items, which can schedule more: swap first. */
  GPtrArray *items = flush->scheduled;
  flush->scheduled = flush->flushing;
  g_source_set_ready_time (flush->source, -1);
  for (guint i = 0; i < items->len; i++)
    flush->flush_item (g_ptr_array_index (items, i), flush->user_data);
  g_ptr_array_set_size (items, 0);
  flush->flushing = items;
}
