#!/bin/sh
# Runs one GTest program with TAP output (automake's LOG_COMPILER) with a
# TMPDIR of its own, removed afterwards whatever happened to the program
# (a small file system a test mounted there, to fill it, is unmounted
# first).
scratch=$(mktemp -d "${TMPDIR:-/tmp}/rtmphooks-check-XXXXXX") || exit 99
cleanup() {
  grep -o " $scratch/[^ ]*" /proc/self/mounts 2>/dev/null | while read -r mounted; do
    umount -l "$mounted"
  done
  rm -rf "$scratch"
}
trap cleanup EXIT
TMPDIR=$scratch
export TMPDIR
"$@" --tap
