#!/usr/bin/env bash
# A follower SIGSTOPped under load (issue 14's target; docs/benchmarks.md,
# "Memory"): 3 `raft-kv serve` processes on 127.0.0.1, `raft-kv-bench` with 64
# puts in flight (256-byte values over 100,000 keys) the whole time. After
# WARMUP seconds one follower is stopped (SIGSTOP) for STOP seconds, then
# continued (SIGCONT). Prints the leader's RSS each second, its level before
# the stop (the peak of the warmup's second half), its peak while the
# follower was stopped and the ratio (target: < 2), and how long the follower took to catch up (its applied index
# reaching the leader's commit index as of the SIGCONT; target: it does).
# Takes WARMUP + STOP + up to 120 s: a benchmark, not a test.
#
# usage: examples/bench/sigstop.sh BUILD_DIR [STOP] [WARMUP]
# Extra `raft-kv serve` flags in SERVE_FLAGS; KV=PATH runs another raft-kv.
set -u
build=${1:?usage: sigstop.sh BUILD_DIR [STOP] [WARMUP]}
stop=${2:-60}
warmup=${3:-20}
kv=${KV:-$build/examples/kv/raft-kv}
bench=$build/examples/kv/raft-kv-bench
work=$(mktemp -d /tmp/raft-sigstop-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=kv_cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/kv_cluster.sh"
start_kv_cluster
status() { "$kv" status --cluster "$m" --timeout 1000 2>/dev/null; }
leader=
for _ in $(seq 1 100); do
  leader=$(status | awk '$2 == "leader" {print $1}' | head -1)
  [ -n "$leader" ] && break
  sleep 0.1
done
[ -n "$leader" ] || { echo "no leader"; exit 1; }
lead=-1; victim=-1
for i in 0 1 2; do
  if [ "127.0.0.1:${ports[$i]}" = "$leader" ]; then lead=$i; elif [ $victim -lt 0 ]; then victim=$i; fi
done
rss_kib() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }
echo "leader member $lead (pid ${pids[$lead]}), stopping member $victim (pid ${pids[$victim]})"
"$bench" --cluster "$m" --outstanding 64 --keys 100000 --value-size 256 \
  --seconds $((warmup + stop + 60)) >"$work/bench.out" 2>&1 &
loadpid=$!
t=0
before=0; peak=0
printf '#t_s\tleader_rss_kib\tphase\n'
while [ $t -lt "$warmup" ]; do
  sleep 1; t=$((t + 1))
  r=$(rss_kib "${pids[$lead]}"); printf '%d\t%s\twarmup\n' $t "$r"
  # The level before: the peak of the warmup's second half (RSS saw-tooths
  # with the snapshots, so a single sample could miss the top).
  [ $t -gt $((warmup / 2)) ] && [ "$r" -gt "$before" ] && before=$r
done
kill -STOP "${pids[$victim]}"
end=$((t + stop))
while [ $t -lt $end ]; do
  sleep 1; t=$((t + 1))
  r=$(rss_kib "${pids[$lead]}"); printf '%d\t%s\tstopped\n' $t "$r"
  [ "$r" -gt "$peak" ] && peak=$r
done
target=$(status | awk -v id="$leader" '$1 == id {sub("commit=", "", $5); print $5}')
kill -CONT "${pids[$victim]}"
cont=$(date +%s.%N)
caught=
for _ in $(seq 1 1200); do
  applied=$(status | awk -v id="127.0.0.1:${ports[$victim]}" '$1 == id {sub("applied=", "", $6); print $6}')
  if [ -n "$applied" ] && [ -n "$target" ] && [ "$applied" -ge "$target" ]; then
    caught=$(python3 -c "import time; print(f'{time.time() - $cont:.1f}')")
    break
  fi
  sleep 0.1
done
r=$(rss_kib "${pids[$lead]}")
wait "$loadpid"
echo "load: $(cat "$work/bench.out" | tail -2 | tr '\n' ' ')"
echo "leader RSS before the stop $before KiB, peak while stopped $peak KiB, after $r KiB: ratio $(python3 -c "print(f'{$peak/max($before,1):.2f}')") (target < 2)"
if [ -n "$caught" ]; then
  echo "the follower caught up to commit $target ${caught} s after SIGCONT"
else
  echo "the follower did NOT catch up to commit $target within 120 s (applied ${applied:-?})"
fi
grep -h 'refused\|overloaded\|snapshot' "$work"/m*.log | sort | uniq -c | sort -rn | head -5
