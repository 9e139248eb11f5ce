/* RTMP commands with the replies real clients need: the order and shape
 * of each reply is what ffmpeg, rtmpdump/librtmp, GStreamer's rtmp2 and OBS
 * accept (nginx-rtmp's, where it has one). Unknown commands are logged and
 * ignored, never fatal.
 *
 * A session's life, in the order things happen:
 *   1. The server makes it once the connection's handshake is done; the
 *      connection owns it (rh_connection_set_data) and frees it last.
 *   2. connect: the app name is checked, then a relay loop (relay-loop.h),
 *      then the decision checks (ask_checks): the session waits in
 *      Pending, holding what the client sends meanwhile (up to
 *      RH_SESSION_MAX_HELD_BYTES), and on_verdict accepts or refuses.
 *      Accepting sends window, peer bandwidth, chunk size and _result,
 *      and lets full-size messages in.
 *   3. createStream gives a stream id; publish or play go through the
 *      checks the same way, then accept_publish / accept_play make an
 *      RhPublisher or RhPlayer (owned here, in publishers / players) and
 *      attach it to its RhStream in the registry. The connection is then
 *      engaged: the setup timeout no longer applies.
 *   4. Media from a publisher goes to its stream (rh_stream_push_media,
 *      rh_stream_push_data),
 *      which fans it out; a player only receives.
 *   5. deleteStream, FCUnpublish or closeStream end one publication or
 *      playback (end_publisher / end_player: their stop events);
 *      rh_session_close ends all of them when the connection closes,
 *      before its connection_close event. */
#include "config.h"

#include "session.h"

#include "connection.h"
#include "emit.h"
#include "registry.h"
#include "relay-loop.h"
#include "replies.h"
#include "stream.h"
#include "protocol/aggregate.h"
#include "protocol/client.h"
#include "protocol/amf0.h"
#include "protocol/command.h"
#include "protocol/data-message.h"
#include "util/log.h"

#include <glib/gi18n.h>
#include <stdarg.h>
#include <string.h>

G_DEFINE_QUARK (rh-session-error-quark, rh_session_error)

/* What we announce for our outgoing window and the peer's bandwidth
 * (nginx-rtmp's values). */
#define SERVER_WINDOW 5000000
/* createStream calls one connection may make; OBS makes a few. */
#define MAX_STREAMS_PER_SESSION 64

/* A connect, publish or play waiting for the decision checks. */
typedef enum {
  PENDING_CONNECT,
  PENDING_PUBLISH,
  PENDING_PLAY,
  PENDING_CLAIM,          /* a publish the checks allowed, waiting for the fleet's directory */
} PendingKind;

typedef struct {
  PendingKind kind;
  RhCheckRequest *request;
  RhClaimRequest *claim;  /* claim */
  double transaction_id;  /* connect */
  char *app;              /* connect */
  char *tc_url;           /* connect */
  char *flash_ver;        /* connect */
  RhAmf0Value *enhanced;  /* connect: the client's Enhanced RTMP fourCcList, or NULL */
  gboolean is_enhanced;   /* connect: it announced Enhanced RTMP */
  guint32 stream_id;      /* publish, play */
  char *name;             /* publish, play, claim */
  char *query;
  char *publish_type;     /* publish, claim */
} Pending;

struct _RhSession {
  RhConnection *connection;
  RhRegistry *registry;
  const RhSessionSettings *settings;
  char *app;
  char *tc_url;
  char *flash_ver;
  gboolean connected;
  guint relay_hops;       /* what its connect said (a relay from another daemon) */
  guint32 next_stream_id;
  GPtrArray *publishers;  /* RhPublisher*, owned */
  GPtrArray *players;     /* RhPlayer*, owned */
  Pending *pending;       /* a request the checks have not answered yet */
  GQueue held;            /* RhMessage*: what arrived meanwhile, handled after */
  gsize held_bytes;
};

RhSession *
rh_session_new (RhConnection *connection, RhRegistry *registry, const RhSessionSettings *settings)
{
  RhSession *session = g_new0 (RhSession, 1);
  session->connection = connection;
  session->registry = registry;
  session->settings = settings;
  session->publishers = g_ptr_array_new ();
  session->players = g_ptr_array_new ();
  g_queue_init (&session->held);
  return session;
}

static void
pending_free (Pending *pending)
{
  g_free (pending->app);
  g_free (pending->tc_url);
  g_free (pending->flash_ver);
  g_clear_pointer (&pending->enhanced, rh_amf0_value_free);
  g_free (pending->name);
  g_free (pending->query);
  g_free (pending->publish_type);
  g_free (pending);
}

static void
held_message_free (RhMessage *message)
{
  g_bytes_unref (message->payload);
  g_free (message);
}

/* The client is gone or the session ends: its checks answer no one. */
static void
drop_pending (RhSession *session)
{
  if (session->pending != NULL)
    {
      if (session->pending->request != NULL)
        rh_check_request_cancel (session->pending->request);
      const RhDirectoryHook *directory = rh_registry_get_directory (session->registry);
      if (session->pending->claim != NULL && directory->funcs != NULL)
        directory->funcs->cancel (session->pending->claim, directory->user_data);
      g_clear_pointer (&session->pending, pending_free);
    }
  g_queue_clear_full (&session->held, (GDestroyNotify) held_message_free);
  session->held_bytes = 0;
}

gboolean
rh_session_name_is_valid (const char *name, gsize max_len)
{
  gsize len = strlen (name);
  if (len == 0 || len > max_len || name[0] == '.')
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr ("_.~@+=:,-", *p) == NULL)
      return FALSE;
  return TRUE;
}

/* ---- replies ---- */

static void
send_command (RhSession *session, guint32 stream_id, GBytes *payload)
{
  rh_replies_command (session->connection, stream_id, payload);
}

