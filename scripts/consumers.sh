#!/usr/bin/env bash
# Proves nettrace can be used the ways the README says, from outside its tree:
#
#   1. installed: `meson install --destdir` from BUILD_DIR into a staging
#      directory. The install is checked: the files, the SONAME links
#      (libnettrace.so -> libnettrace.so.0 -> libnettrace.so.0.1.0), no
#      OpenSSL in libnettrace's NEEDED, nettrace.pc's Cflags and Libs, and
#      that nettrace.pc needs no other .pc file (no c-ares or OpenSSL -dev
#      package to build against it). Then built and run against it:
#      test/consumers/installed (a meson project: dependency('nettrace')
#      through pkg-config, Boost by meson's own lookup); the same program by
#      the plain `c++ ... $(pkg-config --cflags --libs nettrace)` one-liner;
#      test/consumers/cmake (find_package(nettrace CONFIG), nettrace::nettrace);
#      and, when nettrace was built with TLS, tls_link.cpp by
#      `pkg-config ... nettrace-tls` and by test/consumers/cmake-tls
#      (nettrace::tls). The installed nettrace-dial runs its --demo from the
#      staged prefix, and again from a copy of that prefix elsewhere (it
#      finds its libraries by its RUNPATH, $ORIGIN/../<libdir>).
#   2. subproject: test/consumers/subproject, with nettrace as a meson
#      subproject (subprojects/nettrace -> this tree, tests=false), built and
#      run; checked to have built nettrace itself and not its tool.
#
# consumer.cpp (every program but the TLS ones) dials a listener on 127.0.0.1
# and checks the connection and the trace's counts; tls_link.cpp makes one
# dial_tls that fails before any I/O. The demo is loopback only.
#
# Usage: scripts/consumers.sh [BUILD_DIR]
#   BUILD_DIR: a configured nettrace build dir to install from (CI passes the
#   already built `build`). Default: build-install, set up with -Dtests=false
#   when missing. Work (staging, consumer builds) goes to build-consumers/
#   (NETTRACE_CONSUMERS_WORK overrides), emptied first. Needs cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${1:-build-install}
work=${NETTRACE_CONSUMERS_WORK:-$root/build-consumers}

say() { echo "consumers: $*"; }
fail() { echo "consumers: FAILED: $*" >&2; exit 1; }

command -v cmake >/dev/null || fail "cmake is missing (bash scripts/setup.sh installs it)"
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
# The configured prefix and directories, as the staged tree has them.
read -r prefix bindir < <(meson introspect --buildoptions "$build" | python3 -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
print(o["prefix"], o["bindir"] if o["bindir"].startswith("/") else o["prefix"] + "/" + o["bindir"])')
say "staged prefix: $stage$prefix"

pcs=$(find "$stage" -name nettrace.pc)
if [ -z "$pcs" ] || [ "$(echo "$pcs" | wc -l)" -ne 1 ]; then fail "expected one installed nettrace.pc, found: ${pcs:-none}"; fi
libdir=$(dirname "$(dirname "$pcs")")  # nettrace.pc lives in $libdir/pkgconfig
for h in include/nettrace/*.hpp; do
  [ -n "$(find "$stage" -path "*/include/nettrace/$(basename "$h")")" ] || fail "header $h not installed"
done
[ -n "$(find "$stage" -path '*/include/nettrace/version.hpp')" ] || fail "the generated nettrace/version.hpp is not installed"
[ -z "$(find "$stage" -path '*/include/nettrace/*' \( -name meson.build -o -name '*.in' \))" ] ||
  fail "build files installed among the headers"
with_tls=false
[ -f "$libdir/pkgconfig/nettrace-tls.pc" ] && with_tls=true

# The SONAME links, for each library installed.
version=$(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --modversion nettrace)
soversion=${version%%.*}
libs_installed=(nettrace)
$with_tls && libs_installed+=(nettrace-tls)
for name in "${libs_installed[@]}"; do
  lib=$libdir/lib$name.so
  { [ -f "$lib.$version" ] && [ ! -L "$lib.$version" ]; } || fail "no lib$name.so.$version (a file) in $libdir"
  [ "$(readlink "$lib")" = "lib$name.so.$soversion" ] || fail "lib$name.so -> $(readlink "$lib"), not lib$name.so.$soversion"
  [ "$(readlink "$lib.$soversion")" = "lib$name.so.$version" ] ||
    fail "lib$name.so.$soversion -> $(readlink "$lib.$soversion"), not lib$name.so.$version"
  readelf -d "$lib.$version" | grep -q "(SONAME).*\[lib$name.so.$soversion\]" || fail "lib$name.so.$version has no SONAME lib$name.so.$soversion"
  say "lib$name.so -> lib$name.so.$soversion -> lib$name.so.$version; NEEDED:" \
    "$(readelf -d "$lib.$version" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
