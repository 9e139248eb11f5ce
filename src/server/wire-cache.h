/* One media message's wire bytes, chunked once per (chunk size, message
 * stream id) and shared by reference by every player that sends with
 * those parameters, the way nginx-rtmp shares its chains: a player's write
 * is then one vector into a buffer all players hold, with no per-player
 * formatting. Lives for one fan-out. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Players of one stream nearly always share one variant; more than this
 * many distinct parameter sets fall back to per-player chunking. */
#define RH_WIRE_CACHE_VARIANTS 4

typedef struct {
  guint32 chunk_size;
  guint32 stream_id;
  GBytes *wire;
} RhWireVariant;

typedef struct {
  guint32 csid;
  guint8 type;
  guint32 timestamp;
  GBytes *payload;            /* borrowed for the cache's lifetime */
  guint n_variants;
  RhWireVariant variants[RH_WIRE_CACHE_VARIANTS];
} RhWireCache;

void rh_wire_cache_init (RhWireCache *cache, guint32 csid, guint8 type, guint32 timestamp,
                         GBytes *payload);
/* The message chunked at chunk_size for stream_id, built at the first
 * request (borrowed: valid until rh_wire_cache_clear; take a reference to
 * keep it). NULL when every variant slot is taken by other parameters. */
GBytes *rh_wire_cache_get (RhWireCache *cache, guint32 chunk_size, guint32 stream_id);
void rh_wire_cache_clear (RhWireCache *cache);

G_END_DECLS
