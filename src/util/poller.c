#include "config.h"

#include "poller.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Events taken per epoll_wait; more stay ready for the next turn. */
#define MAX_EVENTS 512

struct _RhPollerWatch {
  int fd;
  GIOCondition events;
  RhPollerFunc func;
  gpointer user_data;
  gboolean removed;
};

typedef struct {
  GSource source;
  RhPoller *poller;
} PollerSource;

struct _RhPoller {
  int epoll_fd;
  GSource *source;
  guint n_watches;
  gboolean dispatching;
  GPtrArray *removed;    /* watches unwatched during a dispatch, freed after it */
  struct epoll_event events[MAX_EVENTS];
};

static guint32
to_epoll (GIOCondition events)
{
  return ((events & G_IO_IN) ? EPOLLIN : 0) | ((events & G_IO_OUT) ? EPOLLOUT : 0);
}

static GIOCondition
from_epoll (guint32 events)
{
  return ((events & EPOLLIN) ? G_IO_IN : 0) | ((events & EPOLLOUT) ? G_IO_OUT : 0)
         | ((events & (EPOLLHUP | EPOLLRDHUP)) ? G_IO_HUP : 0) | ((events & EPOLLERR) ? G_IO_ERR : 0);
}

static gboolean
poller_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  RhPoller *poller = ((PollerSource *) source)->poller;
  int n = epoll_wait (poller->epoll_fd, poller->events, MAX_EVENTS, 0);

  poller->dispatching = TRUE;
  for (int i = 0; i < n; i++)
    {
      RhPollerWatch *watch = poller->events[i].data.ptr;
      /* Unwatched by an earlier callback of this round: its memory waits
       * in poller->removed, so the pointer is still good to test. */
      if (!watch->removed)
        watch->func (from_epoll (poller->events[i].events), watch->user_data);
    }
  poller->dispatching = FALSE;
  g_ptr_array_set_size (poller->removed, 0);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs poller_funcs = { NULL, NULL, poller_dispatch, NULL, NULL, NULL };

RhPoller *
rh_poller_new (void)
{
  RhPoller *poller = g_new0 (RhPoller, 1);
  poller->epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
  if (poller->epoll_fd < 0)
    g_error ("epoll_create1: %s", g_strerror (errno));
  poller->removed = g_ptr_array_new_with_free_func (g_free);
  poller->source = g_source_new (&poller_funcs, sizeof (PollerSource));
  ((PollerSource *) poller->source)->poller = poller;
  g_source_add_unix_fd (poller->source, poller->epoll_fd, G_IO_IN);
  g_source_set_priority (poller->source, G_PRIORITY_DEFAULT);
  g_source_attach (poller->source, g_main_context_get_thread_default ());
  return poller;
}

void
rh_poller_free (RhPoller *poller)
{
  if (poller == NULL)
    return;
  g_source_destroy (poller->source);
  g_source_unref (poller->source);
  g_ptr_array_unref (poller->removed);
  close (poller->epoll_fd);
  g_free (poller);
}

RhPollerWatch *
rh_poller_watch (RhPoller *poller, int fd, GIOCondition events, RhPollerFunc func, gpointer user_data)
{
  RhPollerWatch *watch = g_new0 (RhPollerWatch, 1);
  watch->fd = fd;
  watch->events = events;
  watch->func = func;
  watch->user_data = user_data;
  struct epoll_event event = { .events = to_epoll (events), .data.ptr = watch };
  if (epoll_ctl (poller->epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0)
    g_error ("epoll_ctl ADD %d: %s", fd, g_strerror (errno));
  poller->n_watches++;
  return watch;
}

void
rh_poller_modify (RhPoller *poller, RhPollerWatch *watch, GIOCondition events)
{
  if (watch->events == events)
    return;
  watch->events = events;
  struct epoll_event event = { .events = to_epoll (events), .data.ptr = watch };
  if (epoll_ctl (poller->epoll_fd, EPOLL_CTL_MOD, watch->fd, &event) < 0)
    g_error ("epoll_ctl MOD %d: %s", watch->fd, g_strerror (errno));
}

void
rh_poller_unwatch (RhPoller *poller, RhPollerWatch *watch)
{
  /* The fd may already be closed (then the kernel dropped it from the
   * set itself). */
  epoll_ctl (poller->epoll_fd, EPOLL_CTL_DEL, watch->fd, NULL);
  poller->n_watches--;
  watch->removed = TRUE;
  if (poller->dispatching)
    g_ptr_array_add (poller->removed, watch);
  else
    g_free (watch);
}

guint
rh_poller_get_n_watches (RhPoller *poller)
{
  return poller->n_watches;
}
