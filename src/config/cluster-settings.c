#include "config.h"

#include "cluster-settings.h"

#include <glib/gi18n.h>
#include <string.h>

#include "config/reader.h"
#include "protocol/rtmp-url.h"

void
rh_cluster_config_init (RhClusterConfig *cluster)
{
  memset (cluster, 0, sizeof *cluster);
  cluster->redis_timeout = 1;
  cluster->lease = 5;
  cluster->heartbeat = 1;
  cluster->pull_idle = 10;
  cluster->max_hops = 8;
  cluster->when_backend_down = RH_BACKEND_DOWN_REFUSE;
  cluster->events_shards = 16;
  cluster->events_max_len = 1000000;
  cluster->events_spool = 100000;
  cluster->events_local_hooks = TRUE;
}

void
rh_cluster_config_clear (RhClusterConfig *cluster)
{
  g_free (cluster->node_id);
  g_free (cluster->redis_socket);
  g_free (cluster->redis_host);
  g_free (cluster->redis_user);
  if (cluster->redis_password != NULL)
    memset (cluster->redis_password, 0, strlen (cluster->redis_password));
  g_free (cluster->redis_password);
  g_free (cluster->redis_password_variable);
  g_free (cluster->advertise);
  memset (cluster, 0, sizeof *cluster);
}

gboolean
rh_cluster_node_id_is_valid (const char *id)
{
  gsize len = id != NULL ? strlen (id) : 0;
  return len > 0 && len <= RH_CLUSTER_NODE_ID_MAX && strspn (id, RH_CLUSTER_NODE_ID_CHARACTERS) == len;
}

/* "/run/redis/redis.sock", "127.0.0.1:6379", "redis.example:6379" or
 * "[::1]:6379". */
static void
load_redis_address (const config_setting_t *setting, RhClusterConfig *cluster, GPtrArray *errors)
{
  const char *text = rh_config_get_string (setting);
  if (text == NULL || text[0] == '\0')
    {
      rh_config_error (errors, setting, _("cluster.redis must be a unix socket path or HOST:PORT"));
      return;
    }
  if (text[0] == '/')
    {
      cluster->redis_socket = g_strdup (text);
      return;
    }
  const char *colon = strrchr (text, ':');
  char *end = NULL;
  guint64 port = colon != NULL ? g_ascii_strtoull (colon + 1, &end, 10) : 0;
  if (colon == NULL || colon == text || end == colon + 1 || *end != '\0' || port == 0 || port > 65535)
    {
      rh_config_error (errors, setting, _("cluster.redis \"%s\" is not a unix socket path or HOST:PORT"), text);
      return;
    }
  g_autofree char *host = g_strndup (text, (gsize) (colon - text));
  if (host[0] == '[' && host[strlen (host) - 1] == ']')
    {
      char *inner = g_strndup (host + 1, strlen (host) - 2);
      g_free (host);
      host = inner;
    }
  cluster->redis_host = g_steal_pointer (&host);
  cluster->redis_port = (gint) port;
}

/* A password is never written in the file in clear when it can be
 * helped: "${env.NAME}" reads the environment, password_file a file
 * (its first line). */
static void
load_password (const config_setting_t *setting, RhClusterConfig *cluster, GPtrArray *errors)
{
  const char *text = rh_config_get_string (setting);
  if (text == NULL || text[0] == '\0')
    {
      rh_config_error (errors, setting, _("cluster.password must be a non-empty string"));
      return;
    }
  if (g_str_has_prefix (text, "${env.") && g_str_has_suffix (text, "}"))
    {
      g_autofree char *name = g_strndup (text + 6, strlen (text) - 7);
      const char *value = g_getenv (name);
      if (value == NULL || value[0] == '\0')
        {
          rh_config_error (errors, setting, _("cluster.password: the environment variable %s is not set"), name);
          return;
        }
      cluster->redis_password = g_strdup (value);
      cluster->redis_password_variable = g_steal_pointer (&name);
      return;
    }
  cluster->redis_password = g_strdup (text);
}

