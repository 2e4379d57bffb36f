// Real `raft-kv serve` processes on 127.0.0.1 for the multi-process tests:
// free ports, a temporary directory, the CLI run with a deadline, status
// parsed, and every process killed when the cluster object goes away (also
// when a test fails). Nothing here sleeps for a fixed time: waits poll a
// condition until a deadline.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace raft::dist {

using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

/// Polls `pred` every `step` until it holds or `timeout` passes.
bool wait_until(const std::function<bool()>& pred, milliseconds timeout,
                milliseconds step = milliseconds(20));

/// A port on 127.0.0.1 that nothing listened on a moment ago.
uint16_t free_port();

/// A fresh directory under $TMPDIR, removed (recursively) on destruction.
struct temp_dir {
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::string path;
};

/// Result of running a command to completion.
struct run_result {
  /// Exit code; -1 if it was killed at its deadline or by a signal.
  int code = -1;
  std::string out;
  std::string err;
};

/// Runs `argv` (argv[0] a path) to completion, killing it after `timeout`.
run_result run(const std::vector<std::string>& argv,
               milliseconds timeout = milliseconds(20000));

/// One line of `raft-kv status`.
struct member_line {
  std::string id;
  std::string role;
  uint64_t term = 0;
  std::string leader;
  uint64_t commit = 0;
  uint64_t applied = 0;
  /// The configuration in force there ("-" when empty); old: C_old's
  /// voters while joint, else empty.
  std::string voters;
  std::string learners;
  std::string old;
};

/// Paths the build passes in.
std::string raft_kv_binary();
std::string make_certs_script();

/// Certificates made with examples/kv/make-certs.sh.
struct certs {
  std::string dir;
  std::string ca() const {
    return dir + "/ca.pem";
  }
  std::string cert(const std::string& id) const;
  std::string key(const std::string& id) const;
  /// --tls-cert/--tls-key/--tls-ca for `id`.
  std::vector<std::string> options(const std::string& id) const;
};

/// Makes a CA in `dir` and a certificate for each identity.
certs make_certs(const std::string& dir, const std::vector<std::string>& ids);

class kv_cluster {
public:
  struct options {
    size_t size = 3;
    int heartbeat_ms = 50;
    int64_t snapshot_threshold = -1; // -1: raft-kv's default
    /// With TLS: every member uses its own certificate from here.
    std::optional<certs> tls;
    std::vector<std::string> acl;
    /// More `raft-kv serve` arguments for every member (limits, ...).
    std::vector<std::string> serve_args;
  };

  explicit kv_cluster(options opts);
  ~kv_cluster();
  kv_cluster(const kv_cluster&) = delete;
  kv_cluster& operator=(const kv_cluster&) = delete;

  size_t size() const {
    return ids_.size();
  }
  const std::vector<std::string>& ids() const {
    return ids_;
  }
  /// "H1:P1,H2:P2,H3:P3": the members the cluster was bootstrapped with.
  std::string members() const;
  const std::string& dir() const {
    return tmp_.path;
  }

  /// Starts member i (again: same data directory).
  void start(size_t i);
  /// Starts member i with `--members members` (e.g. a changed list on a
  /// restart) and, with `join`, `--join` (a new member of a running
  /// cluster, docs/operations.md).
  void start_with(size_t i, const std::string& members, bool join);
  /// A new member on a fresh port (not started): its index. members()
  /// stays the list the cluster was bootstrapped with.
  size_t add_member();
  /// Removes member i's data directory (a dead machine's disk).
  void wipe(size_t i);
  /// "H1:P1,..." of the given members.
  std::string list(const std::vector<size_t>& members) const;
  void start_all();
  /// SIGKILL (crash) or SIGTERM (graceful) member i and reap it.
  void kill(size_t i);
  /// SIGTERM; returns the exit code (-1 if it had to be killed).
  int terminate(size_t i, milliseconds timeout = milliseconds(10000));
  /// SIGSTOP / SIGCONT.
  void pause(size_t i);
  void resume(size_t i);
  bool running(size_t i) const {
    return pids_[i] > 0;
  }
  /// Member i's process id (-1 when not running).
  pid_t pid(size_t i) const {
    return pids_[i];
  }
  /// Everything member i wrote to stdout and stderr so far.
  std::string log(size_t i) const;

  /// Runs `raft-kv CMD --cluster <cluster or all> [TLS of `as`] ARGS...`.
  run_result cli(const std::string& cmd, const std::vector<std::string>& args,
                 const std::string& cluster = {}, const std::string& as = {},
                 milliseconds timeout = milliseconds(20000)) const;

  /// The status lines of the members that answered.
  std::map<std::string, member_line> status(const std::string& as = {}) const;

  /// Member `id`'s status line, asking again until it answers (a loaded
  /// machine may miss one round); throws after `timeout`.
  member_line status_of(const std::string& id, const std::string& as = {},
                        milliseconds timeout = milliseconds(15000)) const;

  /// Waits for one leader that every running member agrees on; its index.
  std::optional<size_t> await_leader(milliseconds timeout,
                                     const std::string& as = {}) const;

  /// Waits until every running member applied at least `index`.
  bool await_applied(uint64_t index, milliseconds timeout,
                     const std::string& as = {}) const;

  size_t index_of(const std::string& id) const;

  /// TLS options for the identity `as` (empty without TLS).
  std::vector<std::string> tls_options(const std::string& as) const;

private:
  options opts_;
  temp_dir tmp_;
  std::vector<std::string> ids_;
  std::vector<pid_t> pids_;
  /// The ids of the bootstrap members (the --members of start()).
  size_t boot_size_ = 0;
};

} // namespace raft::dist
