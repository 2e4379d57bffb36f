#include "raft/storage/recovery.hpp"

#include <algorithm>
#include <string>

#include "raft/errc.hpp"

namespace raft {

namespace {

std::string str(uint64_t x) {
  return std::to_string(x);
}

/// True if `entries` hold an entry at `meta.last_index` with `meta.last_term`.
bool holds(const entry_vector& entries, const snapshot_meta& meta) {
  auto i = std::find_if(entries.begin(), entries.end(), [&](const log_entry& e) {
    return e.index == meta.last_index;
  });
  return i != entries.end() && i->term == meta.last_term;
}

} // namespace

caf::error reconcile(storage& log, recovered_state& rec,
                     const snapshot_meta& snap) {
  if (snap.last_index <= rec.snapshot.last_index)
    return caf::none;
  // §5.1: a server that sees a larger term adopts it. The snapshot's term was
  // this member's term when it took or accepted the snapshot; a crash may
  // have lost the hard state that said so (it is written by the log writer,
  // the snapshot by the snapshot actor).
  if (snap.last_term > rec.state.current_term) {
    write_batch batch;
    batch.has_state = true;
    batch.state = hard_state{snap.last_term, {}};
    if (auto err = log.write(batch))
      return err;
    rec.state = batch.state;
  }
  // §7, Figure 13 (receiver 6): "If existing log entry has same index and
  // term as snapshot's last included entry, retain log entries following it";
  // (receiver 7) otherwise "discard the entire log".
  if (holds(rec.entries, snap)) {
    if (auto err = log.compact(snap))
      return err;
    rec.entries.erase(std::remove_if(rec.entries.begin(), rec.entries.end(),
                                     [&](const log_entry& e) {
                                       return e.index <= snap.last_index;
                                     }),
                      rec.entries.end());
  } else {
    if (auto err = log.reset(snap))
      return err;
    rec.entries.clear();
  }
  rec.snapshot = snap;
  return caf::none;
}

caf::expected<recovered_member> recover(storage& log,
                                        snapshot_store* snapshots) {
  recovered_member result;
  if (snapshots != nullptr) {
    auto newest = snapshots->newest();
    if (!newest)
      return newest.error();
    result.snapshot = std::move(*newest);
  }
  auto& snap = result.snapshot.meta;
  // With a snapshot, the log need not read back what the snapshot covers.
  auto rec = snap.last_index > 0 ? log.load_after(snap) : log.load();
  if (!rec)
    return rec.error();
  result.log = std::move(*rec);
  if (snapshots == nullptr)
    return result;
  // The log is compacted only after a snapshot covering it is durable, so a
  // base beyond the newest snapshot means snapshot files were lost.
  auto& base = result.log.snapshot;
  if (snap.last_index < base.last_index)
    return make_error(errc::corrupt_record,
                      "the log starts after index " + str(base.last_index)
                        + " but the newest snapshot in " + snapshots->dir()
                        + " covers only up to " + str(snap.last_index));
  return result;
}

} // namespace raft
