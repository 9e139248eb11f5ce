#!/bin/bash
# Stream start hook, adapted from the seed specification: it announces the
# stream and records it with ffmpeg, pulling it back from this server.
# The seed's Discord notification is left out (no network calls here).
#
#   rtmphooksd --hook-script publish_start=/usr/share/rtmphooks/examples/notify-start.sh \
#              --hook-script publish_stop=/usr/share/rtmphooks/examples/cleanup.sh
#
# Hooks get a small environment (PATH, LANG, TZ, HOME, TMPDIR, ...) plus
# the RTMP_* variables of the event; RECORDING_DIR and STATE_DIR default
# under TMPDIR.
set -u

echo "LIVE: $RTMP_STREAM_KEY started at $(date)"
echo "Client: $RTMP_CLIENT_IP"
echo "App: $RTMP_APP"

RECORDING_DIR="${RECORDING_DIR:-${TMPDIR:-/tmp}/rtmphooks-recordings}"
STATE_DIR="${STATE_DIR:-${TMPDIR:-/tmp}}"
mkdir -p "$RECORDING_DIR"
STREAM_FILE="${RTMP_STREAM_KEY//\//_}_$(date +%Y%m%d_%H%M%S).flv"

# RTMP_TC_URL is the URL the publisher used to reach this server, so the
# recording works whatever port the server listens on.
ffmpeg -nostdin -loglevel error -i "$RTMP_TC_URL/$RTMP_STREAM_NAME" -c copy -f flv \
       "$RECORDING_DIR/$STREAM_FILE" \
       > "$STATE_DIR/recording_${RTMP_CONN_ID}.log" 2>&1 &

echo $! > "$STATE_DIR/recording_${RTMP_CONN_ID}.pid"
echo "Recording started: $STREAM_FILE"
