#include "config.h"

#include "outputs.h"

#include <glib/gi18n.h>

#include "connection.h"
#include "recording.h"
#include "relay.h"
#include "stream.h"
#include "util/log.h"
#include "util/relative-path.h"

struct _RhOutputs {
  RhRegistry *registry;
  char *record_dir;
  gsize record_max_buffer;
  double relay_retry_max;
  RhClientTls relay_tls;         /* server.relay_tls: a reference on its database */
  GPtrArray *recordings;         /* RhRecording*, until stopped */
  GPtrArray *relays;             /* RhRelay*, until stopped */
  RhOutputsCounters counters;
};

RhOutputs *
rh_outputs_new (RhRegistry *registry)
{
  RhOutputs *outputs = g_new0 (RhOutputs, 1);
  outputs->registry = registry;
  outputs->record_dir = g_strdup (RH_RECORD_DEFAULT_DIR);
  outputs->record_max_buffer = 8 * 1024 * 1024;
  outputs->relay_retry_max = 30;
  outputs->relay_tls.verify = TRUE;
  outputs->recordings = g_ptr_array_new ();
  outputs->relays = g_ptr_array_new ();
  return outputs;
}

void
rh_outputs_free (RhOutputs *outputs)
{
  if (outputs == NULL)
    return;
  /* At exit with a disk that hangs: the threads go with the process. */
  g_ptr_array_unref (outputs->recordings);
  for (guint i = 0; i < outputs->relays->len; i++)
    rh_relay_free (g_ptr_array_index (outputs->relays, i));
  g_ptr_array_unref (outputs->relays);
  g_free (outputs->record_dir);
  g_clear_object (&outputs->relay_tls.database);
  g_free (outputs);
}

void
rh_outputs_configure (RhOutputs *outputs, const RhServerConfig *server)
{
  g_free (outputs->record_dir);
  outputs->record_dir = g_strdup (server->record.dir);
  outputs->record_max_buffer = (gsize) server->record.max_buffer;
  outputs->relay_retry_max = server->relay_retry_max;
  g_clear_object (&outputs->relay_tls.database);
  if (server->relay_tls.database != NULL)
    outputs->relay_tls.database = g_object_ref (server->relay_tls.database);
  outputs->relay_tls.verify = server->relay_tls.verify;
}

/* The live stream app/name, or NULL (the publish already ended). */
static RhStream *
live_stream (RhOutputs *outputs, const char *app, const char *name)
{
  RhStream *stream = rh_registry_lookup (outputs->registry, app, name);
  return stream != NULL && rh_stream_is_live (stream) ? stream : NULL;
}

/* ---- recordings ---- */

static void
on_recording_started (RhRecording *recording, const char *path, gpointer owner)
{
  RhOutputs *outputs = owner;
  RhOutput *output = rh_recording_get_output (recording);
  rh_log (G_LOG_LEVEL_MESSAGE, output->conn_id, output->stream_key, NULL, _("recording %s to %s"),
          output->stream_key, path);
  rh_emit_record_start (rh_registry_get_sink (outputs->registry), output, path);
}

