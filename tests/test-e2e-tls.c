/* RTMPS end to end: a private CA and server certificates made with
 * openssl; ffmpeg publishing through TLS; ffmpeg, rtmpdump and GStreamer
 * playing through TLS and in clear; relays to rtmps:// targets, trusted
 * and not; certificates replaced by SIGHUP; and peers that abuse the
 * TLS port. */
#include "config.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include "test-http.h"
#include "test-media-tools.h"
#include "test-player.h"
#include "testutil.h"

/* ---- certificates ---- */

static void
run_openssl (const char *const *argv)
{
  g_autoptr (GSubprocess) openssl = rh_test_spawn (argv, NULL);
  g_assert_cmpint (rh_test_wait (openssl, 60000), ==, 0);
}

/* dir/NAME.pem and dir/NAME.key: a self-signed CA. */
static void
make_ca (const char *dir, const char *name)
{
  g_autofree char *key = g_strdup_printf ("%s/%s.key", dir, name);
  g_autofree char *pem = g_strdup_printf ("%s/%s.pem", dir, name);
  g_autofree char *subject = g_strdup_printf ("/CN=%s", name);
  const char *const argv[] = { "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                               "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", pem, "-days",
                               "30", "-subj", subject, NULL };
  run_openssl (argv);
}

/* dir/NAME.pem (the certificate, then the CA's: a chain) and
 * dir/NAME.key, for 127.0.0.1 and localhost, signed by dir/CA.pem with
 * the given serial. */
static void
make_server_certificate (const char *dir, const char *name, const char *ca, const char *serial)
{
  g_autofree char *key = g_strdup_printf ("%s/%s.key", dir, name);
  g_autofree char *csr = g_strdup_printf ("%s/%s.csr", dir, name);
  g_autofree char *leaf = g_strdup_printf ("%s/%s.leaf", dir, name);
  g_autofree char *pem = g_strdup_printf ("%s/%s.pem", dir, name);
  g_autofree char *ca_pem = g_strdup_printf ("%s/%s.pem", dir, ca);
  g_autofree char *ca_key = g_strdup_printf ("%s/%s.key", dir, ca);
  g_autofree char *extensions = g_strdup_printf ("%s/%s.ext", dir, name);
  g_assert_true (g_file_set_contents (extensions, "subjectAltName=DNS:localhost,IP:127.0.0.1\n", -1, NULL));
  const char *const request[] = { "openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                  "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=localhost", NULL };
  run_openssl (request);
  const char *const sign[] = { "openssl", "x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key,
                               "-set_serial", serial, "-days", "30", "-extfile", extensions, "-out", leaf, NULL };
  run_openssl (sign);
  g_autofree char *leaf_text = NULL, *ca_text = NULL;
  g_assert_true (g_file_get_contents (leaf, &leaf_text, NULL, NULL));
  g_assert_true (g_file_get_contents (ca_pem, &ca_text, NULL, NULL));
  g_autofree char *chain = g_strconcat (leaf_text, ca_text, NULL);
  g_assert_true (g_file_set_contents (pem, chain, -1, NULL));
}

typedef struct {
  char *dir;           /* ca, other-ca, server (serial 1001), renewed (serial 1002), untrusted */
} Certificates;

static Certificates certificates;

static const char *
certificate_path (const char *name, const char *suffix)
{
  static char path[4][PATH_MAX];
  static guint next;
  char *out = path[next++ % G_N_ELEMENTS (path)];
  g_snprintf (out, PATH_MAX, "%s/%s.%s", certificates.dir, name, suffix);
  return out;
}

static void
make_certificates (void)
{
  certificates.dir = rh_test_make_dir ();
  make_ca (certificates.dir, "ca");
  make_ca (certificates.dir, "other-ca");
  make_server_certificate (certificates.dir, "server", "ca", "1001");
  make_server_certificate (certificates.dir, "renewed", "ca", "1002");
  make_server_certificate (certificates.dir, "untrusted", "other-ca", "2001");
}

/* ---- daemons ---- */

typedef struct {
  RhTestDaemon *daemon;
  guint16 tls_port;
  guint16 http_port;
} TlsDaemon;

static char *
tls_config (guint16 tls_port, guint16 http_port, const char *certificate, const char *extra_server,
            const char *rest)
{
  return g_strdup_printf ("server = {\n"
                          "  applications = [ \"live\", \"edge\", \"untrusted\", \"insecure\" ];\n"
                          "  listen_tls = [ \"127.0.0.1:%u\" ];\n"
                          "  tls = { certificate = \"%s\"; key = \"%s\"; };\n"
                          "%s"
                          "};\n"
                          "http = { listen = [ \"127.0.0.1:%u\" ]; };\n"
                          "%s",
                          tls_port, certificate_path (certificate, "pem"), certificate_path (certificate, "key"),
                          extra_server != NULL ? extra_server : "", http_port, rest != NULL ? rest : "");
}

static TlsDaemon
start_tls_daemon (const char *certificate, const char *extra_server, const char *rest)
{
  TlsDaemon tls = { NULL, rh_test_free_port (), rh_test_free_port () };
  g_autofree char *config = tls_config (tls.tls_port, tls.http_port, certificate, extra_server, rest);
  const char *const args[] = { "--hook-stdio-format", "jsonl", NULL };
  tls.daemon = rh_test_daemon_start (config, args);
  g_assert_true (rh_test_wait_port (tls.tls_port, 10000));
  return tls;
}

static char *
tls_url (const TlsDaemon *tls, const char *key)
{
  return g_strdup_printf ("rtmps://127.0.0.1:%u/%s", tls->tls_port, key);
}

/* The certificate the TLS port presents to a new client now. */
static GTlsCertificate *
presented_certificate (guint16 port)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketConnection) tcp = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (GSocketConnectable) identity = g_network_address_new ("localhost", port);
  g_autoptr (GIOStream) tls = g_tls_client_connection_new (G_IO_STREAM (tcp), identity, &error);
  g_assert_no_error (error);
  g_autoptr (GTlsDatabase) database = g_tls_file_database_new (certificate_path ("ca", "pem"), &error);
  g_assert_no_error (error);
  g_tls_connection_set_database (G_TLS_CONNECTION (tls), database);
  g_assert_true (g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, &error));
  g_assert_no_error (error);
  GTlsCertificate *peer = g_object_ref (g_tls_connection_get_peer_certificate (G_TLS_CONNECTION (tls)));
  g_io_stream_close (G_IO_STREAM (tcp), NULL, NULL);
  return peer;
}

