#!/bin/sh
# Installs a built rtmphooks .deb and checks it as an operator would: the
# user and state directory exist, the packaged config passes -t as the
# packaged user, the unit verifies and is hardened, the installed daemon
# tells a service manager READY/RELOADING/STOPPING, remove keeps the
# config, purge removes it and the state directory.
# Usage: check-installed.sh PATH/TO/rtmphooks_VERSION_ARCH.deb  (as root)
set -eu

deb=$(realpath "$1")
work=$(mktemp -d /tmp/rtmphooks-package-XXXXXX)
chmod 0755 "$work"
daemon_pid=
socat_pid=
cleanup() {
  [ -n "$daemon_pid" ] && kill -KILL "$daemon_pid" 2>/dev/null || true
  [ -n "$socat_pid" ] && kill "$socat_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "check-installed: FAIL: $*" >&2
  [ -f "$work/daemon.log" ] && sed 's/^/  daemon: /' "$work/daemon.log" >&2
  exit 1
}
step() { echo "check-installed: $*"; }

# Waits (up to 20 s) until FILE holds PATTERN at least COUNT times.
wait_for() {
  file=$1 pattern=$2 count=$3
  for _ in $(seq 200); do
    n=$(grep -o "$pattern" "$file" 2>/dev/null | wc -l)
    [ "$n" -ge "$count" ] && return 0
    sleep 0.1
  done
  fail "no $pattern (x$count) in $file: $(cat "$file" 2>/dev/null)"
}

step "installing $deb"
apt-get install -y -q "$deb" >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get install"; }

step "system user and state directory"
id rtmphooks >/dev/null || fail "no rtmphooks user"
[ "$(stat -c %U:%a /var/lib/rtmphooks)" = "rtmphooks:750" ] || fail "/var/lib/rtmphooks: $(stat -c %U:%a /var/lib/rtmphooks)"
[ -d /var/lib/rtmphooks/recordings ] || fail "no /var/lib/rtmphooks/recordings"
dpkg-query -W -f='${Conffiles}\n' rtmphooks | grep -q ' /etc/rtmphooks.conf ' || fail "/etc/rtmphooks.conf is not a conffile"
man -w rtmphooksd >/dev/null && man -w rtmphooks.conf >/dev/null || fail "man pages not found"

step "rtmphooksd -t as the packaged user"
runuser -u rtmphooks -- /usr/sbin/rtmphooksd -t 2>"$work/t.log" || { cat "$work/t.log"; fail "rtmphooksd -t"; }
grep -q "configuration /etc/rtmphooks.conf is valid" "$work/t.log" || fail "-t said: $(cat "$work/t.log")"

step "unit verified and hardened"
systemd-analyze verify /lib/systemd/system/rtmphooks.service || fail "systemd-analyze verify"
# 6.9 is the top of the MEDIUM band: anything above is EXPOSED.
systemd-analyze security --offline=yes --threshold=69 /lib/systemd/system/rtmphooks.service >"$work/security.log" 2>&1 \
  || { cat "$work/security.log"; fail "systemd-analyze security"; }
grep 'Overall exposure level' "$work/security.log"

step "notifications from the installed daemon"
socat -u "UNIX-RECV:$work/notify.sock" "OPEN:$work/notify.log,creat,append" &
socat_pid=$!
for _ in $(seq 100); do [ -S "$work/notify.sock" ] && break; sleep 0.1; done
chmod 0666 "$work/notify.sock"
# A port below the kernel's ephemeral range (client sockets elsewhere on
# the machine cannot hold it) that nothing listens on; if it is taken
# between the check and the bind, the daemon says so and we try another.
started=
for _ in $(seq 10); do
  port=$(( 20000 + RANDOM % 12000 ))
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
  NOTIFY_SOCKET="$work/notify.sock" setpriv --reuid=rtmphooks --regid=rtmphooks --init-groups \
    /usr/sbin/rtmphooksd -c /etc/rtmphooks.conf --listen "127.0.0.1:$port" 2>"$work/daemon.log" &
  daemon_pid=$!
  for _ in $(seq 200); do
    grep -q "READY=1" "$work/notify.log" 2>/dev/null && { started=yes; break; }
    kill -0 "$daemon_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$started" ] && break
  wait "$daemon_pid" 2>/dev/null || true
  daemon_pid=
  grep -q "Address already in use" "$work/daemon.log" || break
done
[ -n "$started" ] || fail "the installed daemon did not report READY=1: $(cat "$work/daemon.log")"
kill -HUP "$daemon_pid"
wait_for "$work/notify.log" "RELOADING=1" 1
wait_for "$work/notify.log" "READY=1" 2
kill -TERM "$daemon_pid"
wait_for "$work/notify.log" "STOPPING=1" 1
status=0
wait "$daemon_pid" || status=$?
daemon_pid=
[ "$status" -eq 0 ] || fail "daemon exited with $status"
grep -q "configuration reloaded from /etc/rtmphooks.conf" "$work/daemon.log" || fail "no reload in the log"

step "remove keeps the configuration, purge removes it and the state"
echo "# edited by the operator" >> /etc/rtmphooks.conf
dpkg -r rtmphooks >/dev/null
[ -f /etc/rtmphooks.conf ] || fail "dpkg -r removed /etc/rtmphooks.conf"
[ ! -e /usr/sbin/rtmphooksd ] || fail "dpkg -r left the binary"
[ -d /var/lib/rtmphooks ] || fail "dpkg -r removed /var/lib/rtmphooks"
dpkg -P rtmphooks >/dev/null
[ ! -e /etc/rtmphooks.conf ] || fail "dpkg -P kept /etc/rtmphooks.conf"
[ ! -e /var/lib/rtmphooks ] || fail "dpkg -P kept /var/lib/rtmphooks"

step "all package checks passed"
