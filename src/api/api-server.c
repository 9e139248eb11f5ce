#include "config.h"

#include "api-server.h"

#include <glib/gi18n.h>
#include <libsoup/soup.h>
#include <string.h>

#include "api-json.h"
#include "api-routes.h"
#include "http-connections.h"
#include "metrics.h"
#include "server/stream-info.h"
#include "util/log.h"

/* No route takes a request body beyond a few bytes: anything larger is
 * refused from its headers, before a byte of it is read. */
#define RH_API_MAX_BODY 4096

struct _RhApiServer {
  RhApiSources *sources;
  SoupServer *soup;           /* NULL: off */
  RhHttpConnections *connections;  /* with soup */
  RhHttpCounters retired;     /* of connections before the last restart */
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
  RhHttpCounters counters;
  rh_http_connections_get_counters (api->connections, &counters);
  api->retired.accepted += counters.accepted;
  api->retired.refused += counters.refused;
  api->retired.timed_out += counters.timed_out;
  api->retired.accept_descriptor_failures += counters.accept_descriptor_failures;
  api->retired.accept_other_failures += counters.accept_other_failures;
  g_clear_pointer (&api->connections, rh_http_connections_free);
  g_clear_object (&api->soup);
  g_clear_pointer (&api->listening, g_free);
}

