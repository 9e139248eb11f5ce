#include "config.h"

#include "duration.h"

#include <math.h>
#include <string.h>

gboolean
rh_duration_parse (const char *text, double *seconds)
{
  static const struct { const char *suffix; double scale; } units[] = {
    { "ms", 0.001 }, { "s", 1 }, { "m", 60 }, { "h", 3600 }, { "", 1 },
  };
  char *end;
  double value = g_ascii_strtod (text, &end);

  if (end == text || !isfinite (value) || value < 0 || g_ascii_isspace (*text))
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (units); i++)
    if (strcmp (end, units[i].suffix) == 0)
      {
        *seconds = value * units[i].scale;
        return TRUE;
      }
  return FALSE;
}
