#!/bin/bash
# Fan-out benchmark: one publisher at 2 Mb/s and N players, on nginx-rtmp
# (Debian's libnginx-mod-rtmp, one worker), rtmphooksd with merge_window = 0
# and rtmphooksd with its defaults, in the same run on the same machine.
#
# Per point (server, player count, run): the server is started afresh,
# pinned to core 0, and tests/bench/fanout-load (publisher and players in
# one epoll process) to core 1; after a warm-up it measures the server's
# CPU and RSS from /proc over a fixed window, every player's latency, and
# whether every player received every video message of the window (a
# point counts only then). Each point runs RUNS times; the table shows the
# median and the spread (min-max). Loopback only; every run is bounded.
#
# At OUTPUT_POINTS (1000 players) rtmphooksd also runs with a recording
# and a relay of the stream (record.all to a directory under the run's
# scratch space, relay to a second rtmphooksd pinned to the load core):
# what they cost is its CPU against the defaults' in the same runs.
#
#   make bench     (or: RH_DAEMON=... RH_FANOUT_LOAD=... tests/bench/fanout.sh)
#   POINTS="500 1000" RUNS=1 WINDOW=5 make bench     (a quicker look)
set -euo pipefail

POINTS=${POINTS:-500 1000 2000 3000}
OUTPUT_POINTS=${OUTPUT_POINTS:-1000}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-5}
WINDOW=${WINDOW:-10}
LATE=${LATE:-5}
# shellcheck source=tests/bench/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
bench_setup fanout
command -v perf > /dev/null || echo "fanout: perf missing (apt-get install linux-perf): no syscall counts" >&2

work=$(mktemp -d)
server_pid=
target_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [ -n "$target_pid" ] && kill "$target_pid" 2>/dev/null && wait "$target_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
results="$work/results.txt"
encode_clip

start_server() {
  local kind=$1 port=$2
  case $kind in
    nginx)
      start_nginx "$port"
      ;;
    rh-0|rh-default|rh-outputs)
      if [ "$kind" = rh-outputs ]; then
        # The relay's target, on the load generator's core.
        local target_port; target_port=$(free_port)
        while [ "$target_port" = "$port" ]; do target_port=$(free_port); done
        echo "server = { listen = [ \"127.0.0.1:$target_port\" ]; };" > "$work/target.conf"
        taskset -c $load_cpu "$RH_DAEMON" -c "$work/target.conf" --log-level notice 2> "$work/target.log" &
        target_pid=$!
        wait_listening "$target_port"
        rm -rf "$work/recordings"
      fi
      {
        echo "server = {"
        echo "  listen = [ \"127.0.0.1:$port\" ];"
        echo "  max_connections = 20000;"
        [ "$kind" = rh-0 ] && echo "  merge_window = 0;"
        if [ "$kind" = rh-outputs ]; then
          echo "  record = { all = true; dir = \"$work/recordings\"; };"
          echo "  relay = [ \"rtmp://127.0.0.1:$target_port/edge/\${stream_name}\" ];"
        fi
        echo "};"
      } > "$work/rtmphooks.conf"
      taskset -c $server_cpu "$RH_DAEMON" -c "$work/rtmphooks.conf" --log-level warning 2> "$work/rtmphooksd.log" &
      ;;
  esac
  server_pid=$!
  wait_listening "$port"
}

stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
  if [ -n "$target_pid" ]; then
    kill "$target_pid" 2>/dev/null || true
    wait "$target_pid" 2>/dev/null || true
    target_pid=
  fi
}

