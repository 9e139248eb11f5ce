/* A live stream key: at most one publisher, any number of players, and the
 * caches a late joiner needs (metadata, sequence headers, the current GOP).
 * Media payloads are shared by reference with every player's send queue. */
#pragma once

#include <glib.h>

#include "output.h"
#include "reason.h"
#include "slow-player.h"
#include "track-rate.h"
#include "types.h"
#include "protocol/codec-details.h"

G_BEGIN_DECLS

/* What a stream needs from the configuration, held by value: the media
 * path reads it per packet without asking anyone. */
typedef struct {
  gboolean gop_cache;
  gsize gop_cache_max_bytes;
  RhSlowPlayerLimits slow_player;
} RhStreamPolicy;

/* What a stream tells its owner (the registry). */
typedef struct {
  /* track is "video" or "audio"; details what its configuration says. */
  void (*codec_detected) (RhStream *stream, const char *track, const char *codec,
                          const RhCodecDetails *details, gpointer owner);
} RhStreamObserver;

struct _RhPublisher {
  RhConnection *connection;
  RhStream *stream;
  guint32 stream_id;          /* RTMP message stream id on the connection */
  char *query;
  char *publish_type;         /* "live", "record", "append" */
  gint64 started_at;          /* monotonic microseconds */
  guint64 bytes_received;
  guint64 video_packets;
  guint64 audio_packets;
  gboolean media_started;
  gint64 last_media_at;       /* monotonic microseconds */
  gint64 stalled_since;       /* last media before a reported stall; 0: flowing */
  guint relay_hops;           /* relays the stream crossed to get here; 0 from an encoder */
  gboolean claimed;           /* in a fleet: the directory granted the key (release it at the end) */
  gint64 epoch;               /* in a fleet: the directory's fencing epoch of the claim; 0 otherwise */
};

struct _RhPlayer {
  RhConnection *connection;
  RhStream *stream;
  guint32 stream_id;
  char *query;
  gint64 started_at;
  guint64 bytes_sent;
  RhPlayerPacing pacing;      /* the slow-player state: skipping, drops */
  gboolean paused;
  gboolean is_pull;           /* another rtmphooksd pulling (or relaying): no play events */
};

struct _RhStream {
  RhStreamPolicy policy;
  const RhStreamObserver *observer;
  gpointer observer_data;
  char *key;                  /* "app/name" */
  char *app;
  char *name;
  RhPublisher *publisher;
  char *pulled_from;          /* in a fleet: the owner node this edge pulls it from; NULL otherwise */
  GPtrArray *players;         /* RhPlayer*, owned by their sessions */
  GPtrArray *outputs;         /* RhOutput*: recordings and relays of this publish */
  GBytes *metadata;           /* onMetaData data message, @setDataFrame stripped */
  GArray *headers;            /* CachedPacket: the decoder configurations, one per
                               * (type, config_key), in the order they came */
  const char *video_codec;    /* as last announced by codec_detected */
  const char *audio_codec;
  RhCodecDetails video_details;   /* with them */
  RhCodecDetails audio_details;
  RhTrackRate video_rate;         /* media packets, headers not counted */
  RhTrackRate audio_rate;
  GArray *gop;                /* CachedPacket from the last keyframe on */
  gsize gop_bytes;
  gboolean gop_overflowed;    /* too big: cache nothing until the next keyframe */
};

RhStream *rh_stream_new (const char *app, const char *name, const RhStreamPolicy *policy,
                         const RhStreamObserver *observer, gpointer observer_data);
void rh_stream_free (RhStream *stream);

gboolean rh_stream_is_live (const RhStream *stream);

void rh_stream_set_publisher (RhStream *stream, RhPublisher *publisher);
/* Players get StreamEOF + NetStream.Play.UnpublishNotify and keep waiting;
 * outputs are detached and told why the publish ended. */
void rh_stream_clear_publisher (RhStream *stream, RhReason reason);

/* In a fleet, an edge's pull from origin_node feeds the stream as a
 * publisher would (no RhPublisher: no publish events); players are told
 * as for a publish. */
void rh_stream_begin_pull (RhStream *stream, const char *origin_node);
void rh_stream_end_pull (RhStream *stream);

/* A live stream only: the output gets the cached start at once. */
void rh_stream_attach_output (RhStream *stream, RhOutput *output);
void rh_stream_detach_output (RhStream *stream, RhOutput *output);
/* The cached start again (a relay that reconnected). */
void rh_stream_replay_to_output (RhStream *stream, RhOutput *output);

/* Sends the play start sequence, then everything cached if live. */
void rh_stream_add_player (RhStream *stream, RhPlayer *player);
void rh_stream_remove_player (RhStream *stream, RhPlayer *player);

/* From the publisher: audio (8) or video (9). */
void rh_stream_push_media (RhStream *stream, guint8 type, guint32 timestamp, GBytes *payload);
/* A data message for players; metadata (onMetaData) is also cached. */
void rh_stream_push_data (RhStream *stream, guint32 timestamp, GBytes *payload, gboolean is_metadata);

G_END_DECLS
