#include "config.h"

#include "webhook-action.h"

#include "webhook-signature.h"

#include <libsoup/soup.h>
#include <glib/gi18n.h>
#include "util/log.h"

struct _RhWebhookClient {
  SoupSession *session;
};

typedef struct {
  RhWebhookClient *client;
  char *rule_name;
  char *url;
  char *safe_url;        /* for logs: no query, no user info */
  GStrv headers;
  GBytes *signing_key;   /* NULL: unsigned */
  GBytes *body;
  char *event_id;
  char *event_type;
  guint retries;
  double timeout;
  guint attempts;
  guint last_status;
  GBytes *last_body;
  gint64 started_at;
  SoupMessage *message;  /* the attempt under way */
  GInputStream *answer;  /* its body, as it arrives */
  GByteArray *received;
  GCancellable *cancellable;
  guint timer_id;        /* attempt timeout or retry delay */
  RhWebhookDoneFunc done;
  gpointer user_data;
} Post;

RhWebhookClient *
rh_webhook_client_new (void)
{
  RhWebhookClient *client = g_new0 (RhWebhookClient, 1);
  client->session = soup_session_new_with_options ("user-agent", "rtmphooks/" PACKAGE_VERSION,
                                                   "max-conns-per-host", 16, NULL);
  return client;
}

void
rh_webhook_client_free (RhWebhookClient *client)
{
  if (client == NULL)
    return;
  soup_session_abort (client->session);
  g_object_unref (client->session);
  g_free (client);
}

static void
end_attempt (Post *post)
{
  g_clear_handle_id (&post->timer_id, g_source_remove);
  g_clear_object (&post->cancellable);
  g_clear_object (&post->message);
  g_clear_object (&post->answer);
  g_clear_pointer (&post->received, g_byte_array_unref);
}

static void
post_free (Post *post)
{
  end_attempt (post);
  g_free (post->rule_name);
  g_free (post->url);
  g_free (post->safe_url);
  g_strfreev (post->headers);
  g_clear_pointer (&post->signing_key, g_bytes_unref);
  g_bytes_unref (post->body);
  g_clear_pointer (&post->last_body, g_bytes_unref);
  g_free (post->event_id);
  g_free (post->event_type);
  g_free (post);
}

static void
finish (Post *post, gboolean delivered)
{
  RhWebhookResult result = {
    delivered, post->last_status, post->attempts,
    (double) (g_get_monotonic_time () - post->started_at) / G_USEC_PER_SEC, post->last_body
  };
  post->done (&result, post->user_data);
  post_free (post);
}

static void attempt (Post *post);

static gboolean
on_retry (gpointer user_data)
{
  Post *post = user_data;
  post->timer_id = 0;
  attempt (post);
  return G_SOURCE_REMOVE;
}

static void
retry_or_fail (Post *post, const char *why)
{
  if (post->attempts > post->retries)
    {
      rh_log (G_LOG_LEVEL_WARNING, NULL, NULL, post->rule_name,
              _("webhook \"%s\" to %s failed after %u attempt(s): %s"), post->rule_name,
              post->safe_url, post->attempts, why);
      finish (post, FALSE);
      return;
    }
  double delay = RH_WEBHOOK_BACKOFF_SECONDS * (double) (1u << (post->attempts - 1))
                 * (1.0 + g_random_double_range (0.0, 0.5));
  rh_log (G_LOG_LEVEL_INFO, NULL, NULL, post->rule_name, _("webhook \"%s\" to %s: %s; retry %u in %.2fs"),
          post->rule_name, post->safe_url, why, post->attempts, delay);
  post->timer_id = g_timeout_add ((guint) (delay * 1000), on_retry, post);
}

static gboolean
on_attempt_timeout (gpointer user_data)
{
  Post *post = user_data;
  post->timer_id = 0;
  g_cancellable_cancel (post->cancellable);
  return G_SOURCE_REMOVE;
}

/* The whole answer is in (or the attempt failed: why says how). */
static void
on_answer (Post *post, const char *why)
{
  gboolean timed_out = post->cancellable != NULL && g_cancellable_is_cancelled (post->cancellable);
  guint status = post->message != NULL ? soup_message_get_status (post->message) : 0;
  g_autoptr (GBytes) reply = why == NULL ? g_byte_array_free_to_bytes (g_steal_pointer (&post->received)) : NULL;
  g_autofree char *reason = g_strdup (timed_out ? _("timed out") : why);
  end_attempt (post);
  if (reply == NULL)
    {
      post->last_status = 0;
      retry_or_fail (post, reason);
      return;
    }
  post->last_status = status;
  g_clear_pointer (&post->last_body, g_bytes_unref);
  post->last_body = g_bytes_ref (reply);
  if (SOUP_STATUS_IS_SUCCESSFUL (post->last_status))
    {
      rh_log (G_LOG_LEVEL_INFO, NULL, NULL, post->rule_name, _("webhook \"%s\" to %s: %u after %u attempt(s)"),
              post->rule_name, post->safe_url, post->last_status, post->attempts);
      finish (post, TRUE);
      return;
    }
  g_autofree char *status_text = SOUP_STATUS_IS_REDIRECTION (post->last_status)
                                   ? g_strdup_printf (_("HTTP %u (redirects are not followed)"), post->last_status)
                                   : g_strdup_printf ("HTTP %u", post->last_status);
  if (SOUP_STATUS_IS_SERVER_ERROR (post->last_status))
    {
      retry_or_fail (post, status_text);
      return;
    }
  /* 4xx, 3xx (and anything else): the receiver said no, or sent us
   * elsewhere; asking again will not help. */
  rh_log (G_LOG_LEVEL_WARNING, NULL, NULL, post->rule_name, _("webhook \"%s\" to %s refused: %s, not retried"),
          post->rule_name, post->safe_url, status_text);
  finish (post, FALSE);
}

