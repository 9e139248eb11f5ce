#include "config.h"

#include "redis-source.h"

typedef struct {
  GSource source;
  redisAsyncContext *context;  /* NULL once hiredis freed it */
  GPollFD poll;
} RedisSource;

static void
want (gpointer data, GIOCondition condition, gboolean on)
{
  RedisSource *redis = data;
  if (on)
    redis->poll.events |= condition;
  else
    redis->poll.events &= ~condition;
}

static void add_read (gpointer data) { want (data, G_IO_IN, TRUE); }
static void del_read (gpointer data) { want (data, G_IO_IN, FALSE); }
static void add_write (gpointer data) { want (data, G_IO_OUT, TRUE); }
static void del_write (gpointer data) { want (data, G_IO_OUT, FALSE); }

/* hiredis frees the context: nothing may touch it any more. */
static void
cleanup (gpointer data)
{
  RedisSource *redis = data;
  redis->context = NULL;
  redis->poll.events = 0;
  g_source_destroy (&redis->source);
}

static gboolean
prepare (GSource *source, gint *timeout)
{
  *timeout = -1;
  return FALSE;
}

static gboolean
check (GSource *source)
{
  RedisSource *redis = (RedisSource *) source;
  return (redis->poll.revents & (redis->poll.events | G_IO_ERR | G_IO_HUP)) != 0;
}

static gboolean
dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  RedisSource *redis = (RedisSource *) source;
  GIOCondition ready = redis->poll.revents;
  redis->poll.revents = 0;
  /* An error or hang-up is found by the read or write it fails. */
  if (redis->context != NULL && (ready & (G_IO_OUT | G_IO_ERR | G_IO_HUP)) && (redis->poll.events & G_IO_OUT))
    redisAsyncHandleWrite (redis->context);
  if (redis->context != NULL && (ready & (G_IO_IN | G_IO_ERR | G_IO_HUP)))
    redisAsyncHandleRead (redis->context);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs funcs = { prepare, check, dispatch, NULL, NULL, NULL };

void
rh_redis_source_attach (redisAsyncContext *context)
{
  RedisSource *redis = (RedisSource *) g_source_new (&funcs, sizeof (RedisSource));
  redis->context = context;
  redis->poll.fd = context->c.fd;
  g_source_add_poll (&redis->source, &redis->poll);
  g_source_set_name (&redis->source, "redis");
  context->ev.addRead = add_read;
  context->ev.delRead = del_read;
  context->ev.addWrite = add_write;
  context->ev.delWrite = del_write;
  context->ev.cleanup = cleanup;
  context->ev.data = redis;
  g_source_attach (&redis->source, g_main_context_get_thread_default ());
  g_source_unref (&redis->source);
}
