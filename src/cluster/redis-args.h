/* A Redis command being built, binary-safe, and sent on a link; and the
 * reply's parts read without trusting their types (Redis holds what any
 * client wrote). */
#pragma once

#include <glib.h>

#include "redis-link.h"

G_BEGIN_DECLS

typedef struct {
  GPtrArray *argv;   /* char*, owned */
  GArray *lengths;   /* size_t */
} RhRedisArgs;

void rh_redis_args_init (RhRedisArgs *args, const char *command);
/* EVAL script: the script's keys and arguments follow. */
void rh_redis_args_init_eval (RhRedisArgs *args, const char *script);
void rh_redis_args_add (RhRedisArgs *args, const char *text);
void rh_redis_args_add_len (RhRedisArgs *args, const char *data, gsize len);
void rh_redis_args_add_printf (RhRedisArgs *args, const char *format, ...) G_GNUC_PRINTF (2, 3);
/* Sends the command and frees the arguments. */
void rh_redis_args_send (RhRedisArgs *args, RhRedisLink *link, RhRedisReplyFunc done, gpointer user_data);

/* Element i of an array reply if it has this type (REDIS_REPLY_*), else NULL. */
const redisReply *rh_redis_element (const redisReply *reply, size_t i, int type);

G_END_DECLS
