#!/usr/bin/env bash
# Proves nettrace can be used the ways the README says, from outside its tree:
#
#   1. installed: `meson install --destdir` from BUILD_DIR into a staging
#      directory; nettrace.pc's Cflags and Libs checked; test/consumers/
#      installed (a meson project: dependency('nettrace') through pkg-config,
#      Boost by meson's own lookup) built and run; the same program built
#      with the plain `c++ ... $(pkg-config --cflags --libs nettrace)`
#      one-liner and run; tls.hpp built with `pkg-config ... nettrace openssl`
#      and run.
#   2. subproject: test/consumers/subproject, with nettrace as a meson
#      subproject (subprojects/nettrace -> this tree, tests=false), built and
#      run; checked to have built nettrace itself and not its tool.
#
# Every program is test/consumers/consumer.cpp (shared): it dials a listener
# on 127.0.0.1 and checks the connection and the trace's counts.
#
# Usage: scripts/consumers.sh [BUILD_DIR]
#   BUILD_DIR: a configured nettrace build dir to install from (CI passes the
#   already built `build`). Default: build-install, set up with -Dtests=false
#   when missing. Work (staging, consumer builds) goes to build-consumers/
#   (NETTRACE_CONSUMERS_WORK overrides), emptied first.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${1:-build-install}
work=${NETTRACE_CONSUMERS_WORK:-$root/build-consumers}

