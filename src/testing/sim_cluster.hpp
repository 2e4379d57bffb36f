// A whole cluster in one actor system on CAF's deterministic test scheduler:
// simulated time, one seeded random source, a simulated network between the
// members that can partition and drop, and Figure 3's safety properties
// checked after every delivered message.
//
// Internal to the testing kit (it sees the member's private state through
// actors/member_state.hpp): applications use raft/testing/simulation.hpp;
// the project's own tests use it as tests/support/test_cluster.hpp, which
// adds the key-value machine.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scheduler/test_coordinator.hpp"

#include "raft/errc.hpp"
#include "raft/member.hpp"
#include "raft/storage/memory_storage.hpp"

#include "raft/state_machine.hpp"
#include "raft/testing/member_setup.hpp"

#include "member_spawn.hpp"
#include "member_state.hpp"
#include "safety_checker.hpp"

namespace raft::testing {

/// Faults on one directed link between members.
struct link_faults {
  /// Probability that a message is lost.
  double drop = 0;
  /// Probability that a one-way message (a Raft RPC) arrives twice. Requests
  /// (a forwarded client append) are never duplicated: TCP does not
  /// duplicate, and Raft without client sessions (§8) would apply them twice.
  double duplicate = 0;
  /// Each copy arrives after a delay drawn uniformly from [min, max]; with
  /// max > min later messages can overtake earlier ones (reordering).
  caf::timespan delay_min{0};
  caf::timespan delay_max{0};
};

/// The links between members. Every member-to-member message passes a relay
/// actor that asks this object whether, when and how often to deliver it.
struct sim_network {
  /// Directed links that drop everything (from, to).
  std::set<std::pair<member_id, member_id>> cut;
  /// Drop, duplicate and delay per directed link (from, to).
  std::map<std::pair<member_id, member_id>, link_faults> faults;
  /// Every link's normal behaviour (e.g. a latency of 1-3 ms), on top of
  /// which `faults` add; heal() keeps it.
  link_faults base;
  /// Extra test-specific filter: return true to drop.
  std::function<bool(const member_id& from, const member_id& to,
                     const caf::message& msg)>
    drop_if;
  /// Current incarnation of each member (relays route by id).
  std::map<member_id, caf::actor> actors;
  /// The network's own random source (seeded from the cluster's seed).
  std::mt19937_64 rng{1};
  size_t delivered = 0;
  size_t dropped = 0;
  size_t duplicated = 0;
  size_t delayed = 0;

  bool allows(const member_id& from, const member_id& to,
              const caf::message& msg) const;

  /// Decides the fate of one message: the delay of each copy to deliver
  /// (empty: dropped). `one_way`: not a request (may be duplicated).
  std::vector<caf::timespan> plan(const member_id& from, const member_id& to,
                                  const caf::message& msg, bool one_way);

  /// Cuts every link between `group` and the rest, both ways.
  void partition(const std::vector<member_id>& group,
                 const std::vector<member_id>& all);

  /// Removes every fault (messages already delayed still arrive late).
  void heal() {
    cut.clear();
    faults.clear();
    drop_if = nullptr;
  }
};

/// Result slot of an asynchronous client request.
template <class T>
struct pending_reply {
  bool done = false;
  std::optional<T> value;
  caf::error error;
};

/// Wraps an application's state machine and records what the checks need:
/// every command this incarnation applied, in order, and the index of the
/// last snapshot it restored.
class recording_machine : public state_machine {
public:
  explicit recording_machine(std::shared_ptr<state_machine> inner)
    : inner(std::move(inner)) {
    // nop
  }

  apply_result apply(index_t index, const payload& command) override;

  apply_result query(const payload& query) override;

  caf::error save_snapshot(std::ostream& out) override;

  caf::error restore_snapshot(index_t index, std::istream& in) override;

  caf::expected<snapshot_writer> begin_snapshot() override;

  /// The application's state machine.
  std::shared_ptr<state_machine> inner;
  /// Every command applied in this lifetime, in order: (index, bytes).
  std::vector<std::pair<index_t, std::string>> applied;
  /// The index covered by the last restored snapshot (0: none).
  index_t restored_index = 0;
};

class sim_cluster {
public:
  /// Adjusts member i's configuration; may break rules (member_setup).
  using tweak_fn = std::function<void(size_t member, testing::member_setup&)>;

  /// A new state machine for each incarnation of member i (called again
  /// on every restart: the old one is gone with the crash).
  using machine_factory
    = std::function<std::shared_ptr<state_machine>(size_t member)>;

  /// `n` empty members, each running a state machine from `make`.
  sim_cluster(size_t n, uint64_t seed, tweak_fn tweak, machine_factory make);

