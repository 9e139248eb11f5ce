/* What the layers above the server (the HTTP API, the daemon) may know
 * of its streams: a snapshot by value, taken at once on the main loop,
 * so that nothing outside server/ reads a stream's, publisher's or
 * player's fields. Also the one action the API takes on a stream. */
#pragma once

#include <glib.h>

#include "types.h"
#include "protocol/codec-details.h"

G_BEGIN_DECLS

typedef struct {
  char *conn_id;
  char *client_ip;
  char *publish_type;
  gboolean tls;               /* came in on a TLS listener */
  const char *tls_version;    /* "TLS 1.3" (static); NULL in clear */
  gint64 started_at;          /* monotonic microseconds */
  guint64 bytes_received;
  guint64 video_packets;
  guint64 audio_packets;
} RhPublisherInfo;

typedef struct {
  char *conn_id;
  char *client_ip;
  gboolean tls;
  const char *tls_version;
  gint64 started_at;          /* monotonic microseconds */
  guint64 bytes_sent;
  guint64 dropped;            /* media messages skipped while slow */
  guint64 skips;
} RhPlayerInfo;

typedef struct {
  char *kind;                 /* "record" or "relay" */
  char *target;               /* its file or URL (no query) */
  char *state;
  guint64 bytes;              /* written or sent so far */
} RhOutputInfo;

typedef struct {
  char *codec;                /* NULL: none seen */
  RhCodecDetails details;     /* what codec_detected said */
  gboolean measured;          /* a second of media has passed: the rates hold */
  double bitrate;             /* bits per second over the last seconds of media */
  double frame_rate;          /* packets (frames) per second, the same way */
} RhTrackInfo;

typedef struct {
  char *key;                  /* "app/name" */
  char *app;
  char *name;
  RhPublisherInfo *publisher; /* NULL: players wait for one */
  RhTrackInfo video;
  RhTrackInfo audio;
  guint n_players;
  GArray *players;            /* RhPlayerInfo, only when asked for */
  GArray *outputs;            /* RhOutputInfo */
} RhStreamInfo;

/* Every stream, sorted by key (RhStreamInfo*, freed with the array);
 * each player too when with_players. */
GPtrArray *rh_server_snapshot_streams (RhServer *server, gboolean with_players);
guint rh_server_get_n_streams (RhServer *server);

/* Disconnects the publisher of app/name (reason rejected), logging who
 * asked; FALSE when the stream has none. */
gboolean rh_server_drop_publisher (RhServer *server, const char *app, const char *name, const char *requested_by);

G_END_DECLS
