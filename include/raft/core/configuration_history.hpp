// Which configuration is in force, from the log (Ongaro's thesis §4.1): "a
// server always uses the latest configuration in its log, regardless of
// whether the entry is committed". The configuration entries after the
// snapshot are kept in a short ordered list, so that a truncation that removes
// the latest one brings back the one before it, and a compaction folds the
// entries it covers into the base (the snapshot's configuration).
#pragma once

#include <utility>
#include <vector>

#include "raft/core/configuration.hpp"
#include "raft/core/types.hpp"

namespace raft {

/// Invariant: entries are in strictly increasing index order, every index
/// above base_index.
class configuration_history {
public:
  configuration_history() = default;

  /// Starts from the configuration at `index` (a snapshot's last index, or 0
  /// for the bootstrap configuration, or empty for none).
  configuration_history(index_t index, cluster_configuration base);

  // -- observers ------------------------------------------------------------------

  /// Thesis §4.1: the latest configuration, committed or not; the base if
  /// there is no configuration entry after it.
  const cluster_configuration& current() const;

  /// Index of the entry holding current() (base_index() for the base).
  index_t current_index() const;

  /// The latest configuration at or below `index` (e.g. the commit index:
  /// the committed configuration; a snapshot's last index: the one that goes
  /// into the snapshot, thesis §5.1 / Figure 5.1's "latest configuration").
  const cluster_configuration& at(index_t index) const;

  const cluster_configuration& base() const {
    return base_;
  }

  index_t base_index() const {
    return base_index_;
  }

  /// The configuration entries after the base, in index order.
  const std::vector<std::pair<index_t, cluster_configuration>>&
  entries() const {
    return entries_;
  }

  // -- modifiers ------------------------------------------------------------------

  /// A configuration entry was appended at `index` (above every one held).
  void append(index_t index, cluster_configuration cfg);

  /// The log lost every entry at `index` and after (§5.3, AppendEntries
  /// receiver 3): their configurations go, the one before comes back.
  void truncate_from(index_t index);

  /// A snapshot now covers the log up to `index`: the entries it covers fold
  /// into the base.
  void compact(index_t index);

  /// The log was replaced by a snapshot at `index` holding `cfg` (entries at or
  /// below it go; later ones stay only if `keep_later`).
  void reset(index_t index, cluster_configuration cfg, bool keep_later);

  /// Replaces the base configuration without moving its index (bootstrap).
  void set_base(cluster_configuration cfg) {
    base_ = std::move(cfg);
  }

private:
  index_t base_index_ = 0;
  cluster_configuration base_;
  std::vector<std::pair<index_t, cluster_configuration>> entries_;
};

} // namespace raft