done
! readelf -d "$libdir/libnettrace.so.$soversion" | grep '(NEEDED)' | grep -Eq 'libssl|libcrypto' ||
  fail "libnettrace.so.$soversion needs OpenSSL (NEEDED libssl or libcrypto): dial_tls belongs in libnettrace-tls"
if $with_tls; then
  readelf -d "$libdir/libnettrace-tls.so.$soversion" | grep '(NEEDED)' | grep -q "\[libnettrace.so.$soversion\]" ||
    fail "libnettrace-tls.so.$soversion does not need libnettrace.so.$soversion"
fi

# The install keeps its configured prefix inside the staging dir, and .pc
# files hold absolute paths: pkg-config maps them into it
# (PKG_CONFIG_SYSROOT_DIR), as for any staged install.
export PKG_CONFIG_PATH=$libdir/pkgconfig PKG_CONFIG_SYSROOT_DIR=$stage
cflags=$(pkg-config --cflags nettrace) || fail "pkg-config --cflags nettrace"
libs=$(pkg-config --libs nettrace) || fail "pkg-config --libs nettrace"
say "pkg-config --cflags --libs nettrace: $cflags $libs"
[[ " $cflags " == *" -std=c++20 "* ]] || fail "Cflags lack -std=c++20"
incdir=$(echo "$cflags" | tr ' ' '\n' | sed -n 's/^-I//p' | head -1)
[ -f "$incdir/nettrace/dial.hpp" ] || fail "Cflags' first -I ($incdir) holds no nettrace/dial.hpp"
[ -f "$incdir/nettrace/version.hpp" ] || fail "Cflags' first -I ($incdir) holds no nettrace/version.hpp"
[[ " $libs " == *" -lnettrace "* ]] || fail "Libs lack -lnettrace"
[[ " $libs " == *" -pthread "* ]] || fail "Libs lack -pthread"
[[ " $libs " == *" -L$libdir "* ]] || fail "Libs lack -L$libdir"
! grep -q "$root" "$pcs" || fail "the installed nettrace.pc refers to the source or build tree"
# Nothing but nettrace's own .pc files in sight (as on a machine without
# libc-ares-dev and libssl-dev): nettrace.pc must still answer.
! grep -E '^Requires' "$pcs" | grep -Eq 'libcares|openssl' || fail "nettrace.pc requires c-ares or OpenSSL: $(grep -E '^Requires' "$pcs")"
PKG_CONFIG_LIBDIR=$libdir/pkgconfig pkg-config --cflags --libs nettrace >/dev/null ||
  fail "nettrace.pc needs another .pc file (a -dev package) to answer --cflags --libs"
say "nettrace.pc answers with no other .pc file in sight (no c-ares or OpenSSL -dev needed)"

