/* The epoll-backed source: only ready descriptors are dispatched, watches
 * can be changed and removed from inside callbacks, and a removed watch is
 * never called again. */
#include "config.h"

#include <sys/socket.h>
#include <unistd.h>

#include "util/poller.h"

enum { N_PAIRS = 300 };

typedef struct {
  RhPoller *poller;
  RhPollerWatch *watch;
  int fds[2];         /* [0] watched, [1] the peer the test writes into */
  guint calls;
  GIOCondition last;
  gboolean drain;     /* read what is there (level-triggered otherwise) */
  gboolean unwatch_self;
  struct Pair *victim;  /* unwatched by this pair's callback */
} Pair;

static void
on_ready (GIOCondition ready, gpointer user_data)
{
  Pair *pair = user_data;
  pair->calls++;
  pair->last = ready;
  if (pair->drain && (ready & G_IO_IN))
    {
      char buffer[64];
      g_assert_cmpint (read (pair->fds[0], buffer, sizeof buffer), >, 0);
    }
  if (pair->victim != NULL && ((Pair *) pair->victim)->watch != NULL)
    {
      Pair *victim = (Pair *) pair->victim;
      rh_poller_unwatch (pair->poller, victim->watch);
      victim->watch = NULL;
    }
  if (pair->unwatch_self)
    {
      rh_poller_unwatch (pair->poller, pair->watch);
      pair->watch = NULL;
    }
}

static void
run_once (void)
{
  /* One main loop turn without blocking: everything ready is
   * dispatched once (level-triggered data left unread stays ready, so
   * looping until idle would never end). */
  g_main_context_iteration (NULL, FALSE);
}

static Pair *
pairs_new (RhPoller *poller)
{
  Pair *pairs = g_new0 (Pair, N_PAIRS);
  for (int i = 0; i < N_PAIRS; i++)
    {
      g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pairs[i].fds), ==, 0);
      pairs[i].poller = poller;
      pairs[i].drain = TRUE;
      pairs[i].watch = rh_poller_watch (poller, pairs[i].fds[0], G_IO_IN, on_ready, &pairs[i]);
    }
  return pairs;
}

static void
pairs_free (Pair *pairs)
{
  for (int i = 0; i < N_PAIRS; i++)
    {
      if (pairs[i].watch != NULL)
        rh_poller_unwatch (pairs[i].poller, pairs[i].watch);
      close (pairs[i].fds[0]);
      close (pairs[i].fds[1]);
    }
  g_free (pairs);
}

/* Of 300 watched sockets, exactly the 3 written to are dispatched. */
static void
test_only_ready (void)
{
  RhPoller *poller = rh_poller_new ();
  Pair *pairs = pairs_new (poller);
  g_assert_cmpuint (rh_poller_get_n_watches (poller), ==, N_PAIRS);

  run_once ();
  for (int i = 0; i < N_PAIRS; i++)
    g_assert_cmpuint (pairs[i].calls, ==, 0);

  const int ready[] = { 0, 150, 299 };
  for (gsize k = 0; k < G_N_ELEMENTS (ready); k++)
    g_assert_cmpint (write (pairs[ready[k]].fds[1], "x", 1), ==, 1);
  run_once ();
  for (int i = 0; i < N_PAIRS; i++)
    {
      gboolean expected = i == 0 || i == 150 || i == 299;
      g_assert_cmpuint (pairs[i].calls, ==, expected ? 1 : 0);
      if (expected)
        g_assert_true (pairs[i].last & G_IO_IN);
    }

  /* Level-triggered: data left unread is reported again. */
  pairs[7].drain = FALSE;
  g_assert_cmpint (write (pairs[7].fds[1], "y", 1), ==, 1);
  run_once ();
  run_once ();
  g_assert_cmpuint (pairs[7].calls, >=, 2);

  /* A hang-up is reported. */
  pairs[8].drain = FALSE;
  close (pairs[8].fds[1]);
  pairs[8].fds[1] = socket (AF_UNIX, SOCK_STREAM, 0);  /* something to close later */
  run_once ();
  g_assert_true (pairs[8].last & G_IO_HUP);
  rh_poller_unwatch (poller, pairs[8].watch);
  pairs[8].watch = NULL;

  pairs_free (pairs);
  g_assert_cmpuint (rh_poller_get_n_watches (poller), ==, 0);
  rh_poller_free (poller);
}

/* Writability on demand: G_IO_OUT only while asked for. */
static void
test_modify (void)
{
  RhPoller *poller = rh_poller_new ();
  Pair *pairs = pairs_new (poller);

  rh_poller_modify (poller, pairs[3].watch, G_IO_IN | G_IO_OUT);
  run_once ();
  g_assert_cmpuint (pairs[3].calls, >=, 1);
  g_assert_true (pairs[3].last & G_IO_OUT);
  rh_poller_modify (poller, pairs[3].watch, G_IO_IN);
  guint calls = pairs[3].calls;
  run_once ();
  g_assert_cmpuint (pairs[3].calls, ==, calls);

  pairs_free (pairs);
  rh_poller_free (poller);
}

/* Removing watches from callbacks: a watch unwatched by another's
 * callback in the same round is not called, and a watch may remove
 * itself. */
static void
test_remove_during_dispatch (void)
{
  RhPoller *poller = rh_poller_new ();
  Pair *pairs = pairs_new (poller);

  /* Every pair is ready; each even pair removes the next odd one. Which
   * of the two epoll reports first is unknown, so: an odd pair may have
   * been called before its removal, but never after. */
  for (int i = 0; i < N_PAIRS; i += 2)
    pairs[i].victim = (struct Pair *) &pairs[i + 1];
  for (int i = 0; i < N_PAIRS; i++)
    {
      pairs[i].drain = FALSE;
      g_assert_cmpint (write (pairs[i].fds[1], "z", 1), ==, 1);
    }
  run_once ();
  guint odd_calls = 0;
  for (int i = 1; i < N_PAIRS; i += 2)
    {
      g_assert_null (pairs[i].watch);
      odd_calls += pairs[i].calls;
    }
  for (int i = 0; i < N_PAIRS; i += 2)
    g_assert_cmpuint (pairs[i].calls, >=, 1);
  run_once ();
  guint odd_after = 0;
  for (int i = 1; i < N_PAIRS; i += 2)
    odd_after += pairs[i].calls;
  g_assert_cmpuint (odd_after, ==, odd_calls);
  g_assert_cmpuint (rh_poller_get_n_watches (poller), ==, N_PAIRS / 2);

  /* Self-removal. */
  pairs[0].unwatch_self = TRUE;
  pairs[0].victim = NULL;
  guint calls = pairs[0].calls;
  run_once ();
  g_assert_cmpuint (pairs[0].calls, ==, calls + 1);
  g_assert_null (pairs[0].watch);
  run_once ();
  g_assert_cmpuint (pairs[0].calls, ==, calls + 1);

  pairs_free (pairs);
  rh_poller_free (poller);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/poller/only-ready", test_only_ready);
  g_test_add_func ("/poller/modify", test_modify);
  g_test_add_func ("/poller/remove-during-dispatch", test_remove_during_dispatch);
  return g_test_run ();
}
