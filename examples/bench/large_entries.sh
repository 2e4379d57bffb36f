#!/usr/bin/env bash
# Large entries on a 3-member raft-kv cluster on loopback (docs/api.md,
# max_entry_size): puts values of growing size with --value-file, reports
# MB/s per size and whether the leader or term changed, then the disk's
# sequential fdatasync throughput (dd) in the same directory for comparison.
#
# usage: examples/bench/large_entries.sh PATH/TO/raft-kv [PUTS_PER_SIZE]
set -u
kv=${1:?usage: large_entries.sh PATH/TO/raft-kv [PUTS_PER_SIZE]}
n=${2:-10}
work=$(mktemp -d /tmp/raft-large-XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$work"' EXIT
# shellcheck source=kv_cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/kv_cluster.sh"
start_kv_cluster
leader_term() {
  "$kv" status --cluster "$m" --timeout 1000 2>/dev/null \
    | awk '/ leader /{print $1, $3}' | sort -u | head -1
}
for _ in $(seq 1 100); do [ -n "$(leader_term)" ] && break; sleep 0.1; done
before=$(leader_term)
echo "leader and term: $before"
for mib in 0.25 1 2 3 4; do
  bytes=$(python3 -c "print(min(int($mib*1048576), 4194304 - 64))")
  head -c "$bytes" /dev/urandom >"$work/value"
  start=$(date +%s.%N)
  ok=0
  for i in $(seq 1 "$n"); do
    "$kv" put --cluster "$m" --timeout 10000 --value-file "$work/value" "k$i" \
      >/dev/null 2>"$work/put.err" && ok=$((ok + 1))
  done
  end=$(date +%s.%N)
  now=$(leader_term)
  python3 -c "b=$bytes; n=$ok; t=$end-$start; print(f'{b} bytes x {n}/$n puts: {t:.2f} s, {b*n/t/1e6:.1f} MB/s, leader/term now: $now')"
  [ "$ok" = "$n" ] || echo "  failed puts, last error: $(cat "$work/put.err")"
done
[ "$(leader_term)" = "$before" ] && echo "no leader change" || echo "LEADER CHANGED: $before -> $(leader_term)"
echo "disk (dd, 4 MiB blocks, fdatasync at the end):"
dd if=/dev/zero of="$work/dd" bs=4M count=64 conv=fdatasync 2>&1 | tail -1
echo "disk (dd, 4 MiB blocks, each synced):"
dd if=/dev/zero of="$work/dd2" bs=4M count=32 oflag=dsync 2>&1 | tail -1
