#!/usr/bin/env bash
# The old wire (CAF's BASP, branch main) against the new one (docs/wire.md)
# in one run, interleaved so both see the same machine (docs/benchmarks.md,
# "Wire"). Each binary directory holds raft-kv, raft-bench and wire-bench
# built from its tree (wire-bench comes from the new tree: build it in a
# worktree of main with this file's CMake addition, or copy it).
#
#   examples/bench/wire_compare.sh OLD_DIR NEW_DIR [REPS] [SECONDS]
#
# Per repetition and wire: wire-bench (request/response between two
# processes: p50, CPU us per message one at a time and with 64 in flight,
# plain TCP measured in the same run), raft-bench with 1 client (p50) and
# 64 clients (ops/s), 3 member processes, fsync on. Prints every run as a
# TSV line, then medians and new/old ratios.
set -euo pipefail
OLD=${1:?old binary dir}
NEW=${2:?new binary dir}
REPS=${3:-3}
SECS=${4:-5}
PORT=${PORT:-17700}
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT

load() { cut -d' ' -f1 /proc/loadavg; }

run() { # wire dir rep
  local wire=$1 dir=$2 rep=$3 json
  json=$("$dir/wire-bench" --raft-kv "$dir/raft-kv" --seconds "$SECS" \
           --port "$PORT" --json 2>/dev/null | tail -n 1)
  python3 - "$wire" "$rep" "$json" "$(load)" >> "$OUT" <<'PY'
import json, sys
wire, rep, d, load = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
for k in ("tcp_p50_us", "tcp_cpu_us_per_msg", "wire_p50_us", "wire_cpu_us_per_msg",
          "wire_pipelined_cpu_us", "wire_pipelined_per_s", "tcp_pipelined_cpu_us"):
    print(f"{wire}\t{rep}\t{k}\t{d[k]}\t{load}")
PY
  for c in 1 64; do
    json=$("$dir/raft-bench" --clients "$c" --seconds "$SECS" --port "$((PORT + 10))" \
             --json 2>/dev/null | tail -n 1)
    python3 - "$wire" "$rep" "$c" "$json" "$(load)" >> "$OUT" <<'PY'
import json, sys
wire, rep, c, d, load = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), sys.argv[5]
if c == "1":
    print(f"{wire}\t{rep}\tbench_1_p50_us\t{d['p50_us']}\t{load}")
else:
    print(f"{wire}\t{rep}\tbench_64_ops_per_s\t{d['ops_per_sec']}\t{load}")
print(f"{wire}\t{rep}\tbench_{c}_fsync_p50_us\t{d['fsync_p50_us']}\t{load}")
PY
  done
}

for rep in $(seq 1 "$REPS"); do
  if (( rep % 2 )); then run old "$OLD" "$rep"; run new "$NEW" "$rep";
  else run new "$NEW" "$rep"; run old "$OLD" "$rep"; fi
done
echo -e "wire\trep\tmetric\tvalue\tload"
cat "$OUT"
python3 - "$OUT" <<'PY'
import statistics, sys, collections
v = collections.defaultdict(list)
for line in open(sys.argv[1]):
    wire, rep, k, x, load = line.split("\t")
    v[(wire, k)].append(float(x))
print("\nmedians (old -> new, new/old)")
for k in sorted({k for _, k in v}):
    o, n = statistics.median(v[("old", k)]), statistics.median(v[("new", k)])
    print(f"  {k:26s} {o:10.1f} -> {n:10.1f}   {n / o if o else float('nan'):5.2f}x")
tcp = statistics.median(v[("old", "tcp_p50_us")] + v[("new", "tcp_p50_us")])
for w in ("old", "new"):
    print(f"  {w} wire p50 / plain TCP p50: {statistics.median(v[(w, 'wire_p50_us')]) / tcp:.2f}x")
PY
