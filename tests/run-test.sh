#!/bin/sh
# Runs one GTest program with TAP output (automake's LOG_COMPILER) with a
# TMPDIR of its own, removed afterwards whatever happened to the program.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/rtmphooks-check-XXXXXX") || exit 99
trap 'rm -rf "$scratch"' EXIT
TMPDIR=$scratch
export TMPDIR
"$@" --tap
