#!/bin/bash
# JSON event processor: reads the output of
#   rtmphooksd --hook-stdio-format json | event-processor.sh
# and reacts to each event; other lines pass through.

while IFS= read -r line; do
    if [[ $line == RTMP_EVENT:* ]]; then
        # Extract JSON from RTMP_EVENT: prefix
        json_data="${line#RTMP_EVENT: }"

        event_type=$(echo "$json_data" | jq -r '.type')
        stream_key=$(echo "$json_data" | jq -r '.stream_key // "unknown"')
        conn_id=$(echo "$json_data" | jq -r '.conn_id // "unknown"')

        case $event_type in
            "publish_start")
                echo "Stream started: $stream_key ($conn_id)"
                ;;
            "publish_stop")
                echo "Stream stopped: $stream_key ($conn_id)"
                ;;
            "connection_accept")
                echo "New connection: $conn_id"
                ;;
            *)
                echo "Other event: $event_type"
                ;;
        esac
    else
        echo "$line"
    fi
done
