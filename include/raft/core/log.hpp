// The member's in-memory view of its replicated log: entries after the last
// snapshot, plus the snapshot's last index and term so that the consistency
// check of Figure 2 still works at the snapshot boundary.
#pragma once

#include <deque>
#include <optional>

#include "raft/core/types.hpp"

namespace raft {

/// The log of §5.3. Indexes are contiguous: entry `i` sits at position
/// `i - first_index()`.
///
/// Invariant: entries_[k].index == snapshot_.last_index + 1 + k.
/// Invariant: entry terms never decrease along the log.
class log {
public:
  log() = default;

  /// Starts from a snapshot boundary and the entries that follow it.
  log(snapshot_meta base, entry_vector entries);

  // -- observers ---------------------------------------------------------------

  /// Index of the first entry still held (one past the snapshot).
  index_t first_index() const {
    return base_.last_index + 1;
  }

  index_t last_index() const {
    return base_.last_index + entries_.size();
  }

  term_t last_term() const;

  /// The snapshot boundary (index 0, term 0 when there is no snapshot).
  const snapshot_meta& base() const {
    return base_;
  }

  /// Term of the entry at `index`; the snapshot's term at its last index; 0
  /// for index 0; nothing for indexes compacted away or past the end.
  std::optional<term_t> term_at(index_t index) const;

  /// Whether the log holds an entry at `index` with term `term` (index 0 and
  /// the snapshot boundary count as held).
  bool matches(index_t index, term_t term) const {
    auto t = term_at(index);
    return t && *t == term;
  }

  /// The entry at `index`; `first_index() <= index <= last_index()`.
  const log_entry& at(index_t index) const {
    return entries_[index - first_index()];
  }

  /// Up to `max_entries` entries starting at `from`, stopping before the
  /// total payload exceeds `max_bytes` (but always at least one entry).
  entry_vector slice(index_t from, size_t max_entries, size_t max_bytes) const;

  /// First index holding term `term`, searching backwards from `hint`; used
  /// to tell the leader where a conflicting term begins.
  index_t first_index_of_term(term_t term, index_t hint) const;

  /// Last index whose term is `term` or lower; 0 if none is held.
  index_t last_index_at_or_below(term_t term) const;

  // -- modifiers ---------------------------------------------------------------

  /// Appends one entry; its index must be `last_index() + 1`.
  void append(log_entry entry);

  /// Removes every entry at `index` and after.
  void truncate_from(index_t index);

  /// Drops entries up to and including `meta.last_index` after a snapshot.
  /// A snapshot past the end of the log replaces the log entirely.
  void compact(snapshot_meta meta);

private:
  snapshot_meta base_;
  std::deque<log_entry> entries_;
};

} // namespace raft