  /// `n` empty members of which the first `voters` bootstrap the cluster
  /// and the others are spares: they start with config::join and wait to
  /// be added (thesis §4.2.1). Every member can reach every other.
  sim_cluster(size_t n, size_t voters, uint64_t seed, tweak_fn tweak,
              machine_factory make);

  /// One member per initial storage state (e.g. the logs of Figure 7).
  sim_cluster(std::vector<recovered_state> initial, uint64_t seed,
              tweak_fn tweak, machine_factory make);

  ~sim_cluster();

  sim_cluster(const sim_cluster&) = delete;
  sim_cluster& operator=(const sim_cluster&) = delete;

  // -- members ------------------------------------------------------------------

  size_t size() const {
    return ids.size();
  }

  /// Member i takes part in Raft: its actor runs and it has not stopped (a
  /// stopped member lingers, answering errc::stopped, until its last handle
  /// goes: docs/api.md, "Lifecycle and failures").
  bool alive(size_t i) const {
    return alive_[i] && *alive_[i]
           && const_cast<sim_cluster*>(this)->state(i).role != role::stopped;
  }

  /// Why member i's last incarnation ended (empty while it runs, "killed"
  /// after crash(), "stopped: ..." after stop or a failure).
  std::string exit_reason(size_t i) const {
    if (alive_[i] && *alive_[i]) {
      auto& st = const_cast<sim_cluster*>(this)->state(i);
      if (st.role != role::stopped)
        return {};
      return st.stop_reason ? "stopped: " + sys->render(st.stop_reason)
                            : "stopped";
    }
    return exit_reasons_[i] ? *exit_reasons_[i] : std::string{};
  }

  /// The live member's state (precondition: alive(i)).
  member_state& state(size_t i);

  /// Starts every member (runs until the start replies arrived).
  void start_all();

  /// Kills member i at once, as a crash: it handles no further message, the
  /// batches its log writer has not written yet are lost (the page cache),
  /// everything written survives in its storage.
  void crash(size_t i);

  /// Spawns a new incarnation of member i from its storage and starts it.
  /// Peers' messages reach it at once, before it has started, as over a
  /// real network, unless `route_before_start` is cleared.
  void restart(size_t i);

  /// Whether restart() lets peers' messages reach a member before it has
  /// started. It was off while a member that had not started killed the
  /// peers that talked to it (docs/testing.md, finding 1; fixed).
  bool route_before_start = true;

  /// Freezes member i with its log writer and state machine, like SIGSTOP:
  /// messages and timers pile up in their mailboxes and run on resume(), when
  /// the member sees all its timers due at once (a clock jump for it).
  void pause(size_t i);

  /// Lets a paused member run again.
  void resume(size_t i);

  /// Member i loses everything: killed if it runs, its storage and snapshot
  /// files replaced by empty ones, and started again as a new member that
  /// waits to be added (config::join), as an operator replaces a disk. Only
  /// for a member that no configuration in force counts any more.
  void wipe(size_t i);

  /// Whether member i's storage holds anything (a term, a vote, entries).
  bool holds_state(size_t i) const;

  bool paused(size_t i) const;

  /// Jobs for which this returns true wait in the queue (a test holding back,
  /// say, a snapshot writer); unset: none waits. Checked before each message.
  std::function<bool(caf::resumable* job)> hold;

  /// Simulated disk latency: each batch waits this long at member i's log
  /// writer before it is written (and a crash meanwhile loses it). Unset or
  /// zero: written at once.
  std::function<caf::timespan(size_t member)> disk_latency;

  /// Index of the leader with the highest term, if any live one.
  std::optional<size_t> leader();

  // -- driving ---------------------------------------------------------------------

  /// Runs every queued message, checking safety after each. Returns the
  /// number of messages run. More than `livelock_limit` messages in one
  /// call (no simulated time passes meanwhile) are a livelock: run() stops
  /// and reports it as a violation.
  size_t run();

  /// Called after every message run (after the safety check): reactive
  /// faults, e.g. isolating a member the moment it becomes leader. It may
  /// change `net`, not run messages.
  std::function<void()> after_message;

  /// Where the members' log lines go, as "<member> <level>: <text>" (a
  /// tweak that sets its own config::log wins). Unset: stderr.
  std::function<void(const std::string& line)> on_log_line;

  /// See run(); 0: no limit.
  size_t livelock_limit = 50'000;

  /// The simulated clock.
  caf::actor_clock::time_point now() const;

  /// Jumps the simulated clock by `d` at once: every timer due in between
  /// fires together (a stalled machine, or a clock jump), then runs.
  void jump_clock(caf::timespan d);

  /// Advances simulated time by `d` in steps of `tick`, running all messages
  /// after each step.
  void advance(caf::timespan d,
               caf::timespan tick = std::chrono::milliseconds(1));

