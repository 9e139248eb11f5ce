/* The HTTP API's routes and token check, without a server. */
#include "config.h"

#include "api/api-routes.h"
#include "testutil.h"

static void
test_routes (void)
{
  static const struct {
    const char *method;
    const char *path;
    RhApiRouteKind kind;
    const char *app;
    const char *name;
  } cases[] = {
    { "GET", "/healthz", RH_API_HEALTHZ, NULL, NULL },
    { "HEAD", "/metrics", RH_API_METRICS, NULL, NULL },
    { "GET", "/api/v1/streams", RH_API_STREAMS, NULL, NULL },
    { "GET", "/api/v1/hooks", RH_API_HOOKS, NULL, NULL },
    { "GET", "/api/v1/server", RH_API_SERVER, NULL, NULL },
    { "GET", "/", RH_API_STATUS_PAGE, NULL, NULL },
    { "POST", "/", RH_API_NOT_FOUND, NULL, NULL },
    { "GET", "/index.html", RH_API_NOT_FOUND, NULL, NULL },
    { "POST", "/api/v1/streams/live/cam1/drop", RH_API_DROP, "live", "cam1" },
    { "GET", "/api/v1/streams/live/cam1/drop", RH_API_NOT_FOUND, NULL, NULL },
    { "POST", "/api/v1/streams/live/drop", RH_API_NOT_FOUND, NULL, NULL },
    { "POST", "/api/v1/streams//cam1/drop", RH_API_NOT_FOUND, NULL, NULL },
    { "POST", "/api/v1/streams/live/cam1/drop/x", RH_API_NOT_FOUND, NULL, NULL },
    { "POST", "/api/v1/streams/live/cam1/kill", RH_API_NOT_FOUND, NULL, NULL },
    { "DELETE", "/metrics", RH_API_NOT_FOUND, NULL, NULL },
    { "GET", "/metrics/", RH_API_NOT_FOUND, NULL, NULL },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      RhApiRoute route;
      rh_api_route_parse (cases[i].method, cases[i].path, &route);
      g_assert_cmpint (route.kind, ==, cases[i].kind);
      g_assert_cmpstr (route.app, ==, cases[i].app);
      g_assert_cmpstr (route.name, ==, cases[i].name);
      rh_api_route_clear (&route);
    }
}

static void
test_token (void)
{
  g_assert_true (rh_api_token_matches ("Bearer abc", "abc"));
  g_assert_false (rh_api_token_matches ("Bearer abd", "abc"));
  g_assert_false (rh_api_token_matches ("Bearer ab", "abc"));
  g_assert_false (rh_api_token_matches ("Bearer abcd", "abc"));
  g_assert_false (rh_api_token_matches ("Basic abc", "abc"));
  /* A browser's Basic credentials: any user, the token as password. */
  static const struct {
    const char *credentials;
    gboolean matches;
  } basic[] = { { "me:abc", TRUE }, { "me:abd", FALSE }, { "abc", FALSE }, { "me:abcd", FALSE } };
  for (gsize i = 0; i < G_N_ELEMENTS (basic); i++)
    {
      g_autofree char *header = rh_test_basic_authorization (basic[i].credentials);
      g_assert_cmpint (rh_api_token_matches (header, "abc"), ==, basic[i].matches);
    }
  g_assert_false (rh_api_token_matches ("Bearer ", "abc"));
  g_assert_false (rh_api_token_matches (NULL, "abc"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/api-routes/routes", test_routes);
  g_test_add_func ("/api-routes/token", test_token);
  return g_test_run ();
}
