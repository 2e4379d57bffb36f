#!/usr/bin/env bash
# The etcd side of the client-count curve (docs/benchmarks.md): starts N etcd
# members on 127.0.0.1 (fsync on, etcd's default) and runs the closed-loop put
# generator that /work/shared/bench/etcd_bench.sh builds, once per client count.
# Prints one line per run: "etcd <members> <clients> <loadgen output>".
#
#   BASE=<dir where etcd_bench.sh ran> bash etcd_curve.sh [members] [clients...]
#
# Needs: etcd_bench.sh run once before with the same BASE (it builds
# $BASE/loadgen/etcd-putbench). Stops only the etcd processes it started (by
# PID) and removes their data directories.
set -euo pipefail
BASE=${BASE:-${TMPDIR:-/tmp}/etcd-bench}
N=${1:-3}
shift || true
CLIENTS=("$@")
[ ${#CLIENTS[@]} -gt 0 ] || CLIENTS=(1 4 16 64 256)
GEN=$BASE/loadgen/etcd-putbench
[ -x "$GEN" ] || { echo "etcd_curve.sh: $GEN missing: run etcd_bench.sh with BASE=$BASE first" >&2; exit 2; }
DATA=$(mktemp -d "$BASE/curve.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  rm -rf "$DATA"
}
trap cleanup EXIT
CLUSTER=""
for i in $(seq 1 "$N"); do
  CLUSTER+="${CLUSTER:+,}c$i=http://127.0.0.1:$((33380 + 100 * i))"
done
ALL=""
for i in $(seq 1 "$N"); do
  etcd --name "c$i" --data-dir "$DATA/c$i" --logger zap --log-level warn \
    --listen-client-urls "http://127.0.0.1:$((33379 + 100 * i))" \
    --advertise-client-urls "http://127.0.0.1:$((33379 + 100 * i))" \
    --listen-peer-urls "http://127.0.0.1:$((33380 + 100 * i))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((33380 + 100 * i))" \
    --initial-cluster "$CLUSTER" --initial-cluster-state new \
    --initial-cluster-token "curve-$$" > "$DATA/c$i.log" 2>&1 &
  PIDS+=($!)
  ALL+="${ALL:+,}127.0.0.1:$((33379 + 100 * i))"
done
for _ in $(seq 1 100); do etcdctl --endpoints="$ALL" endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
LEADER=$(etcdctl --endpoints="$ALL" endpoint status -w json | python3 -c 'import json,sys; d=json.load(sys.stdin); print([e["Endpoint"] for e in d if e["Status"]["leader"]==e["Status"]["header"]["member_id"]][0])')
for c in "${CLIENTS[@]}"; do
  conns=$(( c >= 8 ? c / 8 : 1 ))
  # About 6 s of load at the rate etcd reached here before (~700/s with one
  # client, ~4,500/s from 64).
  total=$(( c == 1 ? 4000 : (c < 16 ? 10000 : 25000) ))
  echo "etcd $N $c $("$GEN" --endpoints="$LEADER" --clients="$c" --conns="$conns" --total="$total")"
done
