/* An FLV file being written by a recording's writer (on a pool thread):
 * created without overwriting anything, tags gathered into few writev
 * calls, its onMetaData's duration and filesize patched at close. The
 * first failure is kept and nothing is written after it; a file removed
 * while written (its directory deleted, say) is a failure too. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _RhFlvFile RhFlvFile;

/* dir/relative_path, or with "-1", "-2", ... before its extension when
 * that exists; missing directories are made. NULL with error. */
RhFlvFile *rh_flv_file_create (const char *dir, const char *relative_path, GError **error);

/* The file's beginning: header, onMetaData and sequence headers;
 * duration_at and filesize_at are the offsets, in it, of the two numbers
 * patched at close. Held by reference until rh_flv_file_flush. */
void rh_flv_file_add_start (RhFlvFile *file, GBytes *start, gsize duration_at, gsize filesize_at);
/* One tag, by reference until rh_flv_file_flush (which it may call). */
void rh_flv_file_add_tag (RhFlvFile *file, guint8 type, guint32 timestamp, GBytes *body);
/* Writes what was added; afterwards the payloads may be released. */
void rh_flv_file_flush (RhFlvFile *file);

/* Patches onMetaData and closes; the file's error, if any, stays. */
void rh_flv_file_close (RhFlvFile *file);
void rh_flv_file_free (RhFlvFile *file);

/* As created, relative to the directory (with its suffix). */
const char *rh_flv_file_get_path (const RhFlvFile *file);
guint64 rh_flv_file_get_bytes (const RhFlvFile *file);
/* Media time written: the spans between timestamp jumps (forward by
 * more than 10 s, back by more than 1 s), added up. */
guint64 rh_flv_file_get_duration_ms (const RhFlvFile *file);
/* The first failure, or NULL. */
const char *rh_flv_file_get_error (const RhFlvFile *file);

G_END_DECLS
