#!/usr/bin/env bash
# The library's tests under AddressSanitizer + UndefinedBehaviorSanitizer,
# and the concurrency tests under ThreadSanitizer. Any report fails the
# run. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

status=0
# A shared library built with sanitizers has undefined sanitizer symbols
# until the executable links the runtime: hence b_lundef=false.
# Line tables only (-g1: enough for the reports' file:line) rather than -g.
# These builds dominate CI's time, and their tests run in seconds, so they
# are optimised for compile time: ASan+UBSan at -O0 (test/dial_test.cpp
# compiles in 27 s at -O0 -g1, 47 s at -O1 -g1, 173 s at -O2 -g; -O0 also
# keeps every access that ASan checks); TSan at -O1, as its documentation
# asks for a reasonable speed (its build is the cheaper one: 16 s for the
# same file).
san_opts=(-Db_lundef=false -Ddebug=false -Dcpp_args=-g1)
if [ ! -f build-asan/build.ninja ]; then
  meson setup build-asan -Db_sanitize=address,undefined -Doptimization=0 "${san_opts[@]}" >/dev/null || exit 1
fi
# ASan+UBSan: the tests of the sanitize suite (test/meson.build says which
# and why), and only their executables are built. The parsers' fuzz
# targets run under ASan+UBSan in fuzz/run.sh.
ninja -C build-asan build.ninja >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
asan_suites=(sanitize)
asan_targets=$(meson introspect build-asan --tests | python3 -c '
import json, os, sys
wanted = set(sys.argv[1:])
for t in json.load(sys.stdin):
    if any(s.split(":")[-1] in wanted for s in t["suite"]):
        print(os.path.relpath(t["cmd"][0], "build-asan"))
        # Programs a test runs (nettrace-dial) come as build-relative arguments.
        for c in t["cmd"][1:]:
            if not c.startswith("-") and not os.path.isabs(c) and "/" in c:
                print(c)' "${asan_suites[@]}" | sort -u)
[ -n "$asan_targets" ] || { echo "no test in suites ${asan_suites[*]}"; echo "0 passed, 1 failed"; exit 1; }
ninja -C build-asan $asan_targets >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
suite_args=()
for s in "${asan_suites[@]}"; do suite_args+=(--suite "$s"); done
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --no-rebuild --print-errorlogs "${suite_args[@]}" || status=1

# ThreadSanitizer: the tests of the concurrency suite (test/meson.build gives
# each test its suites), and only their executables are built.
if [ ! -f build-tsan/build.ninja ]; then
  meson setup build-tsan -Db_sanitize=thread -Doptimization=1 "${san_opts[@]}" >/dev/null || exit 1
fi
# build.ninja first: regenerating it (when a meson.build changed) also
# refreshes the list of tests that meson introspect reads below.
ninja -C build-tsan build.ninja >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
tsan_targets=$(meson introspect build-tsan --tests | python3 -c '
import json, os, sys
for t in json.load(sys.stdin):
    if any(s.split(":")[-1] == "concurrency" for s in t["suite"]):
        print(os.path.relpath(t["cmd"][0], "build-tsan"))')
[ -n "$tsan_targets" ] || { echo "no test in the concurrency suite"; echo "0 passed, 1 failed"; exit 1; }
ninja -C build-tsan $tsan_targets >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/scripts/tsan.supp" \
  meson test -C build-tsan --no-rebuild --print-errorlogs --suite concurrency || status=1

python3 scripts/count_tests.py build-asan/meson-logs/testlog.json build-tsan/meson-logs/testlog.json || status=1
exit $status
