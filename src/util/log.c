#include "config.h"

#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The most verbose level printed: lower enum values are more severe. */
static GLogLevelFlags max_level = G_LOG_LEVEL_MESSAGE;
static gboolean to_journal;

static const struct {
  const char *name;
  GLogLevelFlags level;
} level_names[] = {
  { "error", G_LOG_LEVEL_CRITICAL },
  { "warning", G_LOG_LEVEL_WARNING },
  { "notice", G_LOG_LEVEL_MESSAGE },
  { "info", G_LOG_LEVEL_INFO },
  { "debug", G_LOG_LEVEL_DEBUG },
};

gboolean
rh_log_level_parse (const char *name, GLogLevelFlags *level)
{
  for (gsize i = 0; i < G_N_ELEMENTS (level_names); i++)
    if (g_ascii_strcasecmp (name, level_names[i].name) == 0)
      {
        *level = level_names[i].level;
        return TRUE;
      }
  return FALSE;
}

static const char *
level_label (GLogLevelFlags level)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    return "error";
  if (level & G_LOG_LEVEL_WARNING)
    return "warning";
  if (level & G_LOG_LEVEL_MESSAGE)
    return "notice";
  if (level & G_LOG_LEVEL_INFO)
    return "info";
  return "debug";
}

gboolean
rh_log_enabled (GLogLevelFlags level)
{
  return (level & G_LOG_LEVEL_MASK) <= max_level;
}

static GLogWriterFunc journal_writer = g_log_writer_journald;
static gpointer journal_data;

static GLogWriterOutput
write_log (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  if (!rh_log_enabled (level & G_LOG_LEVEL_MASK) && !(level & G_LOG_LEVEL_ERROR))
    return G_LOG_WRITER_HANDLED;

  const char *message = NULL;
  const char *domain = NULL;
  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
        message = fields[i].value;
      else if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0)
        domain = fields[i].value;
    }
  /* Only our own domain below notice; GLib's own debug chatter stays out. */
  if (domain != NULL && g_strcmp0 (domain, G_LOG_DOMAIN) != 0 && !(level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)))
    return G_LOG_WRITER_HANDLED;
  if (to_journal)
    return journal_writer (level, fields, n_fields, journal_data);

  /* UTC with a Z: lines from machines in other zones sort together. */
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S.%f");
  stamp[23] = '\0';  /* milliseconds are enough */
  fprintf (stderr, "%sZ rtmphooksd[%d] %s: %s\n", stamp, (int) getpid (), level_label (level),
           message != NULL ? message : "");
  fflush (stderr);
  return G_LOG_WRITER_HANDLED;
}

void
rh_log_init_full (GLogLevelFlags level, gboolean journal, GLogWriterFunc writer, gpointer data)
{
  max_level = level;
  to_journal = journal;
  journal_writer = writer != NULL ? writer : g_log_writer_journald;
  journal_data = data;
  g_log_set_writer_func (write_log, NULL, NULL);
}

void
rh_log_init (GLogLevelFlags level)
{
  rh_log_init_full (level, g_log_writer_is_journald (fileno (stderr)), NULL, NULL);
}

/* syslog priorities, as GLib's own g_log_structured() gives them. */
static const char *
level_priority (GLogLevelFlags level)
{
  if (level & G_LOG_LEVEL_ERROR)
    return "3";
  if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    return "4";
  if (level & G_LOG_LEVEL_MESSAGE)
    return "5";
  if (level & G_LOG_LEVEL_INFO)
    return "6";
  return "7";
}