static gboolean
is_certificate (GTlsCertificate *certificate, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GTlsCertificate) expected = g_tls_certificate_new_from_file (certificate_path (name, "leaf"), &error);
  g_assert_no_error (error);
  return g_tls_certificate_is_same (certificate, expected);
}

static JsonObject *
find_event (GPtrArray *events, const char *type, const char *member, const char *value)
{
  for (guint i = 0; i < events->len; i++)
    {
      JsonObject *event = json_node_get_object (g_ptr_array_index (events, i));
      JsonObject *data = json_object_get_object_member (event, "data");
      if (strcmp (json_object_get_string_member (event, "type"), type) == 0
          && (member == NULL || g_strcmp0 (json_object_get_string_member_with_default (data, member, ""), value) == 0))
        return data;
    }
  return NULL;
}

/* ---- publishing and playing through TLS ---- */

/* /api/v1/streams: the publisher and three players on TLS 1.3, one
 * player in clear. */
static void
assert_api_transport (guint16 http_port)
{
  g_autofree char *body = rh_test_http_get (http_port, "/api/v1/streams?detail=1");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, body, -1, NULL));
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  JsonArray *streams = json_object_get_array_member (root, "streams");
  g_assert_cmpuint (json_array_get_length (streams), ==, 1);
  JsonObject *stream = json_array_get_object_element (streams, 0);
  JsonObject *publisher = json_object_get_object_member (stream, "publisher");
  g_assert_true (json_object_get_boolean_member (publisher, "tls"));
  g_assert_cmpstr (json_object_get_string_member (publisher, "tls_version"), ==, "TLS 1.3");
  JsonArray *players = json_object_get_array_member (stream, "player_list");
  guint on_tls = 0;
  for (guint i = 0; i < json_array_get_length (players); i++)
    on_tls += json_object_get_boolean_member (json_array_get_object_element (players, i), "tls") ? 1 : 0;
  g_assert_cmpuint (json_array_get_length (players), ==, 4);
  g_assert_cmpuint (on_tls, ==, 3);
}

/* ffmpeg publishes through TLS, checking the certificate against the
 * private CA; ffmpeg (checking it too), rtmpdump and GStreamer play
 * through TLS, ffmpeg in clear, all from before the first frame: each
 * gets every frame. Events, the hook's environment and the API say
 * which connections are TLS. */
static void
test_publish_and_play (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *hook = rh_test_write_script (dir, "hook.sh", "#!/bin/sh\nenv > \"$0.$RTMP_EVENT_ID\"\n");
  g_autofree char *rules = g_strdup_printf ("rules = ( { name = \"tls-only\"; on = [ \"publish_start\" ];\n"
                                            "  where = { tls = true; };\n"
                                            "  exec = { command = [ \"%s\" ]; }; } );\n", hook);
  TlsDaemon tls = start_tls_daemon ("server", NULL, rules);
  g_autofree char *secure = tls_url (&tls, "live/cam");
  g_autofree char *clear = rh_test_daemon_url (tls.daemon, "live/cam");
  g_autofree char *ffmpeg_tls = g_build_filename (dir, "ffmpeg-tls.flv", NULL);
  g_autofree char *ffmpeg_clear = g_build_filename (dir, "ffmpeg-clear.flv", NULL);
  g_autofree char *rtmpdump_tls = g_build_filename (dir, "rtmpdump-tls.flv", NULL);
  g_autofree char *gst_tls = g_build_filename (dir, "gst-tls.flv", NULL);
  g_autofree char *gst_source = g_strdup_printf ("location=%s", secure);
  g_autofree char *gst_sink = g_strdup_printf ("location=%s", gst_tls);
  const char *ca = certificate_path ("ca", "pem");

  const char *const ffmpeg_tls_argv[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-tls_verify", "1",
                                          "-ca_file", ca, "-i", secure, "-c", "copy", "-y", ffmpeg_tls, NULL };
  const char *const ffmpeg_clear_argv[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-i", clear, "-c", "copy",
                                            "-y", ffmpeg_clear, NULL };
  const char *const rtmpdump_argv[] = { "timeout", "60", "rtmpdump", "--live", "-q", "-r", secure, "-o",
                                        rtmpdump_tls, NULL };
  /* GStreamer's rtmp2src has no CA option: it accepts the certificate. */
  const char *const gst_argv[] = { "timeout", "60", "gst-launch-1.0", "-q", "-e", "rtmp2src", gst_source,
                                   "tls-validation-flags=0", "!", "filesink", gst_sink, NULL };
  g_autoptr (GSubprocess) p1 = rh_test_spawn (ffmpeg_tls_argv, NULL);
  g_autoptr (GSubprocess) p2 = rh_test_spawn (ffmpeg_clear_argv, NULL);
  g_autoptr (GSubprocess) p3 = rh_test_spawn (rtmpdump_argv, NULL);
  g_autoptr (GSubprocess) p4 = rh_test_spawn (gst_argv, NULL);
  g_assert_true (rh_test_daemon_wait_log_count (tls.daemon, "play_start live/cam", 4, 20000));

  const char *const verify[] = { "-tls_verify", "1", "-ca_file", ca, NULL };
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (secure, 6, "320x240", verify, NULL);
  /* While it is live, the API says who is on TLS. */
  g_assert_true (rh_test_daemon_wait_log (tls.daemon, "media_start live/cam", 20000));
  assert_api_transport (tls.http_port);

  g_assert_cmpint (rh_test_wait (publisher, 60000), ==, 0);
  g_assert_cmpint (rh_test_wait (p1, 60000), ==, 0);
  g_assert_cmpint (rh_test_wait (p2, 60000), ==, 0);
  g_assert_cmpint (rh_test_wait (p3, 60000), !=, 124);
  g_assert_cmpint (rh_test_wait (p4, 60000), ==, 0);
  g_assert_true (rh_test_daemon_wait_log_count (tls.daemon, "play_stop live/cam", 4, 20000));
  g_assert_cmpint (rh_test_daemon_stop (tls.daemon), ==, 0);

  g_autoptr (GPtrArray) events = rh_test_daemon_events (tls.daemon, NULL);
  JsonObject *published = find_event (events, "publish_start", NULL, NULL);
  g_assert_nonnull (published);
  g_assert_true (json_object_get_boolean_member (published, "tls"));
  g_assert_cmpstr (json_object_get_string_member (published, "tls_version"), ==, "TLS 1.3");
  JsonObject *stopped = find_event (events, "publish_stop", NULL, NULL);
  guint sent = (guint) json_object_get_int_member (stopped, "video_packets");
  /* The sequence header and ffmpeg's end of sequence are video
   * messages and no frames. */
  g_test_message ("published %u video messages", sent);
  g_assert_cmpuint (rh_test_h264_aac_frames (ffmpeg_tls), ==, sent - 2);
  g_assert_cmpuint (rh_test_h264_aac_frames (ffmpeg_clear), ==, sent - 2);
  g_assert_cmpuint (rh_test_h264_aac_frames (rtmpdump_tls), ==, sent - 2);
  g_assert_cmpuint (rh_test_h264_aac_frames (gst_tls), ==, sent - 2);

  guint tls_plays = 0, clear_plays = 0;
  for (guint i = 0; i < events->len; i++)
    {
      JsonObject *event = json_node_get_object (g_ptr_array_index (events, i));
      if (strcmp (json_object_get_string_member (event, "type"), "play_start") != 0)
        continue;
      JsonObject *data = json_object_get_object_member (event, "data");
      if (json_object_get_boolean_member (data, "tls"))
        {
          tls_plays++;
          g_assert_cmpstr (json_object_get_string_member (data, "tls_version"), ==, "TLS 1.3");
        }
      else
        {
          clear_plays++;
          g_assert_false (json_object_has_member (data, "tls_version"));
        }
    }
  g_assert_cmpuint (tls_plays, ==, 3);
  g_assert_cmpuint (clear_plays, ==, 1);

  /* The hook's rule matched tls = true and saw it in its environment. */
  g_autofree char *pattern = g_strdup_printf ("%s.", hook);
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  guint hook_runs = 0;
  for (const char *name = g_dir_read_name (listing); name != NULL; name = g_dir_read_name (listing))
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (!g_str_has_prefix (path, pattern))
        continue;
      g_autoptr (GHashTable) env = rh_test_read_env_file (path);
      g_assert_cmpstr (g_hash_table_lookup (env, "RTMP_EVENT_TYPE"), ==, "publish_start");
      g_assert_cmpstr (g_hash_table_lookup (env, "RTMP_TLS"), ==, "true");
      g_assert_cmpstr (g_hash_table_lookup (env, "RTMP_TLS_VERSION"), ==, "TLS 1.3");
      hook_runs++;
    }
  g_assert_cmpuint (hook_runs, ==, 1);
  rh_test_daemon_free (tls.daemon);
  rh_test_remove_tree (dir);
}

/* A publish check on tls = false refuses publishers in clear, as the
 * README shows; through TLS they publish. */
static void
test_check_requires_tls (void)
{
  const char *checks = "checks = ( { name = \"tls-only\"; on = [ \"publish\" ]; where = { tls = false; };\n"
                       "  exec = { command = [ \"/bin/false\" ]; }; } );\n";
  TlsDaemon tls = start_tls_daemon ("server", NULL, checks);
  g_autofree char *clear = rh_test_daemon_url (tls.daemon, "live/clear");
  g_autoptr (GSubprocess) refused = rh_test_publish_ffmpeg (clear, 2, "320x240", NULL, NULL);
  g_assert_cmpint (rh_test_wait (refused, 60000), !=, 0);
  g_autofree char *secure = tls_url (&tls, "live/secure");
  g_autoptr (GSubprocess) accepted = rh_test_publish_ffmpeg (secure, 2, "320x240", NULL, NULL);
  g_assert_cmpint (rh_test_wait (accepted, 60000), ==, 0);
  g_assert_cmpint (rh_test_daemon_stop (tls.daemon), ==, 0);
  g_autoptr (GPtrArray) events = rh_test_daemon_events (tls.daemon, "publish_start");
  g_assert_cmpuint (events->len, ==, 1);
  g_assert_nonnull (find_event (events, "publish_start", "stream_name", "secure"));
  rh_test_daemon_free (tls.daemon);
}

