#!/bin/bash
# Fan-out benchmark: one publisher, $PLAYERS players, on rtmphooksd and on
# nginx-rtmp (Debian's libnginx-mod-rtmp) in the same run on the same
# machine. Reports server CPU and memory under load, and for a late joiner
# the time from play to the first video frame. Bounded in time; loopback only.
#
#   make bench            (or: RH_DAEMON=... RH_LOAD=... tests/bench/fanout.sh)
set -euo pipefail

PLAYERS=${PLAYERS:-100}
DURATION=${DURATION:-20}
LATE_JOINERS=${LATE_JOINERS:-7}
: "${RH_DAEMON:?path to rtmphooksd}" "${RH_LOAD:?path to rtmp-load}"
NGINX_MODULE=/usr/lib/nginx/modules/ngx_rtmp_module.so
[ -f "$NGINX_MODULE" ] || { echo "fanout: $NGINX_MODULE missing (apt-get install libnginx-mod-rtmp)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# One encode up front; publishing it with -c copy keeps the publisher's
# cost small and identical for both servers.
echo "fanout: encoding a 30 s 1280x720 2.5 Mb/s clip"
ffmpeg -nostdin -loglevel error -f lavfi -i testsrc=size=1280x720:rate=30 -f lavfi -i sine=frequency=440 \
  -t 30 -c:v libx264 -preset veryfast -b:v 2500k -g 60 -pix_fmt yuv420p -c:a aac -b:a 128k \
  "$work/clip.flv"

rh_port=$(free_port)
"$RH_DAEMON" -c /dev/null --listen "127.0.0.1:$rh_port" --log-level warning 2> "$work/rtmphooksd.log" &
rh_pid=$!; pids+=("$rh_pid")

# The same daemon with a stdio rule on every event (jsonl to /dev/null).
rhh_port=$(free_port)
"$RH_DAEMON" -c /dev/null --listen "127.0.0.1:$rhh_port" --log-level warning --hook-stdio-format jsonl \
  > /dev/null 2> "$work/rtmphooksd-hooks.log" &
rhh_pid=$!; pids+=("$rhh_pid")

ngx_port=$(free_port)
mkdir -p "$work/nginx/logs"
cat > "$work/nginx/nginx.conf" <<NGINX
load_module $NGINX_MODULE;
daemon off;
master_process off;
worker_processes 1;
error_log $work/nginx/logs/error.log;
pid $work/nginx/nginx.pid;
events { worker_connections 4096; }
rtmp {
  server {
    listen 127.0.0.1:$ngx_port;
    chunk_size 4096;
    application live { live on; }
  }
}
NGINX
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
ngx_pid=$!; pids+=("$ngx_pid")
sleep 1

hz=$(getconf CLK_TCK)

# measure NAME PID PORT -> "cpu_percent rss_kb first_video_ms_median"
measure() {
  local name=$1 pid=$2 port=$3
  ffmpeg -nostdin -loglevel error -re -stream_loop -1 -i "$work/clip.flv" -c copy -f flv \
    "rtmp://127.0.0.1:$port/live/bench" &
  local pub=$!; pids+=("$pub")
  sleep 3
  "$RH_LOAD" 127.0.0.1 "$port" live bench "$PLAYERS" $((DURATION + 4)) > "$work/$name-load.txt" &
  local load=$!
  sleep 2
  local c0 t0 c1 t1
  c0=$(cpu_ticks "$pid"); t0=$(date +%s.%N)
  sleep "$DURATION"
  c1=$(cpu_ticks "$pid"); t1=$(date +%s.%N)
  local rss; rss=$(rss_kb "$pid")
  wait "$load" || true
  local cpu; cpu=$(awk -v c="$((c1 - c0))" -v hz="$hz" -v t0="$t0" -v t1="$t1" 'BEGIN {printf "%.1f", 100 * c / hz / (t1 - t0)}')

  # Late joiners, one at a time, while the stream runs.
  : > "$work/$name-late.txt"
  for _ in $(seq "$LATE_JOINERS"); do
    "$RH_LOAD" 127.0.0.1 "$port" live bench 1 3 | sed -n 's/.*first_video_ms_min=\([0-9.]*\).*/\1/p' >> "$work/$name-late.txt"
    sleep 0.$((RANDOM % 9 + 1))
  done
  local late; late=$(sort -n "$work/$name-late.txt" | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "none")}')
  kill "$pub"; wait "$pub" 2>/dev/null || true
  echo "$cpu $rss $late"
  sed 's/^/  load: /' "$work/$name-load.txt" >&2
}

echo "fanout: $PLAYERS players for ${DURATION}s on each server"
read -r rh_cpu rh_rss rh_late < <(measure rtmphooksd "$rh_pid" "$rh_port")
read -r rhh_cpu rhh_rss rhh_late < <(measure rtmphooksd-hooks "$rhh_pid" "$rhh_port")
read -r ngx_cpu ngx_rss ngx_late < <(measure nginx "$ngx_pid" "$ngx_port")

printf '\n%-22s %12s %16s %12s\n' "" "rtmphooksd" "+stdio hooks" "nginx-rtmp"
printf '%-22s %12s %16s %12s\n' "CPU % (1 core = 100)" "$rh_cpu" "$rhh_cpu" "$ngx_cpu"
printf '%-22s %12s %16s %12s\n' "RSS KiB" "$rh_rss" "$rhh_rss" "$ngx_rss"
printf '%-22s %12s %16s %12s\n' "late joiner ms" "$rh_late" "$rhh_late" "$ngx_late"
awk -v a="$rh_cpu" -v b="$ngx_cpu" -v h="$rhh_cpu" -v r="$rh_rss" -v s="$ngx_rss" 'BEGIN {
  printf "ratios rtmphooksd/nginx-rtmp: CPU %.2f, RSS %.2f\n", (b > 0 ? a / b : 0), (s > 0 ? r / s : 0)
  printf "stdio hooks on every event vs off: CPU %+.1f%%\n", (a > 0 ? 100 * (h - a) / a : 0) }'
