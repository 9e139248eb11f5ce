/* The process's descriptor limit (RLIMIT_NOFILE). Client connections
 * may use all of it but a reserve, so that hooks (pipes, a pidfd),
 * recordings, relays and the HTTP API still find descriptors when
 * clients have taken every one they may. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Raises the soft limit to the hard one, as far as the kernel allows:
 * a daemon serving thousands of players needs more than the usual 1024.
 * Returns the soft limit now. */
guint64 rh_descriptors_raise_limit (void);

/* The soft limit now (someone may have changed it with prlimit). */
guint64 rh_descriptors_get_limit (void);

/* How many descriptors client connections may hold with reserve kept
 * apart: the limit less the reserve, but at least half the limit. */
guint64 rh_descriptors_get_client_share (guint64 reserve);

G_END_DECLS
