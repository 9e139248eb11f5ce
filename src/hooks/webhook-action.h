/* Posts an event's JSON to a URL with libsoup, asynchronously. Retries
 * connection errors, timeouts and 5xx answers (never 4xx) with exponential
 * backoff and jitter. Each attempt's timeout covers the whole exchange,
 * the answer's body included, which is read up to RH_WEBHOOK_MAX_ANSWER.
 * Redirects are not followed: a 3xx is a refusal. Sends webhook-id and Idempotency-Key (the event id,
 * the same on every attempt) and, with a key, a Standard Webhooks
 * signature made afresh for each attempt's webhook-timestamp. Logs the URL
 * without its query or user info; never logs secrets. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  gboolean delivered;
  guint status;        /* last HTTP status, 0 if none */
  guint attempts;
  double seconds;
  GBytes *body;        /* the last answer's body; NULL if none */
} RhWebhookResult;

typedef void (*RhWebhookDoneFunc) (const RhWebhookResult *result, gpointer user_data);

/* The most of an answer's body that is read; a larger answer fails the
 * attempt (a receiver streaming without end must not take our memory). */
#define RH_WEBHOOK_MAX_ANSWER (64 * 1024)

/* First retry after this many seconds, doubling each time, plus up to 50%. */
#define RH_WEBHOOK_BACKOFF_SECONDS 0.25

typedef struct _RhWebhookClient RhWebhookClient;

RhWebhookClient *rh_webhook_client_new (void);
void rh_webhook_client_free (RhWebhookClient *client);

/* headers: "Name", "value", ... NULL-terminated pairs; signing_key: the
 * decoded secret (rh_webhook_secret_decode), NULL for no signature. */
void rh_webhook_post (RhWebhookClient *client, const char *rule_name, const char *url,
                      const char *const *headers, GBytes *signing_key, GBytes *body,
                      const char *event_id, const char *event_type, guint retries,
                      double timeout_seconds, RhWebhookDoneFunc done, gpointer user_data);

G_END_DECLS
