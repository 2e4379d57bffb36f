#include "raft/core/configuration_history.hpp"

#include <algorithm>

namespace raft {

configuration_history::configuration_history(index_t index,
                                             cluster_configuration base)
  : base_index_(index), base_(std::move(base)) {
  // nop
}

const cluster_configuration& configuration_history::current() const {
  return entries_.empty() ? base_ : entries_.back().second;
}

index_t configuration_history::current_index() const {
  return entries_.empty() ? base_index_ : entries_.back().first;
}

const cluster_configuration& configuration_history::at(index_t index) const {
  for (auto i = entries_.rbegin(); i != entries_.rend(); ++i)
    if (i->first <= index)
      return i->second;
  return base_;
}

void configuration_history::append(index_t index, cluster_configuration cfg) {
  // A stale or repeated entry (at or below one held) replaces what follows:
  // the log itself cannot hold two entries at one index.
  truncate_from(index);
  if (index <= base_index_)
    return;
  entries_.emplace_back(index, std::move(cfg));
}

void configuration_history::truncate_from(index_t index) {
  auto i = std::find_if(entries_.begin(), entries_.end(),
                        [&](const auto& x) { return x.first >= index; });
  entries_.erase(i, entries_.end());
}

void configuration_history::compact(index_t index) {
  if (index <= base_index_)
    return;
  auto i = std::find_if(entries_.begin(), entries_.end(),
                        [&](const auto& x) { return x.first > index; });
  if (i != entries_.begin())
    base_ = std::prev(i)->second;
  entries_.erase(entries_.begin(), i);
  base_index_ = index;
}

void configuration_history::reset(index_t index, cluster_configuration cfg,
                                  bool keep_later) {
  if (!keep_later)
    entries_.clear();
  auto i = std::find_if(entries_.begin(), entries_.end(),
                        [&](const auto& x) { return x.first > index; });
  entries_.erase(entries_.begin(), i);
  base_index_ = index;
  base_ = std::move(cfg);
}

} // namespace raft
