/* The TLS parts of rtmphooks.conf: server.tls (the certificate of the
 * TLS listeners) and server.relay_tls (how relays check the
 * certificates of rtmps:// targets). Files are read when the
 * configuration loads, so that -t and a reload refuse a certificate,
 * key or CA file that cannot be used, at its FILE:LINE, and a running
 * daemon keeps the one it has. */
#pragma once

#include <gio/gio.h>
#include <libconfig.h>

G_BEGIN_DECLS

/* server.tls = { certificate = "..."; key = "..."; } */
typedef struct {
  char *certificate;               /* PEM path: the certificate, then its chain */
  char *key;                       /* PEM path of the private key */
  GTlsCertificate *loaded;         /* NULL without a tls group */
  gint64 not_after;                /* Unix time the certificate expires */
} RhTlsConfig;

/* server.relay_tls = { ca_file = "..."; verify = true; } */
typedef struct {
  char *ca_file;                   /* PEM CA certificates; NULL: the system's */
  GTlsDatabase *database;          /* from ca_file; NULL: the system's */
  gboolean verify;                 /* FALSE: any certificate, with a warning at each connect */
} RhRelayTlsConfig;

void rh_tls_config_load (const config_setting_t *group, RhTlsConfig *tls, GPtrArray *errors, GPtrArray *warnings);
void rh_tls_config_clear (RhTlsConfig *tls);

void rh_relay_tls_config_init (RhRelayTlsConfig *relay_tls);
void rh_relay_tls_config_load (const config_setting_t *group, RhRelayTlsConfig *relay_tls, GPtrArray *errors);
void rh_relay_tls_config_clear (RhRelayTlsConfig *relay_tls);

/* A CA file as a certificate database, FALSE with error if unusable. */
GTlsDatabase *rh_tls_load_ca_file (const char *path, GError **error);

G_END_DECLS