static void
on_recording_stopped (RhRecording *recording, const char *path, gint64 duration_seconds, guint64 bytes,
                      const char *reason, const char *detail, gpointer owner)
{
  RhOutputs *outputs = owner;
  RhOutput *output = rh_recording_get_output (recording);
  if (output->stream != NULL)
    rh_stream_detach_output (output->stream, output);
  gboolean failed = g_strcmp0 (reason, "error") == 0 || g_strcmp0 (reason, "too_slow") == 0;
  if (g_strcmp0 (reason, "too_slow") == 0)
    rh_log (G_LOG_LEVEL_WARNING, output->conn_id, output->stream_key, NULL,
            _("recording of %s stopped: the disk did not keep up (more than %zu bytes waiting); "
              "the stream goes on"), output->stream_key, outputs->record_max_buffer);
  else if (failed)
    rh_log (G_LOG_LEVEL_WARNING, output->conn_id, output->stream_key, NULL,
            _("recording of %s failed: %s; the stream goes on"), output->stream_key,
            detail != NULL ? detail : reason);
  rh_log (G_LOG_LEVEL_MESSAGE, output->conn_id, output->stream_key, NULL,
          "record_stop %s path=%s reason=%s duration=%" G_GINT64_FORMAT "s bytes=%" G_GUINT64_FORMAT,
          output->stream_key, path != NULL ? path : "-", reason, duration_seconds, bytes);
  outputs->counters.recordings_failed += failed;
  outputs->counters.recording_bytes += bytes;
  /* No file, no recording: record_stop only ends a record_start. */
  if (path != NULL)
    rh_emit_record_stop (rh_registry_get_sink (outputs->registry), output, path, duration_seconds, bytes,
                         reason);
  g_ptr_array_remove (outputs->recordings, recording);
  rh_recording_free (recording);
}

static const RhRecordingOwner recording_owner = { on_recording_started, on_recording_stopped };

void
rh_outputs_start_recording (RhOutputs *outputs, const char *rule, const char *app, const char *name,
                            const char *path)
{
  RhStream *stream = live_stream (outputs, app, name);
  if (stream == NULL)
    return;
  const char *conn_id = rh_connection_get_id (stream->publisher->connection);
  if (!rh_relative_path_is_safe (path))
    {
      g_autofree char *quoted = rh_log_quote (path);
      rh_log (G_LOG_LEVEL_WARNING, conn_id, stream->key, rule,
              _("rule \"%s\": not recording %s: the path \"%s\" would leave the recording directory"), rule,
              stream->key, quoted);
      outputs->counters.recordings_failed++;
      return;
    }
  RhRecording *recording = rh_recording_new (outputs->record_dir, path, outputs->record_max_buffer, conn_id, app,
                                             name, &recording_owner, outputs);
  g_ptr_array_add (outputs->recordings, recording);
  outputs->counters.recordings_started++;
  rh_stream_attach_output (stream, rh_recording_get_output (recording));
}

/* ---- relays ---- */

static void
on_relay_started (RhRelay *relay, gboolean first, gpointer owner)
{
  RhOutputs *outputs = owner;
  RhOutput *output = rh_relay_get_output (relay);
  const char *url = rh_relay_get_public_url (relay);
  rh_log (G_LOG_LEVEL_MESSAGE, output->conn_id, output->stream_key, NULL,
          first ? _("relay of %s publishing to %s") : _("relay of %s publishing to %s again"),
          output->stream_key, url);
  /* One relay_start per relay: a reconnect is no new relay. */
  if (first)
    rh_emit_relay_start (rh_registry_get_sink (outputs->registry), output, url);
}

static void
on_relay_reconnecting (RhRelay *relay, const char *why, gboolean tls_error, double delay, gpointer owner)
{
  RhOutputs *outputs = owner;
  RhOutput *output = rh_relay_get_output (relay);
  const char *url = rh_relay_get_public_url (relay);
  rh_log (G_LOG_LEVEL_WARNING, output->conn_id, output->stream_key, NULL,
          _("relay of %s to %s: %s; trying again in %.1f s"), output->stream_key, url, why, delay);
  outputs->counters.relay_reconnects++;
  /* A target whose certificate is refused will not get better by
   * itself: hooks hear of it at each attempt, not only at the end. */
  if (tls_error)
    {
      guint64 bytes = rh_relay_get_bytes (relay);
      gint64 duration = rh_relay_get_duration (relay);
      rh_log (G_LOG_LEVEL_MESSAGE, output->conn_id, output->stream_key, NULL,
              "relay_stop %s url=%s reason=tls_error duration=%" G_GINT64_FORMAT "s bytes=%" G_GUINT64_FORMAT,
              output->stream_key, url, duration, bytes);
      rh_emit_relay_stop (rh_registry_get_sink (outputs->registry), output, url, duration, bytes, "tls_error");
    }
}

