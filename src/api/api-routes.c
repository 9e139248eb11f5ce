#include "config.h"

#include "api-routes.h"

#include <string.h>

void
rh_api_route_parse (const char *method, const char *path, RhApiRoute *route)
{
  static const char drop_prefix[] = "/api/v1/streams/";
  gboolean get = strcmp (method, "GET") == 0 || strcmp (method, "HEAD") == 0;

  memset (route, 0, sizeof *route);
  if (get && strcmp (path, "/healthz") == 0)
    route->kind = RH_API_HEALTHZ;
  else if (get && strcmp (path, "/metrics") == 0)
    route->kind = RH_API_METRICS;
  else if (get && strcmp (path, "/api/v1/streams") == 0)
    route->kind = RH_API_STREAMS;
  else if (get && strcmp (path, "/api/v1/hooks") == 0)
    route->kind = RH_API_HOOKS;
  else if (strcmp (method, "POST") == 0 && g_str_has_prefix (path, drop_prefix))
    {
      g_auto (GStrv) parts = g_strsplit (path + strlen (drop_prefix), "/", -1);
      if (g_strv_length (parts) == 3 && strcmp (parts[2], "drop") == 0 && parts[0][0] != '\0'
          && parts[1][0] != '\0')
        {
          route->kind = RH_API_DROP;
          route->app = g_strdup (parts[0]);
          route->name = g_strdup (parts[1]);
        }
    }
}

void
rh_api_route_clear (RhApiRoute *route)
{
  g_clear_pointer (&route->app, g_free);
  g_clear_pointer (&route->name, g_free);
}

gboolean
rh_api_token_matches (const char *authorization, const char *token)
{
  static const char prefix[] = "Bearer ";
  if (authorization == NULL || strncmp (authorization, prefix, strlen (prefix)) != 0)
    return FALSE;
  const char *given = authorization + strlen (prefix);
  gsize given_len = strlen (given), token_len = strlen (token);
  guint8 difference = given_len != token_len;
  for (gsize i = 0; i < token_len; i++)
    difference |= (guint8) (token[i] ^ given[i < given_len ? i : 0]);
  return difference == 0;
}
