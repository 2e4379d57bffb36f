#include "raft/core/log.hpp"

#include <algorithm>
#include <cassert>

namespace raft {

log::log(snapshot_meta base, entry_vector entries) : base_(base) {
  for (auto& e : entries)
    append(std::move(e));
}

term_t log::last_term() const {
  return entries_.empty() ? base_.last_term : entries_.back().term;
}

std::optional<term_t> log::term_at(index_t index) const {
  if (index == 0)
    return term_t{0};
  if (index == base_.last_index)
    return base_.last_term;
  if (index < first_index() || index > last_index())
    return std::nullopt;
  return at(index).term;
}

entry_vector log::slice(index_t from, size_t max_entries,
                        size_t max_bytes) const {
  entry_vector result;
  if (from < first_index() || from > last_index())
    return result;
  // Count, not `from + max_entries - 1`: that overflows when max_entries is
  // large (SIZE_MAX for "no limit").
  auto count = std::min<index_t>(max_entries, last_index() - from + 1);
  result.reserve(count);
  size_t bytes = 0;
  for (auto i = from; i < from + count; ++i) {
    auto& e = at(i);
    bytes += e.data.size();
    if (!result.empty() && bytes > max_bytes)
      break;
    result.push_back(e);
  }
  return result;
}

index_t log::first_index_of_term(term_t term, index_t hint) const {
  auto i = std::min(hint, last_index());
  while (i > first_index() && at(i - 1).term == term)
    --i;
  return i;
}

index_t log::last_index_at_or_below(term_t term) const {
  for (auto i = last_index(); i >= first_index(); --i)
    if (at(i).term <= term)
      return i;
  return base_.last_term <= term ? base_.last_index : 0;
}

void log::append(log_entry entry) {
  assert(entry.index == last_index() + 1);
  assert(entry.term >= last_term());
  entries_.push_back(std::move(entry));
}

void log::truncate_from(index_t index) {
  if (index < first_index()) {
    // Never cut into a snapshot: its entries are committed (§7).
    entries_.clear();
    return;
  }
  if (index <= last_index())
    entries_.erase(entries_.begin() + (index - first_index()), entries_.end());
}

void log::compact(snapshot_meta meta) {
  if (meta.last_index <= base_.last_index)
    return;
  if (meta.last_index >= last_index() || !matches(meta.last_index,
                                                   meta.last_term)) {
    entries_.clear();
  } else {
    entries_.erase(entries_.begin(),
                   entries_.begin() + (meta.last_index - base_.last_index));
  }
  base_ = meta;
}

} // namespace raft
