#!/usr/bin/env bash
# Sets up, builds, and runs the whole test suite; ends with the line
# "N passed, N failed" counting Boost.Test cases across every test program.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh || { echo "0 passed, 1 failed"; exit 1; }
meson test -C build --print-errorlogs "$@"
status=$?
python3 scripts/count_tests.py build/meson-logs/testlog.json
counted=$?
[ "$status" -eq 0 ] && [ "$counted" -eq 0 ]
