#!/bin/bash
# RTMPS benchmark: what TLS costs the server at fan-out, and how many TLS
# handshakes it takes per second.
#
# Fan-out: one publisher at 2 Mb/s in clear and N players, on nginx-rtmp
# (the reference, in clear), on rtmphooksd with the players in clear
# (rh-plain) and on rtmphooksd with the players through TLS (rh-tls,
# TLS 1.3, AES-GCM). As in fanout.sh: each point restarts the server,
# pinned to core 0, with tests/bench/fanout-load on core 1; CPU from
# /proc over a fixed window after warm-up; a run counts only when every
# player received every video message of the window; RUNS runs, the
# median and the spread.
#
# Handshakes: openssl s_time on the load core makes full TLS handshakes
# (no resumption) against the TLS port for HANDSHAKE_SECONDS; per second,
# and the server's CPU over the same time.
#
#   make bench-rtmps   (or: RH_DAEMON=... RH_FANOUT_LOAD=... tests/bench/rtmps.sh)
set -euo pipefail

POINTS=${POINTS:-500 1000}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-5}
WINDOW=${WINDOW:-10}
LATE=${LATE:-5}
HANDSHAKE_SECONDS=${HANDSHAKE_SECONDS:-10}
# shellcheck source=tests/bench/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
bench_setup rtmps
command -v openssl > /dev/null || { echo "rtmps: openssl missing (apt-get install openssl)" >&2; exit 1; }

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
results="$work/results.txt"
encode_clip

# A private CA and a P-256 certificate for 127.0.0.1, as a deployment
# would have (Let's Encrypt issues ECDSA P-256 too).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$work/ca.key" \
  -out "$work/ca.pem" -days 2 -subj "/CN=bench CA" 2> /dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$work/server.key" \
  -out "$work/server.csr" -subj "/CN=127.0.0.1" 2> /dev/null
echo "subjectAltName=IP:127.0.0.1" > "$work/server.ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -set_serial 1 -days 2 \
  -extfile "$work/server.ext" -out "$work/server.pem" 2> /dev/null

# rtmphooksd with a plain and a TLS listener.
start_rtmphooksd() {
  local port=$1 tls_port=$2
  cat > "$work/rtmphooks.conf" <<CONF
server = {
  listen = [ "127.0.0.1:$port" ];
  listen_tls = [ "127.0.0.1:$tls_port" ];
  tls = { certificate = "$work/server.pem"; key = "$work/server.key"; };
  max_connections = 20000;
};
CONF
  taskset -c $server_cpu "$RH_DAEMON" -c "$work/rtmphooks.conf" --log-level warning 2> "$work/rtmphooksd.log" &
  server_pid=$!
  wait_listening "$port"
  wait_listening "$tls_port"
}

stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

: > "$results"
for players in $POINTS; do
  for run in $(seq "$RUNS"); do
    for kind in nginx rh-plain rh-tls; do
      port=$(free_port)
      tls_port=$(free_port)
      while [ "$tls_port" = "$port" ]; do tls_port=$(free_port); done
      tls_args=()
      if [ "$kind" = nginx ]; then
        start_nginx "$port"
        server_pid=$!
        wait_listening "$port"
      else
        start_rtmphooksd "$port" "$tls_port"
        [ "$kind" = rh-tls ] && tls_args=(--tls-port "$tls_port")
      fi
      line=$(taskset -c $load_cpu "$RH_FANOUT_LOAD" --port "$port" "${tls_args[@]}" --flv "$work/clip.flv" \
               --players "$players" --warmup "$WARMUP" --seconds "$WINDOW" --late "$LATE" \
               --server-pid "$server_pid" || true)
      stop_server
      echo "rtmps: $kind players=$players run=$run: $line" >&2
      echo "$kind $players $run $line" >> "$results"
    done
  done
done

# Full handshakes per second, on a fresh server each run.
handshakes="$work/handshakes.txt"
: > "$handshakes"
for run in $(seq "$RUNS"); do
  port=$(free_port)
  tls_port=$(free_port)
  while [ "$tls_port" = "$port" ]; do tls_port=$(free_port); done
  start_rtmphooksd "$port" "$tls_port"
  ticks_before=$(cpu_ticks "$server_pid")
  out=$(taskset -c $load_cpu openssl s_time -connect "127.0.0.1:$tls_port" -new -time "$HANDSHAKE_SECONDS" 2>&1 || true)
  ticks_after=$(cpu_ticks "$server_pid")
  stop_server
  # "N connections in T real seconds"
  read -r count seconds < <(sed -n 's/^\([0-9]*\) connections in \([0-9.]*\) real seconds.*/\1 \2/p' <<< "$out" | head -1)
  if [ -z "${count:-}" ]; then
    echo "rtmps: openssl s_time said: $out" >&2
    continue
  fi
  hz=$(getconf CLK_TCK)
  awk -v c="$count" -v s="$seconds" -v t="$((ticks_after - ticks_before))" -v hz="$hz" -v r="$run" \
    'BEGIN { printf "handshakes %d %d per_second=%.0f server_cpu=%.1f\n", 0, r, c / s, 100 * t / hz / s }' \
    | tee -a "$handshakes" >&2
done

echo
echo "One publisher at 2 Mb/s in clear; players in clear or through TLS 1.3; median of $RUNS runs (min-max);"
echo "server on core $server_cpu, load on core $load_cpu; CPU over a ${WINDOW} s window after ${WARMUP} s of warm-up;"
echo "a run counts when every player got every video message."
echo
printf '| players | server | runs complete | CPU %% of a core | vs rtmphooksd in clear | vs nginx-rtmp | RSS MiB | latency p50 / p99 ms | load CPU %% |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
for players in $POINTS; do
  ngx_cpu=$(stat nginx "$players" server_cpu | cut -d' ' -f1)
  plain_cpu=$(stat rh-plain "$players" server_cpu | cut -d' ' -f1)
  for kind in nginx rh-plain rh-tls; do
    case $kind in
      nginx) name="nginx-rtmp, in clear" ;; rh-plain) name="rtmphooksd, in clear" ;; *) name="rtmphooksd, RTMPS" ;;
    esac
    cpu=$(stat "$kind" "$players" server_cpu)
    p50=$(stat "$kind" "$players" latency_p50_ms | cut -d' ' -f1)
    p99=$(stat "$kind" "$players" latency_p99_ms | cut -d' ' -f1)
    load=$(stat "$kind" "$players" load_cpu | cut -d' ' -f1)
    rss=$(stat "$kind" "$players" server_rss_kib | awk '{ printf "%.1f", $1 / 1024 }')
    printf '| %s | %s | %s of %s | %s | %s | %s | %s | %s / %s | %s |\n' "$players" "$name" \
      "$(complete_runs "$kind" "$players")" "$RUNS" "$(fmt "$cpu")" "$(ratio "${cpu%% *}" "$plain_cpu")" \
      "$(ratio "${cpu%% *}" "$ngx_cpu")" "$rss" "$p50" "$p99" "$load"
  done
done

# The same median and spread over the handshake runs.
results=$handshakes
echo
echo "TLS handshakes (full, TLS 1.3, ECDSA P-256) from openssl s_time over ${HANDSHAKE_SECONDS} s:" \
     "$(fmt "$(stat handshakes 0 per_second)") per second, the server at $(fmt "$(stat handshakes 0 server_cpu)")% of a core."
