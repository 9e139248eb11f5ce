/* The status page in a real browser: headless Chromium loads GET / while
 * ffmpeg publishes and a player plays, and the test reads the page as
 * the browser built it (--dump-dom): the stream, its resolution, the
 * player count, the rule's runs. A screenshot is kept as an artifact. */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "test-player.h"
#include "testutil.h"

#define TOKEN "page-token-1234"

typedef struct {
  guint16 http_port;
  gboolean ready;
} ApiWatch;

/* The API shows the stream measured (a frame rate) and its player. */
static gboolean
stream_ready (gpointer data)
{
  ApiWatch *watch = data;
  g_autofree char *body = rh_test_http_get_auth (watch->http_port, "/api/v1/streams", "Bearer " TOKEN, NULL, NULL,
                                                 NULL);
  return strstr (body, "\"frame_rate\"") != NULL && strstr (body, "\"players\" : 1") != NULL;
}

typedef struct {
  GSubprocess *process;
  gboolean done;
} Browser;

static void
on_browser_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ((Browser *) user_data)->done = TRUE;
}

static gboolean
browser_done (gpointer data)
{
  return ((Browser *) data)->done;
}

/* Runs chromium headless on url with the extra arguments, its standard
 * output to out_path; the main context turns meanwhile (the in-process
 * player keeps reading). */
static void
run_browser (const char *url, const char *const *extra, const char *out_path)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  const char *const head[] = { "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                               "--no-first-run", "--virtual-time-budget=5000", NULL };
  for (const char *const *a = head; *a != NULL; a++)
    g_ptr_array_add (argv, (gpointer) *a);
  for (const char *const *a = extra; *a != NULL; a++)
    g_ptr_array_add (argv, (gpointer) *a);
  g_ptr_array_add (argv, (gpointer) url);
  g_ptr_array_add (argv, NULL);
  /* Its profile goes under the test's scratch directory. */
  g_autofree char *home = g_strdup_printf ("HOME=%s", g_get_tmp_dir ());
  const char *const env[] = { home, NULL };
  Browser browser = { rh_test_spawn_full ((const char *const *) argv->pdata, out_path, NULL, env), FALSE };
  g_subprocess_wait_check_async (browser.process, NULL, on_browser_done, &browser);
  g_assert_true (rh_test_iterate_until (browser_done, &browser, 60000));
  g_assert_true (g_subprocess_get_successful (browser.process));
  g_object_unref (browser.process);
}

/* The text of the cell data-field="field" in the row that starts at row. */
static char *
cell_text (const char *row, const char *field)
{
  g_autofree char *marker = g_strdup_printf ("data-field=\"%s\"", field);
  const char *at = strstr (row, marker);
  g_assert_nonnull (at);
  const char *start = strchr (at, '>') + 1;
  const char *end = strstr (start, "</td>");
  return g_strndup (start, (gsize) (end - start));
}

