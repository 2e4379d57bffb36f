# Shared by scripts/test and scripts/demo (sourced, not run): installs the
# Debian packages the build needs and builds the tree in build/.
#
# Knobs (environment):
#   RAFT_BUILD_DIR   build directory            (default: <repo>/build)
#   RAFT_BUILD_TYPE  CMAKE_BUILD_TYPE            (default: RelWithDebInfo)
#   RAFT_JOBS        parallel build jobs         (default: 2)

RAFT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RAFT_BUILD_DIR="${RAFT_BUILD_DIR:-$RAFT_ROOT/build}"
RAFT_BUILD_TYPE="${RAFT_BUILD_TYPE:-RelWithDebInfo}"
RAFT_JOBS="${RAFT_JOBS:-2}"

# Debian bookworm packages the build needs. Add one here only when the build
# really needs it (and say why).
RAFT_PACKAGES=(
  cmake                        # build system (and ctest)
  g++                          # C++17 compiler
  make                         # CMake's default generator
  libcaf-dev                   # CAF 0.17.6: core, io, openssl
  libboost-serialization-dev   # storage records
  libboost-test-dev            # unit tests
  libssl-dev                   # OpenSSL: the wire's TLS (boost/asio/ssl) and certificate checks
  libboost1.74-dev             # Boost.Asio (header-only): the wire's sockets (actors/wire_engine.cpp)
  openssl                      # CLI: test certificates (tests/distributed, docs)
  clang-14                     # libFuzzer builds of tests/fuzz (label fuzz)
  libclang-rt-14-dev           # libFuzzer and sanitizer runtimes for clang-14
  prometheus-cpp-dev           # raft-kv serve --metrics: the Prometheus endpoint (examples/kv/metrics_exporter.cpp)
  iproute2                     # ip netns: the chaos test's network namespaces (tests/chaos, as root)
  nftables                     # nft: the chaos test's network partitions (tests/chaos, as root)
  pkgconf                      # pkg-config: the package test builds an application with caf_raft.pc (tests/package)
)

raft_step() {
  printf '\n==> %s\n' "$*"
}

raft_die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# Prints the packages of RAFT_PACKAGES that are not installed.
raft_missing_packages() {
  local p
  for p in "${RAFT_PACKAGES[@]}"; do
    if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
      printf '%s\n' "$p"
    fi
  done
}

# Installs what is missing; does nothing (and needs no root) otherwise.
raft_install_packages() {
  raft_step "checking Debian packages: ${RAFT_PACKAGES[*]}"
  if ! command -v dpkg >/dev/null 2>&1; then
    echo "dpkg not found: not a Debian system, skipping the package check"
    return 0
  fi
  local missing
  mapfile -t missing < <(raft_missing_packages)
  if [ "${#missing[@]}" -eq 0 ]; then
    echo "all installed"
    return 0
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 \
      || raft_die "missing packages (${missing[*]}) and not root; no sudo"
    sudo=(sudo)
  fi
  raft_step "installing: ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q \
    || raft_die "apt-get update failed"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends "${missing[@]}" </dev/null \
    || raft_die "apt-get install failed"
}

# Configures (cheap when nothing changed) and builds. Extra arguments go to
# `cmake --build`, e.g. `--target raft-demo`.
raft_build() {
  raft_step "configuring $RAFT_BUILD_DIR ($RAFT_BUILD_TYPE)"
  cmake -S "$RAFT_ROOT" -B "$RAFT_BUILD_DIR" \
    -DCMAKE_BUILD_TYPE="$RAFT_BUILD_TYPE" \
    || raft_die "cmake configure failed"
  raft_step "building: cmake --build $RAFT_BUILD_DIR -j$RAFT_JOBS${1:+ $*}"
  cmake --build "$RAFT_BUILD_DIR" -j"$RAFT_JOBS" "$@" \
    || raft_die "build failed"
}
