#!/bin/bash
# Stream start hook: it announces the stream (no network calls here: add
# a notification of your own); its recording is record-stream.sh, run as
# a managed process that lives exactly as long as the stream (no pid
# files).
#
#   rtmphooksd --hook-script publish_start=/usr/share/rtmphooks/examples/notify-start.sh \
#              --hook-script publish_stop=/usr/share/rtmphooks/examples/cleanup.sh
set -u

echo "LIVE: $RTMP_STREAM_KEY started at $(date)"
echo "Client: $RTMP_CLIENT_IP"
echo "App: $RTMP_APP"
