#!/bin/sh
# Runs one GTest program with TAP output (automake's LOG_COMPILER).
exec "$@" --tap
