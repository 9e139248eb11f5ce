/* One recording: a live stream written to an FLV file. The main loop only
 * queues references to the payloads (no copy, no file system call); a
 * writer on a pool of a few threads shared by every recording creates the
 * file, writes the tags and, at the end, patches the duration and
 * filesize in its onMetaData (flv-file.h). The
 * queue is bounded: a disk that cannot keep up ends the recording (reason
 * too_slow), never the stream, and so does a write error (reason error,
 * a full disk for one). The file starts at a keyframe, after the metadata
 * and the sequence headers, and is playable while it grows. */
#pragma once

#include <glib.h>

#include "output.h"

G_BEGIN_DECLS

typedef struct _RhRecording RhRecording;

typedef struct {
  /* The file is open; path is relative to the directory (with the suffix
   * that made it unique, if one was needed). */
  void (*started) (RhRecording *recording, const char *path, gpointer owner);
  /* It ended (reason publish_stop, server_shutdown, error or too_slow);
   * path is NULL when no file was opened. The owner frees it after. */
  void (*stopped) (RhRecording *recording, const char *path, gint64 duration_seconds, guint64 bytes,
                   const char *reason, const char *detail, gpointer owner);
} RhRecordingOwner;

/* relative_path has been checked (rh_relative_path_is_safe); the file is
 * dir/relative_path, or with "-1", "-2", ... before its extension if that
 * exists: a file is never overwritten. */
RhRecording *rh_recording_new (const char *dir, const char *relative_path, gsize max_buffer,
                               const char *conn_id, const char *app, const char *stream_name,
                               const RhRecordingOwner *owner, gpointer owner_data);
/* Call only after stopped. */
void rh_recording_free (RhRecording *recording);

/* What the stream feeds (attach it to a live stream). */
RhOutput *rh_recording_get_output (RhRecording *recording);
/* Ends the recording as if its publish had ended for reason. */
void rh_recording_stop (RhRecording *recording, const char *reason);
/* Bytes waiting for the writer thread. */
gsize rh_recording_get_queued_bytes (RhRecording *recording);
/* The file's size so far (thread-safe; what the writer has flushed). */
guint64 rh_recording_get_bytes (RhRecording *recording);

G_END_DECLS
