#!/bin/bash
# Fleet benchmark: fan-out of one 2 Mb/s stream to N players spread over
# two edges that pull it from one origin, against one node serving all N
# (and nginx-rtmp serving all N, for reference).
#
# As in fanout.sh: each point restarts the servers, pinned to core 0
# (the origin and both edges share it), with tests/bench/fanout-load on
# core 1 (publishing on the origin, its players on the edges in turn) and
# a private redis-server there too; CPU of each node from /proc over a
# fixed window after warm-up; a run counts only when every player
# received every video message of the window; RUNS runs, the median and
# the spread.
#
#   make bench-cluster   (or: RH_DAEMON=... RH_FANOUT_LOAD=... tests/bench/cluster.sh)
set -euo pipefail

POINTS=${POINTS:-3000}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-5}
WINDOW=${WINDOW:-10}
LATE=${LATE:-5}
# shellcheck source=tests/bench/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
bench_setup cluster
command -v redis-server > /dev/null || { echo "cluster: redis-server missing (apt-get install redis-server)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
redis_pid=
cleanup() {
  for pid in "${pids[@]}" $redis_pid; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
results="$work/results.txt"
encode_clip

redis_port=$(free_port)
taskset -c $load_cpu redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$work" --logfile "$work/redis.log" &
redis_pid=$!
wait_listening "$redis_port"

# One rtmphooksd on port; NODE_ID set: a fleet node.
start_node() {
  local port=$1 node_id=${2:-}
  {
    echo "server = { listen = [ \"127.0.0.1:$port\" ]; max_connections = 20000; };"
    [ -n "$node_id" ] && echo "cluster = { node_id = \"$node_id\"; redis = \"127.0.0.1:$redis_port\";" \
                              "advertise = \"rtmp://127.0.0.1:$port\"; };"
  } > "$work/$port.conf"
  taskset -c $server_cpu "$RH_DAEMON" -c "$work/$port.conf" --log-level warning 2> "$work/$port.log" &
  pids+=($!)
  wait_listening "$port"
}

stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  pids=()
}

# also_cpu=a,b -> edge_cpu=max edge_sum_cpu=a+b
edges() {
  awk -v all="$(field also_cpu "$1")" 'BEGIN { n = split(all, v, ","); m = 0; s = 0
      for (i = 1; i <= n; i++) { s += v[i]; if (v[i] + 0 > m) m = v[i] + 0 }
      printf "edge_cpu=%.1f edges_sum_cpu=%.1f", m, s }'
}

: > "$results"
for players in $POINTS; do
  for run in $(seq "$RUNS"); do
    for kind in nginx rh-single rh-fleet; do
      port=$(free_port)
      case $kind in
        nginx)
          start_nginx "$port"; pids+=($!); wait_listening "$port"
          line=$(taskset -c $load_cpu "$RH_FANOUT_LOAD" --port "$port" --flv "$work/clip.flv" --players "$players" \
                   --warmup "$WARMUP" --seconds "$WINDOW" --late "$LATE" --server-pid "${pids[0]}" || true) ;;
        rh-single)
          start_node "$port"
          line=$(taskset -c $load_cpu "$RH_FANOUT_LOAD" --port "$port" --flv "$work/clip.flv" --players "$players" \
                   --warmup "$WARMUP" --seconds "$WINDOW" --late "$LATE" --server-pid "${pids[0]}" || true) ;;
        rh-fleet)
          redis-cli -p "$redis_port" flushall > /dev/null
          edge1=$(free_port); while [ "$edge1" = "$port" ]; do edge1=$(free_port); done
          edge2=$(free_port); while [ "$edge2" = "$port" ] || [ "$edge2" = "$edge1" ]; do edge2=$(free_port); done
          start_node "$port" origin
          start_node "$edge1" edge1
          start_node "$edge2" edge2
          line=$(taskset -c $load_cpu "$RH_FANOUT_LOAD" --port "$port" --play-ports "$edge1,$edge2" \
                   --flv "$work/clip.flv" --players "$players" --warmup "$WARMUP" --seconds "$WINDOW" \
                   --late "$LATE" --server-pid "${pids[0]}" --also-pids "${pids[1]},${pids[2]}" || true)
          line="$line $(edges "$line")" ;;
      esac
      stop_all
      echo "cluster: $kind players=$players run=$run: $line" >&2
      echo "$kind $players $run $line" >> "$results"
    done
  done
done

echo
echo "One publisher at 2 Mb/s; median of $RUNS runs (min-max); servers on core $server_cpu, load and Redis on core $load_cpu;"
echo "CPU over a ${WINDOW} s window after ${WARMUP} s of warm-up; a run counts when every player got every video message."
echo "rh-fleet: the publisher on the origin, the players on two edges in turn, each edge pulling once from the origin."
echo
printf '| players | setup | runs complete | CPU %% of a core | vs one node | vs nginx | latency p50 / p99 ms | late join ms |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for players in $POINTS; do
  ngx=$(stat nginx "$players" server_cpu | cut -d' ' -f1)
  one=$(stat rh-single "$players" server_cpu | cut -d' ' -f1)
  for row in nginx rh-single origin edge edges; do
    case $row in
      nginx) kind=nginx metric=server_cpu name="nginx-rtmp, one node" ;;
      rh-single) kind=rh-single metric=server_cpu name="rtmphooksd, one node" ;;
      origin) kind=rh-fleet metric=server_cpu name="fleet: origin (2 pulls)" ;;
      edge) kind=rh-fleet metric=edge_cpu name="fleet: busier edge ($((players / 2)) players)" ;;
      edges) kind=rh-fleet metric=edges_sum_cpu name="fleet: both edges" ;;
    esac
    cpu=$(stat "$kind" "$players" "$metric")
    median=$(cut -d' ' -f1 <<< "$cpu")
    p50=$(stat "$kind" "$players" latency_p50_ms | cut -d' ' -f1)
    p99=$(stat "$kind" "$players" latency_p99_ms | cut -d' ' -f1)
    late=$(stat "$kind" "$players" late_first_video_ms | cut -d' ' -f1)
    printf '| %s | %s | %s/%s | %s | %s | %s | %s / %s | %s |\n' "$players" "$name" "$(complete_runs "$kind" "$players")" \
      "$RUNS" "$(fmt "$cpu")" "$(ratio "$median" "$one")" "$(ratio "$median" "$ngx")" "$p50" "$p99" "$late"
  done
done
