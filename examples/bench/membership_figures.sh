#!/usr/bin/env bash
# Issue 12's membership figures with real raft-kv processes on 127.0.0.1
# (docs/membership.md, "Figures with real processes"):
#
#   elections    elections caused by a rolling restart of all three members
#                and by a member cut off and rejoining, PreVote on and off
#                (an "election" is one increment of the highest term the
#                members report; the term is durable, so restarts keep it)
#   transfer     time from a transfer request to the new leader serving
#                writes (raft-kv-bench --transfers)
#   replacement  puts/s for BEFORE_S seconds before a member replacement and
#                during it (a follower killed, its disk wiped, a new member
#                started with --join, added as a learner, promoted, the dead
#                one removed), from raft-kv-bench's per-10-ms timeline
#
#   bash examples/bench/membership_figures.sh [elections] [transfer] [replacement]
#
# Environment: BUILD (build directory, default ./build), RUNS (3), PORT
# (first of the ports used, 17700), HEARTBEAT (ms, 50: election timeout
# 500-1000 ms), DOWN_MS (1500: how long a restarted member stays down),
# SETTLE_MS (3000), PARTITION_MS (3000), REJOINS (cut-offs per run, 3),
# TRANSFERS (10 per run), BEFORE_S (10).
#
# The "partition" stops the member with SIGSTOP and resumes it with SIGCONT:
# it neither sends nor receives, but its timers do not run while stopped
# either (a member cut off by the network keeps campaigning; this one cannot).
# Only the processes this script started are signalled; its files live in a
# temporary directory removed at the end.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
KV=${KV:-$BUILD/examples/kv/raft-kv}
KVB=${KVB:-$BUILD/examples/kv/raft-kv-bench}
RUNS=${RUNS:-3}
PORT=${PORT:-17700}
HEARTBEAT=${HEARTBEAT:-50}
DOWN_MS=${DOWN_MS:-1500}
SETTLE_MS=${SETTLE_MS:-3000}
PARTITION_MS=${PARTITION_MS:-3000}
REJOINS=${REJOINS:-3}
TRANSFERS=${TRANSFERS:-10}
BEFORE_S=${BEFORE_S:-10}
WHAT=${*:-elections transfer replacement}
for b in "$KV" "$KVB"; do
  [ -x "$b" ] || { echo "membership_figures.sh: no $b (build raft-kv and raft-kv-bench, or set BUILD)" >&2; exit 2; }
done
WORK=$(mktemp -d /tmp/membership-figures.XXXXXX)
declare -A PIDS=()

