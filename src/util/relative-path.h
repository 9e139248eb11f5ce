/* Paths made from templates under a directory the operator chose (the
 * recording directory): a path that passes cannot leave it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Not empty, not absolute, no "." or ".." component and no empty one, no
 * control byte or backslash, at most 1024 bytes. */
gboolean rh_relative_path_is_safe (const char *path);

G_END_DECLS