# What the outputs of an rh-outputs run did: the recording's size and the
# relay target's bytes in (from its publish_stop line), both in bytes.
outputs_check() {
  local recorded relayed
  recorded=$(find "$work/recordings" -name '*.flv' -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
  relayed=$(sed -n 's/.*publish_stop edge\/.* bytes=\([0-9]*\).*/\1/p' "$work/target.log" | tail -1)
  echo "recorded_bytes=$recorded relayed_bytes=${relayed:-0}"
}

: > "$results"
for players in $POINTS; do
  for run in $(seq "$RUNS"); do
    kinds="nginx rh-0 rh-default"
    [[ " $OUTPUT_POINTS " == *" $players "* ]] && kinds="$kinds rh-outputs"
    for kind in $kinds; do
      port=$(free_port)
      start_server "$kind" "$port"
      line=$(taskset -c $load_cpu "$RH_FANOUT_LOAD" --port "$port" --flv "$work/clip.flv" --players "$players" \
               --warmup "$WARMUP" --seconds "$WINDOW" --late "$LATE" --server-pid "$server_pid" || true)
      stop_server
      [ "$kind" = rh-outputs ] && line="$line $(outputs_check)"
      echo "fanout: $kind players=$players run=$run: $line" >&2
      echo "$kind $players $run $line" >> "$results"
    done
  done
done

echo
echo "One publisher at 2 Mb/s; median of $RUNS runs (min-max); server on core $server_cpu, load on core $load_cpu;"
echo "CPU and RSS over a ${WINDOW} s window after ${WARMUP} s of warm-up; a run counts when every player got every video message."
echo
printf '| players | server | runs complete | CPU %% of a core | vs nginx | RSS MiB | latency p50 / p99 / max ms | kbit/s per player | syscalls/s | late join ms |\n'
printf '|---|---|---|---|---|---|---|---|---|---|\n'
for players in $POINTS; do
  ngx_cpu=$(stat nginx "$players" server_cpu | cut -d' ' -f1)
  for kind in nginx rh-0 rh-default rh-outputs; do
    [ "$(complete_runs "$kind" "$players")$(stat "$kind" "$players" server_cpu)" = "0-" ] && continue
    case $kind in
      nginx) name="nginx-rtmp" ;; rh-0) name="rtmphooksd, merge_window 0" ;;
      rh-outputs) name="rtmphooksd, default + recording + relay" ;; *) name="rtmphooksd, default" ;;
    esac
    cpu=$(stat "$kind" "$players" server_cpu)
    rss=$(stat "$kind" "$players" server_rss_kib | awk '{ printf "%.1f", $1 / 1024 }')
    p50=$(stat "$kind" "$players" latency_p50_ms | cut -d' ' -f1)
    p99=$(stat "$kind" "$players" latency_p99_ms | cut -d' ' -f1)
    max=$(stat "$kind" "$players" latency_max_ms | cut -d' ' -f1)
    rate=$(stat "$kind" "$players" player_kbit_s | cut -d' ' -f1)
    sys=$(stat "$kind" "$players" syscalls_per_s | cut -d' ' -f1)
    late=$(stat "$kind" "$players" late_first_video_ms | cut -d' ' -f1)
    printf '| %s | %s | %s of %s | %s | %s | %s | %s / %s / %s | %s | %s | %s |\n' "$players" "$name" \
      "$(complete_runs "$kind" "$players")" "$RUNS" "$(fmt "$cpu")" "$(ratio "${cpu%% *}" "$ngx_cpu")" "$rss" \
      "$p50" "$p99" "$max" "$rate" "$sys" "$late"
  done
done

# The outputs' cost: CPU with a recording and a relay over the defaults',
# per run pair (same run number), then the median.
for players in $OUTPUT_POINTS; do
  extra=$(awk -v p="$players" '
      $2 == p { for (i = 4; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "server_cpu") cpu[$1 " " $3] = kv[2] + 0;
                                            if (kv[1] == "recorded_bytes") rec[$3] = kv[2]; if (kv[1] == "relayed_bytes") rel[$3] = kv[2] } }
      END {
        n = 0
        for (key in cpu) { split(key, k, " "); if (k[1] == "rh-outputs" && cpu["rh-default " k[2]] > 0) {
            d[n++] = cpu[key] - cpu["rh-default " k[2]]; base[n - 1] = cpu["rh-default " k[2]]; r = k[2] } }
        if (n == 0) { print "-"; exit }
        for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (d[j] < d[i]) { t = d[i]; d[i] = d[j]; d[j] = t; t = base[i]; base[i] = base[j]; base[j] = t }
        m = int((n - 1) / 2)
        printf "%+.1f points of a core (%+.1f%% of the defaults'\'' CPU; runs %+.1f to %+.1f); last run recorded %d bytes, relayed %d bytes\n",
               d[m], 100 * d[m] / base[m], d[0], d[n - 1], rec[r], rel[r] }' "$results")
  echo
  echo "Recording + relay at $players players: $extra"
done