static void
send_status (RhSession *session, guint32 stream_id, const char *level, const char *code,
             const char *description)
{
  rh_replies_status (session->connection, stream_id, level, code, description);
}

static void
send_user_event (RhSession *session, guint16 event, guint32 value)
{
  rh_replies_user_event (session->connection, event, value);
}

/* Only-playing connections are idle when they stop reading, not when
 * they stop sending. */
static void
update_role (RhSession *session)
{
  if (session->players->len > 0 || session->publishers->len > 0)
    rh_connection_set_engaged (session->connection);
  rh_connection_set_player_only (session->connection,
                                 session->players->len > 0 && session->publishers->len == 0);
}

/* ---- ending publications and playbacks ---- */

/* In a fleet: a key the directory granted for a publish that ended, or
 * that was refused here after all. */
static void
release_claim (RhSession *session, const char *key, gboolean claimed)
{
  const RhDirectoryHook *directory = rh_registry_get_directory (session->registry);
  if (claimed && directory->funcs != NULL)
    directory->funcs->release (key, directory->user_data);
}

static void
end_publisher (RhSession *session, RhPublisher *publisher, RhReason reason)
{
  RhStream *stream = publisher->stream;
  gint64 duration = (g_get_monotonic_time () - publisher->started_at) / G_USEC_PER_SEC;

  rh_log (G_LOG_LEVEL_MESSAGE, rh_connection_get_id (session->connection), stream->key, NULL,
          "%s publish_stop %s reason=%s duration=%" G_GINT64_FORMAT "s bytes=%" G_GUINT64_FORMAT
          " video=%" G_GUINT64_FORMAT " audio=%" G_GUINT64_FORMAT,
          rh_connection_get_id (session->connection), stream->key, rh_reason_to_string (reason),
          duration, publisher->bytes_received, publisher->video_packets, publisher->audio_packets);
  rh_emit_publish_stop (rh_registry_get_sink (session->registry), publisher, reason);
  release_claim (session, stream->key, publisher->claimed);
  rh_stream_clear_publisher (stream, reason);
  g_ptr_array_remove (session->publishers, publisher);
  update_role (session);
  rh_registry_release (session->registry, stream);
  g_free (publisher->query);
  g_free (publisher->publish_type);
  g_free (publisher);
}

static void
end_player (RhSession *session, RhPlayer *player, RhReason reason)
{
  RhStream *stream = player->stream;
  gint64 duration = (g_get_monotonic_time () - player->started_at) / G_USEC_PER_SEC;

  rh_log (G_LOG_LEVEL_MESSAGE, rh_connection_get_id (session->connection), stream->key, NULL,
          "%s play_stop %s reason=%s duration=%" G_GINT64_FORMAT "s bytes=%" G_GUINT64_FORMAT
          " dropped=%" G_GUINT64_FORMAT " skips=%" G_GUINT64_FORMAT,
          rh_connection_get_id (session->connection), stream->key, rh_reason_to_string (reason),
          duration, player->bytes_sent, player->pacing.dropped, player->pacing.skips);
  if (!player->is_pull)
    rh_emit_play_stop (rh_registry_get_sink (session->registry), player, reason);
  rh_registry_count_ended_player (session->registry, player);
  rh_stream_remove_player (stream, player);
  g_ptr_array_remove (session->players, player);
  update_role (session);
  rh_registry_release (session->registry, stream);
  g_free (player->query);
  g_free (player);
}

static RhPublisher *
find_publisher (RhSession *session, guint32 stream_id)
{
  for (guint i = 0; i < session->publishers->len; i++)
    {
      RhPublisher *publisher = g_ptr_array_index (session->publishers, i);
      if (publisher->stream_id == stream_id)
        return publisher;
    }
  return NULL;
}

static RhPlayer *
find_player (RhSession *session, guint32 stream_id)
{
  for (guint i = 0; i < session->players->len; i++)
    {
      RhPlayer *player = g_ptr_array_index (session->players, i);
      if (player->stream_id == stream_id)
        return player;
    }
  return NULL;
}

static void
end_stream_id (RhSession *session, guint32 stream_id, RhReason publisher_reason)
{
  RhPublisher *publisher = find_publisher (session, stream_id);
  RhPlayer *player = find_player (session, stream_id);
  if (publisher != NULL)
    end_publisher (session, publisher, publisher_reason);
  if (player != NULL)
    end_player (session, player, RH_REASON_CLIENT_DISCONNECT);
}

void
rh_session_close (RhSession *session, RhReason reason)
{
  drop_pending (session);
  while (session->publishers->len > 0)
    end_publisher (session, g_ptr_array_index (session->publishers, 0), reason);
  while (session->players->len > 0)
    end_player (session, g_ptr_array_index (session->players, 0), reason);
}

void
rh_session_free (RhSession *session)
{
  if (session == NULL)
    return;
  rh_session_close (session, RH_REASON_CLIENT_DISCONNECT);
  g_ptr_array_unref (session->publishers);
  g_ptr_array_unref (session->players);
  g_free (session->app);
  g_free (session->tc_url);
  g_free (session->flash_ver);
  g_free (session);
}

/* ---- commands ---- */

typedef gboolean (*CommandHandler) (RhSession *session, const RhMessage *message,
                                    const RhCommand *command, GError **error);

