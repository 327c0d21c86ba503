#!/usr/bin/env bash
# nettrace against Go's net.Dialer on the same sequential loopback dial loop:
# one listener (nettrace-bench --serve), then rounds alternating Go's loop,
# nettrace's and raw Asio's (the ceiling), each program timing its own loop
# of literal-address dials. Prints the dial rates and the ratios to Go per
# round, and their medians.
#
#   bash benchmarks/go/compare.sh [path/to/nettrace-bench]
#
# Needs go (Debian: golang-go); builds dialloop.go from the standard library
# only, with the module proxy off. ROUNDS and DIALS override the defaults.
set -euo pipefail
here=$(dirname "$0")
bench=$(realpath "${1:-$here/../../build-bench/benchmarks/nettrace-bench}")  # before the cd: relative to the caller
cd "$here"
rounds=${ROUNDS:-15}
dials=${DIALS:-3000}

if ! command -v go >/dev/null; then
  echo "Go comparison skipped: go is not installed (Debian: golang-go)"
  exit 0
fi

tmp=$(mktemp -d)
serve_pid=""
cleanup() {
  exec 3>&- 2>/dev/null || true
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

GO111MODULE=off GOFLAGS= GOPROXY=off go build -o "$tmp/dialloop" dialloop.go

# The listener runs until its stdin (a FIFO held open here) closes.
mkfifo "$tmp/stop"
"$bench" --serve < "$tmp/stop" > "$tmp/port" &
serve_pid=$!
exec 3> "$tmp/stop"
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(cat "$tmp/port")
[ -n "$port" ] || { echo "compare.sh: the listener did not start" >&2; exit 1; }

echo "### Go's net.Dialer vs nettrace (and raw Asio): sequential dials of 127.0.0.1:$port ($dials per run, $rounds rounds)"
echo
echo "| round | Go dials/s | raw Asio dials/s | nettrace dials/s | nettrace/Go | raw Asio/Go |"
echo "|---|---|---|---|---|---|"
: > "$tmp/ratios"
rate() {
  case $1 in
    go) "$tmp/dialloop" -addr "127.0.0.1:$port" -dials "$dials" ;;
    *) "$bench" --loop="$1" --port="$port" --dials="$dials" ;;
  esac
}
kinds=(go raw nettrace)
for r in $(seq "$rounds"); do
  declare -A rates=()
  for i in 0 1 2; do  # the order rotates from round to round
    k=${kinds[$(((i + r) % 3))]}
    rates[$k]=$(rate "$k")
  done
  g=${rates[go]} a=${rates[raw]} n=${rates[nettrace]}
  read -r rn ra < <(python3 -c "print(f'{$n / $g:.3f} {$a / $g:.3f}')")
  echo "$rn $ra" >> "$tmp/ratios"
  echo "| $r | $g | $a | $n | $rn | $ra |"
done
python3 - "$tmp/ratios" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
for name, col in (("nettrace/Go", 0), ("raw Asio/Go", 1)):
    r = [float(x[col]) for x in rows]
    print(f"\n{name} dial rate: median {statistics.median(r):.3f} [{min(r):.3f}, {max(r):.3f}]", end="")
print()
PY
