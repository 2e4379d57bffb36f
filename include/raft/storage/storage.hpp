// The persistence seam: what the log writer actor needs from stable storage.
// The member never touches storage directly; it sends write batches to its
// log writer and acts on their confirmation (persist before respond, Figure 2).
#pragma once

#include <memory>

#include "caf/error.hpp"
#include "caf/expected.hpp"

#include <optional>

#include "raft/core/configuration.hpp"
#include "raft/core/types.hpp"

namespace raft {

/// One unit of durable work: applied in order (hard state, reset,
/// truncation, entries, compaction) by persist() and made durable as a whole
/// before the writer confirms it. write() handles hard state, truncation and
/// entries; persist() calls reset() and compact() around it.
struct write_batch {
  /// InstallSnapshot: drop the whole log first and restart it after this
  /// snapshot (last_index 0: no reset).
  snapshot_meta reset_to;
  /// New term and vote, if they changed.
  bool has_state = false;
  hard_state state;
  /// Remove every stored entry with index >= truncate_from first (0: none).
  index_t truncate_from = 0;
  /// Then append these, in index order, contiguous with what remains.
  entry_vector entries;
  /// Finally, a durable snapshot covers this: free the entries up to it
  /// (last_index 0: no compaction).
  snapshot_meta compact_to;

  // -- membership (issue 12) ------------------------------------------------

  /// The bootstrap configuration (members added before Start), stored
  /// durably with the hard state (persist() writes it in the same step) and
  /// returned by load() as recovered_state::configuration. Replaces any
  /// stored one; nullopt: unchanged.
  std::optional<cluster_configuration> bootstrap;

  bool empty() const {
    return !has_state && truncate_from == 0 && entries.empty()
           && reset_to.last_index == 0 && compact_to.last_index == 0
           && !bootstrap;
  }

  void clear() {
    reset_to = snapshot_meta{};
    has_state = false;
    truncate_from = 0;
    entries.clear();
    compact_to = snapshot_meta{};
    bootstrap.reset();
  }
};

/// What a member finds in stable storage when it starts.
struct recovered_state {
  hard_state state;
  /// The newest snapshot (all zero if none).
  snapshot_meta snapshot;
  /// The entries after the snapshot.
  entry_vector entries;
  /// The stored bootstrap configuration (write_batch::bootstrap), empty if
  /// none was ever stored. The configuration in force is the latest one in
  /// the log, else the snapshot's, else this (thesis §4.1).
  cluster_configuration configuration;
};

/// Stable storage of one member. Implementations: memory_storage (tests,
/// benchmarks without fsync) and the segmented file log.
/// Called only from the log writer actor (and once before it starts).
class storage {
public:
  virtual ~storage();

  /// Reads back everything stored; an error refuses to start the member.
  virtual caf::expected<recovered_state> load() = 0;

  /// Loads the log and reconciles it with `snap`, the newest durable
  /// snapshot (§7, Figure 13 receiver 6-7: see reconcile() in recovery.hpp):
  /// the result starts at the snapshot (or later, if the log was already
  /// compacted beyond it) and holds only the entries after it. Entries the
  /// snapshot covers are never needed again, so a log may skip reading them:
  /// restart time then grows with what is left to replay, not with the log.
  /// The default loads everything and reconciles.
  virtual caf::expected<recovered_state> load_after(const snapshot_meta& snap);

  /// Applies `batch` and returns once it is durable. An error is fatal for
  /// the member (fail-stop): it must not acknowledge anything afterwards.
  virtual caf::error write(const write_batch& batch) = 0;

  /// A snapshot covering `meta` is durable: remember it as the log's new
  /// base and free the entries it covers (whole segments, for files).
  virtual caf::error compact(snapshot_meta meta) = 0;

  /// InstallSnapshot (§7): drop every entry and restart the log after `meta`.
  virtual caf::error reset(snapshot_meta meta) = 0;
};

using storage_ptr = std::shared_ptr<storage>;

/// Makes `batch` durable on `store` in its order: a new hard state (and the
/// bootstrap configuration, in the same write) before a reset (the snapshot a reset installs may carry the term that came with it,
/// and storage refuses a base newer than its current term), then the reset,
/// the rest of the batch, and the compaction. The log writer's only call.
caf::error persist(storage& store, const write_batch& batch);

} // namespace raft
