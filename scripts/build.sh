#!/usr/bin/env bash
# Installs what is missing, configures build/ once, and builds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -f build/build.ninja ]; then
  # -O0 and line tables only (-g1) for the test build: CI builds the suite
  # three times within 30 minutes, and an Asio test file compiles in 11 s
  # at -O0 -g1 against 16 s at -O1 -g1 (test/dial_test.cpp; -g instead of
  # -g1 costs half as much again). The suite waits on sockets and timers,
  # not on the CPU: it runs about as fast at -O0.
  # Backtraces keep their file:line. Speed is measured in release builds
  # (benchmarks/run.sh makes build-bench).
  meson setup build -Doptimization=0 -Ddebug=false -Dcpp_args=-g1 "$@"
fi
ninja -C build
