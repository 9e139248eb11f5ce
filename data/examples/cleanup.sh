#!/bin/bash
# Stream stop hook: it reports the session. The recording
# (record-stream.sh, a managed process) is stopped by the daemon itself.
# No network calls here: add a notification of your own.
set -u

echo "Stream stopped: $RTMP_STREAM_KEY at $(date)"
echo "Duration: ${RTMP_DURATION_SECONDS}s"
echo "Data received: $RTMP_BYTES_RECEIVED bytes ($((RTMP_BYTES_RECEIVED / 1024))KB)"
