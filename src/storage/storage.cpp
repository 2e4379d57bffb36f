#include "raft/storage/storage.hpp"

#include "raft/storage/recovery.hpp"

namespace raft {

storage::~storage() {
  // nop
}

caf::expected<recovered_state> storage::load_after(const snapshot_meta& snap) {
  auto rec = load();
  if (!rec)
    return rec;
  if (auto err = reconcile(*this, *rec, snap))
    return err;
  return rec;
}

caf::error persist(storage& store, const write_batch& batch) {
  if (batch.reset_to.last_index == 0) {
    if (auto err = store.write(batch))
      return err;
  } else {
    // InstallSnapshot (§7): the term first (an extra sync, only here), then
    // the log restarts after the snapshot, then what follows it.
    // The bootstrap configuration travels with the hard state.
    if (batch.has_state || batch.bootstrap) {
      write_batch state;
      state.has_state = batch.has_state;
      state.state = batch.state;
      state.bootstrap = batch.bootstrap;
      if (auto err = store.write(state))
        return err;
    }
    if (auto err = store.reset(batch.reset_to))
      return err;
    write_batch rest = batch;
    rest.has_state = false;
    rest.bootstrap.reset();
    rest.reset_to = snapshot_meta{};
    rest.compact_to = snapshot_meta{};
    if (!rest.empty())
      if (auto err = store.write(rest))
        return err;
  }
  if (batch.compact_to.last_index != 0)
    return store.compact(batch.compact_to);
  return caf::none;
}

} // namespace raft
