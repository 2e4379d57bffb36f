// The replicated key-value store's state machine: deterministic apply,
// linearizable reads as queries, and snapshots that do not stop applies.
//
// Snapshot format (docs/operations.md): "RAFTKV1\n", then the number of
// pairs as a length-prefixed decimal field, then key and value of each pair
// as length-prefixed fields (kv_command.hpp), in key order.
//
// Snapshots in two phases (state_machine::begin_snapshot): the data lives in
// copy-on-write shards (by key hash). Taking a view copies the shard
// pointers (a few µs) and starts a new epoch; the first change to a shard
// in a new epoch copies that shard first, so the view's shards never change
// again and the writer reads them on its own thread without locks. Each
// shard is copied at most once per snapshot, and only when changed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "raft/state_machine.hpp"

namespace kv {

class machine : public raft::state_machine {
public:
  machine();

  raft::apply_result apply(raft::index_t index,
                           const raft::payload& command) override;

  raft::apply_result query(const raft::payload& query) override;

  caf::error save_snapshot(std::ostream& out) override;

  caf::expected<raft::snapshot_writer> begin_snapshot() override;

  caf::error restore_snapshot(raft::index_t index, std::istream& in) override;

  /// A copy of the data (any thread).
  std::map<std::string, std::string> contents() const;

  /// Keys and the bytes of their keys and values (any thread).
  struct data_stats {
    size_t keys = 0;
    size_t bytes = 0;
  };
  data_stats stats() const;

  /// Shards copied because a view held them (tests, measurements).
  uint64_t shard_copies() const;

  // Hashed: apply is on every member's hot path (an ordered map cost ~13%
  // of the CPU in raft-bench --inproc); snapshots sort the keys instead.
  using shard = std::unordered_map<std::string, std::string>;

  /// A view's shards: immutable once taken.
  using view = std::vector<std::shared_ptr<const shard>>;

  static constexpr size_t shard_count = 1024;

private:
  struct slot {
    /// Null while empty.
    std::shared_ptr<shard> data;
    /// The epoch this shard was created or copied in: changed in place only
    /// in that epoch (no view taken since can hold it).
    uint64_t epoch = 0;
  };

  const shard* find_shard(const std::string& key) const;

  /// The key's shard, copied first if a view may hold it.
  shard& writable(const std::string& key);

  view take_view() const;

  mutable std::mutex mtx_; // apply runs on the adapter; contents() anywhere
  std::vector<slot> slots_;
  /// Bumped by every view (begin_snapshot).
  uint64_t epoch_ = 1;
  uint64_t shard_copies_ = 0;
};

} // namespace kv
