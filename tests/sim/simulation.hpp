// The deterministic fault simulation (FoundationDB-style): one seed decides a
// whole run. A cluster of 3 or 5 members on CAF's test scheduler, clients
// issuing put/get/cas/del with timeouts, and a fault schedule drawn from the
// seed (partitions, one-way cuts, drop, duplicate, delay, reorder, heal,
// crash, power loss, restart, pause, clock jump). Figure 3 is checked after
// every delivered message (test_cluster); at the end the faults are healed,
// the cluster must converge, every member must have applied the same
// commands in the same order, and the clients' history must be
// linearizable. docs/testing.md describes the rig.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace raft::test::sim {

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
};

// -- results ----------------------------------------------------------------------

/// Fault kinds, counted per run.
enum class fault : uint8_t {
  /// Members split into two or three groups, both ways.
  partition,
  /// Some directed links cut (one-way partition).
  one_way,
  /// The leader (alone, or with one other member) cut off from the rest.
  isolate_leader,
  /// Links lose a share of their messages.
  drop,
  /// Links deliver a share of the Raft messages twice.
  duplicate,
  /// Links add a fixed latency.
  delay,
  /// Links add a random latency, so messages overtake each other.
  reorder,
  /// Every network fault removed.
  heal,
  /// A member killed; unwritten batches lost.
  crash,
  /// Several members (a majority or all) killed at the same instant.
  power_loss,
  /// A crashed member restarted from its storage.
  restart,
  /// A member frozen (SIGSTOP) for a while.
  pause,
  /// A frozen member resumed: its overdue timers fire at once.
  resume,
  /// The whole cluster's clock jumps forward.
  clock_jump,
};

constexpr size_t fault_kinds = static_cast<size_t>(fault::clock_jump) + 1;

std::string to_string(fault x);

/// Totals of one run, or summed over many.
struct stats {
  uint64_t runs = 0;
  /// Simulated milliseconds of fault schedule (the run's steps).
  uint64_t steps = 0;
  /// Simulated milliseconds spent settling at the end.
  uint64_t settle_ms = 0;
  /// Messages run by the scheduler (every actor; Figure 3 after each).
  uint64_t messages = 0;
  /// Member-to-member messages delivered / dropped / duplicated / delayed.
  uint64_t delivered = 0;
  uint64_t dropped = 0;
  uint64_t duplicated = 0;
  uint64_t delayed = 0;
  std::array<uint64_t, fault_kinds> faults{};
  uint64_t elections = 0;
  /// Client operations by outcome, and those the checker saw.
  uint64_t ops_ok = 0;
  uint64_t ops_failed = 0;
  uint64_t ops_unknown = 0;
  uint64_t ops_checked = 0;
  uint64_t queries = 0;
  /// Commands applied (on the converged members).
  uint64_t applied = 0;
  /// At the end: members whose log starts after a snapshot, and whose
  /// state machine was restored from one (on restart or InstallSnapshot).
  uint64_t compacted = 0;
  uint64_t restored = 0;
  uint64_t check_steps = 0;
  /// Runs whose linearizability check ran out of budget (not a pass).
  uint64_t undecided = 0;
  /// Runs that did not converge while idle after healing (liveness).
  uint64_t stalls = 0;
  uint64_t violations = 0;

  uint64_t ops() const {
    return ops_ok + ops_failed + ops_unknown;
  }

  uint64_t total_faults() const;

  stats& operator+=(const stats& x);
};

/// The outcome of one run.
struct result {
  uint64_t seed = 0;
  /// Empty if every check passed; else what broke.
  std::string violation;
  /// The step (simulated millisecond) at which it was found; `steps` plus
  /// the settling time if found at the end.
  uint64_t step = 0;
  /// Members, clients, keys and tuning drawn from the seed.
  std::string setup;
  /// The last events before the end (or the violation), one per line.
  std::string trace;
  /// Why the cluster stalled while idle after healing (empty if it did not).
  std::string stall;
  /// A hash of every event of the run: equal for replays of one seed.
  uint64_t fingerprint = 0;
  stats totals;

  bool ok() const {
    return violation.empty();
  }
};

/// Runs one simulation.
result run(const options& opts);

/// The failure report: seed, step, violation, setup, trace, replay command.
std::string report(const result& r, const options& opts);

/// One line: runs, steps, faults by kind, operations, violations.
std::string summary(const stats& x);

} // namespace raft::test::sim
