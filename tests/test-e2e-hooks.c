/* The hook engine end to end: the real daemon with rules, real encoders
 * and players, real scripts, a real HTTP server. */
#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "test-player.h"
#include "testutil.h"

static char *
recorder (void)
{
  return g_build_filename (rh_test_env ("RH_FIXTURES"), "hooks", "recorder.sh", NULL);
}

static guint
count_entries (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (!g_str_has_suffix (name, ".tmp"))
      n++;
  return n;
}

typedef struct {
  const char *dir;
  guint count;
} EntriesWait;

static gboolean
has_entries (gpointer data)
{
  EntriesWait *wait = data;
  return count_entries (wait->dir) >= wait->count;
}

static gboolean
wait_entries (const char *dir, guint count, guint timeout_ms)
{
  EntriesWait wait = { dir, count };
  return rh_test_poll_until (has_entries, &wait, timeout_ms);
}

static guint
count_type (GPtrArray *events, const char *type)
{
  guint n = 0;
  for (guint i = 0; i < events->len; i++)
    if (strcmp (json_object_get_string_member (json_node_get_object (g_ptr_array_index (events, i)), "type"),
                type) == 0)
      n++;
  return n;
}

static JsonObject *
find_event (GPtrArray *events, const char *type)
{
  for (guint i = 0; i < events->len; i++)
    {
      JsonObject *o = json_node_get_object (g_ptr_array_index (events, i));
      if (strcmp (json_object_get_string_member (o, "type"), type) == 0)
        return o;
    }
  return NULL;
}

/* The data fields of each event, as rtmphooks.conf(5) lists them, for
 * clients in clear (tls_version only comes through TLS). */
static const struct {
  const char *type;
  const char *fields;
} spec_fields[] = {
  { "connection_accept", "client_ip client_port server_ip server_port tls" },
  { "handshake_complete", "client_ip client_port handshake tls" },
  { "connection_close", "client_ip client_port duration_seconds bytes_received bytes_sent reason tls" },
  { "stream_create", "app stream_name" },
  { "stream_delete", "app stream_name" },
  { "publish_start", "app stream_name publish_type client_ip tc_url query tls" },
  { "publish_stop", "app stream_name client_ip duration_seconds bytes_received video_packets audio_packets reason" },
  { "play_start", "app stream_name client_ip query tls" },
  { "play_stop", "app stream_name client_ip duration_seconds bytes_sent reason" },
  { "codec_detected", "app stream_name track codec" },
  { "media_start", "app stream_name video_codec" },
};

/* What codec_detected adds for the H.264 and AAC ffmpeg publishes here. */
static const char video_details[] = "app stream_name track codec profile level width height bit_depth chroma_format";
static const char audio_details[] = "app stream_name track codec profile sample_rate channels";

static void
assert_fields (JsonObject *event)
{
  const char *type = json_object_get_string_member (event, "type");
  JsonObject *data = json_object_get_object_member (event, "data");
  for (gsize i = 0; i < G_N_ELEMENTS (spec_fields); i++)
    if (strcmp (spec_fields[i].type, type) == 0)
      {
        const char *list = spec_fields[i].fields;
        if (strcmp (type, "codec_detected") == 0)
          list = strcmp (json_object_get_string_member (data, "track"), "video") == 0 ? video_details : audio_details;
        /* The first media is the video sequence header or the audio one. */
        if (strcmp (type, "media_start") == 0 && json_object_has_member (data, "audio_codec"))
          list = json_object_has_member (data, "video_codec") ? "app stream_name video_codec audio_codec"
                                                              : "app stream_name audio_codec";
        g_auto (GStrv) fields = g_strsplit (list, " ", -1);
        g_assert_cmpuint (json_object_get_size (data), ==, g_strv_length (fields));
        for (char **f = fields; *f != NULL; f++)
          if (!json_object_has_member (data, *f))
            g_error ("%s lacks %s", type, *f);
        g_assert_true (json_object_has_member (event, "timestamp"));
        g_assert_true (json_object_has_member (event, "id"));
        gboolean stream_event = g_str_has_prefix (type, "stream_");
        gboolean connection_event = g_str_has_prefix (type, "connection_") || g_str_has_prefix (type, "handshake_");
        g_assert_cmpint (json_object_has_member (event, "conn_id"), ==, !stream_event);
        g_assert_cmpint (json_object_has_member (event, "stream_key"), ==, !connection_event);
        if (!stream_event)
          g_assert_true (g_regex_match_simple ("^c[0-9]{6,}$", json_object_get_string_member (event, "conn_id"), 0, 0));
        return;
      }
  g_error ("unknown event type %s", type);
}

/* Every event type, exact fields, start/stop pairs, exec environment and
 * stdin, templates, filters. */
static void
test_events_and_exec (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *script = recorder ();
  g_autofree char *config = g_strdup_printf (
    "hooks = { stdio = \"jsonl\"; timeout = \"10s\"; environment = \"clean\"; pass_env = [ \"RH_PASS_*\" ]; };\n"
    "filters = { local = { client_ip = [ \"127.0.0.0/8\", \"::1/128\" ]; }; };\n"
    "rules = (\n"
    "  { name = \"all\"; on = \"*\"; env = { RECORD_DIR = \"%1$s/all\"; };\n"
    "    exec = { command = [ \"%2$s\" ]; }; },\n"
    "  { name = \"never\"; on = [ \"publish_start\" ]; where = { stream_name = \"other*\"; };\n"
    "    env = { RECORD_DIR = \"%1$s/never\"; }; exec = { command = [ \"%2$s\" ]; }; },\n"
    "  { name = \"templated\"; on = [ \"publish_start\" ]; filter = \"local\";\n"
    "    where = { stream_name = \"~^cam[0-9]+$\"; };\n"
    "    env = { RECORD_DIR = \"%1$s/templated\"; OUT = \"/rec/${app}/${stream_name}.flv\"; };\n"
    "    exec = { command = [ \"%2$s\", \"${stream_key}\", \"${query:-none}\", \"${stream_name|upper}\",\n"
    "                         \"${tc_url}\", \"a b;$(rm -rf /)\" ]; }; },\n"
    "  { name = \"long\"; on = [ \"publish_stop\" ];\n"
    "    where = { duration_seconds = \">= 2\"; video_packets = \"> 10\"; reason = \"!timeout\"; };\n"
    "    env = { RECORD_DIR = \"%1$s/long\"; }; exec = { command = [ \"%2$s\" ]; }; }\n"
    ");\n", dir, script);
  const char *const daemon_env[] = { "RH_PASS_ME=yes", NULL };
  RhTestDaemon *daemon = rh_test_daemon_start_full (config, NULL, daemon_env, FALSE);
  g_autofree char *url = rh_test_daemon_url (daemon, "live/cam1?token=abc");
  g_autofree char *play_url = rh_test_daemon_url (daemon, "live/cam1");
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 3, "320x180", NULL, NULL);
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish_start live/cam1", 10000));
  const char *const player_argv[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-i", play_url, "-t", "1",
                                      "-f", "null", "-", NULL };
  g_autoptr (GSubprocess) player = rh_test_spawn (player_argv, NULL);
  g_assert_cmpint (rh_test_wait (player, 15000), ==, 0);
  g_assert_cmpint (rh_test_wait (publisher, 15000), ==, 0);
  g_assert_true (rh_test_daemon_wait_log (daemon, "c000001 closed", 5000));

  /* 2 connections x (accept, handshake, close) + stream create/delete +
   * publish start/stop + play start/stop + 2 codecs + media_start = 15
   * events. */
  g_autofree char *all = g_build_filename (dir, "all", NULL);
  g_assert_true (wait_entries (all, 15, 10000));
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);

  g_autoptr (GPtrArray) events = rh_test_daemon_events (daemon, NULL);
  g_assert_cmpuint (events->len, ==, 15);
  g_assert_cmpuint (count_type (events, "media_start"), ==, 1);
  for (gsize i = 0; i < G_N_ELEMENTS (spec_fields); i++)
    g_assert_cmpuint (count_type (events, spec_fields[i].type), >=, 1);
  g_assert_cmpuint (count_type (events, "connection_accept"), ==, 2);
  g_assert_cmpuint (count_type (events, "connection_close"), ==, 2);
  g_assert_cmpuint (count_type (events, "handshake_complete"), ==, 2);
  g_assert_cmpuint (count_type (events, "publish_start"), ==, count_type (events, "publish_stop"));
  g_assert_cmpuint (count_type (events, "play_start"), ==, count_type (events, "play_stop"));
  g_assert_cmpuint (count_type (events, "stream_create"), ==, count_type (events, "stream_delete"));
  g_assert_cmpuint (count_type (events, "codec_detected"), ==, 2);

  for (guint i = 0; i < events->len; i++)
    {
      JsonObject *event = json_node_get_object (g_ptr_array_index (events, i));
      assert_fields (event);
      /* The recorder saw this very event: environment and stdin. */
      const char *id = json_object_get_string_member (event, "id");
      g_autofree char *env_path = g_build_filename (all, id, "env", NULL);
      g_autofree char *stdin_path = g_build_filename (all, id, "stdin", NULL);
      g_autoptr (GHashTable) env = rh_test_read_env_file (env_path);
      g_assert_cmpstr (g_hash_table_lookup (env, "RTMP_EVENT_TYPE"), ==, json_object_get_string_member (event, "type"));
      g_assert_cmpstr (g_hash_table_lookup (env, "RTMP_EVENT_ID"), ==, id);
      g_assert_nonnull (g_hash_table_lookup (env, "PATH"));
      /* environment = "clean": the basics and pass_env only. */
      g_assert_null (g_hash_table_lookup (env, "RH_DAEMON"));
      g_assert_cmpstr (g_hash_table_lookup (env, "RH_PASS_ME"), ==, "yes");
      JsonObject *data = json_object_get_object_member (event, "data");
      GList *members = json_object_get_members (data);
      for (GList *m = members; m != NULL; m = m->next)
        {
          g_autofree char *upper = g_ascii_strup (m->data, -1);
          g_autofree char *name = g_strconcat ("RTMP_", upper, NULL);
          JsonNode *node = json_object_get_member (data, m->data);
          GType type = json_node_get_value_type (node);
          g_autofree char *expected = type == G_TYPE_INT64 ? g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node))
                                      : type == G_TYPE_BOOLEAN ? g_strdup (json_node_get_boolean (node) ? "true" : "false")
                                      : g_strdup (json_node_get_string (node));
          g_assert_cmpstr (g_hash_table_lookup (env, name), ==, expected);
        }
      g_list_free (members);
      g_autofree char *stdin_text = NULL;
      g_assert_true (g_file_get_contents (stdin_path, &stdin_text, NULL, NULL));
      g_autoptr (JsonNode) stdin_json = json_from_string (stdin_text, NULL);
      g_assert_true (json_node_equal (stdin_json, g_ptr_array_index (events, i)));
    }

  JsonObject *start = find_event (events, "publish_start");
  JsonObject *start_data = json_object_get_object_member (start, "data");
  g_assert_cmpstr (json_object_get_string_member (start, "stream_key"), ==, "live/cam1");
  g_assert_cmpstr (json_object_get_string_member (start_data, "query"), ==, "token=abc");
  g_assert_cmpstr (json_object_get_string_member (start_data, "publish_type"), ==, "live");
  JsonObject *stop_data = json_object_get_object_member (find_event (events, "publish_stop"), "data");
  g_assert_cmpstr (json_object_get_string_member (stop_data, "reason"), ==, "unpublish");
  g_assert_cmpint (json_object_get_int_member (stop_data, "video_packets"), >=, 90);
  g_assert_cmpint (json_object_get_int_member (stop_data, "duration_seconds"), >=, 2);
  JsonObject *play_stop = json_object_get_object_member (find_event (events, "play_stop"), "data");
  g_assert_cmpstr (json_object_get_string_member (play_stop, "reason"), ==, "client_disconnect");
  g_assert_cmpint (json_object_get_int_member (play_stop, "bytes_sent"), >, 1000);

  /* The filtered-out rule never ran; the others ran once, templated. */
  g_autofree char *never = g_build_filename (dir, "never", NULL);
  g_assert_false (g_file_test (never, G_FILE_TEST_EXISTS));
  g_autofree char *long_dir = g_build_filename (dir, "long", NULL);
  g_assert_cmpuint (count_entries (long_dir), ==, 1);
  g_autofree char *templated = g_build_filename (dir, "templated", NULL);
  g_assert_cmpuint (count_entries (templated), ==, 1);
  g_autofree char *argv_path = g_build_filename (templated, json_object_get_string_member (start, "id"), "argv", NULL);
  g_autofree char *argv_text = NULL;
  g_assert_true (g_file_get_contents (argv_path, &argv_text, NULL, NULL));
  g_autofree char *expected_argv = g_strdup_printf ("live/cam1\ntoken=abc\nCAM1\nrtmp://127.0.0.1:%u/live\n"
                                                    "a b;$(rm -rf /)\n", daemon->port);
  g_assert_cmpstr (argv_text, ==, expected_argv);
  g_autofree char *env_path = g_build_filename (templated, json_object_get_string_member (start, "id"), "env", NULL);
  g_autoptr (GHashTable) env = rh_test_read_env_file (env_path);
  g_assert_cmpstr (g_hash_table_lookup (env, "OUT"), ==, "/rec/live/cam1.flv");

  /* The hooks' stdout is logged under their rule's name. */
  g_autofree char *log = rh_test_daemon_log (daemon);
  g_assert_nonnull (strstr (log, "hook \"templated\" stdout: recorded publish_start"));
  rh_test_daemon_free (daemon);
  rh_test_remove_tree (dir);
}