cleanup() {
  for p in "${PIDS[@]}"; do
    kill -CONT "$p" 2>/dev/null || true
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

say() { echo "membership_figures.sh: $*" >&2; }
now_ms() { date +%s%3N; }
sleep_ms() { sleep "$(awk -v m="$1" 'BEGIN { printf "%.3f", m / 1000 }')"; }
id_of() { echo "127.0.0.1:$((PORT + $1))"; }
cluster_of() { local out="" i; for i in "$@"; do out+="${out:+,}$(id_of "$i")"; done; echo "$out"; }

# serve I MEMBERS [FLAGS...]: member I (data in $WORK/mI) in the background.
serve() {
  local i=$1 members=$2; shift 2
  "$KV" serve --id "$(id_of "$i")" --members "$members" --data "$WORK/m$i" \
    --heartbeat "$HEARTBEAT" "$@" >>"$WORK/m$i.log" 2>&1 &
  PIDS[$i]=$!
}

stop() { # stop I [SIGNAL]
  local p=${PIDS[$1]}
  kill -"${2:-TERM}" "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  unset "PIDS[$1]"
}

status() { "$KV" status --cluster "$1" --timeout 1000 2>/dev/null || true; }
max_term() { status "$1" | grep -o 'term=[0-9]*' | cut -d= -f2 | sort -n | tail -1; }
leader_id() { status "$1" | awk '$2 == "leader" { print $1; exit }'; }

# wait_for CLUSTER ID: ID reports a leader it follows (or leads), 30 s at most.
wait_for() {
  local deadline=$(( $(now_ms) + 30000 ))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    if status "$1" | awk -v id="$2" '$1 == id && ($2 == "leader" || ($2 == "follower" && $4 != "leader=-")) { ok = 1 } END { exit !ok }'; then
      return 0
    fi
    sleep 0.05
  done
  say "timed out waiting for $2 to follow a leader"; return 1
}

start_cluster() { # start_cluster [FLAGS...]: members 1-3, fresh disks
  local members i
  members=$(cluster_of 1 2 3)
  rm -rf "$WORK"/m1 "$WORK"/m2 "$WORK"/m3
  for i in 1 2 3; do serve "$i" "$members" "$@"; done
  for i in 1 2 3; do wait_for "$members" "$(id_of "$i")"; done
}

stop_cluster() { local i; for i in "${!PIDS[@]}"; do stop "$i"; done; }

# -- elections ---------------------------------------------------------------
elections() {
  local mode flags r i j members leader t0 t1 kind victim
  members=$(cluster_of 1 2 3)
  for mode in on off; do
    flags=(); [ "$mode" = off ] && flags=(--no-pre-vote)
    for r in $(seq "$RUNS"); do
      start_cluster "${flags[@]}"
      sleep_ms "$SETTLE_MS"
      # A rolling restart: each member in turn stopped (SIGTERM), down for
      # DOWN_MS, restarted on its disk, then SETTLE_MS to settle.
      for i in 1 2 3; do
        leader=$(leader_id "$members")
        kind=follower; [ "$leader" = "$(id_of "$i")" ] && kind=leader
        t0=$(max_term "$members")
        stop "$i"
        sleep_ms "$DOWN_MS"
        serve "$i" "$members" "${flags[@]}"
        wait_for "$members" "$(id_of "$i")"
        sleep_ms "$SETTLE_MS"
        t1=$(max_term "$members")
        echo "figure elections prevote=$mode run=$r event=restart_$kind member=$(id_of "$i") elections=$((t1 - t0))"
      done
      # A follower cut off (SIGSTOP) for PARTITION_MS, then back (SIGCONT),
      # REJOINS times.
      for j in $(seq "$REJOINS"); do
        leader=$(leader_id "$members")
        for i in 1 2 3; do [ "$(id_of "$i")" != "$leader" ] && { victim=$i; break; }; done
        t0=$(max_term "$members")
        kill -STOP "${PIDS[$victim]}"
        sleep_ms "$PARTITION_MS"
        kill -CONT "${PIDS[$victim]}"
        sleep_ms "$SETTLE_MS"
        t1=$(max_term "$members")
        echo "figure elections prevote=$mode run=$r event=rejoin_follower member=$(id_of "$victim") elections=$((t1 - t0))"
      done
      stop_cluster
    done
  done
}

# -- transfer ----------------------------------------------------------------
transfer() {
  local r members
  members=$(cluster_of 1 2 3)
  for r in $(seq "$RUNS"); do
    start_cluster
    sleep_ms "$SETTLE_MS"
    "$KVB" --cluster "$members" --transfers "$TRANSFERS" --value-size 256 \
      | sed "s/^/figure transfer run=$r /"
    stop_cluster
  done
}

# -- replacement -------------------------------------------------------------
# rate FILE FROM_MS TO_MS: puts/s acknowledged in [FROM_MS, TO_MS).
rate() {
  awk -v a="$2" -v b="$3" '$1 >= a && $1 < b { n += $2 } END { printf "%.0f", n * 1000 / (b - a) }' "$1"
}

replacement() {
  local r members dead fresh leader survivors new_cluster load_pid timeline
  local before_from before_to kill_at add_at done_at
  members=$(cluster_of 1 2 3)
  for r in $(seq "$RUNS"); do
    # Small snapshots: the replacement gets a snapshot and then the log.
    start_cluster --snapshot-threshold 500
    timeline="$WORK/timeline-$r"
    "$KVB" --cluster "$members" --threads 4 --value-size 256 \
      --seconds $((BEFORE_S + 40)) --timeline "$timeline" >"$WORK/load-$r.out" 2>&1 &
    load_pid=$!
    sleep 2 # the load reaches a steady rate
    before_from=$(now_ms)
    sleep "$BEFORE_S"
    before_to=$(now_ms)
    leader=$(leader_id "$members")
    dead=1; [ "$(id_of 1)" = "$leader" ] && dead=2
    survivors=$(cluster_of $(for i in 1 2 3; do [ "$i" != "$dead" ] && echo "$i"; done))
    fresh=$((3 + r))
    kill_at=$(now_ms)
    stop "$dead" KILL
    rm -rf "$WORK/m$dead"
    serve "$fresh" "$survivors" --join --snapshot-threshold 500
    local deadline=$(( $(now_ms) + 20000 ))
    until grep -qs "waiting to be added" "$WORK/m$fresh.log"; do
      [ "$(now_ms)" -lt "$deadline" ] || { say "the new member did not start"; return 1; }
      sleep 0.05
    done
    add_at=$(now_ms)
    "$KV" member add --cluster "$survivors" "$(id_of "$fresh")" --learner >/dev/null
    "$KV" member promote --cluster "$survivors" --timeout 90000 "$(id_of "$fresh")" >/dev/null
    new_cluster="$survivors,$(id_of "$fresh")"
    "$KV" member remove --cluster "$new_cluster" "$(id_of "$dead")" >/dev/null
    done_at=$(now_ms)
    wait "$load_pid" || { say "the load failed: $(cat "$WORK/load-$r.out")"; return 1; }
    [ "$(tail -1 "$timeline" | cut -d' ' -f1)" -ge "$done_at" ] \
      || say "warning: the load ended before the replacement did (raise BEFORE_S + 40)"
    echo "figure replacement run=$r before=$(rate "$timeline" "$before_from" "$before_to") puts/s" \
         "membership_commands=$(rate "$timeline" "$add_at" "$done_at") puts/s over $((done_at - add_at)) ms" \
         "kill_to_removed=$(rate "$timeline" "$kill_at" "$done_at") puts/s over $((done_at - kill_at)) ms" \
         "load: $(head -1 "$WORK/load-$r.out")"
    stop_cluster
    rm -rf "$WORK/m$fresh"
  done
}

say "$(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
for w in $WHAT; do
  case $w in
    elections|transfer|replacement) "$w" ;;
    *) say "unknown figure $w (elections, transfer, replacement)"; exit 2 ;;
  esac
done
say "done $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
