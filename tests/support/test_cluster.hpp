// The project's test rig: the testing kit's simulated cluster
// (src/testing/sim_cluster.hpp) running the key-value machine of
// kv_machine.hpp on every member. docs/testing.md describes the rig.
#pragma once

#include <memory>
#include <vector>

#include "kv_machine.hpp"
#include "sim_cluster.hpp"

namespace raft::test {

using testing::link_faults;
using testing::member_view;
using testing::pending_reply;
using testing::recording_machine;
using testing::safety_checker;
using testing::sim_network;

/// The key-value machines of a test_cluster's members: a base class, so that
/// it exists before the cluster spawns the members.
struct kv_machines {
  /// The current incarnation's machine of each member.
  std::vector<std::shared_ptr<kv_machine>> machines;
};

class test_cluster : public kv_machines, public testing::sim_cluster {
public:
  /// `n` empty members.
  explicit test_cluster(size_t n, uint64_t seed = 1, tweak_fn tweak = {});

  /// One member per initial storage state (e.g. the logs of Figure 7).
  test_cluster(std::vector<recovered_state> initial, uint64_t seed,
               tweak_fn tweak = {});

private:
  static machine_factory kv_factory(kv_machines& self);
};

} // namespace raft::test
