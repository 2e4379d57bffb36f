// The chaos test's fault schedule: a pure function of the seed, the length
// of the run, the cluster size and whether network partitions are possible.
// The same seed gives the same schedule; only the timing of the real
// processes (and so which member is leader when a fault aims at "the
// leader") differs from run to run.
//
// No CAF, no processes: tests/chaos/chaos_test.cpp carries it out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace raft::chaos {

// -- randomness -----------------------------------------------------------------

/// A small seeded generator (splitmix64), the same on every platform (the
/// standard distributions are not).
class rng {
public:
  explicit rng(uint64_t seed) : state_(seed) {
    // nop
  }

  uint64_t next();

  /// Uniform in [0, n); n > 0.
  size_t below(size_t n) {
    return static_cast<size_t>(next() % n);
  }

  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(next() >> 11) * 0x1.0p-53;
  }

  bool chance(double p) {
    return uniform(0, 1) < p;
  }

  /// 0, 1, ..., n-1 in a random order.
  std::vector<size_t> permutation(size_t n);

private:
  uint64_t state_;
};

// -- faults ---------------------------------------------------------------------

/// What a fault does.
enum class fault : uint8_t {
  /// SIGKILL one member; restart it (same data directory) after `duration`.
  kill,
  /// The same, aimed at the member that leads when the fault happens.
  kill_leader,
  /// SIGSTOP one member; SIGCONT after `duration`.
  pause,
  /// The same, aimed at the leader (a paused leader is a classic).
  pause_leader,
  /// SIGKILL or SIGSTOP a majority at once, briefly: progress stops.
  majority_down,
  /// For `duration`, every new leader is SIGKILLed as soon as it is seen
  /// (status polled every ~150 ms) and restarted after one of `delays`
  /// (round robin), while no other member is down: the windows of Figure 8
  /// (entries of old terms on a minority, a no-op not yet committed).
  leader_churn,
  /// Two groups that cannot talk to each other (netns mode).
  partition,
  /// The leader cut off from every other member, both ways (netns mode).
  isolate_leader,
  /// Some links cut in one direction only (netns mode).
  one_way,
  /// One link cut both ways: a member that reaches two others that do not
  /// reach each other (netns mode).
  cut_link,
  /// Not planned: a member process that exited without being killed.
  unexpected_exit,
};

constexpr size_t fault_kinds = 11;

std::string to_string(fault x);

/// A directed link: traffic from `first` to `second` is dropped.
using link = std::pair<size_t, size_t>;

struct planned_fault {
  /// Seconds after the start of the fault phase.
  double at = 0;
  fault kind = fault::kill;
  /// kill, pause: the member. majority_down: the members. *_leader: the
  /// members to aim at, in order, when the leader is unknown or already
  /// down.
  std::vector<size_t> members;
  /// majority_down: SIGKILL (true) or SIGSTOP (false).
  bool hard = true;
  /// Seconds until the restart, the SIGCONT or the heal.
  double duration = 0;
  /// partition, one_way, cut_link: the links cut.
  std::vector<link> cuts;
  /// leader_churn: restart delays in seconds, used in turn.
  std::vector<double> delays;

  /// E.g. "pause m1 for 1.20 s".
  std::string describe() const;
};

struct plan_options {
  uint64_t seed = 1;
  /// Length of the fault phase.
  double seconds = 45;
  size_t members = 3;
  /// Whether partition faults may be planned (netns mode).
  bool partitions = true;
};

/// The schedule for `opts`, sorted by time. Faults come every 0.5–3 s; at
/// most a minority of members is killed or paused at once (allowing for
/// the time a restarted member needs to catch up), except for the rare
/// majority_down; at most one network fault at a time.
std::vector<planned_fault> make_plan(const plan_options& opts);

/// One line per fault.
std::string to_string(const std::vector<planned_fault>& plan);

} // namespace raft::chaos