/* TLS 1.2 and 1.3 are accepted, 1.1 and older refused in the handshake;
 * the server prefers AES-128-GCM. */
static void
test_versions (void)
{
  TlsDaemon tls = start_tls_daemon ("server", NULL, NULL);
  g_autofree char *address = g_strdup_printf ("127.0.0.1:%u", tls.tls_port);
  static const struct { const char *flag; int status; const char *says; } cases[] = {
    { "-tls1_3", 0, "Cipher is TLS_AES_128_GCM_SHA256" },
    { "-tls1_2", 0, "Cipher is ECDHE-ECDSA-AES128-GCM-SHA256" },
    { "-tls1_1", 1, NULL },
    { "-tls1", 1, NULL },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      /* Security level 0: the client must offer TLS 1.1 to be refused by us. */
      const char *const argv[] = { "timeout", "30", "openssl", "s_client", "-connect", address, cases[i].flag,
                                   "-cipher", "DEFAULT:@SECLEVEL=0", "-CAfile", certificate_path ("ca", "pem"),
                                   NULL };
      g_autoptr (GSubprocess) client = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDIN_PIPE
                                                          | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                                          | G_SUBPROCESS_FLAGS_STDERR_MERGE, NULL);
      g_assert_nonnull (client);
      g_autofree char *output = NULL;
      g_assert_true (g_subprocess_communicate_utf8 (client, "", NULL, &output, NULL, NULL));
      g_test_message ("openssl s_client %s: exit %d", cases[i].flag, g_subprocess_get_exit_status (client));
      if (g_subprocess_get_exit_status (client) != cases[i].status
          || (cases[i].says != NULL && strstr (output, cases[i].says) == NULL))
        g_error ("openssl s_client %s:\n%s", cases[i].flag, output);
    }
  g_assert_true (rh_test_daemon_log_has (tls.daemon, "illegal or unsupported version"));
  g_assert_cmpint (rh_test_daemon_stop (tls.daemon), ==, 0);
  rh_test_daemon_free (tls.daemon);
}

/* ---- relays to rtmps:// ---- */

/* The origin relays one stream three ways to a target on TLS: with the
 * private CA (every frame arrives), without it (tls_error, tried again),
 * and with verify = false (arrives, with a warning). */
static void
test_relay (void)
{
  TlsDaemon target = start_tls_daemon ("server", NULL, NULL);
  RhTestPlayer *trusted = rh_test_player_new (target.daemon->port, "edge", "cam", 0, NULL);
  RhTestPlayer *insecure = rh_test_player_new (target.daemon->port, "insecure", "cam", 0, NULL);
  g_assert_true (rh_test_iterate_until_log (target.daemon, "play_start", 2, 10000));

  g_autofree char *rules = g_strdup_printf (
    "server = { applications = [ \"live\" ]; };\n"
    "rules = (\n"
    "  { name = \"trusted\"; on = [ \"publish_start\" ];\n"
    "    relay = { url = \"rtmps://127.0.0.1:%u/edge\"; ca_file = \"%s\"; }; },\n"
    "  { name = \"untrusted\"; on = [ \"publish_start\" ]; relay = { url = \"rtmps://127.0.0.1:%u/untrusted\"; }; },\n"
    "  { name = \"insecure\"; on = [ \"publish_start\" ];\n"
    "    relay = { url = \"rtmps://127.0.0.1:%u/insecure\"; verify = false; }; }\n"
    ");\n",
    target.tls_port, certificate_path ("ca", "pem"), target.tls_port, target.tls_port);
  const char *const args[] = { "--hook-stdio-format", "jsonl", NULL };
  RhTestDaemon *origin = rh_test_daemon_start (rules, args);
  g_autofree char *url = rh_test_daemon_url (origin, "live/cam");
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 6, "320x240", NULL, NULL);
  /* The untrusted relay fails, waits 1 s, fails again. */
  g_assert_true (rh_test_iterate_until_log (origin, "reason=tls_error", 2, 20000));
  g_assert_cmpint (rh_test_wait (publisher, 60000), ==, 0);
  g_assert_true (rh_test_iterate_until_log (origin, "relay_stop live/cam url=rtmps://127.0.0.1", 1, 20000));
  g_assert_true (rh_test_player_wait_ended (trusted, 20000));
  g_assert_true (rh_test_player_wait_ended (insecure, 20000));
  g_assert_cmpint (rh_test_daemon_stop (origin), ==, 0);

  g_autoptr (GPtrArray) events = rh_test_daemon_events (origin, NULL);
  JsonObject *published = find_event (events, "publish_stop", NULL, NULL);
  guint sent = (guint) json_object_get_int_member (published, "video_packets");
  g_assert_cmpuint (rh_test_player_video_messages (trusted), ==, sent);
  g_assert_cmpuint (rh_test_player_video_messages (insecure), ==, sent);

  g_autofree char *edge = g_strdup_printf ("rtmps://127.0.0.1:%u/edge/cam", target.tls_port);
  g_autofree char *untrusted = g_strdup_printf ("rtmps://127.0.0.1:%u/untrusted/cam", target.tls_port);
  JsonObject *edge_stop = find_event (events, "relay_stop", "url", edge);
  g_assert_nonnull (edge_stop);
  g_assert_cmpstr (json_object_get_string_member (edge_stop, "reason"), ==, "publish_stop");
  JsonObject *untrusted_stop = find_event (events, "relay_stop", "url", untrusted);
  g_assert_nonnull (untrusted_stop);
  g_assert_cmpstr (json_object_get_string_member (untrusted_stop, "reason"), ==, "tls_error");
  g_assert_null (find_event (events, "relay_start", "url", untrusted));
  g_assert_true (rh_test_daemon_log_has (origin, "TLS certificate refused: not signed by a trusted CA"));
  g_assert_true (rh_test_daemon_log_has (origin, "TLS certificate not verified (verify = false)"));

  rh_test_player_free (trusted);
  rh_test_player_free (insecure);
  rh_test_daemon_free (origin);
  g_assert_cmpint (rh_test_daemon_stop (target.daemon), ==, 0);
  rh_test_daemon_free (target.daemon);
}

