#!/bin/sh
# The layering of src/, as README's Layout section draws it: a folder
# may include its own headers and those of the folders before it in
#   util protocol hooks config server api daemon
# and never one after it. Prints TAP: one line per folder.
top=${srcdir:-$(dirname "$0")/..}/src
order="util protocol hooks config server api daemon"
echo "1..7"
n=0
failed=0
for folder in $order; do
  n=$((n + 1))
  # The folders after this one.
  after=$(echo "$order" | tr ' ' '\n' | sed -n "/^$folder\$/,\$p" | sed 1d | tr '\n' '|' | sed 's/|$//')
  bad=""
  if [ -n "$after" ]; then
    bad=$(grep -En "^#include \"($after)/" "$top/$folder"/*.c "$top/$folder"/*.h 2>/dev/null)
  fi
  if [ -z "$bad" ]; then
    echo "ok $n - $folder includes nothing above it"
  else
    echo "not ok $n - $folder includes a folder above it:"
    echo "$bad" | sed 's/^/# /'
    failed=1
  fi
done
exit $failed
