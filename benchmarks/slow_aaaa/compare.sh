#!/usr/bin/env bash
# Issue 3's comparison: AAAA answered 1 s late, A at once, IPv4 live.
# nettrace-dial connects after the 50 ms resolution delay; Go's net.Dialer
# waits for both answers. Everything on loopback. Needs golang-go and a
# built nettrace (build/tools/nettrace-dial).
set -euo pipefail
cd "$(dirname "$0")"
root=../..
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
dns_port=$(free_port)
live_port=$(free_port)
python3 slow_aaaa_dns.py "$dns_port" 1.0 60 &
dns_pid=$!
python3 -c "
import socket,time
s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('127.0.0.1',$live_port));s.listen(64)
s.settimeout(1.0);end=time.time()+60
while time.time()<end:
  try: c,_=s.accept(); c.close()
  except socket.timeout: pass" &
live_pid=$!
trap 'kill $dns_pid $live_pid 2>/dev/null' EXIT
sleep 0.3  # let both Python servers bind (this is a demo script, not a test)
for i in 1 2 3; do
  "$root/build/tools/nettrace-dial" --json --no-hosts --nameserver "127.0.0.1:$dns_port" tcp "slow6.test:$live_port" |
    python3 -c 'import json,sys
for l in sys.stdin:
  e=json.loads(l)
  if e["event"]=="result": print("nettrace: connected to %s in %.1f ms" % (e["remote"], e["t_ms"]))'
  GO111MODULE=off GOFLAGS= go run dialer.go "127.0.0.1:$dns_port" "slow6.test:$live_port"
done
