#!/usr/bin/env bash
# Runs the comparison of docs/benchmarks.md, etcd and caf-raft one right after
# the other, and appends one TSV row per run to $OUT:
#   system members mode fsync clients ops_per_sec p50_us p90_us p99_us p999_us loadavg
#
#   RB=<raft-bench binary> OUT=docs/bench-results.tsv SECS=5 \
#   bash run_matrix.sh [members] [clients...]     (etcd: etcd_curve.sh, etcd/run.sh)
#
# Env: RB_ARGS=extra raft-bench flags (e.g. "--scheduler sharing"), LABEL=the
# system column for those rows (default caf-raft), SKIP_ETCD=1 skips etcd.
# Per member count: the etcd curve (etcd_curve.sh), then raft-bench durable
# (3 processes) for every client count; with 3 members also raft-bench
# --no-fsync (processes and --inproc) at 64 clients.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
RB=${RB:-$HERE/../../build-bench/examples/bench/raft-bench}
OUT=${OUT:-$HERE/../../docs/bench-results.tsv}
SECS=${SECS:-5}
N=${1:-3}
shift || true
CLIENTS=("$@")
[ ${#CLIENTS[@]} -gt 0 ] || CLIENTS=(1 4 16 64 256)
[ -s "$OUT" ] || printf 'system\tmembers\tmode\tfsync\tclients\tops_per_sec\tp50_us\tp90_us\tp99_us\tp999_us\tloadavg\n' > "$OUT"
load() { cut -d' ' -f1 /proc/loadavg; }

LABEL=${LABEL:-caf-raft}
read -r -a EXTRA <<< "${RB_ARGS:-}"
# etcd: "etcd N C clients=.. ops/s=X avg=.. p50=Yms p90=.. p99=.. p99.9=.." -> row
[ "${SKIP_ETCD:-0}" = 1 ] || bash "$HERE/etcd_curve.sh" "$N" "${CLIENTS[@]}" | while read -r line; do
  echo "$line" >&2
  python3 - "$line" "$(load)" >> "$OUT" <<'PY'
import sys, re
line, la = sys.argv[1], sys.argv[2]
f = line.split()
kv = dict(re.findall(r'(\S+)=(\S+)', line))
us = lambda k: str(round(float(kv[k].rstrip('ms')) * 1000))
print('\t'.join(['etcd', f[1], 'processes', 'durable', f[2], str(round(float(kv['ops/s']))),
                 us('p50'), us('p90'), us('p99'), us('p99.9'), la]))
PY
done

rb() {  # raft-bench args... -> row
  local json
  json=$("$RB" "$@" "${EXTRA[@]}" --seconds "$SECS" --json 2>/dev/null | tail -1)
  echo "raft-bench $* ${EXTRA[*]}: $json" >&2
  python3 - "$json" "$LABEL" >> "$OUT" <<'PY'
import sys, json
j = json.loads(sys.argv[1])
print('\t'.join([sys.argv[2], str(j['members']), j['mode'], 'durable' if j['fsync'] else 'memory',
                 str(j['clients']), str(j['ops_per_sec']), str(j['p50_us']), str(j['p90_us']),
                 str(j['p99_us']), str(j['p999_us']), '%.2f' % j['loadavg_after']]))
PY
}
for c in "${CLIENTS[@]}"; do rb --members "$N" --clients "$c"; done
if [ "$N" = 3 ]; then
  rb --members 3 --clients 64 --no-fsync
  rb --members 3 --clients 64 --no-fsync --inproc
  rb --members 3 --clients 64 --inproc
fi