/* ---- certificates replaced live ---- */

static gboolean
metrics_say_expiry (guint16 http_port, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GTlsCertificate) certificate = g_tls_certificate_new_from_file (certificate_path (name, "leaf"), &error);
  g_assert_no_error (error);
  g_autoptr (GDateTime) not_after = g_tls_certificate_get_not_valid_after (certificate);
  g_autofree char *metrics = rh_test_http_get (http_port, "/metrics");
  g_autofree char *line = g_strdup_printf ("rtmphooks_tls_certificate_expiry_seconds %" G_GINT64_FORMAT "\n",
                                           g_date_time_to_unix (not_after));
  return strstr (metrics, line) != NULL;
}

/* SIGHUP with a renewed certificate: new clients get it while a player
 * that came before keeps streaming to the end; SIGHUP with a broken key
 * is refused and the renewed one stays. */
static void
test_reload_certificate (void)
{
  TlsDaemon tls = start_tls_daemon ("server", NULL, NULL);
  g_autoptr (GTlsCertificate) first = presented_certificate (tls.tls_port);
  g_assert_true (is_certificate (first, "server"));
  g_assert_true (metrics_say_expiry (tls.http_port, "server"));

  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *copy = g_build_filename (dir, "copy.flv", NULL);
  g_autofree char *secure = tls_url (&tls, "live/cam");
  const char *const play[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-tls_verify", "1", "-ca_file",
                               certificate_path ("ca", "pem"), "-i", secure, "-c", "copy", "-y", copy, NULL };
  g_autoptr (GSubprocess) player = rh_test_spawn (play, NULL);
  g_assert_true (rh_test_daemon_wait_log (tls.daemon, "play_start live/cam", 20000));
  g_autofree char *clear = rh_test_daemon_url (tls.daemon, "live/cam");
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (clear, 6, "320x240", NULL, NULL);
  g_assert_true (rh_test_daemon_wait_log (tls.daemon, "media_start live/cam", 20000));

  g_autofree char *renewed = tls_config (tls.tls_port, tls.http_port, "renewed", NULL, NULL);
  rh_test_daemon_reload (tls.daemon, renewed);
  g_assert_true (rh_test_daemon_wait_log_count (tls.daemon, "configuration reloaded from", 1, 10000));
  g_autoptr (GTlsCertificate) second = presented_certificate (tls.tls_port);
  g_assert_true (is_certificate (second, "renewed"));
  g_assert_true (metrics_say_expiry (tls.http_port, "renewed"));

  /* A key that is not one: refused at its line, the renewed one stays. */
  g_autofree char *broken_key = g_build_filename (dir, "broken.key", NULL);
  g_assert_true (g_file_set_contents (broken_key, "-----BEGIN PRIVATE KEY-----\nnonsense\n", -1, NULL));
  g_autofree char *broken = g_strdup_printf ("server = {\n"
                                             "  applications = [ \"live\" ];\n"
                                             "  listen_tls = [ \"127.0.0.1:%u\" ];\n"
                                             "  tls = { certificate = \"%s\"; key = \"%s\"; };\n"
                                             "};\n"
                                             "http = { listen = [ \"127.0.0.1:%u\" ]; };\n",
                                             tls.tls_port, certificate_path ("server", "pem"), broken_key,
                                             tls.http_port);
  rh_test_daemon_reload (tls.daemon, broken);
  g_assert_true (rh_test_daemon_wait_log (tls.daemon, "rtmphooks.conf:4: server.tls: cannot use certificate", 10000));
  g_autoptr (GTlsCertificate) third = presented_certificate (tls.tls_port);
  g_assert_true (is_certificate (third, "renewed"));

  g_assert_cmpint (rh_test_wait (publisher, 60000), ==, 0);
  g_assert_cmpint (rh_test_wait (player, 60000), ==, 0);
  g_assert_cmpint (rh_test_daemon_stop (tls.daemon), ==, 0);
  g_autoptr (GPtrArray) events = rh_test_daemon_events (tls.daemon, NULL);
  JsonObject *stopped = find_event (events, "publish_stop", NULL, NULL);
  g_assert_cmpuint (rh_test_h264_aac_frames (copy), ==, (guint) json_object_get_int_member (stopped, "video_packets") - 2);
  rh_test_daemon_free (tls.daemon);
  rh_test_remove_tree (dir);
}