#define WEBHOOK_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

/* Runs the Standard Webhooks verifier (Python, written from the spec) on
 * a body and the request's headers; TRUE when it accepts them. */
static gboolean
standard_webhook_verifies (const RhTestRequest *request, const char *body)
{
  g_autofree char *verifier = g_build_filename (rh_test_env ("RH_FIXTURES"), "hooks",
                                                "verify-standard-webhook.py", NULL);
  const char *id = g_hash_table_lookup (request->headers, "webhook-id");
  const char *timestamp = g_hash_table_lookup (request->headers, "webhook-timestamp");
  const char *signature = g_hash_table_lookup (request->headers, "webhook-signature");
  g_assert_nonnull (id);
  g_assert_nonnull (timestamp);
  g_assert_nonnull (signature);
  const char *const argv[] = { "python3", verifier, WEBHOOK_SECRET, id, timestamp, signature, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDIN_PIPE, &error);
  g_assert_no_error (error);
  g_autoptr (GBytes) input = g_bytes_new (body, strlen (body));
  g_assert_true (g_subprocess_communicate (process, input, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  return g_subprocess_get_if_exited (process) && g_subprocess_get_exit_status (process) == 0;
}

static void
test_webhooks (void)
{
  RhTestHttp *http = rh_test_http_start ();
  guint16 port = rh_test_http_port (http);
  guint16 closed_port = rh_test_free_port ();
  g_autofree char *config = g_strdup_printf (
    "hooks = { timeout = 5.0; };\n"
    "rules = (\n"
    "  { name = \"signed\"; on = [ \"publish_start\" ];\n"
    "    webhook = { url = \"http://127.0.0.1:%1$u/ok\"; secret = \"${env.RH_HOOK_SECRET}\";\n"
    "                headers = { X-Stream = \"${stream_key}\"; Authorization = \"Bearer ${env.RH_API_TOKEN}\"; }; }; },\n"
    "  { name = \"flaky\"; on = [ \"publish_start\" ]; webhook = { url = \"http://127.0.0.1:%1$u/flaky\"; retries = 3; }; },\n"
    "  { name = \"refused\"; on = [ \"publish_start\" ]; webhook = { url = \"http://127.0.0.1:%1$u/bad\"; retries = 3; }; },\n"
    "  { name = \"down\"; on = [ \"publish_start\" ]; webhook = { url = \"http://127.0.0.1:%2$u/x?key=hidden\"; retries = 2; }; }\n"
    ");\n", port, closed_port);
  const char *const env[] = { "RH_HOOK_SECRET=" WEBHOOK_SECRET, "RH_API_TOKEN=tok-123", NULL };
  const char *const args[] = { "--hook-webhook", NULL, NULL };
  g_autofree char *flag = g_strdup_printf ("publish_stop=http://127.0.0.1:%u/ok", port);
  const char *const flag_args[] = { args[0], flag, NULL };
  RhTestDaemon *daemon = rh_test_daemon_start_full (config, flag_args, env, FALSE);
  g_autofree char *url = rh_test_daemon_url (daemon, "live/hooked");
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 2, "320x180", NULL, NULL);
  g_assert_cmpint (rh_test_wait (publisher, 15000), ==, 0);

  g_assert_true (rh_test_http_wait (http, "/ok", 2, 10000));
  g_assert_true (rh_test_http_wait (http, "/flaky", 2, 10000));
  g_assert_true (rh_test_daemon_wait_log (daemon, "webhook \"down\" to http://127.0.0.1", 10000));
  g_assert_true (rh_test_daemon_wait_log (daemon, "failed after 3 attempt(s)", 10000));
  /* A 4xx answer is final: the daemon says so when it gets it, and that
   * is when a retry would have been scheduled instead. */
  g_autofree char *refused = g_strdup_printf ("webhook \"refused\" to http://127.0.0.1:%u/bad refused: HTTP 400, "
                                              "not retried", port);
  g_assert_true (rh_test_daemon_wait_log (daemon, refused, 10000));
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);

  g_autoptr (GPtrArray) ok = rh_test_http_requests (http, "/ok");
  g_assert_cmpuint (ok->len, ==, 2);  /* the rule's publish_start, the flag's publish_stop */
  RhTestRequest *signed_request = NULL, *flag_request = NULL;
  for (guint i = 0; i < ok->len; i++)
    {
      RhTestRequest *r = g_ptr_array_index (ok, i);
      if (g_hash_table_contains (r->headers, "webhook-signature"))
        signed_request = r;
      else
        flag_request = r;
    }
  g_assert_nonnull (signed_request);
  g_assert_nonnull (flag_request);
  g_autoptr (JsonNode) body = json_from_string (signed_request->body, NULL);
  JsonObject *event = json_node_get_object (body);
  g_assert_cmpstr (json_object_get_string_member (event, "type"), ==, "publish_start");
  g_assert_cmpstr (json_object_get_string_member (event, "stream_key"), ==, "live/hooked");
  g_assert_cmpstr (g_hash_table_lookup (signed_request->headers, "content-type"), ==, "application/json");
  g_assert_cmpstr (g_hash_table_lookup (signed_request->headers, "x-stream"), ==, "live/hooked");
  g_assert_cmpstr (g_hash_table_lookup (signed_request->headers, "authorization"), ==, "Bearer tok-123");
  g_assert_cmpstr (g_hash_table_lookup (signed_request->headers, "idempotency-key"), ==,
                   json_object_get_string_member (event, "id"));
  g_assert_cmpstr (g_hash_table_lookup (signed_request->headers, "x-rtmphooks-event"), ==, "publish_start");
  /* Standard Webhooks: the id is the event's, and an independent verifier
   * accepts the signature, and refuses it for a body changed by a byte. */
  g_assert_cmpstr (g_hash_table_lookup (signed_request->headers, "webhook-id"), ==,
                   json_object_get_string_member (event, "id"));
  g_assert_true (standard_webhook_verifies (signed_request, signed_request->body));
  g_autofree char *tampered = g_strdup (signed_request->body);
  tampered[strlen (tampered) - 2] ^= 1;
  g_assert_false (standard_webhook_verifies (signed_request, tampered));
  g_assert_null (g_hash_table_lookup (flag_request->headers, "webhook-signature"));
  g_autoptr (JsonNode) flag_body = json_from_string (flag_request->body, NULL);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (flag_body), "type"), ==, "publish_stop");

  /* 500 then retried (same idempotency key); 400 never retried. */
  g_autoptr (GPtrArray) flaky = rh_test_http_requests (http, "/flaky");
  g_assert_cmpuint (flaky->len, ==, 2);
  g_assert_cmpstr (g_hash_table_lookup (((RhTestRequest *) g_ptr_array_index (flaky, 0))->headers, "idempotency-key"), ==,
                   g_hash_table_lookup (((RhTestRequest *) g_ptr_array_index (flaky, 1))->headers, "idempotency-key"));
  g_assert_cmpstr (g_hash_table_lookup (((RhTestRequest *) g_ptr_array_index (flaky, 0))->headers, "webhook-id"), ==,
                   g_hash_table_lookup (((RhTestRequest *) g_ptr_array_index (flaky, 1))->headers, "webhook-id"));
  g_autoptr (GPtrArray) bad = rh_test_http_requests (http, "/bad");
  g_assert_cmpuint (bad->len, ==, 1);

  /* Secrets and URL queries never reach the log. */
  g_autofree char *log = rh_test_daemon_log (daemon);
  g_assert_null (strstr (log, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
  g_assert_null (strstr (log, "tok-123"));
  g_assert_null (strstr (log, "hidden"));
  g_assert_nonnull (strstr (log, "webhook \"refused\" to http://127.0.0.1"));
  rh_test_daemon_free (daemon);
  rh_test_http_stop (http);
}

/* TLS is verified: a server whose certificate nobody vouches for gets no
 * event, and the failure is logged. */
static void
test_webhook_tls_verified (void)
{
  g_autofree char *cert = g_build_filename (rh_test_env ("RH_FIXTURES"), "hooks", "untrusted-cert.pem", NULL);
  g_autofree char *key = g_build_filename (rh_test_env ("RH_FIXTURES"), "hooks", "untrusted-key.pem", NULL);
  RhTestHttp *https = rh_test_http_start_tls (cert, key);
  g_autofree char *config = g_strdup_printf (
    "hooks = { require_https = true; };\n"
    "rules = ( { name = \"tls\"; on = [ \"connection_accept\" ];\n"
    "  webhook = { url = \"https://127.0.0.1:%u/ok\"; retries = 0; }; } );\n", rh_test_http_port (https));
  RhTestDaemon *daemon = rh_test_daemon_start (config, NULL);
  g_autoptr (GSocketConnection) connection G_GNUC_UNUSED = rh_test_connect (daemon->port);
  g_autofree char *failed = g_strdup_printf ("webhook \"tls\" to https://127.0.0.1:%u/ok failed after 1 attempt(s)",
                                             rh_test_http_port (https));
  g_assert_true (rh_test_daemon_wait_log (daemon, failed, 10000));
  g_autoptr (GPtrArray) requests = rh_test_http_requests (https, "/ok");
  g_assert_cmpuint (requests->len, ==, 0);
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);
  g_autofree char *log = rh_test_daemon_log (daemon);
  g_test_message ("%s", strstr (log, failed));
  g_assert_nonnull (strstr (strstr (log, failed), "TLS certificate"));
  rh_test_daemon_free (daemon);
  rh_test_http_stop (https);
}

