#include "raft/core/progress.hpp"

#include <algorithm>

namespace raft {

void progress::on_sent(index_t last_index, size_t bytes) {
  if (!in_flight_.empty() && in_flight_.back().last_index > last_index)
    last_index = in_flight_.back().last_index;
  in_flight_.push_back(sent_append{last_index, bytes});
  bytes_in_flight_ += bytes;
  next_index_ = std::max(next_index_, last_index + 1);
}

bool progress::on_success(index_t match) {
  // Only an answer that acknowledges something in flight counts as heard: a
  // heartbeat's answer at an old match says nothing about lost appends.
  auto in_flight_before = in_flight_.size();
  while (!in_flight_.empty() && in_flight_.front().last_index <= match) {
    bytes_in_flight_ -= in_flight_.front().bytes;
    in_flight_.pop_front();
  }
  if (in_flight_.size() < in_flight_before || in_flight_.empty())
    heard_ = true;
  silent_ = false;
  if (match <= match_index_ && !probing_)
    return false;
  // Probing ends when the probe point itself is confirmed; a heartbeat
  // acknowledging an older match says nothing about the entries after it.
  if (match + 1 >= next_index_)
    probing_ = false;
  auto advanced = match > match_index_;
  match_index_ = std::max(match_index_, match);
  next_index_ = std::max(next_index_, match_index_ + 1);
  return advanced;
}

bool progress::on_reject(index_t rejected, index_t next) {
  heard_ = true;
  silent_ = false;
  if (rejected < match_index_)
    return false; // Stale: a later success already moved past it.
  clear_in_flight();
  probing_ = true;
  next = std::max<index_t>(next, 1);
  if (next <= match_index_) {
    // It refuses what it once acknowledged: it lost its disk (a wiped or
    // replaced member). Start over from what it holds now, or the leader
    // would resend the same refused entries forever.
    match_index_ = next - 1;
  }
  next_index_ = std::max(match_index_ + 1, next);
  return true;
}

void progress::on_silence() {
  clear_in_flight();
  silent_ = true;
  if (probing_)
    return; // Resend the same probe: a new leader's match index is 0, and
            // match + 1 would replay the whole log (or send a snapshot).
  probing_ = true;
  next_index_ = match_index_ + 1;
}

} // namespace raft
