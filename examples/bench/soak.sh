#!/usr/bin/env bash
# Soak run of docs/benchmarks.md ("Soak"): 3 member processes, durable file
# log, 64 closed-loop clients, snapshots on, for SECS seconds (default 600),
# sampled every EVERY seconds (default 10). Writes the samples as a TSV and
# the run's JSON next to it, then plots them (if gnuplot is installed).
#
#   RB=<raft-bench binary> SECS=600 EVERY=10 CLIENTS=64 THRESHOLD=<entries> \
#   OUT=/tmp/bench-soak.tsv PNG=docs/bench-soak.png bash soak.sh [raft-bench flags]
#
# THRESHOLD: snapshot_threshold of the members (default: the library's,
# 10,000 entries). Extra arguments go to raft-bench (e.g. --scheduler sharing,
# --port 17600). TSV columns (one row per sample; t_s is the end of the
# interval, seconds into the measured window; p50/p99 of that interval):
#   t_s ops_per_sec p50_us p99_us errors rss_mib_0..2 disk_mib_0..2 loadavg
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RB=${RB:-$ROOT/build-bench/examples/bench/raft-bench}
SECS=${SECS:-600}
EVERY=${EVERY:-10}
CLIENTS=${CLIENTS:-64}
OUT=${OUT:-/tmp/bench-soak.tsv}
JSON=${JSON:-${OUT%.tsv}.json}
PNG=${PNG:-$ROOT/docs/bench-soak.png}
[ -x "$RB" ] || { echo "soak.sh: no raft-bench at $RB (set RB=...)" >&2; exit 2; }
ARGS=(--members 3 --processes --clients "$CLIENTS" --seconds "$SECS"
      --warmup 5 --sample-every "$EVERY" --json)
[ -z "${THRESHOLD:-}" ] || ARGS+=(--snapshot-threshold "$THRESHOLD")
STARTED=$(date -u +%FT%TZ)
LOAD0=$(cut -d' ' -f1 /proc/loadavg)
echo "soak.sh: $STARTED, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "soak.sh: $RB ${ARGS[*]} $*" >&2
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
"$RB" "${ARGS[@]}" "$@" | tee "$LOG" | grep -v '^#\?sample' || true
# The header line starts with "#sample", the rows with "sample".
{ grep '^#sample' "$LOG" | head -1 | cut -f2- | sed 's/^/# /'
  grep -P '^sample\t' "$LOG" | cut -f2- ; } > "$OUT"
tail -1 "$LOG" | grep '^{' > "$JSON" || { echo "soak.sh: raft-bench gave no JSON (failed?)" >&2; exit 1; }
ROWS=$(grep -vc '^#' "$OUT" || true)
echo "soak.sh: $ROWS samples in $OUT, summary in $JSON" >&2
if command -v gnuplot >/dev/null 2>&1; then
  NOTE="$SECS s from $STARTED, samples every $EVERY s, load average $LOAD0 at the start, $(cut -d' ' -f1 /proc/loadavg) at the end ($(nproc) cores)"
  gnuplot -e "data='$OUT'; out='$PNG'; note='$NOTE'" "$HERE/plot_soak.gnuplot" && echo "soak.sh: plot in $PNG" >&2
else
  echo "soak.sh: gnuplot not found, no plot" >&2
fi