/* A hook that outlives its timeout is killed, and so is its child. */
static void
test_timeout_kills_children (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *body = g_strdup_printf ("#!/bin/sh\n"
                                           "sleep 300 &\n"
                                           "echo $! > %1$s/child.pid\n"
                                           "echo $$ > %1$s/hook.tmp && mv %1$s/hook.tmp %1$s/hook.pid\n"
                                           "trap '' TERM\n"  /* ignores SIGTERM: SIGKILL must follow */
                                           "sleep 300\n", dir);
  g_autofree char *script = rh_test_write_script (dir, "hang.sh", body);
  g_autofree char *config = g_strdup_printf (
    "rules = ( { name = \"hang\"; on = [ \"connection_accept\" ]; exec = { command = [ \"%s\" ]; timeout = 1.0; }; } );",
    script);
  RhTestDaemon *daemon = rh_test_daemon_start (config, NULL);
  g_autoptr (GSocketConnection) connection G_GNUC_UNUSED = rh_test_connect (daemon->port);
  g_autofree char *child_pid = g_build_filename (dir, "child.pid", NULL);
  g_autofree char *hook_pid = g_build_filename (dir, "hook.pid", NULL);
  /* hook.pid appears (whole, by rename) after child.pid is written. */
  g_assert_true (rh_test_wait_file (hook_pid, 10000));
  g_assert_true (rh_test_pid_file_alive (child_pid));
  g_assert_true (rh_test_daemon_wait_log (daemon, "hook \"hang\" timed out", 10000));
  g_assert_true (rh_test_daemon_wait_log (daemon, "killed by signal 9", 10000));
  g_assert_true (rh_test_wait_pid_file_gone (hook_pid, 10000));
  g_assert_true (rh_test_wait_pid_file_gone (child_pid, 10000));
  rh_test_daemon_finish (daemon);
  rh_test_remove_tree (dir);
}

/* A hook's grandchild that leaves its process group and session (setsid,
 * its parent gone) is still killed at the hook's timeout; one left behind
 * by a hook that exited normally lives as long as the daemon, no longer. */
static void
test_daemonized_grandchildren (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *hang_body = g_strdup_printf (
    "#!/bin/sh\n"
    "setsid -f sh -c 'echo $$ > %1$s/escaped.tmp; mv %1$s/escaped.tmp %1$s/escaped.pid; exec sleep 300'\n"
    "while [ ! -e %1$s/escaped.pid ]; do sleep 0.05; done\n"
    "echo $$ > %1$s/hook.tmp && mv %1$s/hook.tmp %1$s/hook.pid\n"
    "sleep 300\n", dir);
  g_autofree char *hang = rh_test_write_script (dir, "hang.sh", hang_body);
  g_autofree char *leave_body = g_strdup_printf (
    "#!/bin/sh\n"
    "setsid -f sh -c 'echo $$ > %1$s/left.tmp; mv %1$s/left.tmp %1$s/left.pid; exec sleep 300'\n"
    "while [ ! -e %1$s/left.pid ]; do sleep 0.05; done\n", dir);
  g_autofree char *leave = rh_test_write_script (dir, "leave.sh", leave_body);
  g_autofree char *config = g_strdup_printf (
    "rules = ( { name = \"hang\"; on = [ \"connection_accept\" ]; exec = { command = [ \"%s\" ]; timeout = 1.0; }; },\n"
    "          { name = \"leave\"; on = [ \"handshake_complete\" ]; exec = { command = [ \"%s\" ]; }; } );\n",
    hang, leave);
  RhTestDaemon *daemon = rh_test_daemon_start (config, NULL);
  g_autoptr (GSocketConnection) client = rh_test_connect (daemon->port);
  g_assert_true (rh_test_client_handshake (client));
  g_autofree char *hook_pid = g_build_filename (dir, "hook.pid", NULL);
  g_autofree char *escaped_pid = g_build_filename (dir, "escaped.pid", NULL);
  g_autofree char *left_pid = g_build_filename (dir, "left.pid", NULL);
  g_assert_true (rh_test_wait_file (hook_pid, 10000));
  g_assert_true (rh_test_pid_file_alive (escaped_pid));

  /* The escaped one is in another session, adopted by the daemon. */
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (escaped_pid, &text, NULL, NULL));
  g_autofree char *stat_path = g_strdup_printf ("/proc/%d/stat", atoi (text));
  g_autofree char *stat = NULL;
  g_assert_true (g_file_get_contents (stat_path, &stat, NULL, NULL));
  g_auto (GStrv) fields = g_strsplit (strrchr (stat, ')') + 2, " ", 6);
  g_assert_cmpint (atoi (fields[1]), ==, g_ascii_strtoll (g_subprocess_get_identifier (daemon->process), NULL, 10));
  g_assert_cmpint (atoi (fields[3]), ==, atoi (text));   /* its own session */

  g_assert_true (rh_test_daemon_wait_log (daemon, "hook \"hang\" timed out", 10000));
  g_assert_true (rh_test_wait_pid_file_gone (hook_pid, 10000));
  g_assert_true (rh_test_wait_pid_file_gone (escaped_pid, 10000));

  g_assert_true (rh_test_daemon_wait_log (daemon, "hook \"leave\" for handshake_complete exited with status 0", 10000));
  g_assert_true (rh_test_pid_file_alive (left_pid));
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);
  g_assert_true (rh_test_wait_pid_file_gone (left_pid, 5000));
  rh_test_daemon_free (daemon);
  rh_test_remove_tree (dir);
}

