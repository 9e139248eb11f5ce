#!/bin/sh
# The layering of src/, as README's Layout section draws it: a folder
# may include its own headers and those of the folders before it in
#   util protocol hooks config server cluster api daemon
# and never one after it; and above the server, only its public headers
# (server.h, stream-info.h): the rest of server/ is its own. Prints TAP.
top=${srcdir:-$(dirname "$0")/..}/src
order="util protocol hooks config server cluster api daemon"
echo "1..9"
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
n=$((n + 1))
private=$(grep -En '^#include "server/' "$top"/cluster/*.[ch] "$top"/api/*.[ch] "$top"/daemon/*.[ch] "$top"/main.c 2>/dev/null \
  | grep -Ev '"server/(server|stream-info)\.h"')
if [ -z "$private" ]; then
  echo "ok $n - above the server, only its public headers"
else
  echo "not ok $n - a private server header is used above the server:"
  echo "$private" | sed 's/^/# /'
  failed=1
fi
exit $failed
