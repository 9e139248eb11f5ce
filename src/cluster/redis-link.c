#include "config.h"

#include "redis-link.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <hiredis/async.h>
#include <string.h>

#include "redis-source.h"
#include "util/log.h"

#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS 2000
/* How often the deadlines of commands in flight are looked at. */
#define DEADLINE_TICK_MS 50

const double rh_redis_latency_bounds[RH_REDIS_LATENCY_BUCKETS] = {
  0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1
};

typedef enum {
  LINK_DOWN,            /* waiting to connect again */
  LINK_CONNECTING,      /* resolving, connecting, or authenticating */
  LINK_UP,
} LinkState;

typedef struct {
  RhRedisLink *link;       /* NULL once the link is freed */
  RhRedisReplyFunc done;
  gpointer user_data;
  gint64 sent_at;
} Command;

struct _RhRedisLink {
  char *socket_path;
  char *host;
  gint port;
  char *user;
  char *password;
  gint64 timeout_us;
  const RhRedisLinkOwner *owner;
  gpointer owner_data;

  LinkState state;
  /* The connection is going away (hiredis is failing what was in flight):
   * nothing may be sent on it any more, or a failed send's callback that
   * sends again would recurse without end. */
  gboolean closing;
  redisAsyncContext *context;
  GCancellable *resolving;
  GQueue in_flight;            /* Command*, oldest first: Redis answers in order */
  RhRedisResult failing_as;    /* what commands in flight fail with when we close */
  guint retry_id;
  guint deadline_id;
  gint64 connect_started;
  guint backoff_ms;
  char *problem;
  RhRedisStats stats;
};

static void schedule_retry (RhRedisLink *link);
static void connect_now (RhRedisLink *link);

const char *
rh_redis_result_to_string (RhRedisResult result)
{
  static const char *const names[] = {
    [RH_REDIS_OK] = "ok", [RH_REDIS_DOWN] = "down", [RH_REDIS_TIMEOUT] = "timeout",
    [RH_REDIS_CONNECTION] = "connection", [RH_REDIS_REPLY_ERROR] = "reply_error",
  };
  return names[result];
}

const char *
rh_redis_fail_to_string (RhRedisFail fail)
{
  return fail == RH_REDIS_FAIL_AUTH ? "auth" : "connect";
}

RhRedisLink *
rh_redis_link_new (const RhClusterConfig *config, const RhRedisLinkOwner *owner, gpointer owner_data)
{
  RhRedisLink *link = g_new0 (RhRedisLink, 1);
  link->socket_path = g_strdup (config->redis_socket);
  link->host = g_strdup (config->redis_host);
  link->port = config->redis_port;
  link->user = g_strdup (config->redis_user);
  link->password = g_strdup (config->redis_password);
  link->timeout_us = (gint64) (config->redis_timeout * G_USEC_PER_SEC);
  link->owner = owner;
  link->owner_data = owner_data;
  link->backoff_ms = BACKOFF_FIRST_MS;
  /* What commands in flight fail with when hiredis drops the connection
   * itself (the server closed it); drop_connection says otherwise. */
  link->failing_as = RH_REDIS_CONNECTION;
  g_queue_init (&link->in_flight);
  return link;
}

static void
set_problem (RhRedisLink *link, RhRedisFail fail, const char *format, ...) G_GNUC_PRINTF (3, 4);

/* Logged when it changes, not at every retry. */
static void
set_problem (RhRedisLink *link, RhRedisFail fail, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *text = g_strdup_vprintf (format, args);
  va_end (args);
  link->stats.fails[fail]++;
  if (g_strcmp0 (text, link->problem) != 0)
    rh_log (G_LOG_LEVEL_WARNING, NULL, NULL, NULL, _("cluster: Redis: %s"), text);
  g_free (link->problem);
  link->problem = g_steal_pointer (&text);
}

