#!/usr/bin/env bash
# The etcd side of the client-count curve (docs/benchmarks.md): one etcd
# cluster of N members on 127.0.0.1 (fsync on, etcd's default), driven by
# etcd/run.sh's load generator once per client count. Prints one line per
# run, which run_matrix.sh reads:
#   etcd <members> <clients> clients=.. conns=.. ops=.. errs=.. ops/s=.. p50=..ms p90=..ms p99=..ms p99.9=..ms
#
#   bash examples/bench/etcd_curve.sh [members] [clients...]
#
# Env: SECS (measured seconds per run, default 5), PUTLOAD_DIR (keeps the
# built load generator between runs; see etcd/run.sh). Everything else,
# including which Debian packages it needs, is etcd/run.sh's.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
N=${1:-3}
shift || true
CLIENTS=("$@")
[ ${#CLIENTS[@]} -gt 0 ] || CLIENTS=(1 4 16 64 256)
exec bash "$HERE/etcd/run.sh" --members "$N" --seconds "${SECS:-5}" --port 24379 \
  --format line "${CLIENTS[@]}"