/* With concurrency 2, ten slow hooks never run more than two at a time. */
static void
test_concurrency_cap (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *body = g_strdup_printf ("#!/bin/sh\n"
                                           "exec 9>%1$s/lock\n"
                                           "flock 9; n=$(( $(cat %1$s/running 2>/dev/null || echo 0) + 1 ));\n"
                                           "echo $n > %1$s/running; echo $n >> %1$s/seen; flock -u 9\n"
                                           "sleep 0.3\n"
                                           "flock 9; echo $(( $(cat %1$s/running) - 1 )) > %1$s/running; flock -u 9\n"
                                           "echo done >> %1$s/done\n", dir);
  g_autofree char *script = rh_test_write_script (dir, "slow.sh", body);
  g_autofree char *script_flag = g_strdup_printf ("connection_accept=%s", script);
  const char *const args[] = { "--hook-script", script_flag, "--hook-concurrency", "2", NULL };
  RhTestDaemon *daemon = rh_test_daemon_start (NULL, args);
  GSocketConnection *connections[10];
  for (int i = 0; i < 10; i++)
    connections[i] = rh_test_connect (daemon->port);
  g_autofree char *done = g_build_filename (dir, "done", NULL);
  g_autofree char *seen = g_build_filename (dir, "seen", NULL);
  g_assert_true (rh_test_wait_file_count (done, "done", 10, 10000));
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (done, &text, NULL, NULL));
  g_assert_cmpuint (rh_test_count (text, "done"), ==, 10);
  g_autofree char *seen_text = NULL;
  g_assert_true (g_file_get_contents (seen, &seen_text, NULL, NULL));
  g_assert_cmpuint (rh_test_count (seen_text, "\n"), ==, 10);
  g_assert_null (strstr (seen_text, "3"));
  g_assert_nonnull (strstr (seen_text, "2"));
  for (int i = 0; i < 10; i++)
    g_object_unref (connections[i]);
  rh_test_daemon_finish (daemon);
  rh_test_remove_tree (dir);
}

/* A full queue drops, counts and says so. */
static void
test_queue_full (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *release = g_build_filename (dir, "release", NULL);
  /* The hook holds its slot until the test releases it, so nothing leaves
   * the queue while the six events arrive. */
  g_autofree char *started = g_build_filename (dir, "started", NULL);
  g_autofree char *body = g_strdup_printf ("#!/bin/sh\ntouch %s\nwhile [ ! -e %s ]; do sleep 0.05; done\n",
                                           started, release);
  g_autofree char *script = rh_test_write_script (dir, "slow.sh", body);
  g_autofree char *config = g_strdup_printf (
    "hooks = { concurrency = 1; queue = 2; };\n"
    "rules = ( { name = \"slow\"; on = [ \"connection_accept\" ]; exec = { command = [ \"%s\" ]; }; } );", script);
  RhTestDaemon *daemon = rh_test_daemon_start (config, NULL);
  GSocketConnection *connections[6];
  connections[0] = rh_test_connect (daemon->port);
  g_assert_true (rh_test_wait_file (started, 10000));
  for (int i = 1; i < 6; i++)
    connections[i] = rh_test_connect (daemon->port);
  /* 1 running + 2 queued of 6: 3 dropped, each logged. */
  g_assert_true (rh_test_daemon_wait_log_count (daemon, " accepted from ", 6, 10000));
  g_assert_true (rh_test_daemon_wait_log_count (daemon, "hooks: queue full (2), dropped \"slow\" for connection_accept", 1, 10000));
  g_subprocess_send_signal (daemon->process, SIGUSR1);
  g_assert_true (rh_test_daemon_wait_log (daemon, "drops=3 ", 10000));
  g_assert_true (g_file_set_contents (release, "", 0, NULL));
  for (int i = 0; i < 6; i++)
    g_object_unref (connections[i]);
  rh_test_daemon_finish (daemon);
  rh_test_remove_tree (dir);
}

static char *
marker_rule (const char *dir, const char *name, const char *script)
{
  return g_strdup_printf ("rules = ( { name = \"%2$s\"; on = [ \"connection_accept\" ];\n"
                          "  env = { RECORD_DIR = \"%1$s/%2$s\"; }; exec = { command = [ \"%3$s\" ]; }; } );\n",
                          dir, name, script);
}

/* SIGHUP: a new rule applies to the next event; a broken file keeps the
 * old rules. */
static void
test_reload (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *script = recorder ();
  g_autofree char *first = marker_rule (dir, "first", script);
  g_autofree char *second = marker_rule (dir, "second", script);
  g_autofree char *first_dir = g_build_filename (dir, "first", NULL);
  g_autofree char *second_dir = g_build_filename (dir, "second", NULL);
  RhTestDaemon *daemon = rh_test_daemon_start (first, NULL);

  g_autoptr (GSocketConnection) a = rh_test_connect (daemon->port);
  g_assert_true (wait_entries (first_dir, 1, 5000));

  rh_test_daemon_reload (daemon, second);
  g_assert_true (rh_test_daemon_wait_log (daemon, "configuration reloaded", 5000));
  g_autoptr (GSocketConnection) b G_GNUC_UNUSED = rh_test_connect (daemon->port);
  g_assert_true (wait_entries (second_dir, 1, 5000));
  g_assert_cmpuint (count_entries (first_dir), ==, 1);

  rh_test_daemon_reload (daemon, "rules = ( { name = \"broken\"; on = [ \"nonsense\" ]; } );\n");
  g_assert_true (rh_test_daemon_wait_log (daemon, "reload failed", 5000));
  g_autoptr (GSocketConnection) c G_GNUC_UNUSED = rh_test_connect (daemon->port);
  g_assert_true (wait_entries (second_dir, 2, 5000));
  g_assert_cmpuint (count_entries (first_dir), ==, 1);

  /* The live session made before the reloads is still there. */
  g_assert_false (rh_test_wait_closed (a, 200));
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);
  g_autofree char *log = rh_test_daemon_log (daemon);
  g_assert_nonnull (strstr (log, "rtmphooks.conf:1: rule \"broken\": unknown event \"nonsense\""));
  rh_test_daemon_free (daemon);
  rh_test_remove_tree (dir);
}

/* The command-line hook flags, without any config file: all three stdio formats,
 * parsed back. */
static void
test_stdio_formats (void)
{
  static const char *const formats[] = { "json", "jsonl", "env" };
  for (gsize f = 0; f < G_N_ELEMENTS (formats); f++)
    {
      const char *const args[] = { "--hook-stdio-format", formats[f], "--hook-timeout", "5s", NULL };
      RhTestDaemon *daemon = rh_test_daemon_start_full (NULL, args, NULL, TRUE);
      g_autoptr (GSocketConnection) connection = rh_test_connect (daemon->port);
      g_assert_true (rh_test_client_handshake (connection));
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      g_assert_true (rh_test_daemon_wait_log (daemon, "c000001 closed", 5000));
      g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);
      g_autofree char *log = rh_test_daemon_log (daemon);
      g_assert_nonnull (strstr (log, "started"));
      g_assert_null (strstr (log, "RTMP_EVENT"));  /* events never go to the log */

      if (strcmp (formats[f], "env") == 0)
        {
          g_autofree char *out = rh_test_daemon_stdout (daemon);
          g_auto (GStrv) blocks = g_strsplit (out, "\n\n", -1);
          static const char *const types[] = { "connection_accept", "handshake_complete", "connection_close" };
          g_assert_cmpuint (g_strv_length (blocks), ==, 4);  /* 3 events + the empty tail */
          for (guint i = 0; i < 3; i++)
            {
              g_autofree char *header = g_strdup_printf ("# RTMP Event: %s\n", types[i]);
              g_assert_true (g_str_has_prefix (blocks[i], header));
              g_autofree char *type_line = g_strdup_printf ("\nRTMP_EVENT_TYPE=\"%s\"\n", types[i]);
              g_assert_nonnull (strstr (blocks[i], type_line));
              g_assert_nonnull (strstr (blocks[i], "\nRTMP_CONN_ID=\"c000001\"\n"));
              g_assert_nonnull (strstr (blocks[i], "\nRTMP_CLIENT_IP=\"127.0.0.1\"\n"));
            }
          g_assert_nonnull (strstr (blocks[2], "\nRTMP_REASON=\"client_disconnect\""));
        }
      else
        {
          g_autoptr (GPtrArray) events = rh_test_daemon_events_after (daemon, strcmp (formats[f], "json") == 0 ? "RTMP_EVENT: " : "", NULL);
          g_assert_cmpuint (events->len, ==, 3);
          g_assert_cmpuint (count_type (events, "connection_accept"), ==, 1);
          g_assert_cmpuint (count_type (events, "handshake_complete"), ==, 1);
          g_assert_cmpuint (count_type (events, "connection_close"), ==, 1);
          JsonObject *hs = json_object_get_object_member (find_event (events, "handshake_complete"), "data");
          g_assert_cmpstr (json_object_get_string_member (hs, "handshake"), ==, "simple");
        }
      rh_test_daemon_free (daemon);
    }
}