static void read_more (Post *post);

static void
on_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Post *post = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  if (bytes == NULL)
    {
      on_answer (post, error->message);
      return;
    }
  gsize len = g_bytes_get_size (bytes);
  if (len == 0)
    {
      on_answer (post, NULL);
      return;
    }
  if (post->received->len + len > RH_WEBHOOK_MAX_ANSWER)
    {
      on_answer (post, _("the answer is larger than 64 KiB"));
      return;
    }
  g_byte_array_append (post->received, g_bytes_get_data (bytes, NULL), (guint) len);
  read_more (post);
}

static void
read_more (Post *post)
{
  g_input_stream_read_bytes_async (post->answer, 16384, G_PRIORITY_DEFAULT, post->cancellable, on_read, post);
}

static void
on_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Post *post = user_data;
  g_autoptr (GError) error = NULL;
  post->answer = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (post->answer == NULL)
    {
      on_answer (post, error->message);
      return;
    }
  post->received = g_byte_array_new ();
  read_more (post);
}

static void
attempt (Post *post)
{
  SoupMessage *message = soup_message_new (SOUP_METHOD_POST, post->url);
  post->attempts++;
  if (message == NULL)
    {
      rh_log (G_LOG_LEVEL_WARNING, NULL, NULL, post->rule_name, _("webhook \"%s\": invalid URL %s"),
              post->rule_name, post->safe_url);
      finish (post, FALSE);
      return;
    }
  SoupMessageHeaders *headers = soup_message_get_request_headers (message);
  for (char **h = post->headers; h != NULL && h[0] != NULL && h[1] != NULL; h += 2)
    soup_message_headers_replace (headers, h[0], h[1]);
  soup_message_headers_replace (headers, "webhook-id", post->event_id);
  soup_message_headers_replace (headers, "Idempotency-Key", post->event_id);
  soup_message_headers_replace (headers, "X-RTMPHooks-Event", post->event_type);
  if (post->signing_key != NULL)
    {
      /* Each attempt is signed at its own time: receivers refuse old
       * timestamps, and a retry may come minutes later. */
      gint64 now = g_get_real_time () / G_USEC_PER_SEC;
      g_autofree char *timestamp = g_strdup_printf ("%" G_GINT64_FORMAT, now);
      g_autofree char *signature = rh_webhook_sign (post->signing_key, post->event_id, now, post->body);
      soup_message_headers_replace (headers, "webhook-timestamp", timestamp);
      soup_message_headers_replace (headers, "webhook-signature", signature);
    }
  soup_message_set_request_body_from_bytes (message, "application/json", post->body);
  /* A redirect would carry the signature headers to a place the operator
   * never named, past the checks made on the configured URL. Idempotent:
   * libsoup sends a POST only on a new connection unless told it may be
   * repeated, and a webhook may (it carries webhook-id for receivers to
   * drop repeats; retries repeat it anyway): kept-alive connections
   * instead of one per webhook. */
  soup_message_add_flags (message, SOUP_MESSAGE_NO_REDIRECT | SOUP_MESSAGE_IDEMPOTENT);

  post->message = message;
  post->cancellable = g_cancellable_new ();
  /* The timeout covers the whole exchange: connect, headers and body. */
  post->timer_id = g_timeout_add ((guint) (post->timeout * 1000), on_attempt_timeout, post);
  soup_session_send_async (post->client->session, message, G_PRIORITY_DEFAULT, post->cancellable, on_sent, post);
}

static char *
safe_url (const char *url)
{
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL)
    return g_strdup ("(invalid URL)");
  return g_uri_to_string_partial (uri, G_URI_HIDE_USERINFO | G_URI_HIDE_QUERY | G_URI_HIDE_FRAGMENT);
}

void
rh_webhook_post (RhWebhookClient *client, const char *rule_name, const char *url,
                 const char *const *headers, GBytes *signing_key, GBytes *body,
                 const char *event_id, const char *event_type, guint retries,
                 double timeout_seconds, RhWebhookDoneFunc done, gpointer user_data)
{
  Post *post = g_new0 (Post, 1);
  post->client = client;
  post->rule_name = g_strdup (rule_name);
  post->url = g_strdup (url);
  post->safe_url = safe_url (url);
  post->headers = g_strdupv ((char **) headers);
  post->signing_key = signing_key != NULL ? g_bytes_ref (signing_key) : NULL;
  post->body = g_bytes_ref (body);
  post->event_id = g_strdup (event_id);
  post->event_type = g_strdup (event_type);
  post->retries = retries;
  post->timeout = timeout_seconds;
  post->started_at = g_get_monotonic_time ();
  post->done = done;
  post->user_data = user_data;
  attempt (post);
}
