#!/usr/bin/env bash
# Builds and runs tests/package/consumer, an application outside the tree,
# three ways: against the package installed from BUILD_DIR into a temporary
# prefix (find_package, then pkg-config), and with add_subdirectory of
# SOURCE_DIR. Prints each command and its time.
#
#   consumer_test.sh SOURCE_DIR BUILD_DIR CXX [COMPILER_LAUNCHER]
set -euo pipefail
src=$1
build=$2
cxx=$3
launcher=${4:-}
consumer=$src/tests/package/consumer
jobs=${RAFT_JOBS:-2}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/caf_raft_package.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# The application's own build type and flags: Debug without debug info, -O0
# (the quickest to compile); add_subdirectory must hand them to the library.
cmake_args=(-DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0)
if [ -n "$launcher" ]; then
  cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher")
  # The temporary directory changes every run: paths under it are hashed
  # relative to it, so that the compiler cache hits next time.
  export CCACHE_BASEDIR=$tmp CCACHE_NOHASHDIR=true
fi

step() {  # step TITLE COMMAND...: prints the command, runs it, prints its time
  local title=$1
  shift
  printf '\n== %s\n$ %s\n' "$title" "$*"
  local t0=$EPOCHREALTIME
  "$@"
  awk -v t="$title" -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "-- %s: %.1f s\n", t, b - a }'

}
fail() {
  echo "consumer_test: $*" >&2
  exit 1
}

# (a) the installed package
step "install into a temporary prefix" \
  cmake --install "$build" --prefix "$tmp/prefix"
step "configure against the installed package (find_package)" \
  cmake -S "$consumer" -B "$tmp/installed" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
        "${cmake_args[@]}"
step "build" cmake --build "$tmp/installed" -j"$jobs"
step "run (installed)" "$tmp/installed/consumer"
step "run remote (installed)" "$tmp/installed/consumer_remote"
# The in-process library must not bring OpenSSL in.
if grep -qi 'ssl\|crypto' "$tmp/installed/CMakeFiles/consumer.dir/link.txt"; then
  fail "caf_raft::caf_raft links OpenSSL: $(cat "$tmp/installed/CMakeFiles/consumer.dir/link.txt")"
fi

# (a') the same, with pkg-config and the compiler alone
pc=$(find "$tmp/prefix" -name caf_raft.pc | head -n 1)
[ -f "$pc" ] || fail "caf_raft.pc not installed"
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
pkgconf_flags=$(pkg-config --cflags --libs caf_raft)
case "$pkgconf_flags" in *ssl*) fail "caf_raft.pc names OpenSSL: $pkgconf_flags" ;; esac
pkg-config --exists --print-errors caf_raft_remote || fail "caf_raft_remote.pc unusable"
# Compiled and linked in two steps: a compiler cache skips compile-and-link.
# shellcheck disable=SC2086 # the flags are words
step "compile with pkg-config" \
  $launcher "$cxx" -std=c++17 -O0 $(pkg-config --cflags caf_raft) \
    -c "$consumer/consumer.cpp" -o "$tmp/consumer_pc.o"
# shellcheck disable=SC2086
step "link with pkg-config" \
  "$cxx" -o "$tmp/consumer_pc" "$tmp/consumer_pc.o" $(pkg-config --libs caf_raft)
step "run (pkg-config)" "$tmp/consumer_pc"

# (b) add_subdirectory of the source tree: no tests, examples or Boost.Test,
# and the application's build type and flags apply to the library.
step "configure with add_subdirectory" \
  cmake -S "$consumer" -B "$tmp/subdir" -DCAF_RAFT_SOURCE_DIR="$src" "${cmake_args[@]}"
if [ -e "$tmp/subdir/caf_raft/tests" ] || [ -e "$tmp/subdir/caf_raft/examples" ]; then
  fail "add_subdirectory configured tests or examples"
fi
flags=$tmp/subdir/caf_raft/CMakeFiles/raft_core.dir/flags.make
if ! grep -q -- '-O0' "$flags" || grep -q -- '-O2\|-O3\| -g' "$flags"; then
  fail "the library ignores the application's build type and flags: $(grep CXX_FLAGS "$flags")"
fi
# Only the in-process application: the remote component's sources were
# checked above and are the slowest to compile.
step "build (add_subdirectory)" cmake --build "$tmp/subdir" -j"$jobs" --target consumer
step "run (add_subdirectory)" "$tmp/subdir/consumer"
echo
echo "consumer_test: installed package, pkg-config and add_subdirectory all work"