static void
record_latency (RhRedisLink *link, gint64 sent_at)
{
  double seconds = (double) (g_get_monotonic_time () - sent_at) / G_USEC_PER_SEC;
  for (int i = 0; i < RH_REDIS_LATENCY_BUCKETS; i++)
    if (seconds <= rh_redis_latency_bounds[i])
      link->stats.latency_counts[i]++;
  link->stats.latency_count++;
  link->stats.latency_sum += seconds;
}

static void
finish (Command *command, RhRedisResult result, const redisReply *reply)
{
  if (command->link != NULL)
    command->link->stats.results[result]++;
  if (command->done != NULL)
    command->done (result, reply, command->user_data);
  g_free (command);
}

/* hiredis' callback: a reply, or NULL when the context goes away. */
static void
on_reply (redisAsyncContext *context, void *reply_data, void *privdata)
{
  Command *command = privdata;
  RhRedisLink *link = command->link;
  const redisReply *reply = reply_data;
  if (link != NULL)
    g_queue_remove (&link->in_flight, command);
  RhRedisResult result;
  if (reply == NULL && link != NULL)
    link->closing = TRUE;
  if (reply == NULL)
    result = link != NULL ? link->failing_as : RH_REDIS_CONNECTION;
  else
    {
      result = reply->type == REDIS_REPLY_ERROR ? RH_REDIS_REPLY_ERROR : RH_REDIS_OK;
      if (link != NULL)
        record_latency (link, command->sent_at);
    }
  finish (command, result, reply);
}

static void
went_down (RhRedisLink *link)
{
  gboolean was_up = link->state == LINK_UP;
  link->state = LINK_DOWN;
  link->stats.up = FALSE;
  g_clear_handle_id (&link->deadline_id, g_source_remove);
  if (was_up && link->owner != NULL && link->owner->down != NULL)
    link->owner->down (link, link->owner_data);
}

/* Closes the connection we hold: commands in flight fail as `as`. */
static void
drop_connection (RhRedisLink *link, RhRedisResult as)
{
  redisAsyncContext *context = g_steal_pointer (&link->context);
  link->closing = TRUE;
  link->failing_as = as;
  if (context != NULL)
    redisAsyncFree (context);
  link->failing_as = RH_REDIS_CONNECTION;
}

/* Whatever failed: the connection (if any) goes, commands in flight fail
 * as `as`, and a new attempt comes after the backoff. */
static void
retry_later (RhRedisLink *link, RhRedisResult as)
{
  if (link->resolving != NULL)
    {
      g_cancellable_cancel (link->resolving);
      g_clear_object (&link->resolving);
    }
  drop_connection (link, as);
  went_down (link);
  schedule_retry (link);
}

static void
on_disconnected (const redisAsyncContext *context, int status)
{
  RhRedisLink *link = context->data;
  if (link == NULL || link->context != context)
    return;  /* we closed it ourselves */
  link->context = NULL;
  set_problem (link, RH_REDIS_FAIL_CONNECT, _("connection lost: %s"),
               context->errstr[0] != '\0' ? context->errstr : _("closed by the server"));
  retry_later (link, RH_REDIS_CONNECTION);
}

