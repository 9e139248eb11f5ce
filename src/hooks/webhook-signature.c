#include "config.h"

#include "webhook-signature.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>

static gboolean
is_base64 (const char *text)
{
  gsize len = strlen (text);
  if (len == 0 || len % 4 != 0)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      char c = text[i];
      gboolean padding = c == '=' && i >= len - 2 && (i == len - 1 || text[len - 1] == '=');
      if (!g_ascii_isalnum (c) && c != '+' && c != '/' && !padding)
        return FALSE;
    }
  return TRUE;
}

GBytes *
rh_webhook_secret_decode (const char *secret, GError **error)
{
  const char *text = g_str_has_prefix (secret, RH_WEBHOOK_SECRET_PREFIX)
                     ? secret + strlen (RH_WEBHOOK_SECRET_PREFIX) : secret;
  gsize len = 0;
  guchar *key = is_base64 (text) ? g_base64_decode (text, &len) : NULL;
  if (key == NULL || len == 0)
    {
      g_free (key);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("a webhook secret must be \"whsec_\" followed by base64 (a Standard Webhooks secret)"));
      return NULL;
    }
  return g_bytes_new_take (key, len);
}

char *
rh_webhook_sign (GBytes *key, const char *id, gint64 timestamp, GBytes *body)
{
  gsize key_len, body_len;
  const guint8 *key_data = g_bytes_get_data (key, &key_len);
  const guint8 *body_data = g_bytes_get_data (body, &body_len);
  g_autofree char *prefix = g_strdup_printf ("%s.%" G_GINT64_FORMAT ".", id, timestamp);

  GHmac *hmac = g_hmac_new (G_CHECKSUM_SHA256, key_data, key_len);
  g_hmac_update (hmac, (const guchar *) prefix, (gssize) strlen (prefix));
  g_hmac_update (hmac, body_data, (gssize) body_len);
  guint8 digest[32];
  gsize digest_len = sizeof digest;
  g_hmac_get_digest (hmac, digest, &digest_len);
  g_hmac_unref (hmac);
  g_autofree char *encoded = g_base64_encode (digest, digest_len);
  return g_strconcat ("v1,", encoded, NULL);
}