/* Shutdown: live sessions end with server_shutdown, their hooks still run. */
static void
test_shutdown_stop_events (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *script = recorder ();
  g_autofree char *config = g_strdup_printf (
    "hooks = { stdio = \"jsonl\"; };\n"
    "rules = ( { name = \"stops\"; on = [ \"publish_stop\", \"connection_close\" ];\n"
    "  env = { RECORD_DIR = \"%s/stops\"; }; exec = { command = [ \"%s\" ]; }; } );\n", dir, script);
  RhTestDaemon *daemon = rh_test_daemon_start (config, NULL);
  g_autofree char *url = rh_test_daemon_url (daemon, "live/forever");
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 30, "320x180", NULL, NULL);
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish_start live/forever", 10000));
  /* Media is flowing once the video codec is known. */
  g_assert_true (rh_test_daemon_wait_log (daemon, "codec_detected live/forever track=video", 10000));
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);
  g_subprocess_force_exit (publisher);
  rh_test_wait (publisher, 5000);

  g_autoptr (GPtrArray) events = rh_test_daemon_events (daemon, NULL);
  JsonObject *stop = json_object_get_object_member (find_event (events, "publish_stop"), "data");
  g_assert_cmpstr (json_object_get_string_member (stop, "reason"), ==, "server_shutdown");
  JsonObject *close = json_object_get_object_member (find_event (events, "connection_close"), "data");
  g_assert_cmpstr (json_object_get_string_member (close, "reason"), ==, "server_shutdown");
  /* Both actions ran before the daemon exited. */
  g_autofree char *stops = g_build_filename (dir, "stops", NULL);
  g_assert_cmpuint (count_entries (stops), ==, 2);
  rh_test_daemon_free (daemon);
  rh_test_remove_tree (dir);
}

/* A hook still running when the shutdown grace ends is killed with its
 * whole process group: nothing it started outlives the daemon. */
static void
test_shutdown_kills_hooks (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *script = rh_test_write_script (dir, "linger.sh",
    "#!/bin/sh\n"
    "sleep 300 &\n"
    "echo $! > \"$PIDS/sleep\"\n"
    "echo $$ > \"$PIDS/shell.tmp\" && mv \"$PIDS/shell.tmp\" \"$PIDS/shell\"\n"
    "wait\n");
  g_autofree char *config = g_strdup_printf (
    "hooks = { timeout = 1.0; };\n"
    "rules = ( { name = \"linger\"; on = [ \"connection_accept\" ]; env = { PIDS = \"%s\"; };\n"
    "            exec = { command = [ \"%s\" ]; timeout = 300.0; }; } );\n", dir, script);
  RhTestDaemon *daemon = rh_test_daemon_start (config, NULL);
  GSocketConnection *client = rh_test_connect (daemon->port);
  g_autofree char *shell_file = g_build_filename (dir, "shell", NULL);
  g_autofree char *sleep_file = g_build_filename (dir, "sleep", NULL);
  g_assert_true (rh_test_wait_file (shell_file, 10000));
  g_assert_true (rh_test_pid_file_alive (shell_file));
  g_assert_true (rh_test_pid_file_alive (sleep_file));

  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);
  g_autofree char *log = rh_test_daemon_log (daemon);
  g_assert_nonnull (strstr (log, "hook \"linger\" still running at exit: its process group is killed"));
  /* SIGKILL went out before the daemon exited; the kernel finishes it. */
  g_assert_true (rh_test_wait_pid_file_gone (shell_file, 10000));
  g_assert_true (rh_test_wait_pid_file_gone (sleep_file, 10000));
  g_object_unref (client);
  rh_test_daemon_free (daemon);
  rh_test_remove_tree (dir);
}

/* What a hook starts with: a process group of its own (its pid), no
 * descriptor of the daemon's (no socket, no epoll, no pidfd), default
 * signal dispositions although the daemon ignores SIGPIPE. */
static void
test_hook_process_state (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *script = rh_test_write_script (dir, "inspect.sh",
    "#!/bin/sh\n"
    "for f in /proc/$$/fd/*; do readlink \"$f\"; done > \"$OUT/fds\"\n"
    "grep '^SigIgn:' /proc/$$/status > \"$OUT/sigign\"\n"
    "echo \"$$ $(cut -d' ' -f5 /proc/$$/stat)\" > \"$OUT/pid-pgrp.tmp\"\n"
    "mv \"$OUT/pid-pgrp.tmp\" \"$OUT/pid-pgrp\"\n");
  g_autofree char *config = g_strdup_printf (
    "rules = ( { name = \"inspect\"; on = [ \"connection_accept\" ]; env = { OUT = \"%s\"; };\n"
    "            exec = { command = [ \"%s\" ]; }; } );\n", dir, script);
  RhTestDaemon *daemon = rh_test_daemon_start (config, NULL);
  GSocketConnection *client = rh_test_connect (daemon->port);
  g_autofree char *done = g_build_filename (dir, "pid-pgrp", NULL);
  g_assert_true (rh_test_wait_file (done, 10000));

  g_autofree char *ids = NULL, *fds = NULL, *sigign = NULL;
  g_assert_true (g_file_get_contents (done, &ids, NULL, NULL));
  g_auto (GStrv) pid_pgrp = g_strsplit (g_strstrip (ids), " ", 2);
  g_assert_cmpstr (pid_pgrp[0], ==, pid_pgrp[1]);
  g_autofree char *fds_path = g_build_filename (dir, "fds", NULL);
  g_assert_true (g_file_get_contents (fds_path, &fds, NULL, NULL));
  g_test_message ("hook descriptors:\n%s", fds);
  g_assert_null (strstr (fds, "socket:"));
  g_assert_null (strstr (fds, "eventpoll"));
  g_assert_null (strstr (fds, "pidfd"));
  g_autofree char *sigign_path = g_build_filename (dir, "sigign", NULL);
  g_assert_true (g_file_get_contents (sigign_path, &sigign, NULL, NULL));
  /* Every signal (SIGPIPE among them) at its default. */
  guint64 ignored = g_ascii_strtoull (sigign + strlen ("SigIgn:\t"), NULL, 16);
  g_assert_cmphex (ignored, ==, 0);
  g_object_unref (client);
  rh_test_daemon_finish (daemon);
  rh_test_remove_tree (dir);
}

static guint64
peak_rss_kib (GSubprocess *process)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/status", g_subprocess_get_identifier (process));
  g_autofree char *status = NULL;
  g_assert_true (g_file_get_contents (path, &status, NULL, NULL));
  const char *hwm = strstr (status, "VmHWM:");
  g_assert_nonnull (hwm);
  return g_ascii_strtoull (hwm + strlen ("VmHWM:"), NULL, 10);
}

/* A hook that prints 100 MB without a newline costs a bounded buffer: the
 * line is logged cut, with the count of what was not, and the next line
 * is logged whole. */
static void
test_huge_output_line (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *script = rh_test_write_script (dir, "chatty.sh",
    "#!/bin/sh\n"
    "head -c 104857600 /dev/zero | tr '\\000' 'a'\n"
    "printf '\\nsecond line\\n'\n");
  g_autofree char *config = g_strdup_printf (
    "rules = ( { name = \"chatty\"; on = [ \"connection_accept\" ]; exec = { command = [ \"%s\" ]; }; } );\n",
    script);
  /* Under AddressSanitizer freed blocks wait in a quarantine (256 MB by
   * default) that would count as the daemon's memory: keep it small. */
  const char *asan = g_getenv ("ASAN_OPTIONS");
  g_autofree char *asan_options = g_strdup_printf ("ASAN_OPTIONS=%s%squarantine_size_mb=1",
                                                   asan != NULL ? asan : "", asan != NULL ? ":" : "");
  const char *const env[] = { asan_options, NULL };
  RhTestDaemon *daemon = rh_test_daemon_start_full (config, NULL, env, FALSE);
  guint64 before = peak_rss_kib (daemon->process);
  GSocketConnection *client = rh_test_connect (daemon->port);
  g_assert_true (rh_test_daemon_wait_log (daemon, "hook \"chatty\" for connection_accept exited with status 0", 60000));
  g_autofree char *log = rh_test_daemon_log (daemon);
  g_autofree char *kept = g_strnfill (1024, 'a');
  g_autofree char *cut = g_strdup_printf ("hook \"chatty\" stdout: %s... (%u more bytes not logged)\n", kept,
                                          104857600 - 1024);
  g_assert_nonnull (strstr (log, cut));
  g_assert_nonnull (strstr (log, "hook \"chatty\" stdout: second line\n"));
  guint64 after = peak_rss_kib (daemon->process);
  g_test_message ("daemon peak RSS %" G_GUINT64_FORMAT " KiB before, %" G_GUINT64_FORMAT " KiB after", before, after);
  g_assert_cmpuint (after, <, before + 8 * 1024);
  g_object_unref (client);
  rh_test_daemon_finish (daemon);
  rh_test_remove_tree (dir);
}

/* A header value expanded from a client string (a query with CR/LF) must
 * not split the request: it is not sent, and the log says why; a clean
 * query goes through. */
static void
test_header_line_break_refused (void)
{
  RhTestHttp *http = rh_test_http_start ();
  g_autofree char *config = g_strdup_printf (
    "rules = ( { name = \"q\"; on = [ \"play_start\" ];\n"
    "  webhook = { url = \"http://127.0.0.1:%u/ok\"; headers = { X-Query = \"${query}\"; }; retries = 0; }; } );\n",
    rh_test_http_port (http));
  RhTestDaemon *daemon = rh_test_daemon_start (config, NULL);
  RhTestPlayer *hostile = rh_test_player_new (daemon->port, "live", "q?a=1\r\nInjected: yes", 0, NULL);
  g_assert_true (rh_test_daemon_wait_log (daemon, "header X-Query would hold a line break or control character; "
                                                  "not sent", 10000));
  RhTestPlayer *clean = rh_test_player_new (daemon->port, "live", "q?a=1", 0, NULL);
  g_assert_true (rh_test_http_wait (http, "/ok", 1, 10000));
  g_autoptr (GPtrArray) requests = rh_test_http_requests (http, "/ok");
  g_assert_cmpuint (requests->len, ==, 1);
  RhTestRequest *request = g_ptr_array_index (requests, 0);
  g_assert_cmpstr (g_hash_table_lookup (request->headers, "x-query"), ==, "a=1");
  g_assert_null (g_hash_table_lookup (request->headers, "injected"));
  rh_test_player_free (hostile);
  rh_test_player_free (clean);
  rh_test_daemon_finish (daemon);
  rh_test_http_stop (http);
}

