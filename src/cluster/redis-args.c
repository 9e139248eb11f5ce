#include "config.h"

#include "redis-args.h"

#include <string.h>

void
rh_redis_args_init (RhRedisArgs *args, const char *command)
{
  args->argv = g_ptr_array_new_with_free_func (g_free);
  args->lengths = g_array_new (FALSE, FALSE, sizeof (size_t));
  rh_redis_args_add (args, command);
}

void
rh_redis_args_init_eval (RhRedisArgs *args, const char *script)
{
  rh_redis_args_init (args, "EVAL");
  rh_redis_args_add (args, script);
}

void
rh_redis_args_add_len (RhRedisArgs *args, const char *data, gsize len)
{
  g_ptr_array_add (args->argv, g_memdup2 (data, len + 1));
  size_t size = len;
  g_array_append_val (args->lengths, size);
}

void
rh_redis_args_add (RhRedisArgs *args, const char *text)
{
  rh_redis_args_add_len (args, text, strlen (text));
}

void
rh_redis_args_add_printf (RhRedisArgs *args, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *text = g_strdup_vprintf (format, ap);
  va_end (ap);
  rh_redis_args_add (args, text);
}

void
rh_redis_args_send (RhRedisArgs *args, RhRedisLink *link, RhRedisReplyFunc done, gpointer user_data)
{
  rh_redis_link_command (link, (int) args->argv->len, (const char **) args->argv->pdata,
                         (const size_t *) args->lengths->data, done, user_data);
  g_ptr_array_unref (args->argv);
  g_array_unref (args->lengths);
}

const redisReply *
rh_redis_element (const redisReply *reply, size_t i, int type)
{
  if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || i >= reply->elements)
    return NULL;
  const redisReply *item = reply->element[i];
  return item != NULL && item->type == type ? item : NULL;
}
