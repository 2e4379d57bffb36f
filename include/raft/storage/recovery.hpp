// What a member starts from: its stored log and its newest snapshot, brought
// into line with each other whatever crash the two went through.
#pragma once

#include "caf/expected.hpp"

#include "raft/storage/snapshot_store.hpp"
#include "raft/storage/storage.hpp"

namespace raft {

/// A member's durable state at start-up.
struct recovered_member {
  /// Hard state, log base and the entries after it. Invariant after
  /// recover(): `log.snapshot` equals `snapshot.meta` when there is a
  /// snapshot, and the entries continue it (first index = base + 1).
  recovered_state log;
  /// The newest complete snapshot (none() if there is none).
  snapshot_info snapshot;
};

/// Loads `log`, finds the newest snapshot in `snapshots` (null: the member
/// keeps none) and reconciles the two durably before the member starts.
///
/// A snapshot and the log are written by different actors and synced at
/// different times, so a crash can leave a snapshot newer than the log's
/// base: the snapshot was published but the log's compaction or reset was
/// not, and the log may even end before the snapshot (a member applies
/// entries that a majority holds before its own copy is durable). §7 and
/// Figure 13 (receiver 6-7) say what to keep: if the log holds the
/// snapshot's last entry with the same term, the entries after it stay and
/// the ones it covers go (compaction); otherwise the whole log goes and
/// restarts after the snapshot (reset). Either is written to `log` before
/// this returns, so the next append continues the snapshot. A snapshot whose
/// term is above the stored current term (a crash before the term that
/// accepted it was durable) raises the stored term to it, as §5.1 would on
/// seeing it, with no vote.
///
/// Errors: the log's load error; corrupt_record if the newest snapshot is
/// damaged or older than what the log compacted away (entries lost);
/// storage_failure if the reconciliation cannot be written.
caf::expected<recovered_member> recover(storage& log,
                                        snapshot_store* snapshots);

/// The reconciliation step of recover(), on state already loaded from `log`:
/// makes `rec` and `log` continue `snap` (no-op if `rec` already starts at
/// or after it).
caf::error reconcile(storage& log, recovered_state& rec,
                     const snapshot_meta& snap);

} // namespace raft
