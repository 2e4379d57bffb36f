#!/usr/bin/env bash
# raft-kv's command line (docs/operations.md): bad arguments are refused
# with exit 2 and a message that says what is wrong; --help per command;
# "--" ends the options; values from stdin and from a file; a member whose
# disk fills up exits 1 naming the file and the error (with root: a 1 MiB
# tmpfs, unmounted at the end).
#
# usage: cli_test.sh PATH/TO/raft-kv
set -u
kv=${1:?usage: cli_test.sh PATH/TO/raft-kv}
work=$(mktemp -d /tmp/raft-cli-test-XXXXXX)
failures=0
pids=()
mounted=""

cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  [ -n "$mounted" ] && umount "$mounted" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# expect CODE TEXT -- ARGS...: runs raft-kv ARGS, checks the exit code and
# that stdout+stderr contain TEXT.
expect() {
  local code=$1 text=$2
  shift 3
  local out rc
  out=$("$kv" "$@" 2>&1 </dev/null)
  rc=$?
  if [ "$rc" != "$code" ]; then
    fail "raft-kv $*: exit $rc, expected $code; output: $out"
  elif [[ "$out" != *"$text"* ]]; then
    fail "raft-kv $*: output lacks '$text': $out"
  else
    echo "ok: raft-kv $* -> $rc, '$text'"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# -- bad arguments -----------------------------------------------------------------

expect 2 "--cluster given twice" -- put --cluster 127.0.0.1:1 --cluster 127.0.0.1:2 k v
expect 2 "--timeout given twice" -- get --timeout 5 --cluster 127.0.0.1:1 --timeout 6 k
expect 2 "is not in --members" -- serve --id 127.0.0.1:7001 \
  --members 127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004 --data "$work/x"
expect 2 "--members lists 127.0.0.1:7002 twice" -- serve --id 127.0.0.1:7001 \
  --members 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7002 --data "$work/x"
expect 2 "--heartbeat 99999999999999999999 is too large" -- serve \
  --id 127.0.0.1:7001 --members 127.0.0.1:7001 --data "$work/x" \
  --heartbeat 99999999999999999999
expect 2 "--heartbeat 3600001 is too large: at most 3600000" -- serve \
  --id 127.0.0.1:7001 --members 127.0.0.1:7001 --data "$work/x" \
  --heartbeat 3600001
expect 2 "--timeout needs a number, not '5s'" -- get --cluster 127.0.0.1:1 --timeout 5s k
expect 2 "unknown option --key" -- put --cluster 127.0.0.1:1 --key v
expect 2 "--value-file is for put only" -- get --cluster 127.0.0.1:1 --value-file /dev/null k
# Membership commands (docs/operations.md, "Changing the members").
expect 2 "member needs list, add, promote or remove" -- member --cluster 127.0.0.1:1
expect 2 "unknown member command 'join'" -- member --cluster 127.0.0.1:1 join 127.0.0.1:2
expect 2 "member add takes 1 argument(s), not 0" -- member --cluster 127.0.0.1:1 add
expect 2 "'nohost' is not HOST:PORT" -- member --cluster 127.0.0.1:1 remove nohost
expect 2 "--learner is for member add only" -- put --cluster 127.0.0.1:1 --learner k v
expect 2 "--learner is for member add only" -- member --cluster 127.0.0.1:1 \
  promote 127.0.0.1:2 --learner
expect 2 "--learner given twice" -- member --cluster 127.0.0.1:1 \
  add 127.0.0.1:2 --learner --learner
expect 2 "transfer takes 1 argument" -- transfer --cluster 127.0.0.1:1
expect 2 "--admins needs TLS" -- serve --id 127.0.0.1:7001 \
  --members 127.0.0.1:7001 --data "$work/x" --admins alice
expect 2 "a new member of a running cluster starts with --join" -- serve \
  --id 127.0.0.1:7009 --members 127.0.0.1:7001 --data "$work/x"
expect 0 "raft-kv member add" -- member --help
# An even member count: a warning (then a usage error, so nothing serves).
expect 2 "warning: 4 members tolerate no more failures than 3" -- serve \
  --id 127.0.0.1:7001 \
  --members 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004 \
  --data /proc/raft-kv-cli-test/data
# --help per command: that command's usage only, exit 0.
expect 0 "raft-kv put" -- put --help
out=$("$kv" put --help 2>&1)
[[ "$out" == *"raft-kv serve"* ]] && fail "put --help shows serve's usage"
expect 0 "--members lists every member" -- serve --help
expect 0 "raft-kv status" -- --help

# -- a running member: "--", stdin, --value-file ----------------------------------

port=$(free_port)
id=127.0.0.1:$port
"$kv" serve --id "$id" --members "$id" --data "$work/one" \
  >"$work/one.out" 2>"$work/one.err" &
pids+=($!)
for _ in $(seq 1 100); do
  "$kv" status --cluster "$id" --timeout 500 2>/dev/null | grep -q leader && break
  sleep 0.1
done
perm=$(stat -c %a "$work/one")
[ "$perm" = 700 ] || fail "data directory mode $perm, expected 700"
expect 0 "" -- put --cluster "$id" -- --key --value
expect 0 "--value" -- get --cluster "$id" -- --key
expect 0 " learners=-" -- status --cluster "$id"
expect 0 "voters: $id" -- member list --cluster "$id"
# Removing a member that is not there changes nothing (exit 1).
expect 1 "member remove failed (nothing changed)" -- member remove \
  --cluster "$id" --timeout 2000 127.0.0.1:1
head -c 1000000 /dev/urandom | base64 -w0 >"$work/big"
"$kv" put --cluster "$id" big - <"$work/big" || fail "put from stdin"
"$kv" get --cluster "$id" big >"$work/big.got" || fail "get big"
# get prints the value and a newline.
cmp <(cat "$work/big"; echo) "$work/big.got" || fail "the value read from stdin differs"
head -c 3000000 /dev/urandom >"$work/bin"
"$kv" put --cluster "$id" --value-file "$work/bin" bin || fail "put --value-file"
head -c 5000000 /dev/zero >"$work/huge"
expect 2 "larger than 4194304 bytes" -- put --cluster "$id" --value-file "$work/huge" huge
for f in "$work"/one/*; do
  m=$(stat -c %a "$f")
  [ "$m" = 600 ] || fail "$f has mode $m, expected 600"
done
# A second member on the same directory is refused, naming the holder.
port2=$(free_port)
expect 2 "is in use: locked by pid" -- serve --id 127.0.0.1:$port2 \
  --members 127.0.0.1:$port2 --data "$work/one"

# -- a full disk: the member exits 1 ------------------------------------------------

if [ "$(id -u)" = 0 ] && mkdir -p "$work/tiny" \
   && mount -t tmpfs -o size=1m,mode=0700 tmpfs "$work/tiny" 2>/dev/null; then
  mounted="$work/tiny"
  port=$(free_port)
  id=127.0.0.1:$port
  "$kv" serve --id "$id" --members "$id" --data "$work/tiny/data" \
    >"$work/tiny.out" 2>"$work/tiny.err" &
  server=$!
  pids+=($server)
  for _ in $(seq 1 100); do
    "$kv" status --cluster "$id" --timeout 500 2>/dev/null | grep -q leader && break
    sleep 0.1
  done
  head -c 300000 /dev/zero >"$work/v300k"
  for i in 1 2 3 4 5; do
    "$kv" put --cluster "$id" --timeout 2000 --value-file "$work/v300k" "k$i" \
      >/dev/null 2>&1 || break
  done
  rc=""
  for _ in $(seq 1 50); do
    if ! kill -0 "$server" 2>/dev/null; then
      wait "$server"; rc=$?
      break
    fi
    sleep 0.1
  done
  if [ "$rc" != 1 ]; then
    fail "a member with a full disk: exit '$rc', expected 1"
  elif ! grep -q "No space left on device" "$work/tiny.err"; then
    fail "a member with a full disk did not log ENOSPC: $(cat "$work/tiny.err")"
  elif ! grep -q "$work/tiny/data/" "$work/tiny.err"; then
    fail "a member with a full disk did not name the file: $(cat "$work/tiny.err")"
  else
    echo "ok: full disk -> exit 1: $(grep -m1 'No space' "$work/tiny.err")"
  fi
else
  echo "skipped: the full-disk case needs root (a 1 MiB tmpfs)"
fi

if [ "$failures" != 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "all passed"
