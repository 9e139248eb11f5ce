#include "config.h"

#include "api-server.h"

#include <glib/gi18n.h>
#include <libsoup/soup.h>
#include <string.h>

#include "api-json.h"
#include "api-routes.h"
#include "metrics.h"
#include "server/connection.h"
#include "server/registry.h"
#include "server/stream.h"
#include "util/log.h"

struct _RhApiServer {
  RhApiSources *sources;
  SoupServer *soup;           /* NULL: off */
  char *listening;            /* the addresses it listens on, canonical, for reloads */
  char *token;                /* NULL: none */
};

RhApiServer *
rh_api_server_new (RhApiSources *sources)
{
  RhApiServer *api = g_new0 (RhApiServer, 1);
  api->sources = sources;
  return api;
}

static void
stop (RhApiServer *api)
{
  if (api->soup == NULL)
    return;
  soup_server_disconnect (api->soup);
  g_clear_object (&api->soup);
  g_clear_pointer (&api->listening, g_free);
}

void
rh_api_server_free (RhApiServer *api)
{
  if (api == NULL)
    return;
  stop (api);
  g_free (api->token);
  g_free (api);
}

static void
respond (SoupServerMessage *message, guint status, const char *content_type, char *body)
{
  soup_server_message_set_status (message, status, NULL);
  soup_server_message_set_response (message, content_type, SOUP_MEMORY_TAKE, body, strlen (body));
}

static void
respond_error (SoupServerMessage *message, guint status, const char *text)
{
  g_autofree char *escaped = g_strescape (text, NULL);
  respond (message, status, "application/json", g_strdup_printf ("{\"error\": \"%s\"}\n", escaped));
}

/* POST /api/v1/streams/APP/NAME/drop */
static void
handle_drop (RhApiServer *api, SoupServerMessage *message, const RhApiRoute *route)
{
  RhRegistry *registry = rh_server_get_registry (api->sources->server);
  RhStream *stream = rh_registry_lookup (registry, route->app, route->name);
  if (stream == NULL || stream->publisher == NULL)
    {
      respond_error (message, SOUP_STATUS_NOT_FOUND, "no publisher on this stream");
      return;
    }
  g_autofree char *key = g_strdup (stream->key);
  g_autofree char *peer = g_strdup (soup_server_message_get_remote_host (message));
  rh_log (G_LOG_LEVEL_MESSAGE, rh_connection_get_id (stream->publisher->connection), key, NULL,
          _("publisher of %s dropped through the HTTP API (request from %s)"), key,
          peer != NULL ? peer : "?");
  rh_connection_close (stream->publisher->connection, RH_REASON_REJECTED,
                       _("dropped through the HTTP API"));
  g_autofree char *escaped = g_strescape (key, NULL);
  respond (message, SOUP_STATUS_OK, "application/json", g_strdup_printf ("{\"dropped\": \"%s\"}\n", escaped));
}

static void
on_request (SoupServer *soup, SoupServerMessage *message, const char *path, GHashTable *query,
            gpointer user_data)
{
  RhApiServer *api = user_data;
  RhApiRoute route;
  rh_api_route_parse (soup_server_message_get_method (message), path, &route);

  if (route.kind == RH_API_HEALTHZ)
    {
      respond (message, SOUP_STATUS_OK, "text/plain", g_strdup ("ok\n"));
      return;
    }
  const char *authorization = soup_message_headers_get_one (soup_server_message_get_request_headers (message),
                                                            "Authorization");
  if (api->token != NULL && !rh_api_token_matches (authorization, api->token))
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (message),
                                    "WWW-Authenticate", "Bearer");
      respond_error (message, SOUP_STATUS_UNAUTHORIZED, "a bearer token is required");
      rh_api_route_clear (&route);
      return;
    }
  switch (route.kind)
    {
    case RH_API_METRICS:
      respond (message, SOUP_STATUS_OK, RH_METRICS_CONTENT_TYPE, rh_metrics_render (api->sources));
      break;
    case RH_API_STREAMS:
      {
        const char *detail = query != NULL ? g_hash_table_lookup (query, "detail") : NULL;
        respond (message, SOUP_STATUS_OK, "application/json",
                 rh_api_json_streams (api->sources, g_strcmp0 (detail, "1") == 0));
        break;
      }
    case RH_API_HOOKS:
      respond (message, SOUP_STATUS_OK, "application/json", rh_api_json_hooks (api->sources));
      break;
    case RH_API_DROP:
      if (api->token == NULL)
        respond_error (message, SOUP_STATUS_FORBIDDEN, "dropping a stream needs http.token to be set");
      else
        handle_drop (api, message, &route);
      break;
    case RH_API_HEALTHZ:
    case RH_API_NOT_FOUND:
    default:
      respond_error (message, SOUP_STATUS_NOT_FOUND, "no such path");
      break;
    }
  rh_api_route_clear (&route);
}

static char *
listen_text (const RhHttpConfig *config)
{
  GString *text = g_string_new (NULL);
  for (guint i = 0; i < config->listen->len; i++)
    {
      g_autofree char *one = rh_listen_address_to_string (&g_array_index (config->listen, RhListenAddress, i));
      g_string_append_printf (text, "%s ", one);
    }
  return g_string_free (text, FALSE);
}

static gboolean
start (RhApiServer *api, const RhHttpConfig *config, GError **error)
{
  SoupServer *soup = soup_server_new ("server-header", "rtmphooks/" PACKAGE_VERSION, NULL);
  soup_server_add_handler (soup, NULL, on_request, api, NULL);
  for (guint i = 0; i < config->listen->len; i++)
    {
      const RhListenAddress *address = &g_array_index (config->listen, RhListenAddress, i);
      gboolean ok;
      if (address->host == NULL)
        ok = soup_server_listen_all (soup, address->port, 0, error);
      else
        {
          g_autoptr (GSocketAddress) socket_address = g_inet_socket_address_new_from_string (address->host,
                                                                                            address->port);
          ok = soup_server_listen (soup, socket_address, 0, error);
        }
      if (!ok)
        {
          g_autofree char *text = rh_listen_address_to_string (address);
          g_prefix_error (error, _("HTTP API on %s: "), text);
          soup_server_disconnect (soup);
          g_object_unref (soup);
          return FALSE;
        }
      g_autofree char *text = rh_listen_address_to_string (address);
      g_message (_("HTTP API listening on %s"), text);
    }
  api->soup = soup;
  return TRUE;
}

gboolean
rh_api_server_apply_config (RhApiServer *api, const RhHttpConfig *config, GError **error)
{
  g_free (api->token);
  api->token = g_strdup (config->token);
  g_autofree char *wanted = listen_text (config);
  if (api->soup != NULL && g_strcmp0 (wanted, api->listening) == 0)
    return TRUE;
  stop (api);
  if (config->listen->len == 0)
    return TRUE;
  if (!start (api, config, error))
    return FALSE;
  api->listening = g_steal_pointer (&wanted);
  return TRUE;
}
