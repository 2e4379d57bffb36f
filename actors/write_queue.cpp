#include "write_queue.hpp"

#include <algorithm>
#include <stdexcept>

namespace raft {

write_queue::write_queue(index_t durable_index)
  : durable_index_(durable_index) {
  // nop
}

// -- what must become durable ------------------------------------------------------

void write_queue::append(log_entry entry) {
  if (!pending_.entries.empty()
      && entry.index != pending_.entries.back().index + 1)
    throw std::logic_error("write_queue: entry " + std::to_string(entry.index)
                           + " does not follow pending entry "
                           + std::to_string(pending_.entries.back().index));
  pending_.entries.push_back(std::move(entry));
  check();
}

void write_queue::save_state(const hard_state& state) {
  pending_.has_state = true;
  pending_.state = state;
  check();
}

void write_queue::truncate(index_t index) {
  // The conflicting suffix goes in the same durable batch as the entries
  // that replace it, before they are acknowledged.
  auto& entries = pending_.entries;
  while (!entries.empty() && entries.back().index >= index)
    entries.pop_back();
  pending_.truncate_from = pending_.truncate_from == 0
                             ? index
                             : std::min(pending_.truncate_from, index);
  durable_index_ = std::min(durable_index_, index - 1);
  writing_last_ = std::min(writing_last_, index - 1);
  check();
}

void write_queue::compact(const snapshot_meta& meta) {
  pending_.compact_to = meta;
  check();
}

void write_queue::reset(const snapshot_meta& meta, const hard_state& state) {
  auto bootstrap = std::move(pending_.bootstrap);
  pending_.clear();
  pending_.bootstrap = std::move(bootstrap);
  pending_.reset_to = meta;
  pending_.has_state = true;
  pending_.state = state;
  // The batch at the writer (if any) wrote entries the reset discards.
  writing_last_ = 0;
  durable_index_ = meta.last_index;
  check();
}

// -- the log writer ---------------------------------------------------------------

std::optional<write_batch> write_queue::next_write() {
  if (writing() || pending_.empty())
    return std::nullopt;
  ++issued_seq_;
  writing_last_ = pending_.entries.empty() ? 0
                                           : pending_.entries.back().index;
  auto batch = std::move(pending_);
  pending_.clear();
  check();
  return batch;
}

std::vector<write_queue::outgoing> write_queue::on_durable() {
  if (!writing())
    throw std::logic_error("write_queue: a write confirmed that was never "
                           "issued");
  durable_seq_ = issued_seq_;
  durable_index_ = std::max(durable_index_, writing_last_);
  writing_last_ = 0;
  // Release what waited for this write, in order.
  std::vector<outgoing> out;
  while (!held_.empty() && held_.front().seq <= durable_seq_) {
    out.push_back(std::move(held_.front().msg));
    held_.pop_front();
  }
  if (ack_ && ack_->seq <= durable_seq_) {
    out.push_back(outgoing{std::move(ack_->dest),
                           caf::make_message(std::move(ack_->resp))});
    ack_.reset();
  }
  check();
  return out;
}

// -- what waits for durability ----------------------------------------------------

std::optional<write_queue::outgoing>
write_queue::send_after_persist(caf::actor dest, caf::message content) {
  auto seq = barrier_seq();
  if (seq <= durable_seq_ && held_.empty())
    return outgoing{std::move(dest), std::move(content)};
  held_.push_back(held_message{seq, {std::move(dest), std::move(content)}});
  check();
  return std::nullopt;
}

std::optional<write_queue::outgoing>
write_queue::acknowledge(caf::actor dest, append_entries_response resp) {
  auto seq = barrier_seq();
  if (ack_ && ack_->dest == dest && ack_->resp.term == resp.term) {
    resp.match_index = std::max(resp.match_index, ack_->resp.match_index);
    resp.read_round = std::max(resp.read_round, ack_->resp.read_round);
  }
  if (seq <= durable_seq_) {
    ack_.reset();
    return outgoing{std::move(dest), caf::make_message(std::move(resp))};
  }
  ack_ = held_ack{seq, std::move(dest), std::move(resp)};
  check();
  return std::nullopt;
}

// -- invariants -------------------------------------------------------------------

std::string write_queue::violation() const {
  return find_violation(true);
}

std::string write_queue::find_violation(bool full) const {
  if (durable_seq_ > issued_seq_ || issued_seq_ > durable_seq_ + 1)
    return "I1: " + std::to_string(issued_seq_ - durable_seq_)
           + " batches at the writer";
  // Held messages are sorted (checked in full, else at the ends): the
  // first one waits for the earliest write.
  if (!held_.empty() && held_.front().seq <= durable_seq_)
    return "I2: a held message's write is durable already";
  if (!held_.empty() && held_.back().seq < held_.front().seq)
    return "I2: held messages out of order";
  for (size_t i = 1; full && i < held_.size(); ++i)
    if (held_[i].seq < held_[i - 1].seq)
      return "I2: held messages out of order";
  if (ack_ && ack_->seq <= durable_seq_)
    return "I3: the held acknowledgement's write is durable already";
  auto& entries = pending_.entries;
  if (!entries.empty()
      && entries.back().index - entries.front().index + 1 != entries.size())
    return "I4: pending entries not contiguous";
  for (size_t i = 1; full && i < entries.size(); ++i)
    if (entries[i].index != entries[i - 1].index + 1)
      return "I4: pending entries not contiguous";
  if (!entries.empty()
      && (entries.front().index <= durable_index_
          || entries.front().index <= writing_last_))
    return "I4: pending entry " + std::to_string(entries.front().index)
           + " at or below durable or written entries";
  if (!writing() && writing_last_ != 0)
    return "I5: writing_last set with no batch at the writer";
  return {};
}

void write_queue::check() const {
  // O(1): the ends of the held messages and pending entries (append refuses
  // a gap, so the ends tell contiguity). violation() checks in full.
  auto why = find_violation(false);
  if (!why.empty())
    throw std::logic_error("write_queue invariant broken: " + why);
}

} // namespace raft
