/* A hook rule: the events it reacts to, the conditions that must all
 * hold, the extra environment, and one or more actions. Rules are
 * immutable once loaded and refcounted, so an action that is running keeps
 * the rule it started with across a reload. */
#pragma once

#include <gio/gio.h>

#include "condition.h"
#include "event.h"
#include "template.h"

G_BEGIN_DECLS

/* Which webhook URLs may be plain http. */
enum {
  RH_REQUIRE_HTTPS_UNLESS_LOOPBACK = -1,  /* the default: http only to loopback hosts */
  RH_REQUIRE_HTTPS_NO = 0,                /* require_https = false: http anywhere */
  RH_REQUIRE_HTTPS_YES = 1,               /* require_https = true: https only */
};

typedef enum {
  RH_ACTION_EXEC,
  RH_ACTION_WEBHOOK,
  /* Stream outputs: on publish_start only, started at once rather than
   * queued; the stream ends them. */
  RH_ACTION_RECORD,
  RH_ACTION_RELAY,
} RhActionKind;

typedef struct {
  char *name;
  RhTemplate *value;
} RhNamedTemplate;

typedef struct {
  RhActionKind kind;
  double timeout;              /* seconds; 0 = the hooks default */
  /* exec */
  GPtrArray *argv;             /* RhTemplate*; argv[0] is a literal path */
  gboolean stdin_json;
  /* lifetime = "stream": runs as long as the publisher or player whose
   * start event began it, restarted when it dies early. */
  gboolean managed;
  double restart_delay;        /* seconds before the first restart; doubles */
  /* record: a path under the recording directory */
  RhTemplate *path;
  /* webhook; relay: the rtmp:// URL */
  RhTemplate *url;
  /* relay to rtmps://: its own CA file (NULL: server.relay_tls's), and
   * verify, -1 when it leaves server.relay_tls to decide */
  GTlsDatabase *ca_database;
  gint tls_verify;
  GPtrArray *headers;          /* RhNamedTemplate* */
  RhTemplate *secret;          /* NULL: no signature */
  gint retries;
  gint require_https;          /* RH_REQUIRE_HTTPS_* */
} RhAction;

typedef struct {
  gint ref_count;
  char *name;
  guint32 events;              /* bit (1 << RhEventType) per event */
  GPtrArray *conditions;       /* RhCondition*: all must hold */
  GPtrArray *env;              /* RhNamedTemplate* */
  GPtrArray *actions;          /* RhAction* */
  gint concurrency;            /* per-rule cap; 0 = only the global one */
  gint running;                /* the dispatcher's count, main thread only */
  /* A decision check (connect, publish, play) rather than a rule. */
  gboolean is_check;
  gboolean allow_on_error;     /* a check that times out or fails allows */
} RhRule;

RhNamedTemplate *rh_named_template_new (const char *name, RhTemplate *value);
void rh_named_template_free (RhNamedTemplate *named);

RhAction *rh_action_new (RhActionKind kind);
void rh_action_free (RhAction *action);

RhRule *rh_rule_new (const char *name, guint32 events);
RhRule *rh_rule_ref (RhRule *rule);
void rh_rule_unref (RhRule *rule);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RhRule, rh_rule_unref)

/* A rule running argv[0] (a literal executable) with the event on stdin. */
RhRule *rh_rule_new_script (const char *name, guint32 events, const char *path);
/* A rule posting the event to url. */
RhRule *rh_rule_new_webhook (const char *name, guint32 events, RhTemplate *url);
/* A publish_start rule recording every stream to path, or pushing it to url. */
RhRule *rh_rule_new_record (const char *name, RhTemplate *path);
RhRule *rh_rule_new_relay (const char *name, RhTemplate *url);

/* The template for a recording's path when none is given. */
#define RH_RECORD_DEFAULT_PATH "${app}/${stream_name}-${timestamp}.flv"

gboolean rh_rule_matches (const RhRule *rule, const RhEvent *event);
/* The first condition the event fails, NULL if none (why a rule did not
 * match, for the debug log). */
const RhCondition *rh_rule_first_failing (const RhRule *rule, const RhEvent *event);

G_END_DECLS
