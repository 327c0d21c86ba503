#!/usr/bin/env bash
# Installs what is missing, configures build/ once, and builds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -f build/build.ninja ]; then
  # -O1 for the test build: less compile time than the default -O2
  # (CI builds everything several times and has 30 minutes). Speed is
  # measured in release builds (benchmarks/run.sh makes build-bench).
  meson setup build -Doptimization=1 "$@"
fi
ninja -C build
