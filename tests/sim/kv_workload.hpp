// The simulation's key-value clients: put/get/cas/del on 1-3 keys with
// unique values, checked with the key-value linearizability checker
// (raft/testing/kv_linearizability.hpp). docs/testing.md describes the mix.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "raft/testing/kv_linearizability.hpp"
#include "raft/testing/simulation.hpp"

namespace raft::test::sim {

class kv_workload : public testing::workload {
public:
  /// Draws the number of keys (1-3).
  std::string setup(std::mt19937_64& rng) override;

  /// put 40%, get 30% (half as ReadIndex queries if allowed), cas 20%
  /// (expecting a recently written value, or one never written), del 10%.
  testing::request issue(const testing::client_call& call,
                         size_t& id) override;

  std::string completed(size_t id, uint64_t time,
                        const apply_result& reply) override;

  void failed(size_t id, uint64_t time) override;

  testing::history_verdict check(uint64_t budget) override;

private:
  std::vector<std::string> keys_;
  /// Per client: operations issued (values are "v<client>.<n>").
  std::map<uint64_t, uint64_t> counters_;
  /// Values written per key (cas picks its expected value among them).
  std::map<std::string, std::vector<std::string>> written_;
  testing::kv::history hist_;
};

} // namespace raft::test::sim
