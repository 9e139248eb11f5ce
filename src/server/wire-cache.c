#include "config.h"

#include "wire-cache.h"

#include "protocol/chunk-writer.h"

void
rh_wire_cache_init (RhWireCache *cache, guint32 csid, guint8 type, guint32 timestamp,
                    GBytes *payload)
{
  cache->csid = csid;
  cache->type = type;
  cache->timestamp = timestamp;
  cache->payload = payload;
  cache->n_variants = 0;
}

GBytes *
rh_wire_cache_get (RhWireCache *cache, guint32 chunk_size, guint32 stream_id)
{
  for (guint i = 0; i < cache->n_variants; i++)
    {
      RhWireVariant *variant = &cache->variants[i];
      if (variant->chunk_size == chunk_size && variant->stream_id == stream_id)
        return variant->wire;
    }
  if (cache->n_variants == RH_WIRE_CACHE_VARIANTS)
    return NULL;

  RhWireVariant *variant = &cache->variants[cache->n_variants++];
  variant->chunk_size = chunk_size;
  variant->stream_id = stream_id;
  variant->wire = rh_chunk_serialize (chunk_size, cache->csid, cache->timestamp, cache->type,
                                      stream_id, cache->payload);
  return variant->wire;
}

void
rh_wire_cache_clear (RhWireCache *cache)
{
  for (guint i = 0; i < cache->n_variants; i++)
    g_bytes_unref (cache->variants[i].wire);
  cache->n_variants = 0;
  cache->payload = NULL;
}