static gboolean
check_deadlines (gpointer data)
{
  RhRedisLink *link = data;
  Command *oldest = g_queue_peek_head (&link->in_flight);
  gint64 now = g_get_monotonic_time ();
  if (link->state != LINK_UP && now - link->connect_started > link->timeout_us)
    {
      set_problem (link, RH_REDIS_FAIL_CONNECT, _("no connection within %.3g s"),
                   (double) link->timeout_us / G_USEC_PER_SEC);
      link->deadline_id = 0;  /* this source ends by returning */
      retry_later (link, RH_REDIS_TIMEOUT);
      return G_SOURCE_REMOVE;
    }
  if (oldest != NULL && now - oldest->sent_at > link->timeout_us)
    {
      set_problem (link, RH_REDIS_FAIL_CONNECT, _("no reply within %.3g s: reconnecting"),
                   (double) link->timeout_us / G_USEC_PER_SEC);
      link->deadline_id = 0;
      retry_later (link, RH_REDIS_TIMEOUT);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
send_command (RhRedisLink *link, int argc, const char **argv, const size_t *argv_len, RhRedisReplyFunc done,
              gpointer user_data)
{
  Command *command = g_new0 (Command, 1);
  command->link = link;
  command->done = done;
  command->user_data = user_data;
  command->sent_at = g_get_monotonic_time ();
  link->stats.commands++;
  if (redisAsyncCommandArgv (link->context, on_reply, command, argc, argv, argv_len) != REDIS_OK)
    {
      link->closing = TRUE;
      command->link = NULL;
      link->stats.results[RH_REDIS_CONNECTION]++;
      finish (command, RH_REDIS_CONNECTION, NULL);
      return;
    }
  g_queue_push_tail (&link->in_flight, command);
}

static void
on_ready_reply (RhRedisResult result, const redisReply *reply, gpointer user_data)
{
  RhRedisLink *link = user_data;
  if (result == RH_REDIS_REPLY_ERROR)
    {
      gboolean auth = g_str_has_prefix (reply->str, "WRONGPASS") || g_str_has_prefix (reply->str, "NOAUTH")
                      || strstr (reply->str, "AUTH") != NULL;
      if (auth && link->password == NULL)
        set_problem (link, RH_REDIS_FAIL_AUTH, _("Redis requires a password (set cluster.password or "
                                                 "cluster.password_file): %s"), reply->str);
      else if (auth)
        set_problem (link, RH_REDIS_FAIL_AUTH, _("Redis refused the password: %s"), reply->str);
      else
        set_problem (link, RH_REDIS_FAIL_CONNECT, _("Redis refused the connection: %s"), reply->str);
    }
  if (result != RH_REDIS_OK)
    {
      retry_later (link, RH_REDIS_CONNECTION);
      return;
    }
  link->state = LINK_UP;
  link->stats.up = TRUE;
  link->stats.connects++;
  link->backoff_ms = BACKOFF_FIRST_MS;
  if (link->problem != NULL)
    rh_log (G_LOG_LEVEL_MESSAGE, NULL, NULL, NULL, _("cluster: Redis is reachable again"));
  else
    rh_log (G_LOG_LEVEL_INFO, NULL, NULL, NULL, "cluster: connected to Redis");
  g_clear_pointer (&link->problem, g_free);
  if (link->owner != NULL && link->owner->up != NULL)
    link->owner->up (link, link->owner_data);
}

static void
on_connected (const redisAsyncContext *context, int status)
{
  RhRedisLink *link = context->data;
  if (link == NULL || link->context != context)
    return;
  if (status != REDIS_OK)
    {
      /* hiredis frees the context after this callback. */
      link->context = NULL;
      set_problem (link, RH_REDIS_FAIL_CONNECT, _("cannot connect: %s"), context->errstr);
      retry_later (link, RH_REDIS_CONNECTION);
      return;
    }
  /* AUTH, or a PING that tells whether a password is needed. */
  if (link->password != NULL)
    {
      const char *argv[] = { "AUTH", link->user != NULL ? link->user : link->password, link->password };
      send_command (link, link->user != NULL ? 3 : 2, argv, NULL, on_ready_reply, link);
    }
  else
    {
      const char *argv[] = { "PING" };
      send_command (link, 1, argv, NULL, on_ready_reply, link);
    }
}

static void
open_context (RhRedisLink *link, const char *address)
{
  redisAsyncContext *context = link->socket_path != NULL ? redisAsyncConnectUnix (link->socket_path)
                                                         : redisAsyncConnect (address, link->port);
  if (context == NULL || context->err)
    {
      set_problem (link, RH_REDIS_FAIL_CONNECT, _("cannot connect: %s"),
                   context != NULL ? context->errstr : g_strerror (ENOMEM));
      if (context != NULL)
        redisAsyncFree (context);
      retry_later (link, RH_REDIS_CONNECTION);
      return;
    }
  context->data = link;
  link->context = context;
  rh_redis_source_attach (context);
  redisAsyncSetConnectCallback (context, on_connected);
  redisAsyncSetDisconnectCallback (context, on_disconnected);
}

static void
on_resolved (GObject *resolver, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  GList *addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (resolver), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;  /* the link is being freed */
  RhRedisLink *link = user_data;
  g_clear_object (&link->resolving);
  if (addresses == NULL)
    {
      set_problem (link, RH_REDIS_FAIL_CONNECT, _("cannot resolve %s: %s"), link->host, error->message);
      retry_later (link, RH_REDIS_CONNECTION);
      return;
    }
  g_autofree char *address = g_inet_address_to_string (addresses->data);
  g_resolver_free_addresses (addresses);
  open_context (link, address);
}

static void
connect_now (RhRedisLink *link)
{
  link->state = LINK_CONNECTING;
  link->closing = FALSE;
  link->connect_started = g_get_monotonic_time ();
  link->deadline_id = g_timeout_add (DEADLINE_TICK_MS, check_deadlines, link);
  if (link->socket_path != NULL || g_hostname_is_ip_address (link->host))
    {
      open_context (link, link->host);
      return;
    }
  link->resolving = g_cancellable_new ();
  g_autoptr (GResolver) resolver = g_resolver_get_default ();
  g_resolver_lookup_by_name_async (resolver, link->host, link->resolving, on_resolved, link);
}

static gboolean
on_retry (gpointer data)
{
  RhRedisLink *link = data;
  link->retry_id = 0;
  connect_now (link);
  return G_SOURCE_REMOVE;
}

static void
schedule_retry (RhRedisLink *link)
{
  if (link->retry_id != 0)
    return;
  link->retry_id = g_timeout_add (link->backoff_ms, on_retry, link);
  link->backoff_ms = MIN (link->backoff_ms * 2, BACKOFF_MAX_MS);
}

void
rh_redis_link_start (RhRedisLink *link)
{
  connect_now (link);
}

gboolean
rh_redis_link_is_up (const RhRedisLink *link)
{
  return link->state == LINK_UP && !link->closing;
}

const char *
rh_redis_link_get_problem (const RhRedisLink *link)
{
  return link->problem;
}

void
rh_redis_link_command (RhRedisLink *link, int argc, const char **argv, const size_t *argv_len,
                       RhRedisReplyFunc done, gpointer user_data)
{
  if (!rh_redis_link_is_up (link) || link->context == NULL)
    {
      link->stats.results[RH_REDIS_DOWN]++;
      done (RH_REDIS_DOWN, NULL, user_data);
      return;
    }
  send_command (link, argc, argv, argv_len, done, user_data);
}

void
rh_redis_link_get_stats (const RhRedisLink *link, RhRedisStats *stats)
{
  *stats = link->stats;
}

void
rh_redis_link_free (RhRedisLink *link)
{
  if (link == NULL)
    return;
  /* Commands in flight fail now, while their owners still exist. */
  link->state = LINK_DOWN;
  link->owner = NULL;
  if (link->resolving != NULL)
    {
      g_cancellable_cancel (link->resolving);
      g_clear_object (&link->resolving);
    }
  drop_connection (link, RH_REDIS_CONNECTION);
  g_clear_handle_id (&link->retry_id, g_source_remove);
  g_clear_handle_id (&link->deadline_id, g_source_remove);
  g_free (link->socket_path);
  g_free (link->host);
  g_free (link->user);
  if (link->password != NULL)
    memset (link->password, 0, strlen (link->password));
  g_free (link->password);
  g_free (link->problem);
  g_free (link);
}
