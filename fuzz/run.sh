#!/usr/bin/env bash
# Builds the libFuzzer targets with clang, ASan and UBSan (and coverage for
# the whole library) and runs each one from its seed corpus.
#
#   fuzz/run.sh            CI: each target for a fixed number of runs
#                          (about 20 s in all on one core)
#   fuzz/run.sh SECONDS    a long run: each target for SECONDS, one after the
#                          other; e.g. fuzz/run.sh 300
#   fuzz/run.sh SECONDS TARGET...   only these targets
#
# The build goes to $NETTRACE_FUZZ_BUILD (default /tmp/build-fuzz); new
# inputs and crash reproducers go to $NETTRACE_FUZZ_WORK (default
# /tmp/nettrace-fuzz), never into the repository. A crash stops the script
# with status 1 and leaves its input as $NETTRACE_FUZZ_WORK/<target>/crash-*;
# copy it into fuzz/regressions/<target>/ (the test suite replays that
# directory: test/fuzz_replay_test.cpp) and fix the bug.
#
# Needs clang++ with libFuzzer (Debian: clang-14 and libclang-rt-14-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${NETTRACE_FUZZ_BUILD:-/tmp/build-fuzz}
work=${NETTRACE_FUZZ_WORK:-/tmp/nettrace-fuzz}
seconds=${1:-}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(address_fuzzer resolve_spec_fuzzer dns_answer_fuzzer http_connect_fuzzer socks5_reply_fuzzer json_text_fuzzer svcb_fuzzer)

# Fixed runs for CI, sized from measured speeds (executions per second with
# ASan+UBSan on one core: address ~200k, resolve_spec ~65k, svcb ~60k, dns_answer ~7k,
# json_text ~2.4k: its inputs grow to -max_len, and it checks each several times).
declare -A ci_runs=([address_fuzzer]=1000000 [resolve_spec_fuzzer]=500000 [dns_answer_fuzzer]=50000 [http_connect_fuzzer]=50000 [socks5_reply_fuzzer]=500000 [json_text_fuzzer]=30000 [svcb_fuzzer]=200000)

if [ ! -f "$build/build.ninja" ]; then
  # -fno-sanitize=function: clang 14's check misfires on Asio's coroutine frames.
  # -fno-sanitize-recover=all: UBSan findings abort, so libFuzzer keeps the input.
  CXX=${CXX:-clang++} CXXFLAGS="-fsanitize=fuzzer-no-link -fno-sanitize=function -fno-sanitize-recover=all" \
    meson setup "$build" "$root" -Dfuzz=true -Dtests=false -Dbenchmarks=false \
      -Db_sanitize=address,undefined -Db_lundef=false -Ddefault_library=static -Dbuildtype=debugoptimized
fi
built=()
for t in "${targets[@]}"; do
  if grep -q "build fuzz/$t:" "$build/build.ninja"; then built+=("fuzz/$t"); fi
done
ninja -C "$build" "${built[@]}"

status=0
for t in "${targets[@]}"; do
  exe=$build/fuzz/$t
  if [ ! -x "$exe" ]; then
    echo "== $t: not built (dns_answer_fuzzer needs c-ares)"; continue
  fi
  mkdir -p "$work/$t"
  args=("$work/$t" "fuzz/corpus/$t")
  [ -d "fuzz/regressions/$t" ] && args+=("fuzz/regressions/$t")
  [ -f "fuzz/$t.dict" ] && args+=("-dict=fuzz/$t.dict")
  args+=(-artifact_prefix="$work/$t/" -max_len=4096 -timeout=20 -rss_limit_mb=4096 -print_final_stats=1)
  if [ -n "$seconds" ]; then
    args+=(-max_total_time="$seconds")
  else
    args+=(-runs="${ci_runs[$t]}")
  fi
  echo "== $t ${args[*]}"
  start=$(date +%s)
  if ! ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "$exe" "${args[@]}" 2>"$work/$t.log"; then
    status=1
    echo "== $t: CRASH, see $work/$t.log and $work/$t/crash-*"
    tail -40 "$work/$t.log"
  fi
  grep -E "stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)" "$work/$t.log" || true
  echo "== $t: $(( $(date +%s) - start )) s"
done
exit $status