run() {  # run NAME PROGRAM: with the staged library, output kept in the log
  local name=$1; shift
  LD_LIBRARY_PATH=$libdir "$@" >"$work/$name.out" 2>&1 || { cat "$work/$name.out"; fail "$name exited non-zero"; }
  grep -q "$libdir/libnettrace.so" <(LD_LIBRARY_PATH=$libdir ldd "$1") || fail "$name did not load the staged libnettrace.so"
  say "$name: $(grep -c '^ok:' "$work/$name.out") checks ok"
}
run_alone() {  # run_alone NAME DIR PROGRAM...: no LD_LIBRARY_PATH; its RUNPATH must find nettrace in DIR
  local name=$1 dir=$2; shift 2
  env -u LD_LIBRARY_PATH "$@" >"$work/$name.out" 2>&1 || { cat "$work/$name.out"; fail "$name exited non-zero"; }
  local loaded
  loaded=$(env -u LD_LIBRARY_PATH ldd "$1" | sed -n "s/^[[:space:]]*libnettrace.so.$soversion => \([^ ]*\) .*/\1/p")
  { [ -n "$loaded" ] && [ "$(realpath "$loaded")" = "$(realpath "$dir/libnettrace.so.$soversion")" ]; } ||
    fail "$name did not load libnettrace.so.$soversion from $dir (it loads: ${loaded:-nothing})"
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
! readelf -d "$work/oneliner" | grep '(NEEDED)' | grep -Eq 'libssl|libcrypto' || fail "the non-TLS one-liner links OpenSSL"

if $with_tls; then
  say "installed consumer: c++ tls_link.cpp \$(pkg-config --cflags --libs nettrace-tls)"
  # shellcheck disable=SC2046
  c++ "$work/src/tls_link.cpp" $(pkg-config --cflags --libs nettrace-tls) -o "$work/tls_link" 2>"$work/tls_link-build.log" ||
    { tail -40 "$work/tls_link-build.log"; fail "the pkg-config one-liner with nettrace-tls"; }
  run tls_link "$work/tls_link"
fi
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR

# CMake: the staged prefix as CMAKE_PREFIX_PATH; nettraceConfig.cmake's
# paths are relative to itself, so it works in place. CMake gives the
# programs an RPATH to the imported libraries: run them without
# LD_LIBRARY_PATH.
cmake_config=$(find "$stage" -name nettraceConfig.cmake)
[ "$cmake_config" = "$libdir/cmake/nettrace/nettraceConfig.cmake" ] || fail "nettraceConfig.cmake not in $libdir/cmake/nettrace (found: ${cmake_config:-none})"
[ -f "$libdir/cmake/nettrace/nettraceConfigVersion.cmake" ] || fail "no nettraceConfigVersion.cmake beside nettraceConfig.cmake"
! grep -q "$root\|$stage" "$cmake_config" || fail "the installed nettraceConfig.cmake refers to the source, build or staging tree"
cmake_consumer() {  # cmake_consumer NAME PROGRAM: configure, build and run test/consumers/NAME
  local name=$1 program=$2
  say "installed consumer: CMake, test/consumers/$name"
  cmake -S "$work/src/$name" -B "$work/$name-build" -DCMAKE_PREFIX_PATH="$stage$prefix" \
    >"$work/$name-setup.log" 2>&1 || { tail -30 "$work/$name-setup.log"; fail "cmake configure of test/consumers/$name"; }
  cmake --build "$work/$name-build" >"$work/$name-build.log" 2>&1 || { tail -40 "$work/$name-build.log"; fail "building test/consumers/$name"; }
  run_alone "$name" "$libdir" "$work/$name-build/$program"
  say "$name: $(grep -c '^ok:' "$work/$name.out") checks ok"
}
cmake_consumer cmake app
$with_tls && cmake_consumer cmake-tls tls_app

# The installed tool, in place and from a copy of its prefix elsewhere: its
# RUNPATH, not LD_LIBRARY_PATH, finds the libraries.
dial=$stage$bindir/nettrace-dial
if $with_tls; then
  [ -x "$dial" ] || fail "nettrace-dial is not installed in $stage$bindir"
  # shellcheck disable=SC2016  # a literal $ORIGIN
  readelf -d "$dial" | grep -q '(RUNPATH).*\[\$ORIGIN/' || fail "the installed nettrace-dial has no \$ORIGIN RUNPATH"
  run_alone dial-version "$libdir" "$dial" --version
  grep -qx "nettrace-dial $version" "$work/dial-version.out" ||
    { cat "$work/dial-version.out"; fail "the installed nettrace-dial --version does not say $version"; }
  say "installed $(cat "$work/dial-version.out")"
  run_alone dial-demo "$libdir" "$dial" --demo
  grep -q '^connected to ' "$work/dial-demo.out" || { cat "$work/dial-demo.out"; fail "the installed nettrace-dial --demo did not connect"; }
  say "installed nettrace-dial --demo: $(grep '^connected to ' "$work/dial-demo.out")"
  moved=$work/moved-prefix
  cp -a "$stage$prefix" "$moved"
  run_alone dial-demo-moved "$moved${libdir#"$stage$prefix"}" "$moved${bindir#"$prefix"}/nettrace-dial" --demo
  say "nettrace-dial --demo from a copy of the prefix ($moved): $(grep '^connected to ' "$work/dial-demo-moved.out")"
else
  say "built without TLS: no nettrace-tls consumers, no nettrace-dial"
fi

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
