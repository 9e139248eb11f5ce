#!/bin/bash
# What the event log costs a node at fan-out: one 2 Mb/s stream to
# PLAYERS players on a fleet node whose events go to Redis, with
# connections coming and going at CHURN a second meanwhile (three events
# each: about 1000 events/s at 334), against the same node without the
# churn, the same churn on a fleet node without the event log and on a
# single server, and nginx-rtmp.
#
# As in fanout.sh: each point restarts the servers, pinned to core 0, with
# tests/bench/fanout-load, the churn and a private redis-server on core 1;
# CPU from /proc over a fixed window after warm-up; a run counts only when
# every player received every video message of the window; RUNS runs,
# the median and the spread.
#
#   make bench-workers   (or: RH_DAEMON=... RH_FANOUT_LOAD=... RH_WORKER_BENCH=... tests/bench/worker.sh)
set -euo pipefail

PLAYERS=${PLAYERS:-2000}
CHURN=${CHURN:-334}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-5}
WINDOW=${WINDOW:-10}
LATE=${LATE:-5}
# shellcheck source=tests/bench/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
bench_setup workers
: "${RH_WORKER_BENCH:?path to worker-bench}"
command -v redis-server > /dev/null || { echo "workers: redis-server missing (apt-get install redis-server)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
churn_pid=
redis_pid=
cleanup() {
  for pid in "${pids[@]}" $churn_pid $redis_pid; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
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

# rtmphooksd on port: "single" a single server, "fleet" a fleet node,
# "log" a fleet node appending its events to Redis.
start_node() {
  local port=$1 mode=$2 http=$3 events=
  [ "$mode" = log ] && events="events = { local_hooks = false; };"
  {
    echo "server = { listen = [ \"127.0.0.1:$port\" ]; max_connections = 20000; };"
    echo "http = { listen = [ \"127.0.0.1:$http\" ]; };"
    [ "$mode" != single ] && echo "cluster = { node_id = \"n1\"; redis = \"127.0.0.1:$redis_port\";" \
                                 "advertise = \"rtmp://127.0.0.1:$port\"; $events };"
  } > "$work/$port.conf"
  taskset -c $server_cpu "$RH_DAEMON" -c "$work/$port.conf" --log-level warning 2> "$work/$port.log" &
  pids+=($!)
  wait_listening "$port"
}

appended() {
  curl -s "http://127.0.0.1:$1/metrics" | awk '$1 == "rtmphooks_cluster_events_appended_total" { print $2 }'
}

: > "$results"
for run in $(seq "$RUNS"); do
  for kind in nginx rh-quiet rh-churn rh-churn-fleet rh-churn-log; do
    port=$(free_port)
    http=$(free_port); while [ "$http" = "$port" ]; do http=$(free_port); done
    redis-cli -p "$redis_port" flushall > /dev/null
    case $kind in
      nginx) start_nginx "$port"; pids+=($!); wait_listening "$port" ;;
      rh-quiet) start_node "$port" log "$http" ;;
      rh-churn) start_node "$port" single "$http" ;;
      rh-churn-fleet) start_node "$port" fleet "$http" ;;
      rh-churn-log) start_node "$port" log "$http" ;;
    esac
    if [ "$kind" != nginx ] && [ "$kind" != rh-quiet ]; then
      taskset -c $load_cpu "$RH_WORKER_BENCH" churn "$port" "$CHURN" 600 > /dev/null &
      churn_pid=$!
    fi
    line=$(taskset -c $load_cpu "$RH_FANOUT_LOAD" --port "$port" --flv "$work/clip.flv" --players "$PLAYERS" \
             --warmup "$WARMUP" --seconds "$WINDOW" --late "$LATE" --server-pid "${pids[0]}" || true)
    # The churn's rate of events, over 5 s after the players left.
    if [ "$kind" = rh-churn-log ]; then
      before=$(appended "$http"); sleep 5; after=$(appended "$http")
      line="$line events_per_s=$(( (after - before) / 5 ))"
    fi
    if [ -n "$churn_pid" ]; then kill "$churn_pid" 2>/dev/null || true; wait "$churn_pid" 2>/dev/null || true; churn_pid=; fi
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    pids=()
    echo "workers: $kind players=$PLAYERS run=$run: $line" >&2
    echo "$kind $PLAYERS $run $line" >> "$results"
  done
done

echo
echo "One publisher at 2 Mb/s to $PLAYERS players; median of $RUNS runs (min-max); servers on core $server_cpu, load,"
echo "churn ($CHURN connections/s, three events each) and Redis on core $load_cpu; CPU over a ${WINDOW} s window after"
echo "${WARMUP} s of warm-up; a run counts when every player got every video message."
echo
printf '| setup | runs complete | CPU %% of a core | vs quiet | vs nginx | events/s to Redis | latency p50 / p99 ms |\n'
printf '|---|---|---|---|---|---|---|\n'
ngx=$(stat nginx "$PLAYERS" server_cpu | cut -d' ' -f1)
quiet=$(stat rh-quiet "$PLAYERS" server_cpu | cut -d' ' -f1)
for kind in nginx rh-quiet rh-churn rh-churn-fleet rh-churn-log; do
  case $kind in
    nginx) name="nginx-rtmp" ;;
    rh-quiet) name="rtmphooksd, event log, no churn" ;;
    rh-churn) name="rtmphooksd, churn, single server" ;;
    rh-churn-fleet) name="rtmphooksd, churn, fleet node, no event log" ;;
    rh-churn-log) name="rtmphooksd, churn, events to Redis" ;;
  esac
  cpu=$(stat "$kind" "$PLAYERS" server_cpu)
  median=$(cut -d' ' -f1 <<< "$cpu")
  events=$(stat "$kind" "$PLAYERS" events_per_s | cut -d' ' -f1)
  p50=$(stat "$kind" "$PLAYERS" latency_p50_ms | cut -d' ' -f1)
  p99=$(stat "$kind" "$PLAYERS" latency_p99_ms | cut -d' ' -f1)
  printf '| %s | %s/%s | %s | %s | %s | %s | %s / %s |\n' "$name" "$(complete_runs "$kind" "$PLAYERS")" "$RUNS" \
    "$(fmt "$cpu")" "$(ratio "$median" "$quiet")" "$(ratio "$median" "$ngx")" "$events" "$p50" "$p99"
done
