#include "config.h"

#include "registry.h"

#include "events.h"
#include "server.h"
#include "stream.h"
#include <glib/gi18n.h>
#include "util/log.h"

struct _RhRegistry {
  RhServer *server;
  GHashTable *streams;  /* key -> RhStream */
};

RhRegistry *
rh_registry_new (RhServer *server)
{
  RhRegistry *registry = g_new0 (RhRegistry, 1);
  registry->server = server;
  registry->streams = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                             (GDestroyNotify) rh_stream_free);
  return registry;
}

void
rh_registry_free (RhRegistry *registry)
{
  if (registry == NULL)
    return;
  g_hash_table_unref (registry->streams);
  g_free (registry);
}

RhStream *
rh_registry_lookup (RhRegistry *registry, const char *app, const char *name)
{
  g_autofree char *key = g_strconcat (app, "/", name, NULL);
  return g_hash_table_lookup (registry->streams, key);
}

RhStream *
rh_registry_obtain (RhRegistry *registry, const char *app, const char *name)
{
  RhStream *stream = rh_registry_lookup (registry, app, name);
  if (stream != NULL)
    return stream;
  stream = rh_stream_new (registry, app, name);
  g_hash_table_insert (registry->streams, stream->key, stream);
  rh_log (G_LOG_LEVEL_INFO, NULL, stream->key, NULL, _("stream %s created"), stream->key);
  rh_events_stream_create (stream);
  return stream;
}

void
rh_registry_release (RhRegistry *registry, RhStream *stream)
{
  if (stream->publisher != NULL || stream->players->len > 0)
    return;
  rh_log (G_LOG_LEVEL_INFO, NULL, stream->key, NULL, _("stream %s deleted"), stream->key);
  rh_events_stream_delete (stream);
  g_hash_table_remove (registry->streams, stream->key);
}

guint
rh_registry_get_n_streams (RhRegistry *registry)
{
  return g_hash_table_size (registry->streams);
}

RhServer *
rh_registry_get_server (RhRegistry *registry)
{
  return registry->server;
}

const RhServerConfig *
rh_registry_get_server_config (RhRegistry *registry)
{
  return &rh_server_get_config (registry->server)->server;
}