say() { echo "consumers: $*"; }
fail() { echo "consumers: FAILED: $*" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work"
# The consumer projects refer to ../consumer.cpp: copy them together, so the
# subproject consumer's subprojects/ can be made without touching this tree.
cp -r test/consumers "$work/src"

# --- 1. installed ---------------------------------------------------------
if [ ! -f "$build/build.ninja" ]; then
  [ $# -eq 0 ] || fail "$build is not a configured meson build dir"
  say "setting up $build (-Dtests=false)"
  meson setup "$build" -Dtests=false >"$work/setup-install.log" || { cat "$work/setup-install.log"; fail "meson setup $build"; }
fi
stage=$work/stage
say "meson install -C $build --destdir $stage"
meson install -C "$build" --destdir "$stage" >"$work/install.log" 2>&1 || { tail -30 "$work/install.log"; fail "meson install"; }

pcs=$(find "$stage" -name nettrace.pc)
if [ -z "$pcs" ] || [ "$(echo "$pcs" | wc -l)" -ne 1 ]; then fail "expected one installed nettrace.pc, found: ${pcs:-none}"; fi
libdir=$(dirname "$(dirname "$pcs")")  # nettrace.pc lives in $libdir/pkgconfig
[ -e "$libdir/libnettrace.so" ] || fail "no libnettrace.so beside nettrace.pc in $libdir"
for h in include/nettrace/*.hpp; do
  [ -n "$(find "$stage" -path "*/include/nettrace/$(basename "$h")")" ] || fail "header $h not installed"
done

# The install keeps its configured prefix inside the staging dir: pkg-config
# maps the .pc's paths into it (PKG_CONFIG_SYSROOT_DIR), as for any staged
# install (it maps the system -I/usr/include of Requires.private too: harmless).
export PKG_CONFIG_PATH=$libdir/pkgconfig PKG_CONFIG_SYSROOT_DIR=$stage
cflags=$(pkg-config --cflags nettrace) || fail "pkg-config --cflags nettrace"
libs=$(pkg-config --libs nettrace) || fail "pkg-config --libs nettrace"
say "pkg-config --cflags --libs nettrace: $cflags $libs"
[[ " $cflags " == *" -std=c++20 "* ]] || fail "Cflags lack -std=c++20"
incdir=$(echo "$cflags" | tr ' ' '\n' | sed -n 's/^-I//p' | head -1)
[ -f "$incdir/nettrace/dial.hpp" ] || fail "Cflags' first -I ($incdir) holds no nettrace/dial.hpp"
[[ " $libs " == *" -lnettrace "* ]] || fail "Libs lack -lnettrace"
[[ " $libs " == *" -pthread "* ]] || fail "Libs lack -pthread"
[[ " $libs " == *" -L$libdir "* ]] || fail "Libs lack -L$libdir"
! grep -q "$root" "$pcs" || fail "the installed nettrace.pc refers to the source or build tree"

run() {  # run NAME PROGRAM: with the staged library, output kept in the log
  local name=$1; shift
  LD_LIBRARY_PATH=$libdir "$@" >"$work/$name.out" 2>&1 || { cat "$work/$name.out"; fail "$name exited non-zero"; }
  grep -q "$libdir/libnettrace.so" <(LD_LIBRARY_PATH=$libdir ldd "$1") || fail "$name did not load the staged libnettrace.so"
  say "$name: $(grep -c '^ok:' "$work/$name.out") checks ok"
}

say "installed consumer: meson project, dependency('nettrace') through pkg-config"
meson setup "$work/installed-build" "$work/src/installed" >"$work/installed-setup.log" 2>&1 ||
  { tail -30 "$work/installed-setup.log"; fail "meson setup of the installed consumer"; }
ninja -C "$work/installed-build" >"$work/installed-build.log" 2>&1 || { tail -40 "$work/installed-build.log"; fail "building the installed consumer"; }
run installed "$work/installed-build/consumer"

say "installed consumer: c++ consumer.cpp \$(pkg-config --cflags --libs nettrace)"
# shellcheck disable=SC2046  # word splitting of pkg-config's output is the point
c++ "$work/src/consumer.cpp" $(pkg-config --cflags --libs nettrace) -o "$work/oneliner" 2>"$work/oneliner-build.log" ||
  { tail -40 "$work/oneliner-build.log"; fail "the pkg-config one-liner"; }
run oneliner "$work/oneliner"

say "installed consumer: c++ tls_link.cpp \$(pkg-config --cflags --libs nettrace openssl)"
# shellcheck disable=SC2046
c++ "$work/src/tls_link.cpp" $(pkg-config --cflags --libs nettrace openssl) -o "$work/tls_link" 2>"$work/tls_link-build.log" ||
  { tail -40 "$work/tls_link-build.log"; fail "the pkg-config one-liner with openssl"; }
run tls_link "$work/tls_link"
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR

# --- 2. subproject --------------------------------------------------------
say "subproject consumer: subprojects/nettrace -> $root"
mkdir -p "$work/src/subproject/subprojects"
ln -s "$root" "$work/src/subproject/subprojects/nettrace"
# --force-fallback-for: use the subproject even if a nettrace is installed.
meson setup "$work/subproject-build" "$work/src/subproject" --force-fallback-for=nettrace -Dnettrace:tests=false \
  >"$work/subproject-setup.log" 2>&1 || { tail -30 "$work/subproject-setup.log"; fail "meson setup of the subproject consumer"; }
ninja -C "$work/subproject-build" consumer >"$work/subproject-build.log" 2>&1 ||
  { tail -40 "$work/subproject-build.log"; fail "building the subproject consumer"; }
[ -e "$work/subproject-build/subprojects/nettrace/src/libnettrace.so" ] || fail "nettrace was not built as a subproject"
targets=$(meson introspect --targets "$work/subproject-build")
! grep -q '"nettrace-dial"' <<<"$targets" || fail "as a subproject, nettrace still builds nettrace-dial"
! grep -q '_test"' <<<"$targets" || fail "as a subproject with tests=false, nettrace still builds its tests"
env -u LD_LIBRARY_PATH "$work/subproject-build/consumer" >"$work/subproject.out" 2>&1 || { cat "$work/subproject.out"; fail "subproject consumer exited non-zero"; }
say "subproject: $(grep -c '^ok:' "$work/subproject.out") checks ok"
say "all checks passed"
