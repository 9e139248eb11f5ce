/* Every stream key with a publisher or a waiting player. */
#pragma once

#include "common/configuration.h"
#include "types.h"

G_BEGIN_DECLS

RhRegistry *rh_registry_new (RhServer *server);
void rh_registry_free (RhRegistry *registry);

/* The stream for app/name, created (empty) if there is none. */
RhStream *rh_registry_obtain (RhRegistry *registry, const char *app, const char *name);
RhStream *rh_registry_lookup (RhRegistry *registry, const char *app, const char *name);
/* Forgets the stream if it has neither publisher nor players any more. */
void rh_registry_release (RhRegistry *registry, RhStream *stream);

guint rh_registry_get_n_streams (RhRegistry *registry);
RhServer *rh_registry_get_server (RhRegistry *registry);
const RhServerConfig *rh_registry_get_server_config (RhRegistry *registry);

G_END_DECLS
