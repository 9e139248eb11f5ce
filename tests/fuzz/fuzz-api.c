/* libFuzzer harness for what the HTTP API reads from a request before
 * anything else: the method and path that pick a route (the drop path
 * carries an app and a name), and the Authorization header against the
 * token. Input: METHOD '\n' PATH '\n' AUTHORIZATION. */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "api/api-routes.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  /* libsoup hands us NUL-terminated strings; a NUL inside ends them. */
  char *text = g_strndup ((const char *) data, size);
  char **parts = g_strsplit (text, "\n", 3);
  const char *method = parts[0] != NULL ? parts[0] : "";
  const char *path = parts[0] != NULL && parts[1] != NULL ? parts[1] : "/";
  const char *authorization = parts[0] != NULL && parts[1] != NULL ? parts[2] : NULL;

  RhApiRoute route;
  rh_api_route_parse (method, path, &route);
  /* A drop names an app and a stream, neither empty nor holding a '/'. */
  if (route.kind == RH_API_DROP
      && (route.app == NULL || route.name == NULL || route.app[0] == '\0' || route.name[0] == '\0'
          || strchr (route.app, '/') != NULL || strchr (route.name, '/') != NULL))
    __builtin_trap ();
  if (route.kind != RH_API_DROP && (route.app != NULL || route.name != NULL))
    __builtin_trap ();
  rh_api_route_clear (&route);

  /* The token matches only itself: as a bearer token, or as the password
   * of Basic credentials. */
  if (rh_api_token_matches (authorization, "s3cret-token") && g_strcmp0 (authorization, "Bearer s3cret-token") != 0)
    {
      if (!g_str_has_prefix (authorization, "Basic "))
        __builtin_trap ();
      gsize len = 0;
      guchar *decoded = g_base64_decode (authorization + 6, &len);
      const char *colon = memchr (decoded, ':', len);
      if (colon == NULL || (gsize) ((const char *) decoded + len - (colon + 1)) != strlen ("s3cret-token")
          || memcmp (colon + 1, "s3cret-token", strlen ("s3cret-token")) != 0)
        __builtin_trap ();
      g_free (decoded);
    }
  g_strfreev (parts);
  g_free (text);
  return 0;
}