/* The example scripts, as shipped: start and cleanup hooks around
 * a real recording, and the JSON event processor reading stdio output. */
static void
test_seed_examples (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  const char *examples = rh_test_env ("RH_EXAMPLES");
  g_autofree char *start = g_strdup_printf ("publish_start=%s/notify-start.sh", examples);
  g_autofree char *stop = g_strdup_printf ("publish_stop=%s/cleanup.sh", examples);
  g_autofree char *tmpdir = g_strdup_printf ("TMPDIR=%s", dir);
  /* The recording is a managed process: it lives as long as the stream. */
  g_autofree char *config = g_strdup_printf (
    "rules = ( { name = \"record\"; on = [ \"publish_start\" ];\n"
    "            exec = { command = [ \"%s/record-stream.sh\" ]; lifetime = \"stream\"; }; } );\n", examples);
  const char *const args[] = { "--hook-script", start, "--hook-script", stop, "--hook-stdio-format", "json", NULL };
  const char *const env[] = { tmpdir, NULL };
  RhTestDaemon *daemon = rh_test_daemon_start_full (config, args, env, FALSE);
  g_autofree char *url = rh_test_daemon_url (daemon, "live/seed");
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 4, "320x180", NULL, NULL);
  g_assert_cmpint (rh_test_wait (publisher, 15000), ==, 0);
  g_assert_true (rh_test_daemon_wait_log (daemon, "stdout: Duration:", 10000));
  g_assert_true (rh_test_daemon_wait_log (daemon, "play_stop live/seed", 10000));
  g_assert_true (rh_test_daemon_wait_log (daemon, "process \"record\" (pid", 10000));
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);

  g_autofree char *log = rh_test_daemon_log (daemon);
  g_assert_nonnull (strstr (log, "stdout: LIVE: live/seed started at"));
  g_assert_nonnull (strstr (log, "stdout: Client: 127.0.0.1"));
  g_assert_nonnull (strstr (log, "stdout: Duration: 4s"));
  g_assert_nonnull (strstr (log, "stdout: Recording started: live_seed_"));

  /* The recording holds the stream. */
  g_autofree char *recordings = g_build_filename (dir, "rtmphooks-recordings", NULL);
  g_autoptr (GDir) d = g_dir_open (recordings, 0, NULL);
  g_assert_nonnull (d);
  const char *name = g_dir_read_name (d);
  g_assert_nonnull (name);
  g_autofree char *recording = g_build_filename (recordings, name, NULL);
  RhTestProbe probe;
  g_assert_true (rh_test_probe (recording, &probe));
  g_assert_cmpstr (probe.video_codec, ==, "h264");
  g_assert_cmpuint (probe.video_frames, >=, 60);
  g_assert_true (probe.first_video_is_key);
  rh_test_probe_clear (&probe);

  /* The processor reads what --hook-stdio-format json printed. */
  g_autofree char *processor = g_strdup_printf ("%s/event-processor.sh", examples);
  g_autofree char *processed = g_build_filename (dir, "processed.txt", NULL);
  const char *const argv[] = { processor, NULL };
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_set_stdin_file_path (launcher, daemon->stdout_path);
  g_subprocess_launcher_set_stdout_file_path (launcher, processed);
  g_autoptr (GSubprocess) run = g_subprocess_launcher_spawnv (launcher, argv, NULL);
  g_assert_cmpint (rh_test_wait (run, 20000), ==, 0);
  g_autofree char *output = NULL;
  g_assert_true (g_file_get_contents (processed, &output, NULL, NULL));
  g_assert_nonnull (strstr (output, "New connection: c000001\n"));
  g_assert_nonnull (strstr (output, "Stream started: live/seed (c000001)\n"));
  g_assert_nonnull (strstr (output, "Stream stopped: live/seed (c000001)\n"));
  g_assert_nonnull (strstr (output, "Other event: play_start\n"));  /* the recorder */
  rh_test_daemon_free (daemon);
  rh_test_remove_tree (dir);
}

/* A reader that never reads stdout: the server goes on serving, events
 * past the bounded buffer are dropped and counted. */
static void
test_stalled_stdout (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *fifo = g_build_filename (dir, "events.fifo", NULL);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  /* Both ends held, nothing read: the daemon's writes fill the pipe. */
  int holder = open (fifo, O_RDWR);
  g_assert_cmpint (holder, >=, 0);

  guint16 port = rh_test_free_port ();
  g_autofree char *listen = g_strdup_printf ("127.0.0.1:%u", port);
  const char *const argv[] = { rh_test_env ("RH_DAEMON"), "-c", "/dev/null", "--listen", listen,
                               "--hook-stdio-format", "jsonl", NULL };
  RhTestDaemon *daemon = rh_test_daemon_spawn (argv, NULL, fifo, NULL, port);

  /* accept + close, ~190 bytes each: 5000 connections are well past the
   * 64 KiB pipe + 1 MiB buffer. */
  for (int i = 0; i < 5000; i++)
    {
      g_autoptr (GSocketConnection) c = rh_test_connect (daemon->port);
      g_assert_nonnull (c);
      g_io_stream_close (G_IO_STREAM (c), NULL, NULL);
    }
  g_assert_true (rh_test_daemon_wait_log (daemon, "stdio: reader too slow", 10000));

  /* A stream still flows to a player. */
  g_autofree char *url = rh_test_daemon_url (daemon, "live/stalled");
  g_autofree char *out = g_build_filename (dir, "stalled.flv", NULL);
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 4, "320x180", NULL, NULL);
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish_start live/stalled", 10000));
  const char *const player_argv[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-i", url, "-t", "2",
                                      "-c", "copy", "-y", out, NULL };
  g_autoptr (GSubprocess) player = rh_test_spawn (player_argv, NULL);
  g_assert_cmpint (rh_test_wait (player, 15000), ==, 0);
  g_assert_cmpint (rh_test_wait (publisher, 15000), ==, 0);
  RhTestProbe probe;
  g_assert_true (rh_test_probe (out, &probe));
  g_assert_cmpuint (probe.video_frames, ==, 60);
  rh_test_probe_clear (&probe);

  g_subprocess_send_signal (daemon->process, SIGUSR1);
  g_assert_true (rh_test_daemon_wait_log (daemon, "stdio_dropped=", 3000));
  g_autofree char *log = rh_test_daemon_log (daemon);
  const char *stats = strstr (log, "stdio_dropped=");
  g_assert_cmpint (g_ascii_strtoll (stats + strlen ("stdio_dropped="), NULL, 10), >, 1000);
  g_assert_cmpint (rh_test_daemon_stop (daemon), ==, 0);
  close (holder);
  rh_test_daemon_free (daemon);
  rh_test_remove_tree (dir);
}

/* SIGHUP opens new listeners and closes dropped ones without touching the
 * sessions made through them; rules from the command line survive. */
static void
test_reload_listeners (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *script = rh_test_write_script (dir, "hello.sh", "#!/bin/sh\necho cli hook ran\n");
  guint16 first = rh_test_free_port ();
  guint16 second = rh_test_free_port ();
  g_autofree char *config_path = g_build_filename (dir, "rtmphooks.conf", NULL);
  g_autofree char *config1 = g_strdup_printf ("server = { listen = [ \"127.0.0.1:%u\" ]; };\n", first);
  g_autofree char *config2 = g_strdup_printf ("server = { listen = [ \"127.0.0.1:%u\" ]; };\n", second);
  g_assert_true (g_file_set_contents (config_path, config1, -1, NULL));
  g_autofree char *flag = g_strdup_printf ("connection_accept=%s", script);
  const char *const argv[] = { rh_test_env ("RH_DAEMON"), "-c", config_path, "--log-level", "info",
                               "--hook-script", flag, NULL };
  RhTestDaemon *daemon = rh_test_daemon_spawn (argv, NULL, NULL, NULL, 0);

  g_autoptr (GSocketConnection) old = rh_test_connect (first);
  g_assert_nonnull (old);
  g_assert_true (rh_test_client_handshake (old));
  g_assert_true (rh_test_daemon_wait_log (daemon, "stdout: cli hook ran", 5000));

  g_assert_true (g_file_set_contents (config_path, config2, -1, NULL));
  g_subprocess_send_signal (daemon->process, SIGHUP);
  g_autofree char *closing = g_strdup_printf ("no longer listening on 127.0.0.1:%u", first);
  g_assert_true (rh_test_daemon_wait_log (daemon, closing, 5000));
  g_autoptr (GSocketConnection) fresh = rh_test_connect (second);
  g_assert_nonnull (fresh);
  g_autoptr (GSocketConnection) refused = rh_test_connect (first);
  g_assert_null (refused);
  /* The session made through the closed listener is still open, and the
   * command line's rule ran again after the reload. */
  g_assert_false (rh_test_wait_closed (old, 300));
  g_assert_true (rh_test_daemon_wait_log_count (daemon, "stdout: cli hook ran", 2, 5000));
  g_autofree char *log = rh_test_daemon_log (daemon);
  g_assert_cmpuint (rh_test_count (log, "stdout: cli hook ran"), ==, 2);
  rh_test_daemon_finish (daemon);
  rh_test_remove_tree (dir);
}