static void
load_password_file (const config_setting_t *setting, RhClusterConfig *cluster, GPtrArray *errors)
{
  const char *path = rh_config_get_string (setting);
  if (path == NULL || path[0] != '/')
    {
      rh_config_error (errors, setting, _("cluster.password_file must be an absolute path"));
      return;
    }
  g_autofree char *contents = NULL;
  g_autoptr (GError) error = NULL;
  if (!g_file_get_contents (path, &contents, NULL, &error))
    {
      rh_config_error (errors, setting, _("cluster.password_file: %s"), error->message);
      return;
    }
  contents[strcspn (contents, "\r\n")] = '\0';
  if (contents[0] == '\0')
    {
      rh_config_error (errors, setting, _("cluster.password_file %s holds no password on its first line"), path);
      return;
    }
  cluster->redis_password = g_steal_pointer (&contents);
}

static void
load_advertise (const config_setting_t *setting, RhClusterConfig *cluster, GPtrArray *errors)
{
  const char *text = rh_config_get_string (setting);
  g_autoptr (GError) error = NULL;
  RhRtmpUrl url = { 0 };
  g_autofree char *with_path = text != NULL ? g_strdup_printf ("%s/app/name", text) : NULL;
  if (text == NULL || strchr (text, ' ') != NULL || g_str_has_suffix (text, "/")
      || strchr (strstr (text, "://") != NULL ? strstr (text, "://") + 3 : text, '/') != NULL
      || !rh_rtmp_url_parse (with_path, &url, &error))
    {
      rh_config_error (errors, setting, _("cluster.advertise must be rtmp://HOST:PORT or rtmps://HOST:PORT "
                                          "(what other nodes connect to)"));
      rh_rtmp_url_clear (&url);
      return;
    }
  rh_rtmp_url_clear (&url);
  cluster->advertise = g_strdup (text);
}

static gboolean
read_seconds (const config_setting_t *setting, double min, double max, double *out, GPtrArray *errors)
{
  double value;
  if (!rh_config_get_seconds (setting, &value))
    {
      rh_config_error (errors, setting, _("cluster.%s must be a number of seconds or a duration such as \"500ms\""),
                       config_setting_name (setting));
      return FALSE;
    }
  if (value < min || value > max)
    {
      rh_config_error (errors, setting, _("cluster.%s = %g is out of range [%g, %g]"), config_setting_name (setting),
                       value, min, max);
      return FALSE;
    }
  *out = value;
  return TRUE;
}

/* cluster.events = { shards; max_len; spool; local_hooks; } */
static void
load_events (const config_setting_t *group, RhClusterConfig *cluster, GPtrArray *errors)
{
  if (!config_setting_is_group (group))
    {
      rh_config_error (errors, group, _("%s must be a group: %s = { ... };"), "cluster.events", "events");
      return;
    }
  cluster->events = TRUE;
  for (int i = 0; i < config_setting_length (group); i++)
    {
      const config_setting_t *setting = config_setting_get_elem (group, (unsigned) i);
      const char *name = config_setting_name (setting);
      if (strcmp (name, "shards") == 0)
        rh_config_read_int (setting, 1, 1024, &cluster->events_shards, errors);
      else if (strcmp (name, "max_len") == 0)
        rh_config_read_int (setting, 1000, G_MAXINT, &cluster->events_max_len, errors);
      else if (strcmp (name, "spool") == 0)
        rh_config_read_int (setting, 0, 10000000, &cluster->events_spool, errors);
      else if (strcmp (name, "local_hooks") == 0)
        {
          if (config_setting_type (setting) != CONFIG_TYPE_BOOL)
            rh_config_error (errors, setting, _("%s must be true or false"), "cluster.events.local_hooks");
          else
            cluster->events_local_hooks = config_setting_get_bool (setting) ? TRUE : FALSE;
        }
      else
        rh_config_error (errors, setting, _("unknown setting cluster.events.%s (shards, max_len, spool, "
                                            "local_hooks)"), name);
    }
}