/* -t refuses what the daemon could not serve, at its line. */
static void
test_config_errors (void)
{
  g_autofree char *missing = g_strdup_printf ("server = {\n  listen_tls = [ \"127.0.0.1:1\" ];\n"
                                              "  tls = { certificate = \"%s\"; key = \"/nonexistent.key\"; };\n};\n",
                                              certificate_path ("server", "pem"));
  rh_test_assert_config_error (missing, 3, "server.tls: cannot use certificate");
  g_autofree char *mismatched = g_strdup_printf ("server = {\n  listen_tls = [ \"127.0.0.1:1\" ];\n"
                                                 "  tls = { certificate = \"%s\"; key = \"%s\"; };\n};\n",
                                                 certificate_path ("server", "pem"),
                                                 certificate_path ("renewed", "key"));
  rh_test_assert_config_error (mismatched, 3, "server.tls: cannot use certificate");
  rh_test_assert_config_error ("server = {\n  listen_tls = [ \"127.0.0.1:1\" ];\n};\n", 2,
                               "server.listen_tls needs server.tls");
  rh_test_assert_config_error ("server = {\n  tls = { certificate = \"relative.pem\"; key = \"/k\"; };\n};\n", 2,
                               "server.tls.certificate must be an absolute path");
  rh_test_assert_config_error ("server = {\n  relay_tls = { ca_file = \"/nonexistent/ca.pem\"; };\n};\n", 2,
                               "server.relay_tls.ca_file");
  rh_test_assert_config_error ("server = {\n  tls = { certificate = \"/c.pem\"; };\n};\n", 2,
                               "server.tls needs both certificate and key");
  rh_test_assert_config_error ("server = {\n  tls = { certificate = \"/c.pem\"; key = \"/k\";\n"
                               "          password = \"x\"; };\n};\n", 3,
                               "unknown setting server.tls.password (certificate, key)");
  rh_test_assert_config_error ("server = {\n  tls = \"/c.pem\";\n};\n", 2, "server.tls must be a group");
  rh_test_assert_config_error ("server = {\n  relay_tls = { verify = \"no\"; };\n};\n", 2,
                               "verify must be true or false");
  rh_test_assert_config_error ("server = {\n  relay_tls = { insecure = true; };\n};\n", 2,
                               "unknown setting server.relay_tls.insecure (ca_file, verify)");
  rh_test_assert_config_error ("rules = ( { name = \"r\"; on = [ \"publish_start\" ];\n"
                               "  relay = { url = \"rtmps://example.net/app\"; verify = 1; }; } );\n", 2,
                               "rule \"r\": relay.verify must be true or false");
  rh_test_assert_config_error ("rules = ( { name = \"r\"; on = [ \"publish_start\" ];\n"
                               "  relay = { url = \"rtmps://example.net/app\"; ca_file = \"ca.pem\"; }; } );\n", 2,
                               "rule \"r\": relay.ca_file must be an absolute path");
  rh_test_assert_config_error ("rules = ( { name = \"r\"; on = [ \"publish_start\" ];\n"
                               "  relay = { url = \"rtmpt://example.net/app\"; }; } );\n", 2,
                               "rule \"r\": relay URL \"rtmpt://example.net/app\" must start with rtmp:// or rtmps://");
  g_autofree char *empty_ca = g_strdup_printf ("%s/empty.pem", certificates.dir);
  g_assert_true (g_file_set_contents (empty_ca, "", -1, NULL));
  g_autofree char *rule = g_strdup_printf ("rules = ( { name = \"r\"; on = [ \"publish_start\" ];\n"
                                           "  relay = { url = \"rtmps://example.net/app\";\n"
                                           "            ca_file = \"%s\"; }; } );\n", empty_ca);
  rh_test_assert_config_error (rule, 3, "rule \"r\": relay.ca_file: ");
  rh_test_assert_config_error ("rules = ( { name = \"r\"; on = [ \"publish_start\" ];\n"
                               "  where = { tls = \"yes\"; };\n  exec = { command = [ \"/bin/true\" ]; }; } );\n",
                               2, "rule \"r\": tls is true or false");
}

/* ---- hostile peers on the TLS port ---- */

/* A real ClientHello, as GIO's client sends it, taken from a listener of
 * the test's own. */
static GBytes *
capture_client_hello (void)
{
  g_autoptr (GSocketListener) listener = g_socket_listener_new ();
  g_autoptr (GError) error = NULL;
  guint16 port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) tcp = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (GSocketConnection) accepted = g_socket_listener_accept (listener, NULL, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (GSocketConnectable) identity = g_network_address_new ("localhost", port);
  g_autoptr (GIOStream) tls = g_tls_client_connection_new (G_IO_STREAM (tcp), identity, &error);
  g_assert_no_error (error);
  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  GSocket *socket = g_socket_connection_get_socket (accepted);
  guint8 header[5];
  g_assert_cmpint (g_socket_receive (socket, (char *) header, 5, NULL, &error), ==, 5);
  gsize length = ((gsize) header[3] << 8) | header[4];
  guint8 *hello = g_malloc (5 + length);
  memcpy (hello, header, 5);
  gsize got = 0;
  while (got < length)
    {
      gssize n = g_socket_receive (socket, (char *) hello + 5 + got, length - got, NULL, &error);
      g_assert_cmpint (n, >, 0);
      got += (gsize) n;
    }
  g_io_stream_close (G_IO_STREAM (accepted), NULL, NULL);
  g_io_stream_close (G_IO_STREAM (tcp), NULL, NULL);
  return g_bytes_new_take (hello, 5 + length);
}

static GSocket *
connect_raw (guint16 port)
{
  g_autoptr (GError) error = NULL;
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, port);
  g_assert_true (g_socket_connect (socket, address, NULL, &error));
  return socket;
}

