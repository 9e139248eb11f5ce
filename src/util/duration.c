#include "config.h"

#include "duration.h"

#include <math.h>
#include <string.h>

/* Longest suffixes first: "ms" before "m", "ns" before any "n...". */
static const struct {
  const char *suffix;
  double scale;
} units[] = {
  { "ns", 1e-9 }, { "us", 1e-6 }, { "\xc2\xb5s", 1e-6 }, { "ms", 1e-3 }, { "s", 1 }, { "m", 60 },
  { "h", 3600 },
};

/* A decimal number at p ("12", "1.5"; no sign, exponent or hex); its
 * length in *len, 0 when there is none. */
static double
read_decimal (const char *p, gsize *len)
{
  gsize n = strspn (p, "0123456789.");
  *len = 0;
  if (n == 0 || !g_ascii_isdigit (p[0]))
    return 0;
  g_autofree char *number = g_strndup (p, n);
  if (strchr (number, '.') != strrchr (number, '.'))
    return 0;  /* two dots */
  char *end;
  double value = g_ascii_strtod (number, &end);
  if (*end != '\0' || !isfinite (value))
    return 0;
  *len = n;
  return value;
}

gboolean
rh_duration_parse (const char *text, double *seconds)
{
  const char *p = text;
  double total = 0;
  gsize len;

  /* Plain seconds: a number and nothing else. */
  double plain = read_decimal (text, &len);
  if (len > 0 && text[len] == '\0')
    {
      *seconds = plain;
      return TRUE;
    }
  if (*p == '\0')
    return FALSE;
  while (*p != '\0')
    {
      /* Each part: a number, then a unit. */
      double value = read_decimal (p, &len);
      if (len == 0)
        return FALSE;
      p += len;
      gsize i;
      for (i = 0; i < G_N_ELEMENTS (units); i++)
        if (strncmp (p, units[i].suffix, strlen (units[i].suffix)) == 0)
          break;
      if (i == G_N_ELEMENTS (units))
        return FALSE;
      total += value * units[i].scale;
      p += strlen (units[i].suffix);
    }
  if (!isfinite (total))
    return FALSE;
  *seconds = total;
  return TRUE;
}
