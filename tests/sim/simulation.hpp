// The project's deterministic fault simulation: the testing kit's simulation
// (raft/testing/simulation.hpp) running the key-value machine and its
// clients (kv_workload.hpp), plus the deliberately broken member variants
// that show the checks can fail. docs/testing.md describes the rig.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "raft/testing/simulation.hpp"

namespace raft::test::sim {

using testing::fault;
using testing::fault_kinds;
using testing::result;
using testing::stats;
using testing::summary;
using testing::to_string;

// -- configuration --------------------------------------------------------------

/// Deliberately broken member variants (test-only knobs of raft::config).
enum class variant : uint8_t {
  /// The correct member.
  none,
  /// Grant votes without the §5.4.1 up-to-date check.
  skip_vote_log_check,
  /// Commit entries of earlier terms by counting replicas (Figure 8).
  commit_old_terms_by_counting,
  /// A follower keeps a conflicting suffix (§5.3 step 3).
  keep_conflicting_suffix,
  /// Acknowledge AppendEntries before the entries are durable.
  ack_before_durable,
  /// Serve reads without confirming leadership (thesis §6.4).
  serve_reads_without_quorum_check,
  /// Grant pre-votes despite a current leader (thesis §9.6): a disruption,
  /// no safety violation; tests/actors/disruption_test.cpp catches it.
  grant_pre_vote_despite_leader,
  /// Accept a membership change while another is uncommitted (thesis §4.1).
  accept_concurrent_changes,
  /// While joint, commit on C_new's majority alone (thesis §4.3).
  joint_commit_on_new_majority,
  /// Accept a change before the leader committed an entry of its term (the
  /// single-server change bug, raft-dev 2015).
  change_before_term_commit,
};

/// Every broken variant, in declaration order.
std::vector<variant> broken_variants();

/// "none", "skip_vote_log_check", ...
std::string to_string(variant x);

/// Parses to_string's output; false if unknown.
bool from_string(const std::string& str, variant& out);

/// What one run does.
struct options {
  uint64_t seed = 1;
  /// Simulated milliseconds of faults and client load; then the faults heal
  /// and the cluster gets up to `settle_ms` to converge.
  uint64_t steps = 3000;
  uint64_t settle_ms = 10000;
  /// Cluster size (3 or 5); 0: drawn from the seed.
  size_t members = 0;
  variant broken = variant::none;
  /// Events kept for the trace printed on failure.
  size_t trace_size = 60;
  /// Issue half of the gets as read-only queries (ReadIndex), the others
  /// as log commands.
  bool queries = true;
  /// After healing, the cluster must converge with no new command within
  /// `idle_ms`. If it does not (a liveness bug, see docs/testing.md), the run
  /// notes a stall and a client writes once more to unstick it; with
  /// `strict_liveness` the stall fails the run instead.
  uint64_t idle_ms = 2000;
  bool strict_liveness = false;
  /// Search budget of the linearizability checker (steps; 0: unlimited).
  uint64_t check_budget = 50'000'000;
  /// Membership changes: -1 drawn from the seed (a fifth of the seeds), 0
  /// never, 1 always (raft::testing::options::membership).
  int membership = -1;
};

/// Runs one simulation of the key-value machine.
result run(const options& opts);

/// The failure report: seed, step, violation, setup, trace, replay command.
std::string report(const result& r, const options& opts);

} // namespace raft::test::sim
