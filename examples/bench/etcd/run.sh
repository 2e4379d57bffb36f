#!/usr/bin/env bash
# The etcd side of docs/benchmarks.md: starts an etcd cluster (Debian's
# etcd-server, 3 members by default) on 127.0.0.1 with its own ports and its
# own temporary directory, drives its leader with putload (putload/main.go,
# built here from Debian's golang-go and golang-etcd-server-dev, offline, in
# GOPATH mode) once per client count, and stops the members it started.
#
#   examples/bench/etcd/run.sh [options] [clients...]     (default: 1 64)
#
#   --members N      cluster size (default 3)
#   --seconds S      measured seconds per run (default 5), after
#   --warmup S       seconds of warm-up load (default 1)
#   --size B         value bytes (default 256; keys: 8 bytes over 100,000)
#   --port P         first client port (default 23379, below Linux's ephemeral ports): member i listens on
#                    P+100*i for clients, P+100*i+1 for peers
#   --format F       text (raft-bench's summary, the default), json (one JSON
#                    object per run, raft-bench's keys) or line ("etcd N C
#                    key=value...", what etcd_curve.sh and run_matrix.sh read)
#   --install        install missing Debian packages (as root) instead of
#                    naming them
#
# Env: PUTLOAD_DIR=DIR keeps the built load generator in DIR between runs
# (default: rebuilt in the run's temporary directory). Workers share
# max(1, clients/8) connections, as in the earlier runs.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

members=3 seconds=5 warmup=1 size=256 port=23379 format=text install=0
clients=()
while [ $# -gt 0 ]; do
  case $1 in
    --members) members=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --format) format=$2; shift 2 ;;
    --install) install=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) clients+=("$1"); shift ;;
  esac
done
[ ${#clients[@]} -gt 0 ] || clients=(1 64)
say() { [ "$format" = line ] || echo "$*"; }  # progress, not in line format

# -- Debian packages -------------------------------------------------------------
gocode=/usr/share/gocode
packages=(etcd-server etcd-client golang-go golang-etcd-server-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$install" = 1 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
  else
    echo "run.sh: missing Debian packages: ${missing[*]} (apt-get install them, or pass --install as root)" >&2
    exit 2
  fi
fi

# -- the work directory and the load generator ------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/caf_raft_etcd.XXXXXX")
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

gen_dir=${PUTLOAD_DIR:-$work}
mkdir -p "$gen_dir"
gen=$gen_dir/putload
if [ ! -x "$gen" ] || [ "$HERE/putload/main.go" -nt "$gen" ]; then
  say "building $gen (Go $(go env GOVERSION), clientv3 from $gocode)"
  (cd "$HERE/putload" && GO111MODULE=off GOPATH=$gocode GOFLAGS= \
     GOCACHE="$gen_dir/gocache" go build -o "$gen" .)
fi

# -- the cluster ------------------------------------------------------------------
cluster="" endpoints=""
for i in $(seq 1 "$members"); do
  cluster+="${cluster:+,}m$i=http://127.0.0.1:$((port + 100 * i + 1))"
  endpoints+="${endpoints:+,}127.0.0.1:$((port + 100 * i))"
done
for i in $(seq 1 "$members"); do
  client=127.0.0.1:$((port + 100 * i)) peer=127.0.0.1:$((port + 100 * i + 1))
  etcd --name "m$i" --data-dir "$work/m$i" --logger zap --log-level warn \
    --listen-client-urls "http://$client" --advertise-client-urls "http://$client" \
    --listen-peer-urls "http://$peer" --initial-advertise-peer-urls "http://$peer" \
    --initial-cluster "$cluster" --initial-cluster-state new \
    --initial-cluster-token "caf-raft-bench-$$" > "$work/m$i.log" 2>&1 &
  pids+=($!)
done
# Until all members answer; a member that exits (a port in use, say) ends it.
healthy=0
for _ in $(seq 1 100); do
  for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null || break 2
  done
  if etcdctl --endpoints="$endpoints" --dial-timeout=1s --command-timeout=2s \
       endpoint health >/dev/null 2>&1; then
    healthy=1
    break
  fi
  sleep 0.2
done
if [ "$healthy" = 0 ]; then
  echo "run.sh: the etcd cluster did not become healthy (try another --port); its logs:" >&2
  tail -n 5 "$work"/m*.log >&2
  exit 1
fi
# "endpoint, id, version, db size, is leader, ..."
leader=$(etcdctl --endpoints="$endpoints" endpoint status -w simple \
           | awk -F', ' '$5 == "true" { print $1; exit }')
[ -n "$leader" ] || { echo "run.sh: no leader found" >&2; exit 1; }
say "etcd $(etcd --version | awk '/etcd Version/ { print $3 }'): $members members, leader $leader, data in $work"

# -- the runs ---------------------------------------------------------------------
for c in "${clients[@]}"; do
  conns=$(( c >= 8 ? c / 8 : 1 ))
  out=$("$gen" --endpoints="$leader" --clients="$c" --conns="$conns" --members="$members" \
          --metrics="http://$leader/metrics" \
          --seconds="$seconds" --warmup="$warmup" --size="$size" --format="$format")
  if [ "$format" = line ]; then
    echo "etcd $members $c $out"
  else
    echo "$out"
    say "  load        $(cut -d' ' -f1-3 /proc/loadavg) (load average, 1/5/15 min, after the run)"
  fi
done
