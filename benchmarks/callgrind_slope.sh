#!/usr/bin/env bash
# User-space instructions per literal dial, free of the machine's noise: the
# slope of callgrind's instruction count between 1,000 and 3,000 sequential
# dials (`nettrace-bench --loop=nettrace|raw`), so start-up and warm-up
# cancel out. The listener is `nettrace-bench --serve` in a process of its
# own, outside callgrind.
#
#   bash benchmarks/callgrind_slope.sh [nettrace|raw] [build dir]   # needs valgrind
set -euo pipefail
kind=${1:-nettrace}
bench=${2:-build-bench}/benchmarks/nettrace-bench
out=$(mktemp -d)
trap 'rm -rf "$out"; [ -n "${SERVE_PID:-}" ] && kill "$SERVE_PID" 2>/dev/null || true' EXIT
exec 3< <(sleep 900)  # the listener's stdin: it serves until this closes
# exec: SERVE_PID is then the listener itself, which the trap stops (killing
# the subshell instead left the listener running until its stdin closed).
coproc SERVE { exec "$bench" --serve <&3; }
read -r port <&"${SERVE[0]}"
counts=()
for n in 1000 3000; do
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.$n" "$bench" --loop="$kind" --port="$port" --dials="$n" \
    >/dev/null 2>"$out/cg.$n.err"
  counts+=("$(grep -h '^summary\|^totals' "$out/cg.$n" | head -1 | awk '{print $2}')")
done
echo "$kind: $(( (counts[1] - counts[0]) / 2000 )) instructions/dial (callgrind, 1,000 to 3,000 dials)"