static gboolean reject (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
reject (GError **error, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *message = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error_literal (error, RH_SESSION_ERROR, RH_SESSION_ERROR_REJECTED, message);
  return FALSE;
}

static gboolean
require_connected (RhSession *session, const RhCommand *command, GError **error)
{
  if (session->connected)
    return TRUE;
  g_set_error (error, RH_SESSION_ERROR, RH_SESSION_ERROR_PROTOCOL,
               _("%s before connect"), command->name);
  return FALSE;
}

/* "name?query" -> name, query (NULL if none). */
static char *
split_query (const char *text, char **query)
{
  const char *mark = strchr (text, '?');
  if (mark == NULL)
    {
      *query = NULL;
      return g_strdup (text);
    }
  *query = g_strdup (mark + 1);
  return g_strndup (text, (gsize) (mark - text));
}

/* The query of a connect: from the app ("live?key=..."), else from the
 * tcUrl. */
static char *
connect_query (const char *app_query, const char *tc_url)
{
  if (app_query != NULL)
    return g_strdup (app_query);
  const char *mark = tc_url != NULL ? strchr (tc_url, '?') : NULL;
  return mark != NULL ? g_strdup (mark + 1) : NULL;
}

static void on_verdict (const RhVerdict *verdict, gpointer user_data);

/* Asks the checks about pending: FALSE when none applies (go on now),
 * TRUE when the session waits for the verdict. */
static gboolean
ask_checks (RhSession *session, Pending *pending, RhCheckRequest *request)
{
  if (request == NULL)
    return FALSE;
  pending->request = request;
  session->pending = pending;
  rh_log (G_LOG_LEVEL_INFO, rh_connection_get_id (session->connection), NULL, NULL,
          "%s waits for decision checks", rh_connection_get_id (session->connection));
  return TRUE;
}

/* Enhanced RTMP: a client that lists FourCCs (v1) or capability maps
 * (v2) learns what this server does with them: it forwards every codec
 * as it is (CanForward for "*"), decodes none, and offers no extended
 * capabilities (capsEx 0: no reconnect request, no multitrack or ModEx
 * beyond forwarding them). */
#define FOURCC_CAN_FORWARD 0x04

static void
add_enhanced_capabilities (RhAmf0Value *properties, const RhAmf0Value *client_list)
{
  RhAmf0Value *list = rh_amf0_strict_array_new ();
  for (guint i = 0; client_list != NULL && client_list->type == RH_AMF0_STRICT_ARRAY && i < client_list->items->len
                    && i < 32; i++)
    {
      const RhAmf0Value *item = g_ptr_array_index (client_list->items, i);
      if (item->type == RH_AMF0_STRING && item->v.string.len == 4)
        rh_amf0_array_append (list, rh_amf0_value_copy (item));
    }
  rh_amf0_object_set (properties, "fourCcList", list);
  RhAmf0Value *video = rh_amf0_object_new ();
  rh_amf0_object_set (video, "*", rh_amf0_number_new (FOURCC_CAN_FORWARD));
  rh_amf0_object_set (properties, "videoFourCcInfoMap", video);
  RhAmf0Value *audio = rh_amf0_object_new ();
  rh_amf0_object_set (audio, "*", rh_amf0_number_new (FOURCC_CAN_FORWARD));
  rh_amf0_object_set (properties, "audioFourCcInfoMap", audio);
  rh_amf0_object_set (properties, "capsEx", rh_amf0_number_new (0));
}

static void
accept_connect (RhSession *session, double transaction_id, char *app, const char *tc_url,
                const char *flash_ver, gboolean enhanced, const RhAmf0Value *fourcc_list)
{
  session->app = app;
  session->tc_url = g_strdup (tc_url);
  session->flash_ver = g_strdup (flash_ver);
  session->connected = TRUE;
  rh_connection_allow_full_messages (session->connection);

  /* nginx-rtmp's order, which every client accepts: window, peer
   * bandwidth, chunk size, then the result. */
  g_autoptr (GBytes) window = rh_control_u32 (SERVER_WINDOW);
  g_autoptr (GBytes) bandwidth = rh_control_peer_bandwidth (SERVER_WINDOW, 2);
  rh_connection_send_control (session->connection, RH_MSG_WINDOW_ACK_SIZE, window);
  rh_connection_send_control (session->connection, RH_MSG_SET_PEER_BANDWIDTH, bandwidth);
  rh_connection_set_chunk_size (session->connection,
                                session->settings->chunk_size);

  RhAmf0Value *properties = rh_amf0_object_new ();
  rh_amf0_object_set (properties, "fmsVer", rh_amf0_string_new ("FMS/3,0,1,123"));
  rh_amf0_object_set (properties, "capabilities", rh_amf0_number_new (31));
  if (enhanced)
    add_enhanced_capabilities (properties, fourcc_list);
  RhAmf0Value *info = rh_command_status_object ("status", "NetConnection.Connect.Success",
                                                "Connection succeeded.");
  rh_amf0_object_set (info, "objectEncoding", rh_amf0_number_new (0));
  g_autoptr (GBytes) reply = rh_command_build ("_result", transaction_id, properties,
                                               info, NULL);
  send_command (session, 0, reply);

  g_autofree char *tc_url_shown = rh_log_mask_secrets (session->tc_url);
  g_autofree char *flash_ver_shown = rh_log_quote (session->flash_ver);
  rh_log (G_LOG_LEVEL_MESSAGE, rh_connection_get_id (session->connection), NULL, NULL,
          "%s connect app=%s tcUrl=\"%s\" flashVer=\"%s\"", rh_connection_get_id (session->connection),
          session->app, tc_url_shown, flash_ver_shown);
}

static void
send_connect_refusal (RhSession *session, double transaction_id, const char *description, gboolean loop)
{
  RhAmf0Value *info = rh_command_status_object ("error", "NetConnection.Connect.Rejected", description);
  /* Another rtmphooksd's relay or pull learns not to try again. */
  if (loop)
    rh_amf0_object_set (info, RH_CLIENT_LOOP_PROPERTY, rh_amf0_boolean_new (TRUE));
  g_autoptr (GBytes) reply = rh_command_build ("_error", transaction_id, rh_amf0_null_new (), info, NULL);
  send_command (session, 0, reply);
}

static void
send_connect_rejected (RhSession *session, double transaction_id, const char *description)
{
  send_connect_refusal (session, transaction_id, description, FALSE);
}

static gboolean
application_is_served (const RhSessionSettings *settings, const char *app)
{
  if (settings->applications == NULL)
    return TRUE;
  for (guint i = 0; i < settings->applications->len; i++)
    if (g_pattern_spec_match_string (g_ptr_array_index (settings->applications, i), app))
      return TRUE;
  return FALSE;
}

static gboolean
handle_connect (RhSession *session, const RhMessage *message, const RhCommand *command,
                GError **error)
{
  const RhAmf0Value *object = rh_command_get (command, 0);
  const char *app_text = rh_amf0_object_get_string (object, "app");
  g_autofree char *app_query = NULL;
  g_autofree char *app = split_query (app_text != NULL ? app_text : "", &app_query);

  if (session->connected)
    {
      g_set_error (error, RH_SESSION_ERROR, RH_SESSION_ERROR_PROTOCOL, _("second connect"));
      return FALSE;
    }
  /* "live/" from some encoders means "live". */
  gsize len = strlen (app);
  while (len > 0 && app[len - 1] == '/')
    app[--len] = '\0';
  if (!rh_session_name_is_valid (app, 128))
    {
      send_connect_rejected (session, command->transaction_id, "invalid application name");
      g_autofree char *shown = rh_log_quote (app);
      return reject (error, _("connect to invalid application name \"%s\""), shown);
    }

  if (!application_is_served (session->settings, app))
    {
      send_connect_rejected (session, command->transaction_id, "unknown application");
      g_autofree char *shown = rh_log_quote (app);
      return reject (error, _("connect to application \"%s\", which server.applications does not list"), shown);
    }

  const char *loop;
  if (!rh_relay_loop_check_connect (object, &session->relay_hops, &loop))
    {
      send_connect_refusal (session, command->transaction_id, loop, TRUE);
      return reject (error, _("connect refused: %s"), loop);
    }

  const char *tc_url = rh_amf0_object_get_string (object, "tcUrl");
  const char *flash_ver = rh_amf0_object_get_string (object, "flashVer");
  const RhAmf0Value *fourcc_list = rh_amf0_object_get (object, "fourCcList");
  gboolean enhanced = fourcc_list != NULL || rh_amf0_object_get (object, "videoFourCcInfoMap") != NULL
                      || rh_amf0_object_get (object, "audioFourCcInfoMap") != NULL
                      || rh_amf0_object_get (object, "capsEx") != NULL;
  g_autofree char *query = connect_query (app_query, tc_url);
  Pending *pending = g_new0 (Pending, 1);
  pending->kind = PENDING_CONNECT;
  pending->transaction_id = command->transaction_id;
  pending->app = g_strdup (app);
  pending->tc_url = g_strdup (tc_url);
  pending->flash_ver = g_strdup (flash_ver);
  pending->is_enhanced = enhanced;
  pending->enhanced = fourcc_list != NULL ? rh_amf0_value_copy (fourcc_list) : NULL;
  if (ask_checks (session, pending,
                  rh_emit_connect_request (rh_registry_get_sink (session->registry), session->connection,
                                           app, tc_url, flash_ver, query, on_verdict, session)))
    return TRUE;
  pending_free (pending);
  accept_connect (session, command->transaction_id, g_steal_pointer (&app), tc_url, flash_ver, enhanced,
                  fourcc_list);
  return TRUE;
}

static gboolean
handle_create_stream (RhSession *session, const RhMessage *message, const RhCommand *command,
                      GError **error)
{
  if (!require_connected (session, command, error))
    return FALSE;
  if (session->next_stream_id >= MAX_STREAMS_PER_SESSION)
    return reject (error, _("more than %d createStream calls"), MAX_STREAMS_PER_SESSION);
  session->next_stream_id++;
  /* Exactly [_result, tid, null, id != 0]: ffmpeg and GStreamer insist. */
  g_autoptr (GBytes) reply = rh_command_build ("_result", command->transaction_id,
                                               rh_amf0_null_new (),
                                               rh_amf0_number_new (session->next_stream_id), NULL);
  send_command (session, 0, reply);
  return TRUE;
}

/* description goes to the client, why to the log. */
static gboolean
refuse_publish (RhSession *session, guint32 stream_id, char *query, const char *description, const char *why,
                GError **error)
{
  g_free (query);
  send_status (session, stream_id, "error", "NetStream.Publish.BadName", description);
  return reject (error, "%s", why);
}

static gboolean
refuse_duplicate (RhSession *session, guint32 stream_id, char *query, const char *key, GError **error)
{
  g_autofree char *why = g_strdup_printf (_("%s is already being published"), key);
  return refuse_publish (session, stream_id, query, "already publishing", why, error);
}

/* The publish is accepted: it replaces a local publisher if the settings
 * say so. epoch: the fleet directory's for this claim (0: none). */
static gboolean
start_publish (RhSession *session, guint32 stream_id, const char *name, char *query, const char *type,
               gboolean claimed, gint64 epoch, GError **error)
{
  RhStream *stream = rh_registry_obtain (session->registry, session->app, name);
  if (stream->pulled_from != NULL)
    {
      g_autofree char *description = g_strdup_printf ("pulled from node %s", stream->pulled_from);
      g_autofree char *why = g_strdup_printf (_("%s is being pulled from node %s"), stream->key, stream->pulled_from);
      release_claim (session, stream->key, claimed);
      return refuse_publish (session, stream_id, query, description, why, error);
    }
  if (stream->publisher != NULL)
    {
      if (!session->settings->replace_duplicate_publish)
        {
          /* The other publisher keeps the claim; this one's goes. */
          release_claim (session, stream->key, claimed);
          return refuse_duplicate (session, stream_id, query, stream->key, error);
        }
      RhConnection *old = rh_connection_ref (stream->publisher->connection);
      rh_connection_close (old, RH_REASON_REPLACED, _("replaced by a new publisher"));
      rh_connection_unref (old);
      /* Closing the old publisher may have released the stream. */
      stream = rh_registry_obtain (session->registry, session->app, name);
    }

  RhPublisher *publisher = g_new0 (RhPublisher, 1);
  publisher->connection = session->connection;
  publisher->stream_id = stream_id;
  publisher->query = query;
  publisher->publish_type = g_strdup (type != NULL ? type : "live");
  publisher->started_at = g_get_monotonic_time ();
  publisher->relay_hops = session->relay_hops;
  publisher->claimed = claimed;
  publisher->epoch = epoch;
  g_ptr_array_add (session->publishers, publisher);
  rh_stream_set_publisher (stream, publisher);

  send_user_event (session, RH_UC_STREAM_BEGIN, stream_id);
  send_status (session, stream_id, "status", "NetStream.Publish.Start", stream->key);
  g_autofree char *type_shown = rh_log_quote (publisher->publish_type);
  rh_log (G_LOG_LEVEL_MESSAGE, rh_connection_get_id (session->connection), stream->key, NULL,
          "%s publish_start %s type=%s", rh_connection_get_id (session->connection), stream->key,
          type_shown);
  rh_emit_publish_start (rh_registry_get_sink (session->registry), publisher, session->tc_url);
  update_role (session);
  return TRUE;
}

static void on_claim_done (gboolean granted, gint64 epoch, const char *refusal, gpointer user_data);

/* A publish the checks allowed. In a fleet the directory must grant the
 * key first (the session waits as for a check). */
static gboolean
accept_publish (RhSession *session, guint32 stream_id, const char *name, char *query, const char *type,
                GError **error)
{
  RhStream *stream = rh_registry_lookup (session->registry, session->app, name);
  if (stream != NULL && stream->publisher != NULL && !session->settings->replace_duplicate_publish)
    return refuse_duplicate (session, stream_id, query, stream->key, error);
  const RhDirectoryHook *directory = rh_registry_get_directory (session->registry);
  if (directory->funcs == NULL)
    return start_publish (session, stream_id, name, query, type, FALSE, 0, error);
  Pending *pending = g_new0 (Pending, 1);
  pending->kind = PENDING_CLAIM;
  pending->stream_id = stream_id;
  pending->name = g_strdup (name);
  pending->query = query;
  pending->publish_type = g_strdup (type);
  session->pending = pending;
  g_autofree char *key = g_strdup_printf ("%s/%s", session->app, name);
  rh_log (G_LOG_LEVEL_INFO, rh_connection_get_id (session->connection), key, NULL,
          "%s waits for the stream directory", rh_connection_get_id (session->connection));
  pending->claim = directory->funcs->claim (key, on_claim_done, session, directory->user_data);
  return TRUE;
}

static gboolean
handle_publish (RhSession *session, const RhMessage *message, const RhCommand *command,
                GError **error)
{
  const char *text = rh_command_get_string (command, 1);
  const char *type = rh_command_get_string (command, 2);
  guint32 stream_id = message->stream_id;

  if (!require_connected (session, command, error))
    return FALSE;
  g_autofree char *query = NULL;
  g_autofree char *name = split_query (text != NULL ? text : "", &query);
  if (!rh_session_name_is_valid (name, 256))
    {
      send_status (session, stream_id, "error", "NetStream.Publish.BadName", "invalid stream name");
      g_autofree char *shown = rh_log_quote (name);
      return reject (error, _("publish of invalid stream name \"%s\""), shown);
    }
  if (find_publisher (session, stream_id) != NULL || find_player (session, stream_id) != NULL)
    {
      send_status (session, stream_id, "error", "NetStream.Publish.BadName", "stream id in use");
      g_autofree char *shown = rh_log_quote (name);
      return reject (error, _("publish on a stream id already in use (%s)"), shown);
    }

  const char *publish_type = type != NULL ? type : "live";
  Pending *pending = g_new0 (Pending, 1);
  pending->kind = PENDING_PUBLISH;
  pending->stream_id = stream_id;
  pending->name = g_strdup (name);
  pending->query = g_strdup (query);
  pending->publish_type = g_strdup (publish_type);
  if (ask_checks (session, pending,
                  rh_emit_publish_request (rh_registry_get_sink (session->registry), session->connection,
                                           session->app, name, publish_type, session->tc_url, query,
                                           on_verdict, session)))
    return TRUE;
  pending_free (pending);
  return accept_publish (session, stream_id, name, g_steal_pointer (&query), publish_type, error);
}

static gboolean
accept_play (RhSession *session, guint32 stream_id, const char *name, char *query)
{
  /* Left to autotuning, the kernel would buffer seconds of video for a
   * slow player before our own queue (and its skip policy) saw any. */
  rh_connection_limit_send_buffer (session->connection,
                                   session->settings->player_send_buffer);
  RhStream *stream = rh_registry_obtain (session->registry, session->app, name);
  RhPlayer *player = g_new0 (RhPlayer, 1);
  player->connection = session->connection;
  player->stream_id = stream_id;
  player->query = query;
  player->started_at = g_get_monotonic_time ();
  /* Another node's pull (or a relay's play): not an audience's play. */
  player->is_pull = session->relay_hops > 0;
  g_ptr_array_add (session->players, player);
  rh_stream_add_player (stream, player);
  rh_log (G_LOG_LEVEL_MESSAGE, rh_connection_get_id (session->connection), stream->key, NULL,
          "%s %s %s%s", rh_connection_get_id (session->connection), player->is_pull ? "pull_serve" : "play_start",
          stream->key, rh_stream_is_live (stream) ? "" : " (waiting for a publisher)");
  if (!player->is_pull)
    rh_emit_play_start (rh_registry_get_sink (session->registry), player);
  const RhDirectoryHook *directory = rh_registry_get_directory (session->registry);
  if (!rh_stream_is_live (stream) && !player->is_pull && directory->funcs != NULL)
    directory->funcs->wanted (stream->key, directory->user_data);
  update_role (session);
  return TRUE;
}

static gboolean
start_play (RhSession *session, guint32 stream_id, const char *text, GError **error)
{
  g_autofree char *query = NULL;
  g_autofree char *name = split_query (text != NULL ? text : "", &query);

  if (!rh_session_name_is_valid (name, 256))
    {
      send_status (session, stream_id, "error", "NetStream.Play.StreamNotFound",
                   "invalid stream name");
      g_autofree char *shown = rh_log_quote (name);
      return reject (error, _("play of invalid stream name \"%s\""), shown);
    }
  RhPlayer *previous = find_player (session, stream_id);
  if (previous != NULL)
    end_player (session, previous, RH_REASON_CLIENT_DISCONNECT);
  if (find_publisher (session, stream_id) != NULL)
    {
      g_autofree char *shown = rh_log_quote (name);
      return reject (error, _("play on a publishing stream id (%s)"), shown);
    }

  Pending *pending = g_new0 (Pending, 1);
  pending->kind = PENDING_PLAY;
  pending->stream_id = stream_id;
  pending->name = g_strdup (name);
  pending->query = g_strdup (query);
  if (ask_checks (session, pending,
                  rh_emit_play_request (rh_registry_get_sink (session->registry), session->connection,
                                        session->app, name, session->tc_url, query, on_verdict, session)))
    return TRUE;
  pending_free (pending);
  return accept_play (session, stream_id, name, g_steal_pointer (&query));
}

static gboolean
handle_play (RhSession *session, const RhMessage *message, const RhCommand *command,
             GError **error)
{
  if (!require_connected (session, command, error))
    return FALSE;
  /* Every start value means "live now" on a live server. */
  return start_play (session, message->stream_id, rh_command_get_string (command, 1), error);
}

static gboolean
handle_play2 (RhSession *session, const RhMessage *message, const RhCommand *command,
              GError **error)
{
  if (!require_connected (session, command, error))
    return FALSE;
  const char *name = rh_amf0_object_get_string (rh_command_get (command, 1), "streamName");
  return start_play (session, message->stream_id, name, error);
}

static gboolean
handle_pause (RhSession *session, const RhMessage *message, const RhCommand *command,
              GError **error)
{
  RhPlayer *player = find_player (session, message->stream_id);
  const RhAmf0Value *flag = rh_command_get (command, 1);

  if (player == NULL)
    return TRUE;
  player->paused = flag != NULL && flag->type == RH_AMF0_BOOLEAN && flag->v.boolean;
  /* On resume, wait for a keyframe rather than send undecodable frames. */
  if (!player->paused)
    rh_slow_player_skip_to_keyframe (&player->pacing);
  send_status (session, message->stream_id, "status",
               player->paused ? "NetStream.Pause.Notify" : "NetStream.Unpause.Notify",
               player->stream->key);
  return TRUE;
}

static gboolean
handle_fc_unpublish (RhSession *session, const RhMessage *message, const RhCommand *command,
                     GError **error)
{
  g_autofree char *query = NULL;
  const char *text = rh_command_get_string (command, 1);
  g_autofree char *name = split_query (text != NULL ? text : "", &query);

  for (guint i = 0; i < session->publishers->len; i++)
    {
      RhPublisher *publisher = g_ptr_array_index (session->publishers, i);
      if (strcmp (publisher->stream->name, name) == 0)
        {
          end_publisher (session, publisher, RH_REASON_UNPUBLISH);
          break;
        }
    }
  return TRUE;
}

static gboolean
handle_delete_stream (RhSession *session, const RhMessage *message, const RhCommand *command,
                      GError **error)
{
  /* GStreamer sends the id as a string. */
  const RhAmf0Value *value = rh_command_get (command, 1);
  guint32 stream_id = 0;
  if (value != NULL && value->type == RH_AMF0_NUMBER)
    stream_id = (guint32) value->v.number;
  else if (value != NULL && value->type == RH_AMF0_STRING)
    stream_id = (guint32) g_ascii_strtoull (value->v.string.data, NULL, 10);
  end_stream_id (session, stream_id, RH_REASON_UNPUBLISH);
  return TRUE;
}

static gboolean
handle_close_stream (RhSession *session, const RhMessage *message, const RhCommand *command,
                     GError **error)
{
  end_stream_id (session, message->stream_id, RH_REASON_UNPUBLISH);
  return TRUE;
}

static gboolean
handle_check_bw (RhSession *session, const RhMessage *message, const RhCommand *command,
                 GError **error)
{
  g_autoptr (GBytes) reply = rh_command_build ("_result", command->transaction_id,
                                               rh_amf0_null_new (), NULL);
  send_command (session, 0, reply);
  return TRUE;
}

/* Commands nginx-rtmp answers with silence, and so do we: ffmpeg treats
 * most _error replies as fatal. */
static gboolean
handle_silently (RhSession *session, const RhMessage *message, const RhCommand *command,
                 GError **error)
{
  return TRUE;
}

static const struct {
  const char *name;
  CommandHandler handler;
} command_handlers[] = {
  { "connect", handle_connect },
  { "createStream", handle_create_stream },
  { "publish", handle_publish },
  { "play", handle_play },
  { "play2", handle_play2 },
  { "pause", handle_pause },
  { "FCUnpublish", handle_fc_unpublish },
  { "deleteStream", handle_delete_stream },
  { "closeStream", handle_close_stream },
  { "_checkbw", handle_check_bw },
  { "releaseStream", handle_silently },
  { "FCPublish", handle_silently },
  { "FCSubscribe", handle_silently },
  { "getStreamLength", handle_silently },
  { "receiveAudio", handle_silently },
  { "receiveVideo", handle_silently },
  { "_result", handle_silently },
  { "_error", handle_silently },
};

static gboolean
handle_command (RhSession *session, const RhMessage *message, GError **error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (message->payload, &len);
  g_autoptr (RhCommand) command = rh_command_parse (message->type, data, len, error);

  if (command == NULL)
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (command_handlers); i++)
    if (strcmp (command_handlers[i].name, command->name) == 0)
      return command_handlers[i].handler (session, message, command, error);
  g_autofree char *name_shown = rh_log_quote (command->name);
  rh_log (G_LOG_LEVEL_INFO, rh_connection_get_id (session->connection), NULL, NULL,
          _("%s ignored unknown command \"%s\""), rh_connection_get_id (session->connection),
          name_shown);
  return TRUE;
}

