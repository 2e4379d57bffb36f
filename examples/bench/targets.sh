#!/usr/bin/env bash
# Issue 14's target table (docs/benchmarks.md, "Targets"): etcd and caf-raft
# one right after the other, ROUNDS times, and a summary with the median and
# range of each figure over the rounds.
#
#   examples/bench/targets.sh [--members N] [--rounds R] [--seconds S] [--out FILE]
#
# Each round: examples/bench/etcd/run.sh --members N 1 64 256 (etcd, fsync
# on), then raft-bench --members N --clients C for C in 1 64 256 (durable,
# one process per member, snapshots at the default threshold), then
# raft-bench --no-fsync --clients 64. Every run's JSON line goes to FILE
# (default: targets-N.jsonl in the current directory); the summary is
# printed at the end. Env: RB=<raft-bench binary> (default: the test build's,
# build/examples/bench/raft-bench), PUTLOAD_DIR as for etcd/run.sh,
# SKIP_ETCD=1 runs caf-raft alone, RB_ARGS="..." adds raft-bench flags
# (e.g. "--port 18400"). Run it on a quiet machine: the figures
# are only comparable within one run.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RB=${RB:-$HERE/../../build/examples/bench/raft-bench}
members=3 rounds=3 seconds=5 out=
while [ $# -gt 0 ]; do
  case $1 in
    --members) members=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "targets.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
out=${out:-targets-$members.jsonl}
read -r -a extra <<< "${RB_ARGS:-}"
[ -x "$RB" ] || { echo "targets.sh: no raft-bench at $RB (set RB=...)" >&2; exit 2; }
: > "$out"

tag() { # adds "system", "round" and the load average to a JSON line
  python3 -c 'import json,sys
x = json.loads(sys.argv[1]); x.update(system=sys.argv[2], round=int(sys.argv[3]),
  load=float(open("/proc/loadavg").read().split()[0])); print(json.dumps(x))' "$1" "$2" "$3"
}
# Between runs: the previous run's dirty pages written back and its files'
# removal done, so that no run pays for the one before it.
settle() { sync; sleep 3; }
for r in $(seq 1 "$rounds"); do
  echo "round $r of $rounds ($(cut -d' ' -f1 /proc/loadavg) load)" >&2
  if [ "${SKIP_ETCD:-0}" != 1 ]; then
    bash "$HERE/etcd/run.sh" --members "$members" --seconds "$seconds" --format json 1 64 256 |
      while read -r line; do
        case $line in "{"*) tag "$line" etcd "$r" >> "$out" ;; *) echo "$line" >&2 ;; esac
      done
  fi
  for c in 1 64 256; do
    settle
    line=$("$RB" --members "$members" --clients "$c" --seconds "$seconds" --json "${extra[@]}" | tail -1)
    tag "$line" caf-raft "$r" >> "$out"
  done
  settle
  line=$("$RB" --members "$members" --clients 64 --seconds "$seconds" --no-fsync --json "${extra[@]}" | tail -1)
  tag "$line" caf-raft-nofsync "$r" >> "$out"
done

python3 - "$out" "$members" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def runs(system, clients):
    return [r for r in rows if r["system"] == system and r["clients"] == clients]
def fig(xs, key, scale=1.0, fmt="{:,.0f}"):
    v = [x[key] * scale for x in xs if key in x]
    if not v:
        return "-"
    return f"{fmt.format(statistics.median(v))} ({fmt.format(min(v))}–{fmt.format(max(v))})"
ms = lambda xs, k: fig(xs, k, 0.001, "{:.2f}")
print(f"\n{sys.argv[2]} members; medians over {max(r['round'] for r in rows)} rounds, range in brackets\n")
print("| | etcd | caf-raft |\n|---|---|---|")
for c in (1, 64, 256):
    e, f = runs("etcd", c), runs("caf-raft", c)
    print(f"| {c} clients, ops/s | {fig(e, 'ops_per_sec')} | {fig(f, 'ops_per_sec')} |")
    for k, name in (("p50_us", "p50"), ("p99_us", "p99"), ("p999_us", "p99.9")):
        print(f"| {c} clients, {name} ms | {ms(e, k)} | {ms(f, k)} |")
    print(f"| {c} clients, CPU µs per put | - | {fig(f, 'cpu_us_per_put', 1, '{:.1f}')} |")
one = runs("caf-raft", 1)
floor = [1.5 * (x["fsync_p50_us"] + x["rtt_p50_us"]) for x in one if "fsync_p50_us" in x]
if floor:
    print(f"| 1 client floor, 1.5 × (fsync p50 + RTT p50) ms | - | "
          f"{statistics.median(floor)/1000:.2f} ({min(floor)/1000:.2f}–{max(floor)/1000:.2f}) |")
nf = runs("caf-raft-nofsync", 64)
print(f"| 64 clients, no fsync, ops/s | - | {fig(nf, 'ops_per_sec')} |")
print(f"| 64 clients, no fsync, CPU µs per put | - | {fig(nf, 'cpu_us_per_put', 1, '{:.1f}')} |")
e64, f64 = runs("etcd", 64), runs("caf-raft", 64)
if e64 and f64:
    ratio = statistics.median(x["ops_per_sec"] for x in f64) / statistics.median(x["ops_per_sec"] for x in e64)
    print(f"\n64 clients: caf-raft / etcd = {ratio:.2f} × (medians)")
print(f"load average during the runs: {min(r['load'] for r in rows):.1f}–{max(r['load'] for r in rows):.1f}")
PY
