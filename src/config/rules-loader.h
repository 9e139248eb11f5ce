/* Loads the filters, rules and checks sections of rtmphooks.conf into RhRule
 * objects, checking everything an operator can get wrong: unknown events
 * and keys, fields a rule's events do not carry, bad regex/CIDR/URL,
 * missing or non-executable programs. Errors read "FILE:LINE: message". */
#pragma once

#include "config/reader.h"
#include "hooks/hooks-settings.h"

G_BEGIN_DECLS

/* filters, rules and checks may be NULL (section absent). Appends rules
 * to hooks->rules and checks to hooks->checks. */
void rh_rules_config_load (const config_setting_t *filters, const config_setting_t *rules,
                           const config_setting_t *checks, RhHooksSettings *hooks, GPtrArray *errors);

/* Shared with the command line flags. */
gboolean rh_rules_check_program (const char *program, char **absolute, GError **error);
/* require_https: RH_REQUIRE_HTTPS_* */
gboolean rh_rules_check_url (const char *text, gint require_https, GError **error);
/* A relay URL as the operator wrote it, as the relay will use it:
 * rtmp://host[:port]/app (no stream part, as nginx-rtmp's push takes it)
 * means the same stream name on that app, rtmp://host/app/${stream_name};
 * a URL with a stream part (literal or a template) is returned as is. */
char *rh_rules_relay_target (const char *text);
/* rtmp://host[:port]/app[/stream] with a literal host. */
gboolean rh_rules_check_relay_url (const char *text, GError **error);
/* The URL names one literal stream: every stream relayed by it goes to
 * that one name on the target. */
gboolean rh_rules_relay_stream_is_fixed (const char *text);

G_END_DECLS
