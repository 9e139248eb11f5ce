/* The write scheduler: each scheduled item is flushed once per round; with
 * a merge window the round waits for the window, counted from its first
 * item. */
#include "config.h"

#include "server/flush.h"

typedef struct {
  gint refs;
  guint flushed;
} Item;

static gpointer
item_ref (gpointer data)
{
  ((Item *) data)->refs++;
  return data;
}

static void
item_unref (gpointer data)
{
  ((Item *) data)->refs--;
}

static void
flush_item (gpointer data, gpointer user_data)
{
  ((Item *) data)->flushed++;
}

static void
iterate (void)
{
  g_main_context_iteration (NULL, FALSE);
}

static void
test_immediate (void)
{
  RhFlush *flush = rh_flush_new (flush_item, item_ref, item_unref, NULL);
  Item a = { 0 }, b = { 0 };
  iterate ();
  g_assert_cmpuint (a.flushed, ==, 0);
  rh_flush_schedule (flush, &a);
  rh_flush_schedule (flush, &b);
  g_assert_cmpint (a.refs, ==, 1);
  iterate ();
  g_assert_cmpuint (a.flushed, ==, 1);
  g_assert_cmpuint (b.flushed, ==, 1);
  g_assert_cmpint (a.refs, ==, 0);
  iterate ();
  g_assert_cmpuint (a.flushed, ==, 1);

  /* Run by hand: at once. */
  rh_flush_schedule (flush, &a);
  rh_flush_run (flush);
  g_assert_cmpuint (a.flushed, ==, 2);
  rh_flush_free (flush);
}

static gboolean
on_timeout (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
test_window (void)
{
  RhFlush *flush = rh_flush_new (flush_item, item_ref, item_unref, NULL);
  Item a = { 0 }, b = { 0 };
  rh_flush_set_window (flush, 200 * 1000);
  g_assert_cmpint (rh_flush_get_window (flush), ==, 200 * 1000);

  gint64 start = g_get_monotonic_time ();
  rh_flush_schedule (flush, &a);
  iterate ();
  /* Joining in the middle of the window: same round. */
  rh_flush_schedule (flush, &b);
  iterate ();
  if (g_get_monotonic_time () - start < 150 * 1000)
    g_assert_cmpuint (a.flushed + b.flushed, ==, 0);
  while (a.flushed == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 200 * 1000);
  g_assert_cmpuint (a.flushed, ==, 1);
  g_assert_cmpuint (b.flushed, ==, 1);
  g_assert_cmpint (a.refs + b.refs, ==, 0);

  /* Nothing scheduled: no wake-up, nothing flushed. */
  gboolean expired = FALSE;
  g_timeout_add (300, on_timeout, &expired);
  while (!expired)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (a.flushed, ==, 1);
  rh_flush_free (flush);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/flush/immediate", test_immediate);
  g_test_add_func ("/flush/window", test_window);
  return g_test_run ();
}
