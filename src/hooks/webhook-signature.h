/* Standard Webhooks signatures (standardwebhooks.com), what receivers
 * verify with the standard libraries: the headers webhook-id,
 * webhook-timestamp and webhook-signature: "v1,<base64>", the base64 of
 * HMAC-SHA256 over "<id>.<timestamp>.<body>". The key is the secret's
 * base64 text after an optional "whsec_" prefix. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RH_WEBHOOK_SECRET_PREFIX "whsec_"

/* The key bytes of secret; NULL with error (G_IO_ERROR_INVALID_DATA) when
 * it is not base64 or decodes to nothing. */
GBytes *rh_webhook_secret_decode (const char *secret, GError **error);

/* "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>" */
char *rh_webhook_sign (GBytes *key, const char *id, gint64 timestamp, GBytes *body);

G_END_DECLS
