"""Sums Boost.Test's per-module reports from meson's test logs (one or more
testlog.json files) into one line, "N passed, N failed". A test program that
crashed or timed out before its report counts as one failure, so a dying
binary can never look green."""
import json
import re
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    with open(path) as log:
        for line in log:
            run = json.loads(line)
            out = run.get("stdout", "") + run.get("stderr", "")
            p = sum(int(n) for n in re.findall(r"(\d+) test cases? out of \d+ passed", out))
            f = sum(int(n) for n in re.findall(r"(\d+) test cases? out of \d+ failed", out))
            s = sum(int(n) for n in re.findall(r"(\d+) test cases? out of \d+ skipped", out))
            if run.get("result") != "OK" and f == 0:
                f = 1
                print(f"{run.get('name')}: {run.get('result')} without a failure report", file=sys.stderr)
            passed, failed, skipped = passed + p, failed + f, skipped + s
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed or passed == 0 else 0)
