#include "config.h"

#include "stdio-output.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n.h>

struct _RhStdioOutput {
  int fd;
  int original_flags;     /* -1 until we made the fd non-blocking */
  gsize max_buffered;
  GByteArray *buffer;     /* formatted, not yet written */
  guint watch_id;         /* armed while the fd is full */
  guint64 written;
  guint64 dropped;
  gint64 dropped_logged_at;
  gboolean broken;        /* the reader went away */
};

gboolean
rh_stdio_format_parse (const char *text, RhStdioFormat *format)
{
  static const char *const names[] = { "", "json", "jsonl", "env" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (strcmp (text, names[i]) == 0)
      {
        *format = (RhStdioFormat) i;
        return TRUE;
      }
  return FALSE;
}

RhStdioOutput *
rh_stdio_output_new (int fd, gsize max_buffered)
{
  RhStdioOutput *output = g_new0 (RhStdioOutput, 1);
  output->fd = fd;
  output->max_buffered = max_buffered;
  output->buffer = g_byte_array_new ();
  output->original_flags = -1;
  return output;
}

void
rh_stdio_output_free (RhStdioOutput *output)
{
  if (output == NULL)
    return;
  g_clear_handle_id (&output->watch_id, g_source_remove);
  /* The fd may be a terminal shared with a shell: give it back as it was. */
  if (output->original_flags != -1)
    fcntl (output->fd, F_SETFL, output->original_flags);
  g_byte_array_unref (output->buffer);
  g_free (output);
}

/* A value a shell can source: in double quotes, with \ " $ ` escaped, so
 * that nothing in it expands. One line per variable: control characters
 * (a newline in a client's query) are written as \n, \r, \t or \xHH,
 * which the shell leaves as they are. */
static void
append_shell_quoted (GString *text, const char *value)
{
  g_string_append_c (text, '"');
  for (const guchar *p = (const guchar *) value; *p != '\0'; p++)
    {
      switch (*p)
        {
        case '"': case '\\': case '$': case '`':
          g_string_append_c (text, '\\');
          g_string_append_c (text, (char) *p);
          break;
        case '\n':
          g_string_append (text, "\\n");
          break;
        case '\r':
          g_string_append (text, "\\r");
          break;
        case '\t':
          g_string_append (text, "\\t");
          break;
        default:
          if (*p < 0x20 || *p == 0x7f)
            g_string_append_printf (text, "\\x%02x", *p);
          else
            g_string_append_c (text, (char) *p);
        }
    }
  g_string_append_c (text, '"');
}

char *
rh_stdio_format_event (RhStdioFormat format, const RhEvent *event)
{
  switch (format)
    {
    case RH_STDIO_JSON:
    case RH_STDIO_JSONL:
      {
        g_autofree char *json = rh_event_to_json (event);
        return g_strdup_printf ("%s%s\n", format == RH_STDIO_JSON ? "RTMP_EVENT: " : "", json);
      }
    case RH_STDIO_ENV:
      {
        GString *text = g_string_new (NULL);
        g_auto (GStrv) env = rh_event_to_environment (event);
        g_string_append_printf (text, "# RTMP Event: %s\n", rh_event_type_to_string (event->type));
        for (char **e = env; *e != NULL; e++)
          {
            const char *equals = strchr (*e, '=');
            g_string_append_len (text, *e, equals - *e + 1);
            append_shell_quoted (text, equals + 1);
            g_string_append_c (text, '\n');
          }
        g_string_append_c (text, '\n');
        return g_string_free (text, FALSE);
      }
    case RH_STDIO_OFF:
      break;
    }
  return NULL;
}

static gboolean on_writable (gint fd, GIOCondition condition, gpointer user_data);

/* Writes what it can without blocking. */
static void
flush (RhStdioOutput *output)
{
  while (output->buffer->len > 0 && !output->broken)
    {
      gssize n = write (output->fd, output->buffer->data, output->buffer->len);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno == EAGAIN)
            break;
          g_warning (_("stdio: writing events failed: %s; stdio output stops"), g_strerror (errno));
          output->broken = TRUE;
          g_byte_array_set_size (output->buffer, 0);
          break;
        }
      g_byte_array_remove_range (output->buffer, 0, (guint) n);
    }
  if (output->buffer->len > 0 && !output->broken && output->watch_id == 0)
    output->watch_id = g_unix_fd_add (output->fd, G_IO_OUT | G_IO_ERR | G_IO_HUP, on_writable, output);
}

static gboolean
on_writable (gint fd, GIOCondition condition, gpointer user_data)
{
  RhStdioOutput *output = user_data;
  output->watch_id = 0;
  flush (output);
  return G_SOURCE_REMOVE;
}

void
rh_stdio_output_write (RhStdioOutput *output, RhStdioFormat format, const RhEvent *event)
{
  g_autofree char *text = rh_stdio_format_event (format, event);
  gsize len = text != NULL ? strlen (text) : 0;

  if (len == 0 || output->broken)
    return;
  if (output->original_flags == -1)
    {
      /* Only once there is output: a slow reader must never block us. */
      output->original_flags = fcntl (output->fd, F_GETFL);
      g_unix_set_fd_nonblocking (output->fd, TRUE, NULL);
    }
  if (output->buffer->len + len > output->max_buffered)
    {
      gint64 now = g_get_monotonic_time ();
      output->dropped++;
      if (now - output->dropped_logged_at >= G_USEC_PER_SEC)
        {
          g_warning (_("stdio: reader too slow, %llu event(s) dropped so far"),
                     (unsigned long long) output->dropped);
          output->dropped_logged_at = now;
        }
      return;
    }
  g_byte_array_append (output->buffer, (const guint8 *) text, (guint) len);
  output->written++;
  flush (output);
}

guint64
rh_stdio_output_get_written (const RhStdioOutput *output)
{
  return output->written;
}

guint64
rh_stdio_output_get_dropped (const RhStdioOutput *output)
{
  return output->dropped;
}

void
rh_stdio_output_drain (RhStdioOutput *output, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  while (output->buffer->len > 0 && !output->broken && g_get_monotonic_time () < deadline)
    {
      struct pollfd pfd = { output->fd, POLLOUT, 0 };
      poll (&pfd, 1, 50);
      flush (output);
    }
}
