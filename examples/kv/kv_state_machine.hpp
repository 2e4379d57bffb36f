// The replicated key-value store's state machine: deterministic apply,
// linearizable reads as queries, and snapshots.
//
// Snapshot format (docs/operations.md): "RAFTKV1\n", then the number of
// pairs as a length-prefixed decimal field, then key and value of each pair
// as length-prefixed fields (kv_command.hpp), in key order.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

#include "raft/state_machine.hpp"

namespace kv {

class machine : public raft::state_machine {
public:
  raft::apply_result apply(raft::index_t index,
                           const raft::payload& command) override;

  raft::apply_result query(const raft::payload& query) override;

  caf::error save_snapshot(std::ostream& out) override;

  caf::error restore_snapshot(raft::index_t index, std::istream& in) override;

  /// A copy of the data (any thread).
  std::map<std::string, std::string> contents() const;

  /// Keys and the bytes of their keys and values (any thread).
  struct data_stats {
    size_t keys = 0;
    size_t bytes = 0;
  };
  data_stats stats() const;

private:
  mutable std::mutex mtx_; // apply runs on the adapter; contents() anywhere
  // Hashed: apply is on every member's hot path (an ordered map cost ~13%
  // of the CPU in raft-bench --inproc); snapshots sort the keys instead.
  std::unordered_map<std::string, std::string> data_;
};

} // namespace kv
