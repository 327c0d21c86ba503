#!/usr/bin/env bash
# Builds and runs every benchmark, printing the tables of benchmarks/README.md:
# nettrace-bench (cases 1 to 6), history-bench, scale-bench, soak-bench,
# tls-bench, proxy-bench, nettrace-microbench, and the comparison with Go's
# net.Dialer (skipped without Go). About six minutes; all on loopback.
#
#   bash benchmarks/run.sh
#
# BENCH_BUILD_DIR: the build directory (default build-bench, configured with
#   -Dbenchmarks=true -Dbuildtype=release when missing).
# BENCH_LOCK: a file; each step then runs under `flock FILE`, so that on a
#   shared machine builds and other benchmarks never run beside a measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BENCH_BUILD_DIR:-build-bench}
step() { if [ -n "${BENCH_LOCK:-}" ]; then flock "$BENCH_LOCK" "$@"; else "$@"; fi; }

bash scripts/setup.sh bench >&2
if [ ! -f "$dir/build.ninja" ]; then
  step meson setup "$dir" -Dbenchmarks=true -Dbuildtype=release >&2
fi
step ninja -C "$dir" benchmarks/nettrace-bench benchmarks/nettrace-microbench benchmarks/tls-bench benchmarks/proxy-bench \
  benchmarks/history-bench benchmarks/scale-bench benchmarks/soak-bench >&2

echo "## Machine"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores (shared)"
echo "- kernel: $(uname -r)"
echo "- compiler: $(c++ --version | head -1)"
python3 - "$dir" <<'PY'
import json, shlex, sys
# The flags src/dial.cpp was built with, as the build recorded them.
for c in json.load(open(f"{sys.argv[1]}/compile_commands.json")):
    if c["file"].endswith("src/dial.cpp"):
        flags = [f for f in shlex.split(c["command"])[1:] if f.startswith(("-O", "-std", "-D", "-f", "-g", "-W"))]
        print("- flags (src/dial.cpp):", " ".join(f"`{f}`" for f in flags))
PY
echo "- fd limit (hard): $(ulimit -Hn)"

step "$dir/benchmarks/nettrace-bench" --cases=1,2,3
step "$dir/benchmarks/nettrace-bench" --cases=4
step "$dir/benchmarks/nettrace-bench" --cases=5,6
step "$dir/benchmarks/history-bench"
echo
echo "### Scale: dials in flight on one thread, spread over 127.0.0.1-50 x 2 ports"
step "$dir/benchmarks/scale-bench" --in-flight=10000,100000
echo
echo "### Soak: 1,000,000 sequential traced dials with a connection_history"
step "$dir/benchmarks/soak-bench" 2>/dev/null
echo
echo "### dial_tls against raw Asio connect + ssl::stream handshake"
echo
step "$dir/benchmarks/tls-bench"
echo
echo "### A dial through an HTTP CONNECT and a SOCKS5 proxy against raw Asio by hand"
echo
step "$dir/benchmarks/proxy-bench"
echo
step bash benchmarks/go/compare.sh "$PWD/$dir/benchmarks/nettrace-bench"
echo
echo "### nettrace-microbench (Google Benchmark; absolute times, for profiling)"
echo
echo '```'
step "$dir/benchmarks/nettrace-microbench" --benchmark_min_time=0.2 --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true 2>&1 | grep -E '^(Benchmark|---|.*_median)' || true
echo '```'
