// Storage kept in memory. It outlives the member that uses it (shared
// pointer), so tests can "crash" a member and restart it from the same
// state; an injected failure makes the next write fail like a broken disk.
#pragma once

#include <mutex>

#include "raft/storage/storage.hpp"

namespace raft {

class memory_storage : public storage {
public:
  memory_storage() = default;

  /// Starts with a given state, e.g. the logs of Figure 7.
  explicit memory_storage(recovered_state initial);

  caf::expected<recovered_state> load() override;

  caf::error write(const write_batch& batch) override;

  /// The stored entries with indexes in [from, to] (tests compare it with
  /// file_storage::read; not part of the storage interface).
  caf::expected<entry_vector> read(index_t from, index_t to);

  caf::error compact(snapshot_meta meta) override;

  caf::error reset(snapshot_meta meta) override;

  /// Makes every following write fail with `storage_failure` (a dead disk).
  void fail_writes(bool on);

  /// Number of successful writes so far (one per batch).
  size_t writes() const;

  /// A copy of the current contents.
  recovered_state contents() const;

private:
  mutable std::mutex mtx_;
  recovered_state data_;
  bool failing_ = false;
  size_t writes_ = 0;
};

} // namespace raft
