/* libFuzzer harness for the configuration loader: any bytes as
 * /etc/rtmphooks.conf. A file must load or be refused with errors; never
 * crash (what -t and SIGHUP do with it). */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config/settings.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static char *path;

static void
remove_file (void)
{
  g_unlink (path);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  if (path == NULL)
    {
      int fd = g_file_open_tmp ("rtmphooks-fuzz-XXXXXX.conf", &path, NULL);
      g_assert (fd >= 0);
      close (fd);
      atexit (remove_file);
    }
  g_assert (g_file_set_contents (path, (const char *) data, (gssize) size, NULL));
  GPtrArray *errors = g_ptr_array_new_with_free_func (g_free);
  RhConfig *config = rh_config_load (path, TRUE, NULL, errors);
  /* Loaded, or refused with at least one error: never both, never neither. */
  g_assert ((config != NULL) == (errors->len == 0));
  rh_config_unref (config);
  g_ptr_array_unref (errors);
  return 0;
}
