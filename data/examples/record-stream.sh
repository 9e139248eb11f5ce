#!/bin/sh
# Records a stream to FLV with ffmpeg, pulling it back from this server.
# Run it as a managed process: the daemon starts it at publish_start,
# restarts it if it dies early, and stops it (SIGTERM to its process
# group) at publish_stop. No pid files, nothing left behind.
#
#   rules = (
#     { name = "record"; on = [ "publish_start" ];
#       env = { RECORDING_DIR = "/var/lib/rtmphooks/recordings"; };
#       exec = { command = [ "/usr/share/rtmphooks/examples/record-stream.sh" ];
#                lifetime = "stream"; }; }
#   );
set -eu

RECORDING_DIR="${RECORDING_DIR:-${TMPDIR:-/tmp}/rtmphooks-recordings}"
mkdir -p "$RECORDING_DIR"
# The stream key's "/" would make a subdirectory.
name=$(printf '%s' "$RTMP_STREAM_KEY" | tr '/' '_')
file="$RECORDING_DIR/${name}_$(date +%Y%m%d_%H%M%S).flv"
echo "Recording started: $(basename "$file")"

# RTMP_TC_URL is the URL the publisher used to reach this server, so the
# recording works whatever port the server listens on. exec: ffmpeg gets
# the SIGTERM itself and closes the file properly.
exec ffmpeg -nostdin -loglevel error -i "$RTMP_TC_URL/$RTMP_STREAM_NAME" -c copy -f flv "$file"
