// The testing kit's deterministic fault simulation (FoundationDB-style):
// one seed decides a whole run. A cluster of 3 or 5 members on CAF's test
// scheduler, each running the application's state machine; clients issuing
// the application's operations with timeouts; and a fault schedule drawn
// from the seed (partitions, one-way cuts, drop, duplicate, delay, reorder,
// heal, crash, power loss, restart, pause, clock jump, disk latency).
// Figure 3 is checked after every delivered message; at the end the faults
// are healed, the cluster must converge, every member must have applied the
// same commands in the same order and hold the same state, and the clients'
// history must be linearizable against the application's sequential model.
// docs/testing-kit.md shows how to use it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "raft/config.hpp"
#include "raft/core/types.hpp"
#include "raft/state_machine.hpp"
#include "raft/testing/member_setup.hpp"

namespace raft::testing {

// -- what the application provides ----------------------------------------------

/// One client request, as a workload issues it.
struct request {
  /// The command (or, if `query`, the read-only query) sent to a member.
  payload command;
  /// Sent as a read-only query (ReadIndex, thesis §6.4) instead of through
  /// the log. Only for operations that change nothing.
  bool query = false;
  /// How the operation shows in the trace; empty: the command's bytes.
  std::string text;
};

/// What a client sees of one operation, and when (simulated nanoseconds
/// since the run began).
struct client_call {
  /// The issuing client (1, 2, ...). A client issues one operation at a time.
  uint64_t client = 0;
  uint64_t time = 0;
  /// The simulation's random source: draw from it only, so that the seed
  /// decides the whole run.
  std::mt19937_64* rng = nullptr;
  /// Whether read-only operations may go as queries in this run.
  bool queries = true;
};

/// The checker's answer about a whole history.
struct history_verdict {
  enum status_t : uint8_t {
    /// Some linearization fits every reply.
    linearizable,
    /// None does.
    violation,
    /// The search budget ran out first (not a pass, not a failure).
    undecided,
  };
  status_t status = linearizable;
  /// Operations checked (failed ones and unknown reads are left out).
  uint64_t operations = 0;
  /// Search steps taken.
  uint64_t steps = 0;
  /// The object (key, account, ...) that broke or was left undecided.
  std::string key;
  /// The checker's report (for a violation: what fits, then what does not).
  std::string explanation;
  /// Simulated time (ns) of the operations that do not fit: the trace shows
  /// the events around them. Both 0: show the last events instead.
  uint64_t window_from = 0;
  uint64_t window_to = 0;
};

/// The application's clients and their history: issues operations, records
/// what they saw, and checks the history against a sequential model at the
/// end. model_workload (raft/testing/model_workload.hpp) builds one from a
/// sequential model; implement it directly for a checker of your own.
class workload {
public:
  virtual ~workload();

  /// Draws whatever the run's setup needs (e.g. how many keys) from `rng`,
  /// once, before the run; returns a description for the setup line (the
  /// default draws nothing and says nothing).
  virtual std::string setup(std::mt19937_64& rng);

  /// The next operation of an idle client, invoked at `call.time`; `id`
  /// receives a handle for the calls below.
  virtual request issue(const client_call& call, size_t& id) = 0;

  /// Operation `id` completed at `time` with `reply` from the state machine
  /// (its `error` is the application's apply error, if any). Returns an
  /// empty string, or why the reply is impossible (the run then fails).
  virtual std::string completed(size_t id, uint64_t time,
                                const apply_result& reply) = 0;

  /// Operation `id` definitely took no effect (refused before it reached a
  /// log, or never handled, or a query that failed).
  virtual void failed(size_t id, uint64_t time) = 0;

  /// Operation `id` may or may not have taken effect (e.g. a timeout); it may
  /// take effect at any time after its invocation. The default does nothing:
  /// an operation neither completed nor failed is unknown.
  virtual void unknown(size_t id, uint64_t time);

  /// Checks the history recorded; `budget`: search steps (0: unlimited).
  virtual history_verdict check(uint64_t budget) = 0;
};

/// A new state machine for one incarnation of member `member` (called again
/// after every crash: a restarted member rebuilds its state from its
/// snapshot and log, as a real process would). `save_snapshot` must write
/// the same bytes for the same state (the members' states are compared with
/// it) and must not change the state.
using machine_factory
  = std::function<std::shared_ptr<state_machine>(size_t member)>;

/// What one run does.
struct options {
  uint64_t seed = 1;
  /// Simulated milliseconds of faults and client load; then the faults heal
  /// and the cluster gets up to `settle_ms` to converge.
  uint64_t steps = 3000;
  uint64_t settle_ms = 10000;
  /// Cluster size (3 or 5); 0: drawn from the seed.
  size_t members = 0;
  /// Events kept for the trace printed on failure.
  size_t trace_size = 60;
  /// Let workloads send read-only operations as queries (ReadIndex) half of
  /// the time, the others as log commands.
  bool queries = true;
  /// After healing, the cluster must converge with no new command within
  /// `idle_ms`. If it does not (a liveness bug), the run notes a stall and a
  /// client issues one more operation to unstick it; with `strict_liveness`
  /// the stall fails the run instead.
  uint64_t idle_ms = 2000;
  bool strict_liveness = false;
  /// Search budget of the linearizability checker (steps; 0: unlimited).
  uint64_t check_budget = 50'000'000;
  /// Adjusts each member's configuration after the simulation drew it. A
  /// function of `(size_t, raft::config&)` fits too; member_setup adds the
  /// rules a member may break on purpose, to show that a check catches the
  /// bug (docs/testing-kit.md).
  std::function<void(size_t member, member_setup&)> tweak;
  /// Membership changes (thesis chapter 4) interleaved with the faults:
  /// spare members added as learners, promoted, voters removed (the leader
  /// too), one-step replacements, leadership transfers. -1: drawn from the
  /// seed (seeds 3, 8, 13, ...: a fifth of them, leaving the other seeds'
  /// draws as they were); 0: never; 1: always.
  int membership = -1;
  /// Appended to the setup line (e.g. which variant of the code runs).
  std::string label;
  /// How report() tells to replay a seed: the program, and the arguments
  /// given after the seed and steps.
  std::string program = "sim_test --";
  std::string replay_args;
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
  /// A membership change asked of the leader (add a learner, promote,
  /// remove, replace; thesis chapter 4).
  change,
  /// A leadership transfer asked of the leader (thesis §3.10).
  transfer,
};

constexpr size_t fault_kinds = static_cast<size_t>(fault::transfer) + 1;

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
  /// Membership changes and transfers that completed, and those refused or
  /// not answered (refusals are normal: another change in progress, not the
  /// leader, not caught up, ...).
  uint64_t changes_ok = 0;
  uint64_t changes_refused = 0;

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

/// Runs one simulation: `make` gives each member's state machine, `load`
/// the clients (a fresh one per run).
result run(const options& opts, const machine_factory& make, workload& load);

/// The failure report: seed, step, violation, setup, trace, replay command.
std::string report(const result& r, const options& opts);

/// One line: runs, steps, faults by kind, operations, violations.
std::string summary(const stats& x);

} // namespace raft::testing
