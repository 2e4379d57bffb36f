#!/bin/sh
# Runs one libFuzzer target for a while on a working copy of its corpus:
#   run.sh FUZZER SECONDS SEED_CORPUS WORK_DIR [libFuzzer options...]
# New inputs go to WORK_DIR (the seed corpus in the repository is only
# read); a crash is saved next to it as crash-<sha1> and the test fails.
set -u
fuzzer=$1
seconds=$2
seeds=$3
work=$4
shift 4
mkdir -p "$work"
log="$work.log"
"$fuzzer" -max_total_time="$seconds" -print_final_stats=1 \
  -rss_limit_mb=2048 -timeout=20 -artifact_prefix="$work-" \
  "$@" "$work" "$seeds" >"$log" 2>&1
status=$?
execs=$(grep -a -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
cov=$(grep -a -E '^#[0-9]+.*(DONE|pulse|NEW)' "$log" | tail -n 1)
echo "$(basename "$fuzzer"): ${execs:-?} executions in ${seconds} s; last status: $cov"
if [ "$status" -ne 0 ]; then
  echo "libFuzzer exited with status $status; the end of $log:"
  tail -n 60 "$log"
fi
exit "$status"
