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
  else if (get && strcmp (path, "/api/v1/server") == 0)
    route->kind = RH_API_SERVER;
  else if (get && strcmp (path, "/api/v1/cluster") == 0)
    route->kind = RH_API_CLUSTER;
  else if (get && strcmp (path, "/") == 0)
    route->kind = RH_API_STATUS_PAGE;
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

static gboolean
same_secret (const char *given, gsize given_len, const char *token)
{
  gsize token_len = strlen (token);
  guint8 difference = given_len != token_len;
  for (gsize i = 0; i < token_len; i++)
    difference |= (guint8) (token[i] ^ given[i < given_len ? i : 0]);
  return difference == 0;
}

/* What the longest token can take in a Basic header, with a user name:
 * a bound before decoding anything. */
#define MAX_BASIC_CREDENTIALS 1024

gboolean
rh_api_token_matches (const char *authorization, const char *token)
{
  static const char bearer[] = "Bearer ", basic[] = "Basic ";
  if (authorization == NULL)
    return FALSE;
  if (strncmp (authorization, bearer, strlen (bearer)) == 0)
    {
      const char *given = authorization + strlen (bearer);
      return same_secret (given, strlen (given), token);
    }
  if (strncmp (authorization, basic, strlen (basic)) != 0
      || strlen (authorization + strlen (basic)) > MAX_BASIC_CREDENTIALS)
    return FALSE;
  gsize len = 0;
  g_autofree guchar *decoded = g_base64_decode (authorization + strlen (basic), &len);
  const char *colon = decoded != NULL ? memchr (decoded, ':', len) : NULL;
  if (colon == NULL)
    return FALSE;
  const char *password = colon + 1;
  return same_secret (password, len - (gsize) (password - (const char *) decoded), token);
}
