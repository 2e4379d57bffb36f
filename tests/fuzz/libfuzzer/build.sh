#!/bin/sh
# Configures and builds the libFuzzer sub-build (see CMakeLists.txt here).
#   build.sh CLANGXX SOURCE_DIR MAIN_BUILD_DIR OUT_DIR
set -eu
cxx=$1
src=$2
main_build=$3
out=$4
if [ ! -f "$out/CMakeCache.txt" ]; then
  cmake -S "$src/tests/fuzz/libfuzzer" -B "$out" \
    -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=None \
    -DRAFT_SOURCE_DIR="$src" -DRAFT_BUILD_DIR="$main_build"
fi
# One job: the machine is shared and the main build may be running.
cmake --build "$out" -j1
