#include "config.h"

#include "relay.h"

#include <glib/gi18n.h>
#include <string.h>

#include "client-session.h"
#include "stream.h"
#include "protocol/amf0.h"
#include "protocol/message.h"

/* A relay must stay up this long before its retry delay starts again
 * from 1 s: a target that accepts the publish and then fails it at once
 * is retried with a growing delay, not every second forever. */
#define RELAY_STABLE_SECONDS 30
#define RELAY_CSID_DATA 5

typedef enum {
  RELAY_WAITING,       /* for the next attempt */
  RELAY_CONNECTING,    /* a session until the target accepts the publish */
  RELAY_PUBLISHING,
  RELAY_CLOSING,       /* the publish ended: the session says goodbye */
  RELAY_DONE,
} RelayState;

struct _RhRelay {
  RhOutput output;                 /* first: the stream feeds it */
  const RhRelayOwner *owner;
  gpointer owner_data;
  RhRtmpUrl url;
  RhClientTls tls;
  double retry_max;
  guint hops;                      /* relays the stream crossed before this one, this one included */
  double delay;                    /* before the next attempt */
  RhSlowPlayerLimits limits;
  RhPlayerPacing pacing;

  RelayState state;
  RhClientSession *session;        /* the attempt under way, or the publish */
  guint retry_id;
  gboolean was_published;
  gint64 published_at;             /* monotonic, the first publish */
  gint64 publishing_since;         /* monotonic, the current publish */
  guint64 bytes_sent;              /* by sessions that ended */
  const char *end_reason;
};

static void connect_now (RhRelay *relay);

static void
drop_session (RhRelay *relay)
{
  if (relay->session == NULL)
    return;
  relay->bytes_sent += rh_client_session_get_bytes_sent (relay->session);
  g_clear_pointer (&relay->session, rh_client_session_free);
}

static void
finish (RhRelay *relay)
{
  drop_session (relay);
  g_clear_handle_id (&relay->retry_id, g_source_remove);
  relay->state = RELAY_DONE;
  gint64 duration = relay->was_published ? (g_get_monotonic_time () - relay->published_at) / G_USEC_PER_SEC : 0;
  relay->owner->stopped (relay, relay->was_published, duration, relay->bytes_sent, relay->end_reason,
                         relay->owner_data);
}

static gboolean
on_retry (gpointer user_data)
{
  RhRelay *relay = user_data;
  relay->retry_id = 0;
  connect_now (relay);
  return G_SOURCE_REMOVE;
}

static void
fail (RhRelay *relay, const char *why)
{
  g_autofree char *reason = g_strdup (why);  /* why may live in the session */
  gboolean tls_error = relay->session != NULL && rh_client_session_failed_in_tls (relay->session);
  if (relay->state == RELAY_PUBLISHING
      && g_get_monotonic_time () - relay->publishing_since >= RELAY_STABLE_SECONDS * G_USEC_PER_SEC)
    relay->delay = 1;
  drop_session (relay);
  relay->state = RELAY_WAITING;
  double delay = relay->delay;
  relay->delay = MIN (relay->delay * 2, relay->retry_max);
  relay->owner->reconnecting (relay, reason, tls_error, delay, relay->owner_data);
  /* The owner's relay_stop (tls_error) closed what relay_start opened:
   * the next publish is a first one again. */
  if (tls_error)
    relay->was_published = FALSE;
  relay->retry_id = g_timeout_add ((guint) (delay * 1000), on_retry, relay);
}

/* ---- the session ---- */

static void
on_session_ready (RhClientSession *session, gpointer owner)
{
  RhRelay *relay = owner;
  relay->state = RELAY_PUBLISHING;
  relay->publishing_since = g_get_monotonic_time ();
  memset (&relay->pacing, 0, sizeof relay->pacing);
  gboolean first = !relay->was_published;
  if (first)
    {
      relay->was_published = TRUE;
      relay->published_at = relay->publishing_since;
    }
  relay->owner->started (relay, first, relay->owner_data);
  /* What a late player gets: metadata, sequence headers, the GOP. */
  if (relay->output.stream != NULL)
    rh_stream_replay_to_output (relay->output.stream, &relay->output);
}

static void
on_session_ended (RhClientSession *session, const char *why, gpointer owner)
{
  RhRelay *relay = owner;
  if (relay->state == RELAY_CLOSING || why == NULL)
    finish (relay);
  else if (rh_client_session_refused_as_loop (session))
    {
      /* A relay to this very daemon (or round a loop) never works: it
       * ends now instead of retrying forever. */
      g_warning (_("relay to %s refused as a loop (%s): not retried"), relay->url.public_url, why);
      relay->end_reason = "loop";
      finish (relay);
    }
  else
    fail (relay, why);
}

static const RhClientSessionOwner session_owner = { on_session_ready, NULL, on_session_ended };

static void
connect_now (RhRelay *relay)
{
  relay->state = RELAY_CONNECTING;
  relay->session = rh_client_session_new (RH_CLIENT_PUBLISH, &relay->url, &relay->tls, relay->hops, &session_owner,
                                          relay);
  rh_client_session_start (relay->session);
}

/* ---- what the stream feeds ---- */

