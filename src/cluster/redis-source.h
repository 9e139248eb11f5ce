/* Drives a hiredis async context from the GLib main loop. It follows
 * hiredis' own GLib adapter (adapters/glib.h) with one fix: that adapter
 * calls redisAsyncHandleRead after a redisAsyncHandleWrite that may have
 * freed the context (a failed connect or write frees it from inside);
 * here the cleanup hook clears the context first, and the source
 * destroys itself. */
#pragma once

#include <glib.h>
#include <hiredis/async.h>

G_BEGIN_DECLS

/* Attaches to the thread-default main context. The source lives as long
 * as the context: hiredis' cleanup hook destroys it. */
void rh_redis_source_attach (redisAsyncContext *context);

G_END_DECLS