void
rh_api_server_get_counters (RhApiServer *api, RhHttpCounters *counters)
{
  *counters = api->retired;
  if (api->connections == NULL)
    return;
  RhHttpCounters now;
  rh_http_connections_get_counters (api->connections, &now);
  counters->open = now.open;
  counters->accepted += now.accepted;
  counters->refused += now.refused;
  counters->timed_out += now.timed_out;
  counters->accept_descriptor_failures += now.accept_descriptor_failures;
  counters->accept_other_failures += now.accept_other_failures;
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

/* Generated from data/status/status.gresource.xml (status-resources.c).
 * Named here, so that the linker keeps it. */
GResource *rh_status_get_resource (void);

/* GET /: the status page, built in (data/status/status.html). Its
 * script is inline, so the policy allows inline script and style, and
 * fetches to this origin only. */
static void
respond_status_page (SoupServerMessage *message)
{
  g_autoptr (GBytes) page = g_resource_lookup_data (rh_status_get_resource (), "/org/rtmphooks/status/status.html",
                                                    G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  g_assert (page != NULL);  /* linked into the binary */
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (message);
  soup_message_headers_replace (headers, "Content-Security-Policy",
                                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                                "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (headers, "Cache-Control", "no-store");
  soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
  gsize size;
  const char *data = g_bytes_get_data (page, &size);
  soup_server_message_set_response (message, "text/html; charset=utf-8", SOUP_MEMORY_COPY, data, size);
}

/* POST /api/v1/streams/APP/NAME/drop */
static void
handle_drop (RhApiServer *api, SoupServerMessage *message, const RhApiRoute *route)
{
  g_autofree char *key = g_strdup_printf ("%s/%s", route->app, route->name);
  if (!rh_server_drop_publisher (api->sources->server, route->app, route->name,
                                 soup_server_message_get_remote_host (message)))
    {
      respond_error (message, SOUP_STATUS_NOT_FOUND, "no publisher on this stream");
      return;
    }
  g_autofree char *escaped = g_strescape (key, NULL);
  respond (message, SOUP_STATUS_OK, "application/json", g_strdup_printf ("{\"dropped\": \"%s\"}\n", escaped));
}

/* An answer that libsoup would send only after reading the request's
 * body: we take the connection from libsoup, answer from here and close
 * it, so that the body is never read (a client announcing 2 GB must not
 * make us take them in before it hears no). */
/* A browser asks for Basic credentials (the token as password) only when
 * told to: the status page says Basic, the API Bearer. */
static const char *
challenge_for (RhApiRouteKind kind)
{
  return kind == RH_API_STATUS_PAGE ? "Basic realm=\"rtmphooks\", charset=\"UTF-8\"" : "Bearer";
}

static void
refuse_before_body (SoupServerMessage *message, guint status, const char *text, const char *challenge)
{
  g_autoptr (GIOStream) stream = soup_server_message_steal_connection (message);
  if (stream == NULL)
    return;
  g_autofree char *escaped = g_strescape (text, NULL);
  g_autofree char *body = g_strdup_printf ("{\"error\": \"%s\"}\n", escaped);
  g_autofree char *authenticate = status == SOUP_STATUS_UNAUTHORIZED
                                  ? g_strdup_printf ("WWW-Authenticate: %s\r\n", challenge) : g_strdup ("");
  g_autofree char *answer = g_strdup_printf ("HTTP/1.1 %u %s\r\nConnection: close\r\n%s"
                                             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                                             status, soup_status_get_phrase (status), authenticate,
                                             strlen (body), body);
  /* One try, never blocking: the answer is small and nothing else is
   * queued on this connection. */
  GOutputStream *out = g_io_stream_get_output_stream (stream);
  if (G_IS_POLLABLE_OUTPUT_STREAM (out))
    g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM (out), answer, strlen (answer), NULL, NULL);
  g_io_stream_close (stream, NULL, NULL);
}

static void
refuse (SoupServerMessage *message, gboolean has_body, guint status, const char *text, RhApiRouteKind kind)
{
  if (has_body)
    refuse_before_body (message, status, text, challenge_for (kind));
  else
    {
      if (status == SOUP_STATUS_UNAUTHORIZED)
        soup_message_headers_replace (soup_server_message_get_response_headers (message), "WWW-Authenticate",
                                      challenge_for (kind));
      respond_error (message, status, text);
    }
}

/* Called once the headers are in, before the body is read: who may ask,
 * and how much they may send. */
static void
on_headers (SoupServer *soup, SoupServerMessage *message, const char *path, GHashTable *query,
            gpointer user_data)
{
  RhApiServer *api = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (message);
  SoupEncoding encoding = soup_message_headers_get_encoding (headers);
  goffset length = encoding == SOUP_ENCODING_CONTENT_LENGTH ? soup_message_headers_get_content_length (headers) : 0;
  gboolean has_body = encoding == SOUP_ENCODING_CHUNKED || length > 0;

  RhApiRoute route;
  rh_api_route_parse (soup_server_message_get_method (message), path, &route);
  gboolean open_route = route.kind == RH_API_HEALTHZ;
  RhApiRouteKind kind = route.kind;
  rh_api_route_clear (&route);
  const char *authorization = soup_message_headers_get_one (headers, "Authorization");
  if (!open_route && api->token != NULL && !rh_api_token_matches (authorization, api->token))
    refuse (message, has_body, SOUP_STATUS_UNAUTHORIZED, "a bearer token is required", kind);
  else if (encoding == SOUP_ENCODING_CHUNKED)
    refuse (message, has_body, SOUP_STATUS_LENGTH_REQUIRED, "request bodies need a Content-Length", kind);
  else if (length > RH_API_MAX_BODY)
    refuse (message, has_body, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "request bodies are limited to 4096 bytes",
            kind);
}

static void
on_request (SoupServer *soup, SoupServerMessage *message, const char *path, GHashTable *query,
            gpointer user_data)
{
  RhApiServer *api = user_data;
  RhApiRoute route;
  rh_api_route_parse (soup_server_message_get_method (message), path, &route);

  /* The token was checked with the headers (on_headers). */
  switch (route.kind)
    {
    case RH_API_HEALTHZ:
      /* 200 while the loop turns; a fleet node says when it cannot reach
       * Redis (it still serves, but refuses new publishes by default). */
      if (api->sources->worker != NULL && !rh_redis_link_is_up (rh_worker_get_link (api->sources->worker)))
        respond (message, SOUP_STATUS_OK, "text/plain",
                 g_strdup_printf ("ok\nworker: Redis unreachable: %s\n",
                                  rh_redis_link_get_problem (rh_worker_get_link (api->sources->worker)) != NULL
                                  ? rh_redis_link_get_problem (rh_worker_get_link (api->sources->worker))
                                  : "connecting"));
      else if (api->sources->directory != NULL && !rh_directory_backend_up (api->sources->directory))
        respond (message, SOUP_STATUS_OK, "text/plain",
                 g_strdup_printf ("ok\ncluster: Redis unreachable: %s\n",
                                  rh_directory_backend_problem (api->sources->directory) != NULL
                                  ? rh_directory_backend_problem (api->sources->directory) : "connecting"));
      else
        respond (message, SOUP_STATUS_OK, "text/plain", g_strdup ("ok\n"));
      break;
    case RH_API_METRICS:
      {
        RhHttpCounters http;
        rh_api_server_get_counters (api, &http);
        respond (message, SOUP_STATUS_OK, RH_METRICS_CONTENT_TYPE, rh_metrics_render (api->sources, &http));
        break;
      }
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
    case RH_API_SERVER:
      respond (message, SOUP_STATUS_OK, "application/json", rh_api_json_server (api->sources));
      break;
    case RH_API_CLUSTER:
      respond (message, SOUP_STATUS_OK, "application/json", rh_api_json_cluster (api->sources));
      break;
    case RH_API_STATUS_PAGE:
      respond_status_page (message);
      break;
    case RH_API_DROP:
      if (api->token == NULL)
        respond_error (message, SOUP_STATUS_FORBIDDEN, "dropping a stream needs http.token to be set");
      else
        handle_drop (api, message, &route);
      break;
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

static void
limits_from_config (const RhHttpConfig *config, RhHttpLimits *limits)
{
  limits->listen_backlog = config->listen_backlog;
  limits->max_connections = (guint) config->max_connections;
  limits->max_connections_per_ip = (guint) config->max_connections_per_ip;
  limits->timeout = config->timeout;
}

static gboolean
start (RhApiServer *api, const RhHttpConfig *config, GError **error)
{
  SoupServer *soup = soup_server_new ("server-header", "rtmphooks/" PACKAGE_VERSION, NULL);
  soup_server_add_early_handler (soup, NULL, on_headers, api, NULL);
  soup_server_add_handler (soup, NULL, on_request, api, NULL);
  RhHttpLimits limits;
  limits_from_config (config, &limits);
  RhHttpConnections *connections = rh_http_connections_new (soup, &limits);
  for (guint i = 0; i < config->listen->len; i++)
    {
      const RhListenAddress *address = &g_array_index (config->listen, RhListenAddress, i);
      g_autofree char *text = rh_listen_address_to_string (address);
      if (!rh_http_connections_listen (connections, address, error))
        {
          g_prefix_error (error, _("HTTP API on %s: "), text);
          rh_http_connections_free (connections);
          g_object_unref (soup);
          return FALSE;
        }
      g_message (_("HTTP API listening on %s"), text);
    }
  api->soup = soup;
  api->connections = connections;
  return TRUE;
}

gboolean
rh_api_server_apply_config (RhApiServer *api, const RhHttpConfig *config, GError **error)
{
  g_free (api->token);
  api->token = g_strdup (config->token);
  g_autofree char *wanted = listen_text (config);
  if (api->soup != NULL && g_strcmp0 (wanted, api->listening) == 0)
    {
      RhHttpLimits limits;
      limits_from_config (config, &limits);
      rh_http_connections_set_limits (api->connections, &limits);
      return TRUE;
    }
  stop (api);
  if (config->listen->len == 0)
    return TRUE;
  if (!start (api, config, error))
    return FALSE;
  api->listening = g_steal_pointer (&wanted);
  return TRUE;
}