static gboolean
free_relay (gpointer relay)
{
  rh_relay_free (relay);
  return G_SOURCE_REMOVE;
}

static void
on_relay_stopped (RhRelay *relay, gboolean was_published, gint64 duration_seconds, guint64 bytes_sent,
                  const char *reason, gpointer owner)
{
  RhOutputs *outputs = owner;
  RhOutput *output = rh_relay_get_output (relay);
  if (output->stream != NULL)
    rh_stream_detach_output (output->stream, output);
  const char *url = rh_relay_get_public_url (relay);
  outputs->counters.relay_bytes += bytes_sent;
  /* relay_stop pairs with relay_start: a relay that never published
   * (refused, unreachable) had neither, and says so in words. */
  if (was_published)
    {
      rh_log (G_LOG_LEVEL_MESSAGE, output->conn_id, output->stream_key, NULL,
              "relay_stop %s url=%s reason=%s duration=%" G_GINT64_FORMAT "s bytes=%" G_GUINT64_FORMAT,
              output->stream_key, url, reason, duration_seconds, bytes_sent);
      rh_emit_relay_stop (rh_registry_get_sink (outputs->registry), output, url, duration_seconds, bytes_sent,
                          reason);
    }
  else
    rh_log (G_LOG_LEVEL_MESSAGE, output->conn_id, output->stream_key, NULL,
            _("relay of %s to %s ended before it ever published (%s)"), output->stream_key, url, reason);
  g_ptr_array_remove (outputs->relays, relay);
  /* Not from inside its own callback. */
  g_idle_add (free_relay, relay);
}

static const RhRelayOwner relay_owner = { on_relay_started, on_relay_reconnecting, on_relay_stopped };

void
rh_outputs_start_relay (RhOutputs *outputs, const char *rule, const char *app, const char *name, const char *url,
                        GTlsDatabase *ca_database, gint tls_verify)
{
  RhClientTls tls = {
    ca_database != NULL ? ca_database : outputs->relay_tls.database,
    tls_verify >= 0 ? tls_verify != 0 : outputs->relay_tls.verify,
  };
  RhStream *stream = live_stream (outputs, app, name);
  if (stream == NULL)
    return;
  const char *conn_id = rh_connection_get_id (stream->publisher->connection);
  g_autoptr (GError) error = NULL;
  RhRelay *relay = rh_relay_new (url, &tls, outputs->relay_retry_max, stream->publisher->relay_hops + 1, conn_id,
                                 app, name, &relay_owner, outputs, &error);
  if (relay == NULL)
    {
      rh_log (G_LOG_LEVEL_WARNING, conn_id, stream->key, rule, _("rule \"%s\": not relaying %s: %s"), rule,
              stream->key, error->message);
      outputs->counters.relays_failed++;
      return;
    }
  g_ptr_array_add (outputs->relays, relay);
  outputs->counters.relays_started++;
  rh_stream_attach_output (stream, rh_relay_get_output (relay));
  rh_relay_start (relay);
}

void
rh_outputs_get_counters (RhOutputs *outputs, RhOutputsCounters *counters)
{
  *counters = outputs->counters;
  counters->recordings = outputs->recordings->len;
  counters->relays = outputs->relays->len;
  /* The bytes of those still going count as they are written. */
  for (guint i = 0; i < outputs->recordings->len; i++)
    counters->recording_bytes += rh_recording_get_bytes (g_ptr_array_index (outputs->recordings, i));
  for (guint i = 0; i < outputs->relays->len; i++)
    counters->relay_bytes += rh_relay_get_bytes (g_ptr_array_index (outputs->relays, i));
}

guint
rh_outputs_get_n_active (RhOutputs *outputs)
{
  return outputs->recordings->len + outputs->relays->len;
}
