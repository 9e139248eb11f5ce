#include "config.h"

#include "flv-file.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "protocol/flv-writer.h"

/* iovecs per writev: three per tag. */
#define MAX_VECTORS 1020
/* A step between two tags' timestamps larger than this (or back by more
 * than the reorder allowance) is a jump, not time that passed. Audio and
 * video interleave a little out of order, so a small step back is not. */
#define TIMESTAMP_JUMP_MS 10000
#define TIMESTAMP_REORDER_MS 1000

struct _RhFlvFile {
  int fd;
  char *path;              /* relative, as created */
  guint64 bytes;
  gsize duration_at;       /* file offsets of the onMetaData numbers; 0: no start yet */
  gsize filesize_at;
  char *error;             /* the first failure; nothing is written after it */

  gboolean any_tag;        /* the spans below mean something */
  guint32 span_start;      /* timestamp where the current span began */
  guint32 last_timestamp;
  guint64 spans_ms;        /* the spans before the current one */

  struct iovec iov[MAX_VECTORS];
  guint n_iov;
  guint8 frames[MAX_VECTORS / 3][RH_FLV_TAG_HEADER_SIZE + RH_FLV_TAG_TRAILER_SIZE];
  guint n_frames;
};

/* "dir/name.flv", else "dir/name-1.flv" ... */
static char *
candidate_path (const char *path, guint attempt)
{
  if (attempt == 0)
    return g_strdup (path);
  const char *base = strrchr (path, '/');
  base = base != NULL ? base + 1 : path;
  const char *dot = strrchr (base, '.');
  if (dot == NULL || dot == base)
    return g_strdup_printf ("%s-%u", path, attempt);
  return g_strdup_printf ("%.*s-%u%s", (int) (dot - path), path, attempt, dot);
}

RhFlvFile *
rh_flv_file_create (const char *dir, const char *relative_path, GError **error)
{
  g_autofree char *first = g_build_filename (dir, relative_path, NULL);
  g_autofree char *parent = g_path_get_dirname (first);
  if (g_mkdir_with_parents (parent, 0750) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _("cannot create %s: %s"), parent,
                   g_strerror (saved));
      return NULL;
    }
  for (guint attempt = 0; attempt < 1000; attempt++)
    {
      g_autofree char *relative = candidate_path (relative_path, attempt);
      g_autofree char *full = g_build_filename (dir, relative, NULL);
      int fd = open (full, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
      if (fd >= 0)
        {
          RhFlvFile *file = g_new0 (RhFlvFile, 1);
          file->fd = fd;
          file->path = g_steal_pointer (&relative);
          return file;
        }
      if (errno != EEXIST)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _("cannot create %s: %s"), full,
                       g_strerror (saved));
          return NULL;
        }
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, _("cannot create %s: 1000 files of that name exist"), first);
  return NULL;
}

static void
write_all (RhFlvFile *file, struct iovec *iov, int n)
{
  while (n > 0 && file->error == NULL)
    {
      ssize_t written = writev (file->fd, iov, n);
      if (written < 0 && errno == EINTR)
        continue;
      if (written < 0)
        {
          file->error = g_strdup_printf (_("cannot write %s: %s"), file->path, g_strerror (errno));
          return;
        }
      file->bytes += (guint64) written;
      while (n > 0 && (gsize) written >= iov->iov_len)
        {
          written -= (ssize_t) iov->iov_len;
          iov++;
          n--;
        }
      if (n > 0)
        {
          iov->iov_base = (guint8 *) iov->iov_base + written;
          iov->iov_len -= (gsize) written;
        }
    }
}

void
rh_flv_file_flush (RhFlvFile *file)
{
  if (file->n_iov > 0 && file->error == NULL)
    write_all (file, file->iov, (int) file->n_iov);
  file->n_iov = 0;
  file->n_frames = 0;
  /* Writes to a file that was removed succeed and are lost. */
  struct stat st;
  if (file->error == NULL && fstat (file->fd, &st) == 0 && st.st_nlink == 0)
    file->error = g_strdup_printf (_("%s was removed while recording"), file->path);
}

void
rh_flv_file_add_start (RhFlvFile *file, GBytes *start, gsize duration_at, gsize filesize_at)
{
  if (file->n_iov + 1 > MAX_VECTORS)
    rh_flv_file_flush (file);
  gsize len;
  const guint8 *data = g_bytes_get_data (start, &len);
  file->duration_at = duration_at;
  file->filesize_at = filesize_at;
  file->iov[file->n_iov++] = (struct iovec) { (void *) data, len };
}

static void
note_timestamp (RhFlvFile *file, guint32 timestamp)
{
  if (!file->any_tag)
    {
      file->any_tag = TRUE;
      file->span_start = file->last_timestamp = timestamp;
      return;
    }
  if ((guint64) timestamp + TIMESTAMP_REORDER_MS < file->last_timestamp
      || timestamp > (guint64) file->last_timestamp + TIMESTAMP_JUMP_MS)
    {
      file->spans_ms += file->last_timestamp - file->span_start;
      file->span_start = file->last_timestamp = timestamp;
      return;
    }
  file->last_timestamp = MAX (file->last_timestamp, timestamp);
}

void
rh_flv_file_add_tag (RhFlvFile *file, guint8 type, guint32 timestamp, GBytes *body)
{
  if (file->n_iov + 3 > MAX_VECTORS)
    rh_flv_file_flush (file);
  gsize len;
  const guint8 *data = g_bytes_get_data (body, &len);
  guint8 *header = file->frames[file->n_frames++], *trailer = header + RH_FLV_TAG_HEADER_SIZE;
  rh_flv_write_tag_header (header, type, len, timestamp);
  rh_flv_write_tag_trailer (trailer, len);
  file->iov[file->n_iov++] = (struct iovec) { header, RH_FLV_TAG_HEADER_SIZE };
  file->iov[file->n_iov++] = (struct iovec) { (void *) data, len };
  file->iov[file->n_iov++] = (struct iovec) { trailer, RH_FLV_TAG_TRAILER_SIZE };
  note_timestamp (file, timestamp);
}

guint64
rh_flv_file_get_duration_ms (const RhFlvFile *file)
{
  return file->any_tag ? file->spans_ms + (file->last_timestamp - file->span_start) : 0;
}

void
rh_flv_file_close (RhFlvFile *file)
{
  if (file->fd < 0)
    return;
  rh_flv_file_flush (file);
  if (file->duration_at != 0)
    {
      guint8 number[8];
      rh_flv_write_double (number, (double) rh_flv_file_get_duration_ms (file) / 1000.0);
      if (pwrite (file->fd, number, sizeof number, (off_t) file->duration_at) == sizeof number)
        {
          rh_flv_write_double (number, (double) file->bytes);
          (void) !pwrite (file->fd, number, sizeof number, (off_t) file->filesize_at);
        }
    }
  if (close (file->fd) != 0 && file->error == NULL)
    file->error = g_strdup_printf (_("cannot write %s: %s"), file->path, g_strerror (errno));
  file->fd = -1;
}

void
rh_flv_file_free (RhFlvFile *file)
{
  if (file == NULL)
    return;
  if (file->fd >= 0)
    close (file->fd);
  g_free (file->path);
  g_free (file->error);
  g_free (file);
}

const char *
rh_flv_file_get_path (const RhFlvFile *file)
{
  return file->path;
}

guint64
rh_flv_file_get_bytes (const RhFlvFile *file)
{
  return file->bytes;
}

const char *
rh_flv_file_get_error (const RhFlvFile *file)
{
  return file->error;
}
