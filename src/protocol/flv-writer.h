/* FLV file writing, as recordings do it: the file header, the framing
 * around each tag's body (which is an RTMP message's payload as it is),
 * and an onMetaData whose duration and filesize are patched in place when
 * the file is closed. Pure code, no I/O. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RH_FLV_FILE_HEADER_SIZE 13   /* "FLV", version, flags, offset, PreviousTagSize0 */
#define RH_FLV_TAG_HEADER_SIZE 11
#define RH_FLV_TAG_TRAILER_SIZE 4    /* PreviousTagSize */

/* Tag types: the RTMP message types. */
#define RH_FLV_TAG_AUDIO 8
#define RH_FLV_TAG_VIDEO 9
#define RH_FLV_TAG_DATA 18

/* A tag body is at most 2^24 - 1 bytes. */
#define RH_FLV_MAX_TAG_BODY 0xffffff

void rh_flv_write_file_header (guint8 out[RH_FLV_FILE_HEADER_SIZE], gboolean has_audio, gboolean has_video);
/* timestamp in milliseconds; its top byte goes in TimestampExtended. */
void rh_flv_write_tag_header (guint8 out[RH_FLV_TAG_HEADER_SIZE], guint8 type, gsize body_size,
                              guint32 timestamp);
void rh_flv_write_tag_trailer (guint8 out[RH_FLV_TAG_TRAILER_SIZE], gsize body_size);
/* An AMF0 number's 8 bytes (big-endian IEEE 754). */
void rh_flv_write_double (guint8 out[8], double value);

/* The onMetaData tag body for a file: the publisher's ("onMetaData",
 * {...}) (NULL or unreadable: none) with its duration and filesize
 * left out and written last as 0, so that *duration_at and *filesize_at,
 * the offsets of their 8 bytes in the body, can be patched at close. */
GBytes *rh_flv_file_metadata (GBytes *publisher_metadata, gsize *duration_at, gsize *filesize_at);

G_END_DECLS
