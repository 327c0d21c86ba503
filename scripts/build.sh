#!/usr/bin/env bash
# Installs what is missing, configures build/ once, and builds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -f build/build.ninja ]; then
  # -O1 and line tables only (-g1) for the test build: full debug info (-g)
  # made an Asio test file compile 1.5 times as long (48 s against 32 s,
  # measured), and CI builds everything several times within 30 minutes.
  # Backtraces and sanitizer reports keep their file:line. Speed is
  # measured in release builds (benchmarks/run.sh makes build-bench).
  meson setup build -Doptimization=1 -Ddebug=false -Dcpp_args=-g1 "$@"
fi
ninja -C build
