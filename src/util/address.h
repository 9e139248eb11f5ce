/* Listen addresses: ":1935", "host:port", "[v6]:port". */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  char *host;   /* an IP literal, or NULL for every address */
  guint16 port;
} RhListenAddress;

gboolean rh_listen_address_parse (const char *text, RhListenAddress *out, GError **error);
void rh_listen_address_clear (RhListenAddress *address);
/* The canonical text form, used to compare configurations on reload. */
char *rh_listen_address_to_string (const RhListenAddress *address);

G_END_DECLS