static void
test_status_page_in_browser (void)
{
  g_autofree char *dir = rh_test_make_dir ();
  g_autofree char *clip = g_build_filename (dir, "clip.flv", NULL);
  rh_test_encode_clip (clip, 4, "640x360", "500k", FALSE);
  guint16 http_port = rh_test_free_port ();
  g_autofree char *config = g_strdup_printf (
    "server = { applications = [ \"live\" ]; };\n"
    "http = { listen = \"127.0.0.1:%u\"; token = \"" TOKEN "\"; };\n"
    "rules = ( { name = \"announce\"; on = [ \"publish_start\" ]; exec = { command = [ \"/bin/true\" ]; }; } );\n",
    http_port);
  RhTestDaemon *daemon = rh_test_daemon_start (config, NULL);

  /* Without credentials the page asks a browser for them (Basic); the
   * API still says Bearer. */
  guint status = 0;
  g_autofree char *challenge = NULL, *api_challenge = NULL, *content_type = NULL;
  g_autofree char *refused = rh_test_http_get_auth (http_port, "/", NULL, &status, &challenge, NULL);
  g_assert_cmpuint (status, ==, 401);
  g_assert_cmpstr (challenge, ==, "Basic realm=\"rtmphooks\", charset=\"UTF-8\"");
  g_assert_null (strstr (refused, "<html"));
  g_autofree char *api_refused = rh_test_http_get_auth (http_port, "/api/v1/streams", NULL, &status, &api_challenge,
                                                        NULL);
  g_assert_cmpuint (status, ==, 401);
  g_assert_cmpstr (api_challenge, ==, "Bearer");
  g_assert_nonnull (strstr (api_refused, "a bearer token is required"));
  g_autofree char *basic_header = rh_test_basic_authorization ("anyone:" TOKEN);
  g_autofree char *page = rh_test_http_get_auth (http_port, "/", basic_header, &status, NULL, &content_type);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpstr (content_type, ==, "text/html; charset=utf-8");
  g_assert_true (g_str_has_prefix (page, "<!DOCTYPE html>"));
  g_assert_null (strstr (page, "src=\"http"));   /* no external assets */

  g_autofree char *url = rh_test_daemon_url (daemon, "live/status");
  const char *const publish[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", clip,
                                  "-c", "copy", "-f", "flv", url, NULL };
  g_autoptr (GSubprocess) publisher = rh_test_spawn (publish, NULL);
  g_assert_true (rh_test_daemon_wait_log (daemon, "publish_start live/status", 15000));
  RhTestPlayer *player = rh_test_player_new (daemon->port, "live", "status", 0, NULL);
  g_assert_true (rh_test_player_wait_video (player, 10, 10000));
  ApiWatch watch = { http_port, FALSE };
  g_assert_true (rh_test_iterate_until (stream_ready, &watch, 20000));

  g_autofree char *page_url = g_strdup_printf ("http://status:%s@127.0.0.1:%u/", TOKEN, http_port);
  g_autofree char *dom_path = g_build_filename (dir, "dom.html", NULL);
  const char *const dump[] = { "--dump-dom", NULL };
  run_browser (page_url, dump, dom_path);
  g_autofree char *dom = NULL;
  g_assert_true (g_file_get_contents (dom_path, &dom, NULL, NULL));
  g_test_message ("%s", dom);
  const char *row = strstr (dom, "<tr class=\"stream\" data-key=\"live/status\">");
  g_assert_nonnull (row);
  g_autofree char *key = cell_text (row, "key");
  g_autofree char *resolution = cell_text (row, "resolution");
  g_autofree char *players = cell_text (row, "players");
  g_autofree char *video = cell_text (row, "video");
  g_assert_cmpstr (key, ==, "live/status");
  g_assert_true (g_str_has_prefix (resolution, "640x360 @ "));
  g_assert_cmpstr (players, ==, "1");
  g_assert_true (g_str_has_prefix (video, "h264 "));
  const char *rule = strstr (dom, "<tr class=\"rule\" data-name=\"announce\">");
  g_assert_nonnull (rule);
  g_autofree char *runs = cell_text (rule, "runs");
  g_assert_cmpstr (runs, ==, "1");
  g_assert_nonnull (strstr (dom, "<span id=\"server\" class=\"muted\">version " PACKAGE_VERSION ", up "));
  g_assert_nonnull (strstr (dom, "<span id=\"problem\" class=\"error\"></span>"));

  /* A phone-sized screenshot, kept where the run keeps artifacts. */
  const char *artifacts = g_getenv ("RH_ARTIFACTS");
  g_autofree char *shot_dir = artifacts != NULL && *artifacts != '\0' ? g_strdup (artifacts) : g_strdup (dir);
  g_assert_cmpint (g_mkdir_with_parents (shot_dir, 0755), ==, 0);
  g_autofree char *shot = g_build_filename (shot_dir, "status-page-phone.png", NULL);
  g_autofree char *shot_flag = g_strdup_printf ("--screenshot=%s", shot);
  const char *const screenshot[] = { "--window-size=390,844", shot_flag, NULL };
  run_browser (page_url, screenshot, NULL);
  g_autofree char *png = NULL;
  gsize png_size = 0;
  g_assert_true (g_file_get_contents (shot, &png, &png_size, NULL));
  g_assert_cmpuint (png_size, >, 1000);
  g_assert_cmpint (memcmp (png, "\x89PNG", 4), ==, 0);
  g_test_message ("screenshot: %s", shot);

  g_subprocess_send_signal (publisher, SIGINT);
  rh_test_wait (publisher, 10000);
  rh_test_player_free (player);
  rh_test_daemon_finish (daemon);
  rh_test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/status-page/in-browser", test_status_page_in_browser);
  return g_test_run ();
}
