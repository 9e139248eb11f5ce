/* What the command line sets on top of the configuration file: listen
 * addresses, the chunk size, recording and relay flags, and hooks given
 * as flags (--hook-script, --hook-check, --hook-webhook, ...) turned into
 * rules; and server.record.all and server.relay turned into the rules
 * that start those outputs. Errors go to errors as messages without a
 * FILE:LINE (a flag has none). */
#pragma once

#include "config/settings.h"

G_BEGIN_DECLS

void rh_config_apply_overrides (RhConfig *config, const RhConfigOverrides *overrides, GPtrArray *errors,
                                GPtrArray *warnings);
/* A record rule for server.record.all and a relay rule per server.relay
 * URL (those already checked: the file's where they are written, the
 * flags' by rh_config_apply_overrides). */
void rh_config_add_output_rules (RhConfig *config, GPtrArray *errors);

G_END_DECLS