/* ---- the verdict of decision checks ---- */

static gboolean
deny (RhSession *session, const Pending *pending, const RhVerdict *verdict, GError **error)
{
  const char *description = verdict->reason != NULL ? verdict->reason : "rejected";
  g_autofree char *reason = verdict->reason != NULL ? g_strdup_printf (": %s", verdict->reason) : g_strdup ("");
  switch (pending->kind)
    {
    case PENDING_CONNECT:
      send_connect_rejected (session, pending->transaction_id, description);
      return reject (error, _("connect to %s denied by check \"%s\"%s"), pending->app, verdict->check,
                     reason);
    case PENDING_PUBLISH:
      send_status (session, pending->stream_id, "error", "NetStream.Publish.Unauthorized", description);
      return reject (error, _("publish of %s/%s denied by check \"%s\"%s"), session->app, pending->name,
                     verdict->check, reason);
    case PENDING_PLAY:
    default:
      send_status (session, pending->stream_id, "error", "NetStream.Play.Failed", description);
      return reject (error, _("play of %s/%s denied by check \"%s\"%s"), session->app, pending->name,
                     verdict->check, reason);
    }
}

static gboolean
allow (RhSession *session, Pending *pending, const RhVerdict *verdict, GError **error)
{
  if (pending->kind == PENDING_CONNECT)
    {
      accept_connect (session, pending->transaction_id, g_steal_pointer (&pending->app), pending->tc_url,
                      pending->flash_ver, pending->is_enhanced, pending->enhanced);
      return TRUE;
    }
  const char *name = pending->name;
  if (verdict->stream_name != NULL)
    {
      g_autofree char *shown = rh_log_quote (verdict->stream_name);
      if (!rh_session_name_is_valid (verdict->stream_name, 256))
        {
          RhVerdict invalid = { FALSE, verdict->check, NULL, "renamed to an invalid stream name" };
          rh_log (G_LOG_LEVEL_WARNING, rh_connection_get_id (session->connection), NULL, verdict->check,
                  _("check \"%s\" renamed %s/%s to an invalid name \"%s\""), verdict->check, session->app,
                  pending->name, shown);
          return deny (session, pending, &invalid, error);
        }
      rh_log (G_LOG_LEVEL_MESSAGE, rh_connection_get_id (session->connection), NULL, verdict->check,
              _("%s %s/%s renamed to %s by check \"%s\""), pending->kind == PENDING_PUBLISH ? "publish" : "play",
              session->app, pending->name, shown, verdict->check);
      name = verdict->stream_name;
    }
  if (pending->kind == PENDING_PUBLISH)
    return accept_publish (session, pending->stream_id, name, g_steal_pointer (&pending->query),
                           pending->publish_type, error);
  return accept_play (session, pending->stream_id, name, g_steal_pointer (&pending->query));
}

