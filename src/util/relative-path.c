#include "config.h"

#include "relative-path.h"

#include <string.h>

gboolean
rh_relative_path_is_safe (const char *path)
{
  if (path == NULL || *path == '\0' || *path == '/' || strlen (path) > 1024)
    return FALSE;
  for (const char *c = path; *c != '\0'; c++)
    if ((guchar) *c < 0x20 || *c == 0x7f || *c == '\\')
      return FALSE;
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);
  for (int i = 0; parts[i] != NULL; i++)
    if (*parts[i] == '\0' || strcmp (parts[i], ".") == 0 || strcmp (parts[i], "..") == 0)
      return FALSE;
  return TRUE;
}
