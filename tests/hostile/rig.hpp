// The hostile-peer suite's rig: a real 3-member `raft-kv serve` cluster
// (tests/distributed/kv_cluster), a client that keeps writing through the
// CLI the whole time, and one table row per attack with what the issue asks
// to hold after each: no election (every member's term unchanged), the
// target member's RSS within 64 MiB of its level before, clients served
// during and after, the refusal in the target member's log, and (filled in
// by restart_and_verify) every acknowledged write read back after all
// members restarted.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kv_cluster.hpp"

namespace raft::hostile {

using std::chrono::milliseconds;

/// One row of the attack table.
struct attack_row {
  std::string attack;
  std::string cluster; // "plain" or "tls+acl"
  std::string target;
  /// Every member's term before and after the attack.
  std::map<std::string, uint64_t> terms_before;
  std::map<std::string, uint64_t> terms_after;
  double rss_before_mib = 0;
  double rss_peak_mib = 0;
  /// Client writes during the attack (and its checks).
  size_t writes_acked = 0;
  size_t writes_failed = 0;
  /// Acknowledged writes of this row missing after the restart (-1: not
  /// checked yet).
  long writes_lost = -1;
  /// The first new line in the target's log that matched, if any.
  std::string refusal_line;
  /// Anything the attack itself observed (e.g. "closed in 3 ms").
  std::string note;

  bool term_unchanged() const;
  uint64_t max_term(const std::map<std::string, uint64_t>& terms) const;
};

/// What an attack gets: the target's id (`host:port`), how long to run, and
/// every member's status line just before.
struct attack_context {
  std::string target;
  milliseconds duration;
  std::map<std::string, raft::dist::member_line> status;
  /// The leader all members agreed on before the attack.
  std::string leader;
  /// Set by the attack for the table ("closed by the member after 2 ms").
  std::string note;
};

class rig {
public:
  struct options {
    bool tls = false;
    /// Longer attacks (the `long` variant).
    bool long_run = false;
    /// Extra `raft-kv serve` arguments (limits).
    std::vector<std::string> serve_args;
    /// TLS: more identities on the access list besides "client", each
    /// with a certificate of the cluster's CA (e.g. an admin).
    std::vector<std::string> identities;
  };

  explicit rig(options opts);
  ~rig();

  raft::dist::kv_cluster& cluster() {
    return *cluster_;
  }
  const std::optional<raft::dist::certs>& certs() const {
    return certs_;
  }
  /// The CA directory of the TLS cluster (certificates for more identities
  /// can be made there with raft::dist::make_certs).
  std::string certs_dir() const;

  /// How long flooding attacks run: ~5 s, or 30 s in the long variant.
  milliseconds flood_duration() const;

  /// Runs `attack` against member `target` while the writer keeps writing,
  /// then checks every property the issue names (Boost.Test assertions) and
  /// appends a row. `refusal` is what the target's log must gain (a
  /// substring of one line).
  attack_row& run(const std::string& name, size_t target,
                  const std::function<void(attack_context&)>& attack,
                  const std::string& refusal);

  /// SIGKILLs every member, restarts them all, waits for a leader and reads
  /// back every acknowledged write; fills writes_lost of each row.
  void restart_and_verify();

  const std::vector<attack_row>& rows() const {
    return rows_;
  }

  /// The attack table (Markdown) for docs and the report.
  static std::string table(const std::vector<attack_row>& rows);

private:
  void writer_loop();
  double rss_mib(size_t i) const;
  double hwm_mib(size_t i) const;

  options opts_;
  std::unique_ptr<raft::dist::temp_dir> certs_tmp_;
  std::optional<raft::dist::certs> certs_;
  std::unique_ptr<raft::dist::kv_cluster> cluster_;
  std::vector<attack_row> rows_;

  // The writer: keys hk-<n>, value v<n>; which row each ack belongs to.
  std::thread writer_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> pause_writer_{false};
  std::mutex mtx_;
  std::vector<std::pair<std::string, size_t>> acked_; // key, row (or npos)
  long current_row_ = -1;
  size_t acked_in_row_ = 0;
  size_t failed_in_row_ = 0;
  std::string last_failure_;
};

} // namespace raft::hostile
