/* What the HTTP API reads: the daemon's parts, at request time. */
#pragma once

#include "hooks/check-runner.h"
#include "hooks/dispatcher.h"
#include "cluster/directory.h"
#include "cluster/event-log.h"
#include "cluster/worker.h"
#include "server/server.h"

G_BEGIN_DECLS

typedef struct {
  RhServer *server;
  RhDispatcher *dispatcher;
  RhCheckRunner *checks;
  RhDirectory *directory;      /* NULL: not in a fleet */
  RhEventLog *event_log;       /* NULL: events are not appended to Redis */
  RhWorker *worker;            /* NULL: not a hook worker */
  guint64 reloads_ok;
  guint64 reloads_failed;
  gint64 config_loaded_at;     /* real time, seconds */
  gint64 started_at;           /* real time, seconds */
} RhApiSources;

G_END_DECLS