  /// Advances time until `pred` holds or `limit` passes. Returns pred().
  bool run_until(const std::function<bool()>& pred,
                 caf::timespan limit = std::chrono::seconds(10),
                 caf::timespan tick = std::chrono::milliseconds(1));

  /// Waits for a leader (see run_until); returns its index.
  std::optional<size_t> await_leader(
    caf::timespan limit = std::chrono::seconds(10));

  /// Runs until there is a leader and every live member applied everything
  /// it committed (see run_until). Returns whether that happened in time.
  bool converge(caf::timespan limit = std::chrono::seconds(10));

  /// Sends an append to member i from a client actor; the reply lands in
  /// the returned slot as the cluster runs.
  std::shared_ptr<pending_reply<append_reply>> append_async(size_t i,
                                                            payload cmd);

  /// Appends and runs until the reply arrives (or `limit` passes).
  std::shared_ptr<pending_reply<append_reply>>
  append(size_t i, payload cmd, caf::timespan limit = std::chrono::seconds(10));

  /// Sends `msg` (e.g. an append or a query) to member i from a new client
  /// actor with a client-side timeout; `done` gets the reply or the error
  /// (sec::request_timeout when the member did not answer in time).
  using reply_fn = std::function<void(caf::expected<append_reply>)>;
  void request_async(size_t i, caf::message msg, caf::timespan timeout,
                     reply_fn done);

  /// Calls a request that answers ok (start, stop, election) and runs it.
  caf::error call_ok(size_t i, caf::message msg);

  /// Sends `msg` to member i from a new client actor with a client-side
  /// timeout; `done` gets the reply of type T (e.g. a membership change's
  /// cluster_configuration, a transfer's ok_atom) or the error.
  template <class T>
  void call_async(size_t i, caf::message msg, caf::timespan timeout,
                  std::function<void(caf::expected<T>)> done) {
    auto dest = caf::actor_cast<caf::actor>(members[i]);
    track(sys->spawn([=](caf::event_based_actor* self) {
      self->request(dest, timeout, msg)
        .then([=](T& r) { done(std::move(r)); },
              [=](caf::error& err) { done(std::move(err)); });
    }));
  }

  /// Messages run so far (Figure 3 was checked after each).
  size_t messages_run() const {
    return messages_run_;
  }

  /// The first safety violation seen (empty if none).
  const std::string& violation() const {
    return violation_;
  }

  // -- state ------------------------------------------------------------------------

  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::vector<member_id> ids;
  std::vector<testing::member_setup> configs;
  std::vector<member_actor> members;
  std::vector<std::shared_ptr<memory_storage>> storages;
  /// The current incarnation's state machine of each member, recorded.
  std::vector<std::shared_ptr<recording_machine>> recorders;
  std::shared_ptr<sim_network> net;
  std::mt19937_64 rng;
  /// The configuration each member bootstrapped with: the first `voters`
  /// members for those, empty for members that joined (safety_checker).
  std::vector<cluster_configuration> bootstraps;

private:
  void init(std::vector<recovered_state> initial, uint64_t seed,
            tweak_fn tweak, size_t voters);

  /// Tells member i, after its start, how to reach the members it was not
  /// given before start (added then, they would bootstrap its
  /// configuration): the spares, for a cluster with spares.
  void add_late_peers(size_t i);

  /// Members that bootstrap the cluster (the others are spares).
  size_t voters_ = 0;

  machine_factory make_machine_;
  /// Spawns member i; `route`: peers' messages reach it from now on.
  void spawn_member_at(size_t i, bool route = true);
  void check_safety();
  /// Picks the next job that may run now (not paused, not waiting for the
  /// disk) and puts it in front; false if there is none.
  bool next_runnable();
  /// The actors of member i's current incarnation (member, writer, state
  /// machine) as the scheduler's jobs.
  std::vector<caf::resumable*> jobs_of(size_t i);
  /// Remembers a client actor (killed by the destructor if still waiting).
  void track(const caf::actor& client);

  std::vector<std::shared_ptr<bool>> alive_;
  std::vector<std::shared_ptr<std::string>> exit_reasons_;
  std::vector<caf::actor_addr> clients_;
  size_t messages_run_ = 0;
  /// Per incarnation: set by crash(); its storage then refuses every write.
  std::vector<std::shared_ptr<bool>> crashed_;
  std::vector<bool> paused_;
  std::set<caf::resumable*> frozen_;
  /// Log writers (job -> member) and when their current batch is written.
  std::map<caf::resumable*, size_t> writers_;
  std::map<caf::resumable*, caf::actor_clock::time_point> disk_ready_;
  std::vector<std::vector<caf::actor>> relays_; // relays_[to][from]
  safety_checker checker_;
  std::string violation_;
};

} // namespace raft::testing