/* Handles what arrived while a check ran, until another check makes the
 * session wait again. */
static gboolean
handle_held (RhSession *session, GError **error)
{
  while (session->pending == NULL && !g_queue_is_empty (&session->held))
    {
      RhMessage *message = g_queue_pop_head (&session->held);
      session->held_bytes -= g_bytes_get_size (message->payload);
      gboolean ok = rh_session_handle_message (session, message, error);
      held_message_free (message);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

/* After an answer the session waited for: what arrived meanwhile is
 * handled, or the connection closes with the answer's error. */
static void
resume (RhSession *session, RhConnection *connection, gboolean ok, GError *error)
{
  g_autoptr (GError) later = NULL;
  if (ok && !handle_held (session, &later))
    error = later;
  else if (ok)
    return;
  rh_connection_close (connection,
                       g_error_matches (error, RH_SESSION_ERROR, RH_SESSION_ERROR_REJECTED)
                       ? RH_REASON_REJECTED : RH_REASON_PROTOCOL_ERROR,
                       error->message);
}

static void
on_verdict (const RhVerdict *verdict, gpointer user_data)
{
  RhSession *session = user_data;
  Pending *pending = g_steal_pointer (&session->pending);
  /* Closing the connection below must not free it under us. */
  g_autoptr (RhConnection) connection = rh_connection_ref (session->connection);
  g_autoptr (GError) error = NULL;

  gboolean ok = verdict->allowed ? allow (session, pending, verdict, &error)
                                 : deny (session, pending, verdict, &error);
  pending_free (pending);
  resume (session, connection, ok, error);
}

static void
on_claim_done (gboolean granted, gint64 epoch, const char *refusal, gpointer user_data)
{
  RhSession *session = user_data;
  Pending *pending = g_steal_pointer (&session->pending);
  g_autoptr (RhConnection) connection = rh_connection_ref (session->connection);
  g_autoptr (GError) error = NULL;
  gboolean ok;
  if (granted)
    ok = start_publish (session, pending->stream_id, pending->name, g_steal_pointer (&pending->query),
                        pending->publish_type, TRUE, epoch, &error);
  else
    {
      send_status (session, pending->stream_id, "error", "NetStream.Publish.BadName", refusal);
      ok = reject (&error, _("publish of %s/%s refused: %s"), session->app, pending->name, refusal);
    }
  pending_free (pending);
  resume (session, connection, ok, error);
}

/* ---- media and data from a publisher ---- */

static gboolean
handle_data (RhSession *session, const RhMessage *message, GError **error)
{
  RhPublisher *publisher = find_publisher (session, message->stream_id);
  if (publisher == NULL)
    return TRUE;
  RhDataMessage data = { NULL, FALSE };
  if (!rh_data_message_parse (message->type, message->payload, &data, error))
    return FALSE;
  publisher->bytes_received += g_bytes_get_size (message->payload);
  rh_stream_push_data (publisher->stream, message->timestamp, data.payload, data.is_metadata);
  rh_data_message_clear (&data);
  return TRUE;
}

/* media_start on the first media of a publish (after it went to the
 * stream, so that its codec is known), media_resume after a stall. */
static void
note_media (RhSession *session, RhPublisher *publisher)
{
  gint64 now = g_get_monotonic_time ();
  const RhEventSink *sink = rh_registry_get_sink (session->registry);
  if (!publisher->media_started)
    {
      publisher->media_started = TRUE;
      rh_log (G_LOG_LEVEL_INFO, rh_connection_get_id (session->connection), publisher->stream->key, NULL,
              "%s media_start %s", rh_connection_get_id (session->connection), publisher->stream->key);
      rh_emit_media_start (sink, publisher);
    }
  else if (publisher->stalled_since != 0)
    {
      gint64 stalled = (now - publisher->stalled_since) / G_USEC_PER_SEC;
      rh_log (G_LOG_LEVEL_MESSAGE, rh_connection_get_id (session->connection), publisher->stream->key, NULL,
              "%s media_resume %s after %" G_GINT64_FORMAT "s", rh_connection_get_id (session->connection),
              publisher->stream->key, stalled);
      publisher->stalled_since = 0;
      rh_emit_media_resume (sink, publisher, stalled);
    }
  publisher->last_media_at = now;
}

static void
handle_media (RhSession *session, guint32 stream_id, guint8 type, guint32 timestamp,
              GBytes *payload)
{
  RhPublisher *publisher = find_publisher (session, stream_id);
  if (publisher == NULL)
    return;
  publisher->bytes_received += g_bytes_get_size (payload);
  if (type == RH_MSG_VIDEO)
    publisher->video_packets++;
  else
    publisher->audio_packets++;
  rh_stream_push_media (publisher->stream, type, timestamp, payload);
  note_media (session, publisher);
}

typedef struct {
  RhSession *session;
  guint32 stream_id;
} AggregateTarget;

static void
on_aggregate_tag (guint8 type, guint32 timestamp, GBytes *body, gpointer user_data)
{
  const AggregateTarget *target = user_data;
  if (type == RH_MSG_AUDIO || type == RH_MSG_VIDEO)
    handle_media (target->session, target->stream_id, type, timestamp, body);
}

gboolean
rh_session_handle_message (RhSession *session, const RhMessage *message, GError **error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (message->payload, &len);

  if (session->pending != NULL)
    {
      /* Later commands may depend on the answer: they wait for it. */
      if (session->held_bytes + len > RH_SESSION_MAX_HELD_BYTES)
        {
          g_set_error (error, RH_SESSION_ERROR, RH_SESSION_ERROR_PROTOCOL,
                       _("more than %d bytes sent while a decision check was pending"),
                       RH_SESSION_MAX_HELD_BYTES);
          return FALSE;
        }
      RhMessage *held = g_memdup2 (message, sizeof *message);
      held->payload = g_bytes_ref (message->payload);
      g_queue_push_tail (&session->held, held);
      session->held_bytes += len;
      return TRUE;
    }

  switch (message->type)
    {
    case RH_MSG_AUDIO:
    case RH_MSG_VIDEO:
      handle_media (session, message->stream_id, message->type, message->timestamp,
                    message->payload);
      return TRUE;
    case RH_MSG_COMMAND_AMF0:
    case RH_MSG_COMMAND_AMF3:
      return handle_command (session, message, error);
    case RH_MSG_DATA_AMF0:
    case RH_MSG_DATA_AMF3:
      return handle_data (session, message, error);
    case RH_MSG_AGGREGATE:
      {
        AggregateTarget target = { session, message->stream_id };
        return rh_aggregate_foreach (message->payload, message->timestamp, on_aggregate_tag, &target,
                                     error);
      }
    case RH_MSG_USER_CONTROL:
      if (len >= 6 && rh_read_u32_be (data) >> 16 == RH_UC_PING_REQUEST)
        send_user_event (session, RH_UC_PING_RESPONSE, rh_read_u32_be (data + 2));
      return TRUE;
    case RH_MSG_WINDOW_ACK_SIZE:
      if (len >= 4)
        rh_connection_set_peer_window (session->connection, rh_read_u32_be (data));
      return TRUE;
    default:
      /* Set Chunk Size and Abort were applied by the chunk reader; acks,
       * bandwidth and shared objects need nothing from a live server. */
      return TRUE;
    }
}
