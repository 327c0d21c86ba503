#!/usr/bin/env bash
# Installs what nettrace needs to build and test, from Debian bookworm packages only.
# Idempotent: packages already present are skipped, so a warm machine pays nothing.
set -euo pipefail

packages=(
  g++ meson ninja-build pkg-config
  libboost1.81-dev libboost-test1.81-dev
  libc-ares-dev dnsmasq-base
  # ip, which sets up the network lab's namespaces (test/support/netlab.hpp).
  iproute2
  libssl-dev
  # Real proxies for test/proxy_test.cpp, started by the tests on loopback.
  tinyproxy dante-server microsocks
  # The CMake consumers of the installed package (scripts/consumers.sh).
  cmake
  # libnettrace-prometheus and the proxy example (prometheus-cpp, with its
  # Exposer); the Prometheus server that test/prometheus_server_test.cpp
  # starts on loopback to scrape the example.
  prometheus-cpp-dev prometheus
)
# Extras by name: `setup.sh bench` (Google Benchmark), `setup.sh fuzz` (clang's libFuzzer),
# `setup.sh docs` (doxygen, for the API reference: `ninja -C build docs`; CI builds no docs).
for extra in "$@"; do
  case "$extra" in
    bench) packages+=(libbenchmark-dev) ;;
    fuzz) packages+=(clang-14 libclang-rt-14-dev) ;;
    docs) packages+=(doxygen) ;;
    *) echo "setup: unknown extra '$extra' (bench, fuzz, docs)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
