#include "config.h"

#include "relay-loop.h"

#include <glib/gi18n.h>

#define INSTANCE_PROPERTY "rtmphooksInstance"
#define HOPS_PROPERTY "rtmphooksHops"
#define NODE_PROPERTY "rtmphooksNode"

/* Sessions and relays live on the main thread: no lock. */
static char *node_id;
static guint max_hops = RH_RELAY_MAX_HOPS;

void
rh_relay_loop_configure (const char *id, guint hops)
{
  g_free (node_id);
  node_id = g_strdup (id);
  max_hops = hops;
}

const char *
rh_relay_loop_instance (void)
{
  /* Sessions and relays live on the main thread: no lock. */
  static char token[33];
  if (token[0] == '\0')
    for (int i = 0; i < 4; i++)
      g_snprintf (token + 8 * i, 9, "%08x", g_random_int ());
  return token;
}

void
rh_relay_loop_mark_connect (RhAmf0Value *connect_object, guint hops)
{
  rh_amf0_object_set (connect_object, INSTANCE_PROPERTY, rh_amf0_string_new (rh_relay_loop_instance ()));
  rh_amf0_object_set (connect_object, HOPS_PROPERTY, rh_amf0_number_new (hops));
  if (node_id != NULL)
    rh_amf0_object_set (connect_object, NODE_PROPERTY, rh_amf0_string_new (node_id));
}

gboolean
rh_relay_loop_check_connect (const RhAmf0Value *connect_object, guint *hops, const char **why)
{
  *hops = 0;
  const char *instance = rh_amf0_object_get_string (connect_object, INSTANCE_PROPERTY);
  if (g_strcmp0 (instance, rh_relay_loop_instance ()) == 0)
    {
      *why = _("a relay from this daemon to itself");
      return FALSE;
    }
  const char *node = rh_amf0_object_get_string (connect_object, NODE_PROPERTY);
  if (node_id != NULL && g_strcmp0 (node, node_id) == 0)
    {
      *why = _("a relay or pull from this node to itself");
      return FALSE;
    }
  double number = rh_amf0_object_get_number (connect_object, HOPS_PROPERTY, 0);
  if (number > max_hops)
    {
      *why = _("a relay that has crossed too many daemons (a relay loop)");
      return FALSE;
    }
  *hops = number > 0 ? (guint) number : 0;
  return TRUE;
}
