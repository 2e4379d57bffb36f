// A whole cluster in one actor system on CAF's deterministic test scheduler:
// simulated time, one seeded random source, a simulated network between the
// members that can partition and drop, and Figure 3's safety properties
// checked after every delivered message.
#pragma once

#include <functional>
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

#include "kv_machine.hpp"
#include "member_state.hpp"
#include "safety_checker.hpp"

namespace raft::test {

/// The links between members. Every member-to-member message passes a relay
/// actor that asks this object whether to deliver it.
struct sim_network {
  /// Directed links that drop everything (from, to).
  std::set<std::pair<member_id, member_id>> cut;
  /// Extra test-specific filter: return true to drop.
  std::function<bool(const member_id& from, const member_id& to,
                     const caf::message& msg)>
    drop_if;
  /// Current incarnation of each member (relays route by id).
  std::map<member_id, caf::actor> actors;
  size_t delivered = 0;
  size_t dropped = 0;

  bool allows(const member_id& from, const member_id& to,
              const caf::message& msg) const;

  /// Cuts every link between `group` and the rest, both ways.
  void partition(const std::vector<member_id>& group,
                 const std::vector<member_id>& all);

  void heal() {
    cut.clear();
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

class test_cluster {
public:
  using tweak_fn = std::function<void(size_t member, config&)>;

  /// `n` empty members.
  explicit test_cluster(size_t n, uint64_t seed = 1, tweak_fn tweak = {});

  /// One member per initial storage state (e.g. the logs of Figure 7).
  test_cluster(std::vector<recovered_state> initial, uint64_t seed,
               tweak_fn tweak = {});

  ~test_cluster();

  test_cluster(const test_cluster&) = delete;
  test_cluster& operator=(const test_cluster&) = delete;

  // -- members ------------------------------------------------------------------

  size_t size() const {
    return ids.size();
  }

  bool alive(size_t i) const {
    return alive_[i] && *alive_[i];
  }

  /// The live member's state (precondition: alive(i)).
  member_state& state(size_t i);

  /// Starts every member (runs until the start replies arrived).
  void start_all();

  /// Kills member i at once, as a crash: writes not yet confirmed by its
  /// log writer are lost, everything confirmed survives in its storage.
  void crash(size_t i);

  /// Spawns a new incarnation of member i from its storage and starts it.
  void restart(size_t i);

  /// Index of the leader with the highest term, if any live one.
  std::optional<size_t> leader();

  // -- driving ---------------------------------------------------------------------

  /// Runs every queued message, checking safety after each. Returns the
  /// number of messages run.
  size_t run();

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

  /// Sends an append to member i from a client actor; the reply lands in
  /// the returned slot as the cluster runs.
  std::shared_ptr<pending_reply<append_reply>> append_async(size_t i,
                                                            payload cmd);

  /// Appends and runs until the reply arrives (or `limit` passes).
  std::shared_ptr<pending_reply<append_reply>>
  append(size_t i, payload cmd, caf::timespan limit = std::chrono::seconds(10));

  /// Calls a request that answers ok (start, stop, election) and runs it.
  caf::error call_ok(size_t i, caf::message msg);

  /// The first safety violation seen (empty if none).
  const std::string& violation() const {
    return violation_;
  }

  // -- state ------------------------------------------------------------------------

  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::vector<member_id> ids;
  std::vector<config> configs;
  std::vector<member_actor> members;
  std::vector<std::shared_ptr<memory_storage>> storages;
  std::vector<std::shared_ptr<kv_machine>> machines;
  std::shared_ptr<sim_network> net;
  std::mt19937_64 rng;

private:
  void init(std::vector<recovered_state> initial, uint64_t seed,
            tweak_fn tweak);
  void spawn_member_at(size_t i);
  void check_safety();

  std::vector<std::shared_ptr<bool>> alive_;
  std::vector<std::vector<caf::actor>> relays_; // relays_[to][from]
  safety_checker checker_;
  std::string violation_;
};

} // namespace raft::test
