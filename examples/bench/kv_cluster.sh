# Sourced by the bench scripts (memory.sh, sigstop.sh, large_entries.sh):
# start_kv_cluster starts 3 `raft-kv serve` members on free 127.0.0.1 ports,
# each with its data and log in $work/m<i>. Needs $kv (the raft-kv binary) and
# $work; sets ports (the 3 ports), m (the --members/--cluster list) and
# appends the members' pids to pids. SERVE_FLAGS adds flags to every serve.
start_kv_cluster() {
  ports=()
  for _ in 1 2 3; do
    ports+=($(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'))
  done
  m=127.0.0.1:${ports[0]},127.0.0.1:${ports[1]},127.0.0.1:${ports[2]}
  for i in 0 1 2; do
    # shellcheck disable=SC2086
    "$kv" serve --id 127.0.0.1:${ports[$i]} --members "$m" --data "$work/m$i" \
      ${SERVE_FLAGS:-} >"$work/m$i.log" 2>&1 &
    pids+=($!)
  done
}
