/* Reading libconfig settings, for every loader of rtmphooks.conf (server
 * settings, rules): typed values with their errors as "FILE:LINE:
 * message". The only header that brings in <libconfig.h>. */
#pragma once

#include <glib.h>
#include <libconfig.h>

G_BEGIN_DECLS

/* Appends "FILE:LINE: message" (the setting's place) to errors. */
void rh_config_error (GPtrArray *errors, const config_setting_t *setting, const char *format, ...)
  G_GNUC_PRINTF (3, 4);

/* The string, or NULL if the setting is not a string. */
const char *rh_config_get_string (const config_setting_t *setting);
gboolean rh_config_is_list (const config_setting_t *setting);
/* An integer or a float as a double; FALSE for anything else. */
gboolean rh_config_get_number (const config_setting_t *setting, double *out);
/* Seconds: a number, or a duration string ("1m30s", "500ms"). */
gboolean rh_config_get_seconds (const config_setting_t *setting, double *out);
/* Seconds (a number) within [min, max]; FALSE after reporting the error. */
gboolean rh_config_read_seconds (const config_setting_t *setting, double min, double max, double *out,
                                 GPtrArray *errors);
/* An integer within [min, max]; FALSE after reporting the error. */
gboolean rh_config_read_int (const config_setting_t *setting, int min, int max, gint *out,
                             GPtrArray *errors);
/* A string or a list of strings; NULL after reporting the error. */
GStrv rh_config_read_strings (const config_setting_t *setting, const char *what, GPtrArray *errors);
/* Every string below setting is valid UTF-8; FALSE after reporting each
 * one that is not. */
gboolean rh_config_check_utf8 (const config_setting_t *setting, GPtrArray *errors);

G_END_DECLS
