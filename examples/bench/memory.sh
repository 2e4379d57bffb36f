#!/usr/bin/env bash
# Memory of raft-kv members against their live data (docs/benchmarks.md,
# "Memory"): 3 `raft-kv serve` processes on 127.0.0.1 (durable file log,
# snapshots at the default threshold), `raft-kv-bench` putting PUTS values of
# 256 bytes over KEYS keys (64 in flight, keys in turn: each key overwritten
# PUTS / KEYS times), then, after SETTLE seconds, each member's report
# (`kill -USR1`: RSS, peak RSS, the allocator's heap, entries held in the log,
# the key-value data) and RSS / live data, where live data is KEYS x (8-byte
# key + 256-byte value).
#
# usage: examples/bench/memory.sh BUILD_DIR [PUTS] [KEYS] [SETTLE]
# Extra `raft-kv serve` flags in SERVE_FLAGS; KV=PATH runs another raft-kv
# binary (e.g. an older build: without its memory report, RSS alone is
# printed); the environment reaches the members (e.g. MALLOC_ARENA_MAX).
set -u
build=${1:?usage: memory.sh BUILD_DIR [PUTS] [KEYS] [SETTLE]}
puts=${2:-300000}
keys=${3:-100000}
settle=${4:-3}
kv=${KV:-$build/examples/kv/raft-kv}
bench=$build/examples/kv/raft-kv-bench
work=$(mktemp -d /tmp/raft-memory-XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$work"' EXIT
# shellcheck source=kv_cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/kv_cluster.sh"
start_kv_cluster
for _ in $(seq 1 100); do
  "$kv" status --cluster "$m" --timeout 1000 2>/dev/null | grep -q ' leader ' && break
  sleep 0.1
done
rss_kib() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }
echo "members' RSS before the load: $(for p in "${pids[@]}"; do printf '%s ' "$(rss_kib "$p") KiB"; done)"
start=$(date +%s.%N)
"$bench" --cluster "$m" --outstanding 64 --keys "$keys" --puts "$puts" \
  --value-size 256 --seconds 3600
end=$(date +%s.%N)
sleep "$settle"
report=0
grep -q 'hwm_kib=' "$kv" && report=1
if [ $report = 1 ]; then
  for p in "${pids[@]}"; do kill -USR1 "$p"; done
  sleep 1
fi
live_kib=$(( keys * (8 + 256) / 1024 ))
echo "puts: $puts over $keys keys in $(python3 -c "print(f'{$end-$start:.1f}')") s; live data $live_kib KiB"
for i in 0 1 2; do
  rss=$(rss_kib "${pids[$i]}")
  hwm=$(awk '/^VmHWM:/{print $2}' "/proc/${pids[$i]}/status")
  line=$(grep 'raft-kv: mem ' "$work/m$i.log" | tail -1)
  echo "member $i: rss_kib=$rss hwm_kib=$hwm ratio=$(python3 -c "print(f'{$rss/$live_kib:.2f}')") ${line#raft-kv: mem }"
done
