#!/bin/bash
# Stream stop hook, adapted from the seed specification: it reports the
# session and stops the recording notify-start.sh began. The seed's Discord
# notification is left out (no network calls here).
set -u

echo "Stream stopped: $RTMP_STREAM_KEY at $(date)"
echo "Duration: ${RTMP_DURATION_SECONDS}s"
echo "Data received: $RTMP_BYTES_RECEIVED bytes ($((RTMP_BYTES_RECEIVED / 1024))KB)"

STATE_DIR="${STATE_DIR:-${TMPDIR:-/tmp}}"
pidfile="$STATE_DIR/recording_${RTMP_CONN_ID}.pid"
if [ -f "$pidfile" ]; then
    PID=$(cat "$pidfile")
    # The recorder usually ends by itself when the stream does.
    kill "$PID" 2>/dev/null
    rm -f "$pidfile"
    echo "Recording stopped (PID: $PID)"
fi
