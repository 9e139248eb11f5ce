/* One GSource for many descriptors (every client socket; every hook's
 * pipes and pidfd): an epoll set that the main loop polls as a single
 * descriptor, dispatching only those that are ready. With thousands of
 * connections, a GSource per socket makes every loop turn cost poll()
 * over all of them plus a check per source; this costs what the ready
 * ones cost. Adding or removing one is an epoll_ctl, where GLib's own
 * descriptor sources also wake the main loop for an extra turn.
 * Level-triggered, like GLib's own sources, so a callback may leave data
 * unread. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _RhPoller RhPoller;
typedef struct _RhPollerWatch RhPollerWatch;

/* ready holds G_IO_IN, G_IO_OUT, G_IO_HUP, G_IO_ERR as epoll reported. */
typedef void (*RhPollerFunc) (GIOCondition ready, gpointer user_data);

/* Attached to the thread-default main context. */
RhPoller *rh_poller_new (void);
void rh_poller_free (RhPoller *poller);

/* Watches fd for events (G_IO_IN and/or G_IO_OUT; hang-ups and errors
 * are always reported). */
RhPollerWatch *rh_poller_watch (RhPoller *poller, int fd, GIOCondition events, RhPollerFunc func,
                                gpointer user_data);
void rh_poller_modify (RhPoller *poller, RhPollerWatch *watch, GIOCondition events);
/* Stops watching. Safe from any callback, including the watch's own: a
 * removed watch is never called again, even if it was ready in the same
 * round. */
void rh_poller_unwatch (RhPoller *poller, RhPollerWatch *watch);

guint rh_poller_get_n_watches (RhPoller *poller);

G_END_DECLS