void
rh_log (GLogLevelFlags level, const char *conn_id, const char *stream_key, const char *rule,
        const char *format, ...)
{
  if (!rh_log_enabled (level))
    return;
  va_list ap;
  va_start (ap, format);
  g_autofree char *message = g_strdup_vprintf (format, ap);
  va_end (ap);

  GLogField fields[6] = {
    { "MESSAGE", message, -1 },
    { "PRIORITY", level_priority (level), -1 },
    { "GLIB_DOMAIN", G_LOG_DOMAIN, -1 },
  };
  gsize n = 3;
  if (conn_id != NULL)
    fields[n++] = (GLogField) { "RTMP_CONN_ID", conn_id, -1 };
  if (stream_key != NULL)
    fields[n++] = (GLogField) { "RTMP_STREAM_KEY", stream_key, -1 };
  if (rule != NULL)
    fields[n++] = (GLogField) { "RTMP_RULE", rule, -1 };
  g_log_structured_array (level, fields, n);
}

/* Client-supplied text in a log line: control bytes, quotes, backslashes
 * and invalid UTF-8 escaped (a newline cannot forge a line), and cut after
 * RH_LOG_TEXT_MAX bytes (a 4 MB name costs one short line). */
char *
rh_log_quote (const char *text)
{
  if (text == NULL)
    return g_strdup ("");
  GString *out = g_string_new (NULL);
  const char *p = text;
  gsize len = strlen (text);
  const char *end = text + len;
  while (p < end && out->len < RH_LOG_TEXT_MAX)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append_printf (out, "\\x%02x", (guint8) *p);
          p++;
          continue;
        }
      if (c < 0x20 || c == 0x7f)
        g_string_append_printf (out, "\\x%02x", c);
      else if (c == '"' || c == '\\')
        g_string_append_printf (out, "\\%c", (char) c);
      else
        g_string_append_unichar (out, c);
      p = g_utf8_next_char (p);
    }
  if (p < end)
    g_string_append_printf (out, "...(%" G_GSIZE_FORMAT " bytes)", len);
  return g_string_free (out, FALSE);
}

char *
rh_log_mask_values (const char *text, const char *const *values)
{
  GString *masked = g_string_new (text != NULL ? text : "");
  for (const char *const *value = values; value != NULL && *value != NULL; value++)
    if (**value != '\0')
      g_string_replace (masked, *value, "***", 0);
  return g_string_free (masked, FALSE);
}

/* A URL or a stream name with its query in a log line: each query value
 * and a password in the user info become "***". Events keep the real
 * values, since hooks need them; logs are read by more people. */
char *
rh_log_mask_secrets (const char *text)
{
  if (text == NULL)
    return g_strdup ("");
  GString *masked = g_string_new (NULL);
  const char *query = strchr (text, '?');
  const char *scheme_end = strstr (text, "://");
  const char *path_start = text;
  if (scheme_end != NULL && (query == NULL || scheme_end < query))
    {
      const char *authority = scheme_end + 3;
      const char *authority_end = authority + strcspn (authority, "/?#");
      const char *at = g_strstr_len (authority, authority_end - authority, "@");
      g_string_append_len (masked, text, authority - text);
      if (at != NULL)
        {
          const char *colon = g_strstr_len (authority, at - authority, ":");
          g_string_append_len (masked, authority, (colon != NULL ? colon : at) - authority);
          g_string_append (masked, colon != NULL ? ":***" : "");
          authority = at;
        }
      path_start = authority;
    }
  g_string_append_len (masked, path_start, (query != NULL ? query : text + strlen (text)) - path_start);
  if (query != NULL)
    {
      g_auto (GStrv) pairs = g_strsplit (query + 1, "&", -1);
      g_string_append_c (masked, '?');
      for (char **pair = pairs; *pair != NULL; pair++)
        {
          const char *equals = strchr (*pair, '=');
          if (pair != pairs)
            g_string_append_c (masked, '&');
          if (equals != NULL)
            {
              g_string_append_len (masked, *pair, equals - *pair);
              g_string_append (masked, "=***");
            }
          else if (**pair != '\0')
            g_string_append (masked, "***");
        }
    }
  g_autofree char *joined = g_string_free (masked, FALSE);
  return rh_log_quote (joined);
}