static void
on_packet (RhOutput *output, const RhOutputPacket *packet)
{
  RhRelay *relay = (RhRelay *) output;
  /* Until the target accepts the publish nothing is sent: the cached
   * start is replayed then. */
  if (relay->state != RELAY_PUBLISHING)
    return;
  gint64 now = g_get_monotonic_time ();
  if (packet->type == RH_MSG_DATA_AMF0)
    {
      /* A publisher sends metadata as @setDataFrame("onMetaData", ...). */
      GByteArray *data = g_byte_array_sized_new ((guint) g_bytes_get_size (packet->payload) + 16);
      if (packet->flags & RH_MEDIA_SEQUENCE_HEADER)
        rh_amf0_encode_string (data, "@setDataFrame");
      g_byte_array_append (data, g_bytes_get_data (packet->payload, NULL), (guint) g_bytes_get_size (packet->payload));
      g_autoptr (GBytes) message = g_byte_array_free_to_bytes (data);
      rh_client_session_send (relay->session, RELAY_CSID_DATA, RH_MSG_DATA_AMF0, packet->timestamp, message, 0);
      return;
    }
  RhPlayerVerdict verdict = rh_slow_player_judge (&relay->pacing, &relay->limits,
                                                  rh_client_session_get_queued_bytes (relay->session),
                                                  rh_client_session_get_oldest_queued_at (relay->session), now,
                                                  packet->flags);
  if (verdict == RH_PLAYER_CLOSE_QUEUE_FULL || verdict == RH_PLAYER_CLOSE_BEHIND)
    {
      fail (relay, _("the target is too slow for the stream"));
      return;
    }
  if (verdict == RH_PLAYER_DROP)
    return;
  rh_client_session_send (relay->session, packet->type == RH_MSG_VIDEO ? RH_CSID_VIDEO : RH_CSID_AUDIO, packet->type,
                          packet->timestamp, packet->payload, now);
}

static void
on_ended (RhOutput *output, RhReason reason)
{
  RhRelay *relay = (RhRelay *) output;
  relay->end_reason = reason == RH_REASON_SERVER_SHUTDOWN ? "server_shutdown" : "publish_stop";
  if (relay->state != RELAY_PUBLISHING)
    {
      finish (relay);
      return;
    }
  /* Say goodbye as a publisher does, and let what is queued go out;
   * on_session_ended finishes. */
  relay->state = RELAY_CLOSING;
  rh_client_session_close (relay->session);
}

guint64
rh_relay_get_bytes (RhRelay *relay)
{
  return relay->bytes_sent + (relay->session != NULL ? rh_client_session_get_bytes_sent (relay->session) : 0);
}

static void
describe (RhOutput *output, char **target, const char **state, guint64 *bytes)
{
  static const char *const names[] = {
    [RELAY_WAITING] = "reconnecting", [RELAY_CONNECTING] = "connecting", [RELAY_PUBLISHING] = "publishing",
    [RELAY_CLOSING] = "closing", [RELAY_DONE] = "closed",
  };
  RhRelay *relay = (RhRelay *) output;
  *bytes = rh_relay_get_bytes (relay);
  *target = g_strdup (relay->url.public_url);
  *state = names[relay->state];
}

static const RhOutputFuncs output_funcs = { on_packet, on_ended, describe, "relay" };

/* ---- life ---- */

RhRelay *
rh_relay_new (const char *url, const RhClientTls *tls, double retry_max, guint hops, const char *conn_id,
              const char *app, const char *stream_name, const RhRelayOwner *owner, gpointer owner_data,
              GError **error)
{
  RhRtmpUrl parsed;
  if (!rh_rtmp_url_parse (url, &parsed, error))
    return NULL;
  RhRelay *relay = g_new0 (RhRelay, 1);
  rh_output_init (&relay->output, &output_funcs, conn_id, app, stream_name);
  relay->owner = owner;
  relay->owner_data = owner_data;
  relay->url = parsed;
  relay->tls = *tls;
  if (tls->database != NULL)
    g_object_ref (tls->database);
  relay->retry_max = retry_max;
  relay->hops = hops;
  relay->delay = 1;
  /* A target is a player that may take 8 MiB or 3 s of backlog before it
   * skips, 32 MiB or 20 s behind before it is reconnected. */
  relay->limits = (RhSlowPlayerLimits) { 8 * 1024 * 1024, 32 * 1024 * 1024, 3 * G_USEC_PER_SEC,
                                         20 * G_USEC_PER_SEC };
  relay->state = RELAY_WAITING;
  return relay;
}

void
rh_relay_start (RhRelay *relay)
{
  connect_now (relay);
}

void
rh_relay_free (RhRelay *relay)
{
  if (relay == NULL)
    return;
  drop_session (relay);
  g_clear_handle_id (&relay->retry_id, g_source_remove);
  rh_output_clear (&relay->output);
  rh_rtmp_url_clear (&relay->url);
  g_clear_object (&relay->tls.database);
  g_free (relay);
}

RhOutput *
rh_relay_get_output (RhRelay *relay)
{
  return &relay->output;
}

const char *
rh_relay_get_public_url (const RhRelay *relay)
{
  return relay->url.public_url;
}

gint64
rh_relay_get_duration (const RhRelay *relay)
{
  return relay->was_published ? (g_get_monotonic_time () - relay->published_at) / G_USEC_PER_SEC : 0;
}