void
rh_cluster_config_load (const config_setting_t *group, RhClusterConfig *cluster, gboolean serves_rtmp,
                        GPtrArray *errors)
{
  if (!config_setting_is_group (group))
    {
      rh_config_error (errors, group, _("%s must be a group: %s = { ... };"), "cluster", "cluster");
      return;
    }
  cluster->enabled = TRUE;
  const config_setting_t *lease_setting = NULL;
  for (int i = 0; i < config_setting_length (group); i++)
    {
      const config_setting_t *setting = config_setting_get_elem (group, (unsigned) i);
      const char *name = config_setting_name (setting);
      if (strcmp (name, "node_id") == 0)
        {
          const char *id = rh_config_get_string (setting);
          if (!rh_cluster_node_id_is_valid (id))
            rh_config_error (errors, setting, _("cluster.node_id must be 1 to %d letters, digits, '.', '_' or '-'"),
                             RH_CLUSTER_NODE_ID_MAX);
          else
            cluster->node_id = g_strdup (id);
        }
      else if (strcmp (name, "redis") == 0)
        load_redis_address (setting, cluster, errors);
      else if (strcmp (name, "user") == 0)
        {
          const char *user = rh_config_get_string (setting);
          if (user == NULL || user[0] == '\0' || strpbrk (user, " \t\r\n") != NULL)
            rh_config_error (errors, setting, _("cluster.user must be a name without spaces"));
          else
            cluster->redis_user = g_strdup (user);
        }
      else if (strcmp (name, "password") == 0)
        load_password (setting, cluster, errors);
      else if (strcmp (name, "password_file") == 0)
        load_password_file (setting, cluster, errors);
      else if (strcmp (name, "advertise") == 0)
        load_advertise (setting, cluster, errors);
      else if (strcmp (name, "redis_timeout") == 0)
        read_seconds (setting, 0.01, 60, &cluster->redis_timeout, errors);
      else if (strcmp (name, "lease") == 0)
        {
          lease_setting = setting;
          read_seconds (setting, 0.5, 3600, &cluster->lease, errors);
        }
      else if (strcmp (name, "heartbeat") == 0)
        read_seconds (setting, 0.05, 600, &cluster->heartbeat, errors);
      else if (strcmp (name, "pull_idle") == 0)
        read_seconds (setting, 0, 86400, &cluster->pull_idle, errors);
      else if (strcmp (name, "max_hops") == 0)
        rh_config_read_int (setting, 1, 64, &cluster->max_hops, errors);
      else if (strcmp (name, "on_conflict") == 0)
        {
          if (g_strcmp0 (rh_config_get_string (setting), "refuse") != 0)
            rh_config_error (errors, setting, _("cluster.on_conflict must be \"refuse\": a publish of a stream "
                                                "another live node owns is refused"));
        }
      else if (strcmp (name, "events") == 0)
        load_events (setting, cluster, errors);
      else if (strcmp (name, "when_backend_down") == 0)
        {
          const char *text = rh_config_get_string (setting);
          if (g_strcmp0 (text, "refuse") == 0)
            cluster->when_backend_down = RH_BACKEND_DOWN_REFUSE;
          else if (g_strcmp0 (text, "local") == 0)
            cluster->when_backend_down = RH_BACKEND_DOWN_LOCAL;
          else
            rh_config_error (errors, setting, _("cluster.when_backend_down must be one of \"refuse\", \"local\""));
        }
      else
        rh_config_error (errors, setting, _("unknown setting cluster.%s (node_id, redis, user, password, "
                                            "password_file, advertise, redis_timeout, lease, heartbeat, "
                                            "pull_idle, max_hops, on_conflict, when_backend_down, events)"), name);
    }
  if (cluster->redis_socket == NULL && cluster->redis_host == NULL)
    rh_config_error (errors, group, _("cluster.redis is required: the unix socket path or HOST:PORT of Redis"));
  if (cluster->advertise == NULL && serves_rtmp)
    rh_config_error (errors, group, _("cluster.advertise is required: the rtmp://HOST:PORT other nodes "
                                      "reach this one at"));
  if (cluster->heartbeat * 2 > cluster->lease)
    rh_config_error (errors, lease_setting != NULL ? lease_setting : group,
                     _("cluster.lease (%gs) must be at least twice cluster.heartbeat (%gs), or one late "
                       "renewal loses the stream"), cluster->lease, cluster->heartbeat);
  if (cluster->node_id == NULL)
    {
      const char *host = g_get_host_name ();
      if (rh_cluster_node_id_is_valid (host))
        cluster->node_id = g_strdup (host);
      else
        rh_config_error (errors, group, _("cluster.node_id is required: the host name \"%s\" cannot serve as one"),
                         host);
    }
}
