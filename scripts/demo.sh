#!/usr/bin/env bash
# Sets up, builds, and runs the nettrace-dial demo: a Happy Eyeballs race
# between a black-holed [::1] and a live 127.0.0.1, all on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
exec ./build/tools/nettrace-dial --demo "$@"
