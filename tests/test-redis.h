/* A private redis-server for a test: on a free loopback port, with no
 * persistence, in a scratch directory, stopped (and its directory
 * removed) by the test. Never a shared or system instance. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  GSubprocess *process;
  guint16 port;
  char *dir;
  char *password;     /* requirepass, or NULL */
} RhTestRedis;

/* On port (0: a free one), with requirepass when password is not NULL;
 * waits until it answers. */
RhTestRedis *rh_test_redis_start (guint16 port, const char *password);
/* SIGKILL (nothing is saved anyway), then waits for it. */
void rh_test_redis_kill (RhTestRedis *redis);
void rh_test_redis_free (RhTestRedis *redis);
/* "127.0.0.1:PORT" */
char *rh_test_redis_address (const RhTestRedis *redis);
/* Runs one command (printf-style, hiredis' format) and returns the reply
 * as text: a string or status as is, an integer in decimal, nil as
 * "(nil)", an error as "ERR ...", an array as its items joined by '\n'. */
char *rh_test_redis_command (const RhTestRedis *redis, const char *format, ...);

G_END_DECLS
