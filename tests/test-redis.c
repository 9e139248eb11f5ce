#include "config.h"

#include "test-redis.h"

#include <hiredis/hiredis.h>
#include <stdarg.h>

#include "testutil.h"

static gboolean
answers (gpointer data)
{
  const RhTestRedis *redis = data;
  struct timeval timeout = { 1, 0 };
  redisContext *context = redisConnectWithTimeout ("127.0.0.1", redis->port, timeout);
  gboolean up = FALSE;
  if (context != NULL && !context->err)
    {
      redisReply *reply = redis->password != NULL ? redisCommand (context, "AUTH %s", redis->password)
                                                  : redisCommand (context, "PING");
      up = reply != NULL && reply->type != REDIS_REPLY_ERROR;
      if (reply != NULL)
        freeReplyObject (reply);
    }
  if (context != NULL)
    redisFree (context);
  return up;
}

RhTestRedis *
rh_test_redis_start (guint16 port, const char *password)
{
  RhTestRedis *redis = g_new0 (RhTestRedis, 1);
  redis->port = port != 0 ? port : rh_test_free_port ();
  redis->dir = rh_test_make_dir ();
  redis->password = g_strdup (password);
  g_autofree char *port_text = g_strdup_printf ("%u", redis->port);
  g_autofree char *log = g_build_filename (redis->dir, "redis.log", NULL);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  const char *const fixed[] = { "redis-server", "--port", port_text, "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", redis->dir, "--logfile", log, NULL };
  for (const char *const *arg = fixed; *arg != NULL; arg++)
    g_ptr_array_add (argv, (gpointer) *arg);
  if (password != NULL)
    {
      g_ptr_array_add (argv, (gpointer) "--requirepass");
      g_ptr_array_add (argv, (gpointer) password);
    }
  g_ptr_array_add (argv, NULL);
  redis->process = rh_test_spawn ((const char *const *) argv->pdata, NULL);
  if (!rh_test_poll_until (answers, redis, 10000))
    {
      g_autofree char *text = NULL;
      g_file_get_contents (log, &text, NULL, NULL);
      g_error ("redis-server did not start on port %u:\n%s", redis->port, text != NULL ? text : "");
    }
  return redis;
}

void
rh_test_redis_kill (RhTestRedis *redis)
{
  if (redis->process == NULL)
    return;
  g_subprocess_force_exit (redis->process);
  g_subprocess_wait (redis->process, NULL, NULL);
  g_clear_object (&redis->process);
}

void
rh_test_redis_free (RhTestRedis *redis)
{
  if (redis == NULL)
    return;
  rh_test_redis_kill (redis);
  rh_test_remove_tree (redis->dir);
  g_free (redis->dir);
  g_free (redis->password);
  g_free (redis);
}

char *
rh_test_redis_address (const RhTestRedis *redis)
{
  return g_strdup_printf ("127.0.0.1:%u", redis->port);
}

static void
append_reply (GString *out, const redisReply *reply)
{
  switch (reply->type)
    {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      g_string_append_len (out, reply->str, (gssize) reply->len);
      break;
    case REDIS_REPLY_ERROR:
      g_string_append (out, reply->str);
      break;
    case REDIS_REPLY_INTEGER:
      g_string_append_printf (out, "%lld", reply->integer);
      break;
    case REDIS_REPLY_NIL:
      g_string_append (out, "(nil)");
      break;
    case REDIS_REPLY_ARRAY:
      for (size_t i = 0; i < reply->elements; i++)
        {
          if (i > 0)
            g_string_append_c (out, '\n');
          append_reply (out, reply->element[i]);
        }
      break;
    default:
      break;
    }
}

char *
rh_test_redis_command (const RhTestRedis *redis, const char *format, ...)
{
  struct timeval timeout = { 5, 0 };
  redisContext *context = redisConnectWithTimeout ("127.0.0.1", redis->port, timeout);
  g_assert_nonnull (context);
  g_assert_cmpint (context->err, ==, 0);
  if (redis->password != NULL)
    freeReplyObject (redisCommand (context, "AUTH %s", redis->password));
  va_list args;
  va_start (args, format);
  redisReply *reply = redisvCommand (context, format, args);
  va_end (args);
  g_assert_nonnull (reply);
  GString *out = g_string_new (NULL);
  append_reply (out, reply);
  freeReplyObject (reply);
  redisFree (context);
  return g_string_free (out, FALSE);
}
