# Shared by the benchmark scripts (fanout.sh, rtmps.sh). The functions
# below bench_setup use work (a scratch directory), server_cpu and
# results, which the scripts set.

NGINX_MODULE=/usr/lib/nginx/modules/ngx_rtmp_module.so

# What every run needs: nginx-rtmp to compare with, the server's core and
# the load's (one each on two cores or more), descriptors for 3000+
# players on each side. NAME prefixes the messages.
bench_setup() {
  local name=$1
  : "${RH_DAEMON:?path to rtmphooksd}" "${RH_FANOUT_LOAD:?path to fanout-load}"
  [ -f "$NGINX_MODULE" ] || { echo "$name: $NGINX_MODULE missing (apt-get install libnginx-mod-rtmp)" >&2; exit 1; }
  if [ "$(nproc)" -ge 2 ]; then server_cpu=0; load_cpu=1; else server_cpu=0; load_cpu=0; fi
  ulimit -n "$(ulimit -Hn)"
}

# A port nothing listens on (bash's /dev/tcp: no other tool needed),
# below the kernel's ephemeral range (32768-60999), where a player's or a
# relay's own end of a connection could hold it.
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 12000))
    (exec 3<> "/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

# One encode up front, constant 2 Mb/s (noise keeps the encoder at its
# rate), published by fanout-load in real time in a loop.
encode_clip() {
  echo "bench: encoding a 30 s 1280x720 2 Mb/s H.264 + AAC clip"
  ffmpeg -nostdin -loglevel error -f lavfi -i testsrc=size=1280x720:rate=30 -f lavfi -i sine=frequency=440 \
    -t 30 -vf noise=alls=12:allf=t -c:v libx264 -preset veryfast -b:v 1900k -minrate 1900k -maxrate 1900k \
    -bufsize 950k -x264-params nal-hrd=cbr -g 60 -pix_fmt yuv420p -c:a aac -b:a 96k "$work/clip.flv"
}

wait_listening() {
  local port=$1
  for _ in $(seq 100); do
    if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "bench: nothing listens on $port" >&2; return 1
}

# nginx-rtmp (Debian's libnginx-mod-rtmp, one worker) on 127.0.0.1:port,
# pinned to the server's core, in the background.
start_nginx() {
  local port=$1
  rm -rf "$work/nginx"; mkdir -p "$work/nginx/logs"
  cat > "$work/nginx/nginx.conf" <<NGINX
load_module $NGINX_MODULE;
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 16384;
error_log $work/nginx/logs/error.log;
pid $work/nginx/nginx.pid;
events { worker_connections 16384; }
rtmp {
  server {
    listen 127.0.0.1:$port;
    chunk_size 4096;
    application live { live on; }
  }
}
NGINX
  taskset -c $server_cpu nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
}

# field NAME LINE -> value of NAME=value in LINE
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p; s/^$1=\([^ ]*\).*/\1/p" <<< "$2" | head -1; }

# median and spread of one metric over the runs of (kind, players)
stat() {
  local kind=$1 players=$2 name=$3
  awk -v k="$kind" -v p="$players" -v n="$name" '
    $1 == k && $2 == p { for (i = 4; i <= NF; i++) { split($i, kv, "="); if (kv[1] == n) v[c++] = kv[2] + 0 } }
    END {
      if (c == 0) { print "-"; exit }
      for (i = 0; i < c; i++) for (j = i + 1; j < c; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
      printf "%s %s %s\n", v[int((c - 1) / 2)], v[0], v[c - 1] }' "$results"
}

# Runs of (kind, players) where every player got the full stream.
complete_runs() {
  awk -v k="$1" -v p="$2" '$1 == k && $2 == p {
      full = 0; n = -1
      for (i = 4; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "full_rate") full = kv[2]; if (kv[1] == "players") n = kv[2] }
      if (full == n) c++ }
    END { print c + 0 }' "$results"
}

fmt() {  # median (min-max)
  local median min max; read -r median min max <<< "$1"
  [ "$median" = "-" ] && { echo "-"; return; }
  if [ "$min" = "$max" ]; then echo "$median"; else echo "$median ($min-$max)"; fi
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }

