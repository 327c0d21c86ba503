"""Compile-time refusals: each case is compiled with -fsyntax-only, once as
written (it must fail, with the static_assert's message) and once with its
positive twin's define (it must compile, which shows that the failure is the
refusal and not a broken harness). Prints Boost.Test's summary line so that
scripts/count_tests.py counts the cases."""
import subprocess
import sys

compiler, include, source, message, define = sys.argv[1:6]
base = [compiler, "-std=c++20", "-fsyntax-only", "-I", include, "-DBOOST_ASIO_NO_DEPRECATED", source]
failed = 0
refused = subprocess.run(base, capture_output=True, text=True)
if refused.returncode == 0:
    print(f"error: {source} compiled; it must be refused")
    failed += 1
elif message not in refused.stderr:
    print(f"error: {source} failed to compile, but not with \"{message}\":\n{refused.stderr[-2000:]}")
    failed += 1
twin = subprocess.run(base + ["-D" + define], capture_output=True, text=True)
if twin.returncode != 0:
    print(f"error: the positive twin (-D{define}) does not compile:\n{twin.stderr[-2000:]}")
    failed += 1
print(f"{2 - failed} test cases out of 2 passed")
if failed:
    print(f"{failed} test cases out of 2 failed")
sys.exit(1 if failed else 0)