static int
run_fire (const char *config_path, const char *const *fire_args, char **output, char **errors)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (gpointer) rh_test_env ("RH_DAEMON"));
  g_ptr_array_add (argv, (gpointer) "-c");
  g_ptr_array_add (argv, (gpointer) config_path);
  for (const char *const *a = fire_args; *a != NULL; a++)
    g_ptr_array_add (argv, (gpointer) *a);
  g_ptr_array_add (argv, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) process = g_subprocess_newv ((const char *const *) argv->pdata,
                                                      G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                                      | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (process, NULL, NULL, output, errors, &error));
  g_assert_no_error (error);
  g_test_message ("%s%s", *output, *errors);
  return g_subprocess_get_exit_status (process);
}

/* --fire takes tls as the word true or false, and a rule on tls = true
 * matches only then. */
static void
test_fire_boolean (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *config = g_build_filename (dir, "rtmphooks.conf", NULL);
  g_assert_true (g_file_set_contents (config,
                                      "server = { applications = [ \"live\" ]; };\n"
                                      "rules = ( { name = \"tls-only\"; on = [ \"publish_start\" ];\n"
                                      "  where = { tls = true; }; exec = { command = [ \"/bin/true\" ]; }; } );\n",
                                      -1, NULL));
  g_autofree char *out = NULL, *err = NULL;
  const char *const secure[] = { "--fire", "publish_start", "app=live", "stream_name=one", "tls=true", NULL };
  g_assert_cmpint (run_fire (config, secure, &out, &err), ==, 0);
  g_assert_nonnull (strstr (out, "tls-only"));
  g_assert_nonnull (strstr (out, "RTMP_TLS=true"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  const char *const clear[] = { "--fire", "publish_start", "app=live", "stream_name=one", "tls=false", NULL };
  g_assert_cmpint (run_fire (config, clear, &out, &err), ==, 0);
  g_assert_null (strstr (out, "RTMP_TLS=true"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  const char *const wrong[] = { "--fire", "publish_start", "app=live", "stream_name=one", "tls=maybe", NULL };
  g_assert_cmpint (run_fire (config, wrong, &out, &err), !=, 0);
  g_assert_nonnull (strstr (err, "tls must be true or false"));
  rh_test_remove_tree (dir);
}

/* Variables the configuration reads as secrets (http.token, a webhook
 * secret, an Authorization header) are not inherited by hooks unless
 * pass_env names them, and --fire and the debug trace show them masked;
 * other variables are inherited as before. */
static void
test_secrets_stay_secret (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *env_file = g_build_filename (dir, "env.txt", NULL);
  g_autofree char *body = g_strdup_printf ("#!/bin/sh\nenv > %1$s/env.tmp && mv %1$s/env.tmp %1$s/env.txt\n", dir);
  g_autofree char *script = rh_test_write_script (dir, "dump.sh", body);
  g_setenv ("RH_TEST_API_TOKEN", "tok-0123456789", TRUE);
  g_setenv ("RH_TEST_HOOK_SECRET", "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=", TRUE);
  g_setenv ("RH_TEST_PLAIN", "visible", TRUE);
  guint16 http_port = rh_test_free_port ();
  g_autofree char *config = g_strdup_printf (
    "http = { listen = \"127.0.0.1:%u\"; token = \"${env.RH_TEST_API_TOKEN}\"; };\n"
    "rules = (\n"
    "  { name = \"dump\"; on = [ \"publish_start\" ]; exec = { command = [ \"%s\", \"${env.RH_TEST_API_TOKEN}\" ]; }; },\n"
    "  { name = \"signed\"; on = [ \"play_start\" ];\n"
    "    webhook = { url = \"http://127.0.0.1:9/x\"; secret = \"${env.RH_TEST_HOOK_SECRET}\";\n"
    "                headers = { Authorization = \"Bearer ${env.RH_TEST_API_TOKEN}\"; }; }; }\n"
    ");\n", http_port, script);
  const char *const args[] = { "--log-level", "debug", NULL };
  RhTestDaemon *daemon = rh_test_daemon_start (config, args);
  G_GNUC_UNUSED g_autoptr (GSocketConnection) first = rh_test_raw_publish (daemon->port, "live", "one");
  g_assert_true (rh_test_wait_file (env_file, 10000));
  g_autoptr (GHashTable) env = rh_test_read_env_file (env_file);
  g_assert_false (g_hash_table_contains (env, "RH_TEST_API_TOKEN"));
  g_assert_false (g_hash_table_contains (env, "RH_TEST_HOOK_SECRET"));
  g_assert_cmpstr (g_hash_table_lookup (env, "RH_TEST_PLAIN"), ==, "visible");
  g_assert_true (rh_test_daemon_wait_log (daemon, "starts exec", 5000));
  g_assert_false (rh_test_daemon_log_has (daemon, "tok-0123456789"));
  g_assert_true (rh_test_daemon_log_has (daemon, "\"***\""));

  /* --fire shows the plan with the values masked. */
  g_autofree char *out = NULL, *err = NULL;
  const char *const fire_connect[] = { "--fire", "publish_start", "app=live", "stream_name=one", NULL };
  g_assert_cmpint (run_fire (daemon->config_path, fire_connect, &out, &err), ==, 0);
  g_assert_null (strstr (out, "tok-0123456789"));
  g_assert_nonnull (strstr (out, "\"***\""));
  g_assert_null (strstr (out, "RH_TEST_API_TOKEN="));
  g_assert_nonnull (strstr (out, "RH_TEST_PLAIN=visible"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  const char *const fire_play[] = { "--fire", "play_start", "app=live", "stream_name=one", NULL };
  g_assert_cmpint (run_fire (daemon->config_path, fire_play, &out, &err), ==, 0);
  g_assert_nonnull (strstr (out, "Authorization: Bearer ***\n"));
  g_assert_null (strstr (out, "tok-0123456789"));
  g_assert_null (strstr (out, "c2VjcmV0"));

  /* pass_env names one: that one is passed on. */
  g_autofree char *passing = g_strdup_printf ("hooks = { pass_env = [ \"RH_TEST_HOOK_SECRET\" ]; };\n%s", config);
  rh_test_daemon_reload (daemon, passing);
  g_assert_true (rh_test_daemon_wait_log (daemon, "configuration reloaded", 10000));
  g_assert_cmpint (g_unlink (env_file), ==, 0);
  G_GNUC_UNUSED g_autoptr (GSocketConnection) second = rh_test_raw_publish (daemon->port, "live", "two");
  g_assert_true (rh_test_wait_file (env_file, 10000));
  g_autoptr (GHashTable) passed = rh_test_read_env_file (env_file);
  g_assert_cmpstr (g_hash_table_lookup (passed, "RH_TEST_HOOK_SECRET"), ==, "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=");
  g_assert_false (g_hash_table_contains (passed, "RH_TEST_API_TOKEN"));
  rh_test_daemon_finish (daemon);
  g_unsetenv ("RH_TEST_API_TOKEN");
  g_unsetenv ("RH_TEST_HOOK_SECRET");
  g_unsetenv ("RH_TEST_PLAIN");
  rh_test_remove_tree (dir);
}

/* --fire on a request shows the checks that match and what they would
 * run; with --run, the verdict (exit status 1 when denied). */
static void
test_dry_run_checks (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *key = rh_test_write_script (dir, "key.sh",
    "#!/bin/sh\n"
    "[ \"$1\" = good ] && { echo '{\"stream_name\": \"renamed\"}'; exit 0; }\n"
    "echo '{\"reason\": \"bad key\"}'; exit 1\n");
  g_autofree char *config = g_strdup_printf (
    "checks = (\n"
    "  { name = \"keys\"; on = [ \"publish\" ]; where = { app = \"live\"; };\n"
    "    exec = { command = [ \"%s\", \"${query}\" ]; timeout = 2.0; }; },\n"
    "  { name = \"vod\"; on = [ \"publish\" ]; where = { app = \"vod\"; }; exec = { command = [ \"/bin/false\" ]; }; }\n"
    ");\n", key);
  g_autofree char *path = g_build_filename (dir, "rtmphooks.conf", NULL);
  g_assert_true (g_file_set_contents (path, config, -1, NULL));

  const char *const show[] = { "--fire", "publish", "app=live", "stream_name=cam1", "query=good", NULL };
  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint (run_fire (path, show, &out, &err), ==, 0);
  g_assert_nonnull (strstr (out, "\"type\":\"publish\""));
  g_assert_nonnull (strstr (out, "check \"keys\": matches (on_error = deny)"));
  g_autofree char *argv_line = g_strdup_printf ("argv: [\"%s\", \"good\"]", key);
  g_assert_nonnull (strstr (out, argv_line));
  g_assert_nonnull (strstr (out, "check \"vod\": its conditions do not hold"));
  g_assert_null (strstr (out, "verdict"));

  const char *const allowed[] = { "--fire", "publish", "app=live", "stream_name=cam1", "query=good", "--run", NULL };
  g_autofree char *out2 = NULL, *err2 = NULL;
  g_assert_cmpint (run_fire (path, allowed, &out2, &err2), ==, 0);
  g_assert_nonnull (strstr (out2, "verdict: allowed, renamed to renamed by keys\n"));

  const char *const denied[] = { "--fire", "publish", "app=live", "stream_name=cam1", "query=bad", "--run", NULL };
  g_autofree char *out3 = NULL, *err3 = NULL;
  g_assert_cmpint (run_fire (path, denied, &out3, &err3), ==, 1);
  g_assert_nonnull (strstr (out3, "verdict: denied by \"keys\": bad key\n"));
  rh_test_remove_tree (dir);
}

/* --fire shows which rules a synthetic event matches and exactly what
 * they would run, running nothing; with --run it runs them once. */
static void
test_dry_run (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *script = recorder ();
  RhTestHttp *http = rh_test_http_start ();
  g_autofree char *config = g_strdup_printf (
    "rules = (\n"
    "  { name = \"rec\"; on = [ \"publish_start\" ]; where = { app = \"live\"; };\n"
    "    env = { RECORD_DIR = \"%1$s/rec\"; OUT = \"/srv/${stream_name}.flv\"; };\n"
    "    exec = { command = [ \"%2$s\", \"${stream_key}\", \"${query:-none}\" ]; }; },\n"
    "  { name = \"notify\"; on = [ \"publish_start\" ];\n"
    "    webhook = { url = \"http://127.0.0.1:%3$u/ok\"; headers = { X-Stream = \"${stream_key}\"; }; }; },\n"
    "  { name = \"office\"; on = [ \"publish_start\" ]; where = { client_ip = \"10.0.0.0/8\"; };\n"
    "    exec = { command = [ \"/bin/false\" ]; }; },\n"
    "  { name = \"viewers\"; on = [ \"play_start\" ]; exec = { command = [ \"/bin/false\" ]; }; },\n"
    "  { name = \"vod\"; on = [ \"publish_start\" ]; where = { app = \"vod\"; }; exec = { command = [ \"/bin/false\" ]; }; },\n"
    "  { name = \"signed\"; on = [ \"publish_start\" ];\n"
    "    webhook = { url = \"http://127.0.0.1:%3$u/ok\"; secret = \"${env.RH_TEST_UNSET_SECRET}\"; }; }\n"
    ");\n", dir, script, rh_test_http_port (http));
  g_autofree char *path = g_build_filename (dir, "rtmphooks.conf", NULL);
  g_assert_true (g_file_set_contents (path, config, -1, NULL));
  g_autofree char *rec_dir = g_build_filename (dir, "rec", NULL);

  const char *const dry[] = { "--fire", "publish_start", "app=live", "stream_name=cam1",
                              "client_ip=192.168.1.5", "query=token=abc", NULL };
  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint (run_fire (path, dry, &out, &err), ==, 0);
  g_assert_nonnull (strstr (out, "\"stream_key\":\"live/cam1\""));
  g_assert_nonnull (strstr (out, "rule \"rec\": matches"));
  g_autofree char *argv_line = g_strdup_printf ("argv: [\"%s\", \"live/cam1\", \"token=abc\"]", script);
  g_assert_nonnull (strstr (out, argv_line));
  g_assert_nonnull (strstr (out, "      OUT=/srv/cam1.flv\n"));
  g_assert_nonnull (strstr (out, "      RTMP_CLIENT_IP=192.168.1.5\n"));
  g_assert_nonnull (strstr (out, "rule \"notify\": matches"));
  g_autofree char *post = g_strdup_printf ("POST http://127.0.0.1:%u/ok", rh_test_http_port (http));
  g_assert_nonnull (strstr (out, post));
  g_assert_nonnull (strstr (out, "X-Stream: live/cam1"));
  g_assert_nonnull (strstr (out, "rule \"office\": its conditions do not hold"));
  g_assert_nonnull (strstr (out, "rule \"vod\": its conditions do not hold"));
  g_assert_null (strstr (out, "viewers"));
  /* Nothing ran. */
  g_assert_false (g_file_test (rec_dir, G_FILE_TEST_EXISTS));
  g_autoptr (GPtrArray) none = rh_test_http_requests (http, "/ok");
  g_assert_cmpuint (none->len, ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* --run: the recorder ran once with that argv and environment, the
   * webhook was posted; a failing action makes the exit status 1. */
  const char *const run[] = { "--fire", "publish_start", "app=live", "stream_name=cam1",
                              "client_ip=10.1.2.3", "--run", "--log-level", "debug", NULL };
  g_assert_cmpint (run_fire (path, run, &out, &err), ==, 1);
  /* At debug level the engine says what it did and why. */
  g_assert_nonnull (strstr (err, "hooks: event publish_start id="));
  g_assert_nonnull (strstr (err, "hooks: rule \"rec\" matches publish_start"));
  g_assert_nonnull (strstr (err, "hooks: rule \"vod\" does not match publish_start"));
  g_assert_nonnull (strstr (err, "app = \\\"vod\\\" does not hold"));
  g_assert_nonnull (strstr (err, "hooks: rule \"rec\" starts exec ["));
  g_autofree char *traced_post = g_strdup_printf ("hooks: rule \"notify\" starts webhook POST http://127.0.0.1:%u/ok",
                                                  rh_test_http_port (http));
  g_assert_nonnull (strstr (err, traced_post));
  g_assert_nonnull (strstr (out, "  rec: ok"));
  g_assert_nonnull (strstr (out, "  notify: ok"));
  g_assert_nonnull (strstr (out, "  office: failed: exit status 1"));
  /* A secret that expands to nothing: not sent, counted as failed. */
  g_assert_nonnull (strstr (out, "  signed: failed: bad secret"));
  g_assert_nonnull (strstr (err, "webhook \"signed\": bad secret (it expanded to nothing); not sent"));
  g_autoptr (GDir) runs = g_dir_open (rec_dir, 0, NULL);
  g_assert_nonnull (runs);
  const char *run_id = g_dir_read_name (runs);
  g_assert_nonnull (run_id);
  g_assert_null (g_dir_read_name (runs));
  g_autofree char *env_path = g_build_filename (rec_dir, run_id, "env", NULL);
  g_autoptr (GHashTable) env = rh_test_read_env_file (env_path);
  g_assert_cmpstr (g_hash_table_lookup (env, "RTMP_STREAM_KEY"), ==, "live/cam1");
  g_assert_cmpstr (g_hash_table_lookup (env, "OUT"), ==, "/srv/cam1.flv");
  /* By default hooks inherit the daemon's environment. */
  g_assert_cmpstr (g_hash_table_lookup (env, "RH_DAEMON"), ==, rh_test_env ("RH_DAEMON"));
  g_autoptr (GPtrArray) posted = rh_test_http_requests (http, "/ok");
  g_assert_cmpuint (posted->len, ==, 1);
  g_assert_cmpstr (g_hash_table_lookup (((RhTestRequest *) g_ptr_array_index (posted, 0))->headers, "x-stream"),
                   ==, "live/cam1");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Bad input is an error with status 2. */
  const char *const unknown[] = { "--fire", "publish_begin", NULL };
  g_assert_cmpint (run_fire (path, unknown, &out, &err), ==, 2);
  g_assert_nonnull (strstr (err, "unknown event \"publish_begin\""));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  const char *const wrong_field[] = { "--fire", "play_start", "codec=h264", NULL };
  g_assert_cmpint (run_fire (path, wrong_field, &out, &err), ==, 2);
  g_assert_nonnull (strstr (err, "play_start does not carry a data field codec"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  const char *const no_equals[] = { "--fire", "play_start", "app", NULL };
  g_assert_cmpint (run_fire (path, no_equals, &out, &err), ==, 2);
  g_assert_nonnull (strstr (err, "--fire: \"app\" is not key=value"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  const char *const not_number[] = { "--fire", "publish_stop", "duration_seconds=long", NULL };
  g_assert_cmpint (run_fire (path, not_number, &out, &err), ==, 2);
  g_assert_nonnull (strstr (err, "--fire: duration_seconds must be an integer"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  const char *const run_alone[] = { "--run", NULL };
  g_assert_cmpint (run_fire (path, run_alone, &out, &err), ==, 2);
  g_assert_nonnull (strstr (err, "--run needs --fire"));
  rh_test_http_stop (http);
  rh_test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hooks-e2e/dry-run", test_dry_run);
  g_test_add_func ("/hooks-e2e/dry-run-checks", test_dry_run_checks);
  g_test_add_func ("/hooks-e2e/shutdown-kills-hooks", test_shutdown_kills_hooks);
  g_test_add_func ("/hooks-e2e/hook-process-state", test_hook_process_state);
  g_test_add_func ("/hooks-e2e/huge-output-line", test_huge_output_line);
  g_test_add_func ("/hooks-e2e/header-line-break-refused", test_header_line_break_refused);
  g_test_add_func ("/hooks-e2e/events-and-exec", test_events_and_exec);
  g_test_add_func ("/hooks-e2e/webhooks", test_webhooks);
  g_test_add_func ("/hooks-e2e/webhook-tls-verified", test_webhook_tls_verified);
  g_test_add_func ("/hooks-e2e/timeout-kills-children", test_timeout_kills_children);
  g_test_add_func ("/hooks-e2e/daemonized-grandchildren", test_daemonized_grandchildren);
  g_test_add_func ("/hooks-e2e/concurrency-cap", test_concurrency_cap);
  g_test_add_func ("/hooks-e2e/queue-full", test_queue_full);
  g_test_add_func ("/hooks-e2e/reload", test_reload);
  g_test_add_func ("/hooks-e2e/stdio-formats", test_stdio_formats);
  g_test_add_func ("/hooks-e2e/shutdown-stop-events", test_shutdown_stop_events);
  g_test_add_func ("/hooks-e2e/seed-examples", test_seed_examples);
  g_test_add_func ("/hooks-e2e/stalled-stdout", test_stalled_stdout);
  g_test_add_func ("/hooks-e2e/reload-listeners", test_reload_listeners);
  g_test_add_func ("/hooks-e2e/secrets-stay-secret", test_secrets_stay_secret);
  g_test_add_func ("/hooks-e2e/fire-boolean", test_fire_boolean);
  return g_test_run ();
}
