#include "config.h"

#include <glib/gi18n.h>

#include "address.h"

#include <stdlib.h>
#include <string.h>

gboolean
rh_listen_address_parse (const char *text, RhListenAddress *out, GError **error)
{
  g_autofree char *host = NULL;
  const char *port_text;

  if (text[0] == '[')
    {
      const char *end = strchr (text, ']');
      if (end == NULL || end[1] != ':')
        goto bad;
      host = g_strndup (text + 1, (gsize) (end - text - 1));
      port_text = end + 2;
      if (!g_hostname_is_ip_address (host) || strchr (host, ':') == NULL)
        goto bad;
    }
  else
    {
      const char *colon = strrchr (text, ':');
      if (colon == NULL)
        goto bad;
      if (colon > text)
        {
          host = g_strndup (text, (gsize) (colon - text));
          if (strchr (host, ':') != NULL)
            goto bad;  /* bare IPv6 needs brackets */
          if (strcmp (host, "localhost") == 0)
            {
              g_free (host);
              host = g_strdup ("127.0.0.1");
            }
          if (!g_hostname_is_ip_address (host))
            goto bad;
        }
      port_text = colon + 1;
    }

  char *end;
  guint64 port = g_ascii_strtoull (port_text, &end, 10);
  if (*port_text == '\0' || *end != '\0' || port == 0 || port > 65535)
    goto bad;

  out->host = g_steal_pointer (&host);
  out->port = (guint16) port;
  return TRUE;

bad:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               _("invalid listen address \"%s\" (expected \":PORT\", \"IP:PORT\" or \"[IPv6]:PORT\")"),
               text);
  return FALSE;
}

void
rh_listen_address_clear (RhListenAddress *address)
{
  g_clear_pointer (&address->host, g_free);
}

char *
rh_listen_address_to_string (const RhListenAddress *address)
{
  if (address->host == NULL)
    return g_strdup_printf (":%u", address->port);
  if (strchr (address->host, ':') != NULL)
    return g_strdup_printf ("[%s]:%u", address->host, address->port);
  return g_strdup_printf ("%s:%u", address->host, address->port);
}