/* The daemon closed it: a read sees the end (or a reset). */
static gboolean
closed_by_daemon (GSocket *socket, guint timeout_ms)
{
  g_socket_set_timeout (socket, (timeout_ms + 999) / 1000);
  char buffer[4096];
  for (;;)
    {
      g_autoptr (GError) error = NULL;
      gssize n = g_socket_receive (socket, buffer, sizeof buffer, NULL, &error);
      if (n == 0)
        return TRUE;
      if (n < 0)
        return !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
    }
}

static void
send_all (GSocket *socket, const void *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_assert_cmpint (g_socket_send (socket, data, len, NULL, &error), ==, (gssize) len);
}

#define STALLED 2000

typedef struct {
  RhTestDaemon *daemon;
  guint16 http_port;
  guint connections;
} Baseline;

static gboolean
back_to_baseline (gpointer data)
{
  Baseline *baseline = data;
  g_autofree char *metrics = rh_test_http_get (baseline->http_port, "/metrics");
  g_autofree char *line = g_strdup_printf ("\nrtmphooks_connections %u\n", baseline->connections);
  return strstr (metrics, line) != NULL && strstr (metrics, "\nrtmphooks_tls_handshakes_running 0\n") != NULL
         && strstr (metrics, "\nrtmphooks_tls_handshakes_waiting 0\n") != NULL;
}

/* STALLED connections to the TLS port, every other one sending its
 * ClientHello, none anything more: all closed by the daemon within the
 * handshake deadline (3 s, checked every second) of their opening. */
static void
stall_wave (Baseline *baseline, const guint8 *hello, gsize hello_len)
{
  guint16 port = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (baseline->daemon->process), "tls-port"));
  GSocket **stalled = g_new0 (GSocket *, STALLED);
  gint64 opened_at = g_get_monotonic_time ();
  for (guint i = 0; i < STALLED; i++)
    {
      stalled[i] = connect_raw (port);
      if (i % 2 == 1)
        send_all (stalled[i], hello, hello_len);
    }
  guint open_ms = (guint) ((g_get_monotonic_time () - opened_at) / 1000);
  if (!rh_test_poll_until (back_to_baseline, baseline, 3000 + open_ms + 3000))
    {
      g_autofree char *metrics = rh_test_http_get (baseline->http_port, "/metrics");
      g_error ("the stalled connections are not all closed after %u ms:\n%s", 6000 + open_ms, metrics);
    }
  g_test_message ("%u stalled connections opened in %u ms, all closed after %.1f s", STALLED, open_ms,
                  (g_get_monotonic_time () - opened_at) / (double) G_USEC_PER_SEC);
  for (guint i = 0; i < STALLED; i++)
    {
      g_assert_true (closed_by_daemon (stalled[i], 1000));
      g_object_unref (stalled[i]);
    }
  g_free (stalled);
}

/* Plain RTMP on the TLS port, TLS on the plain port and garbage after a
 * valid ClientHello are closed at once; 2000 handshakes that stall
 * (1000 silent, 1000 after their ClientHello) are all closed within
 * the handshake deadline, while a stream beside them loses nothing and
 * no descriptor or memory stays behind. */
