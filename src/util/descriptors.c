#include "config.h"

#include "descriptors.h"

#include <sys/resource.h>

guint64
rh_descriptors_raise_limit (void)
{
  struct rlimit limit;
  if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
    return 1024;
  if (limit.rlim_cur < limit.rlim_max)
    {
      struct rlimit raised = { limit.rlim_max, limit.rlim_max };
      if (setrlimit (RLIMIT_NOFILE, &raised) == 0)
        limit = raised;
    }
  return limit.rlim_cur == RLIM_INFINITY ? G_MAXUINT64 : (guint64) limit.rlim_cur;
}

guint64
rh_descriptors_get_limit (void)
{
  struct rlimit limit;
  if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
    return 1024;
  return limit.rlim_cur == RLIM_INFINITY ? G_MAXUINT64 : (guint64) limit.rlim_cur;
}

guint64
rh_descriptors_get_client_share (guint64 reserve)
{
  guint64 limit = rh_descriptors_get_limit ();
  return MAX (limit / 2, limit > reserve ? limit - reserve : 0);
}
