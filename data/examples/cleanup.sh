#!/bin/bash
# Stream stop hook, adapted from the seed specification: it reports the
# session. The recording (record-stream.sh, a managed process) is stopped
# by the daemon itself. The seed's Discord notification is left out (no
# network calls here).
set -u

echo "Stream stopped: $RTMP_STREAM_KEY at $(date)"
echo "Duration: ${RTMP_DURATION_SECONDS}s"
echo "Data received: $RTMP_BYTES_RECEIVED bytes ($((RTMP_BYTES_RECEIVED / 1024))KB)"