static void
test_hostile (void)
{
  struct rlimit limit;
  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &limit), ==, 0);
  limit.rlim_cur = MIN (limit.rlim_max, 3 * STALLED);
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &limit), ==, 0);
  g_assert_cmpuint (limit.rlim_cur, >=, STALLED + 256);

  TlsDaemon tls = start_tls_daemon ("server",
                                    "  max_connections = 3000;\n  descriptor_reserve = 64;\n"
                                    "  handshake_timeout = \"3s\";\n",
                                    NULL);
  g_autoptr (GBytes) hello = capture_client_hello ();
  gsize hello_len;
  const guint8 *hello_data = g_bytes_get_data (hello, &hello_len);

  /* Plain RTMP on the TLS port: C0 and C1. */
  guint8 c0c1[1537] = { 3 };
  GSocket *plain_on_tls = connect_raw (tls.tls_port);
  send_all (plain_on_tls, c0c1, sizeof c0c1);
  g_assert_true (closed_by_daemon (plain_on_tls, 2000));
  g_assert_true (rh_test_daemon_wait_log (tls.daemon, "not a TLS handshake (plain RTMP on a TLS port?)", 5000));
  g_object_unref (plain_on_tls);
  /* A ClientHello on the plain port. */
  GSocket *tls_on_plain = connect_raw (tls.daemon->port);
  send_all (tls_on_plain, hello_data, hello_len);
  g_assert_true (closed_by_daemon (tls_on_plain, 2000));
  g_object_unref (tls_on_plain);
  /* Garbage after a valid ClientHello. */
  GSocket *garbage = connect_raw (tls.tls_port);
  send_all (garbage, hello_data, hello_len);
  guint8 noise[4096];
  for (gsize i = 0; i < sizeof noise; i++)
    noise[i] = (guint8) (i * 7 + 1);
  send_all (garbage, noise, sizeof noise);
  g_assert_true (closed_by_daemon (garbage, 2000));
  g_object_unref (garbage);
  g_assert_true (rh_test_daemon_wait_log (tls.daemon, "TLS handshake failed", 5000));

  /* A live stream to watch. */
  RhTestPlayer *watcher = rh_test_player_new (tls.daemon->port, "live", "cam", 0, NULL);
  g_assert_true (rh_test_iterate_until_log (tls.daemon, "play_start live/cam", 1, 10000));
  g_autofree char *url = rh_test_daemon_url (tls.daemon, "live/cam");
  /* Live through both waves (some 5 s each). */
  g_autoptr (GSubprocess) publisher = rh_test_publish_ffmpeg (url, 20, "320x240", NULL, NULL);
  g_assert_true (rh_test_player_wait_video (watcher, 10, 20000));
  int pid = rh_test_daemon_pid (tls.daemon);
  guint fds_before = rh_test_proc_open_fds (pid);
  guint64 rss_before = rh_test_proc_status_kib (pid, "VmRSS:");
  Baseline baseline = { tls.daemon, tls.http_port, 2 };
  g_object_set_data (G_OBJECT (tls.daemon->process), "tls-port", GUINT_TO_POINTER (tls.tls_port));

  /* Twice: what the first wave leaves in the allocator's pools, the
   * second reuses; a leak would grow with each. */
  stall_wave (&baseline, hello_data, hello_len);
  guint64 rss_first_wave = rh_test_proc_status_kib (pid, "VmRSS:");
  stall_wave (&baseline, hello_data, hello_len);
  guint64 rss_second_wave = rh_test_proc_status_kib (pid, "VmRSS:");
  g_test_message ("VmRSS %" G_GUINT64_FORMAT " KiB before, %" G_GUINT64_FORMAT " after one wave, %" G_GUINT64_FORMAT
                  " after two; %" G_GUINT64_FORMAT " threads", rss_before, rss_first_wave, rss_second_wave,
                  rh_test_proc_status_kib (pid, "Threads:"));

  if (rh_test_wait (publisher, 60000) != 0)
    {
      g_autofree char *log = rh_test_daemon_log (tls.daemon);
      g_error ("the publisher failed; the daemon's log:\n%s", log);
    }
  g_assert_true (rh_test_player_wait_ended (watcher, 20000));
  g_assert_true (rh_test_daemon_wait_log (tls.daemon, "publish_stop live/cam", 10000));
  guint fds_after = rh_test_proc_open_fds (pid);
  guint64 rss_after = rh_test_proc_status_kib (pid, "VmRSS:");
  g_test_message ("descriptors %u -> %u, VmRSS %" G_GUINT64_FORMAT " KiB at the end", fds_before, fds_after,
                  rss_after);
  /* The watcher and the publisher are gone: fewer, never more. */
  g_assert_cmpuint (fds_after, <=, fds_before);
  /* 2000 connections' worth, twice that under AddressSanitizer (redzones
   * and shadow memory); a second wave reuses it, but less of it under
   * AddressSanitizer, whose quarantine holds freed memory back (it once
   * grew 10 MiB there; leaks are its own check, at exit). */
  gboolean asan = g_getenv ("ASAN_OPTIONS") != NULL;
  guint64 first_wave_bound_kib = (asan ? 64 : 32) * 1024;
  g_assert_cmpuint (rss_first_wave, <, rss_before + first_wave_bound_kib);
  g_assert_cmpuint (rss_second_wave, <, rss_first_wave + (asan ? 16 : 8) * 1024);

  /* Every stalled one ended by the deadline: the silent ones before
   * their handshake, the others in it. */
  g_autofree char *metrics = rh_test_http_get (tls.http_port, "/metrics");
  g_autofree char *cancelled = g_strdup_printf ("rtmphooks_tls_handshakes_total{result=\"cancelled\"} %u\n",
                                                2 * STALLED);
  if (strstr (metrics, cancelled) == NULL)
    g_error ("expected \"%s\" in:\n%s", cancelled, metrics);
  g_assert_cmpint (rh_test_daemon_stop (tls.daemon), ==, 0);
  g_autoptr (GPtrArray) events = rh_test_daemon_events (tls.daemon, NULL);
  JsonObject *stopped = find_event (events, "publish_stop", NULL, NULL);
  g_assert_cmpuint (rh_test_player_video_messages (watcher), ==,
                    (guint) json_object_get_int_member (stopped, "video_packets"));
  rh_test_player_free (watcher);
  rh_test_daemon_free (tls.daemon);
}

/* LeakSanitizer (gcc 12's and clang 16's alike, on glibc 2.36) crashes
 * scanning the thread-local storage GnuTLS leaves in the threads GIO
 * runs TLS handshakes on ("Tracer caught signal 11" at exit). Under the
 * sanitizers, the daemons this program starts do not check leaks, and
 * it skips the check at its own exit; AddressSanitizer and UBSan still
 * watch both. The two waves of stalled handshakes measure what TLS
 * leaves behind instead. */
static void
no_leak_check_with_tls (void)
{
  const char *options = g_getenv ("ASAN_OPTIONS");
  if (options == NULL)
    return;
  /* And no quarantine: freed memory is reused at once, so that the
   * memory the waves of stalled handshakes leave behind is measured as
   * without the sanitizer. */
  g_autofree char *without = g_strconcat (options, ":detect_leaks=0:quarantine_size_mb=0", NULL);
  g_setenv ("ASAN_OPTIONS", without, TRUE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  no_leak_check_with_tls ();
  make_certificates ();
  g_test_add_func ("/tls/config-errors", test_config_errors);
  g_test_add_func ("/tls/publish-and-play", test_publish_and_play);
  g_test_add_func ("/tls/check-requires-tls", test_check_requires_tls);
  g_test_add_func ("/tls/versions", test_versions);
  g_test_add_func ("/tls/relay", test_relay);
  g_test_add_func ("/tls/reload-certificate", test_reload_certificate);
  g_test_add_func ("/tls/hostile", test_hostile);
  int status = g_test_run ();
  rh_test_remove_tree (certificates.dir);
  fflush (stdout);
  fflush (stderr);
  /* Not return: see no_leak_check_with_tls. */
  _exit (status);
}
