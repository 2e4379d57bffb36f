// What a leader knows about one follower's log (Figure 2, "volatile state on
// leaders": nextIndex and matchIndex), plus the bookkeeping for pipelining.
#pragma once

#include <cstddef>
#include <deque>

#include "raft/core/types.hpp"

namespace raft {

/// Replication progress of one follower.
///
/// A follower starts in probe mode: one append in flight until its log is
/// found to match. Then the leader pipelines: it sends batches ahead without
/// waiting, up to `max_in_flight` unacknowledged messages (thesis §10.2.2).
///
/// Invariant: match_index < next_index.
/// Invariant: in_flight holds strictly increasing last indexes, all >= next
/// index of the message that carried them, all < next_index.
class progress {
public:
  explicit progress(index_t next_index) : next_index_(next_index) {
    // nop
  }

  index_t match_index() const {
    return match_index_;
  }

  index_t next_index() const {
    return next_index_;
  }

  bool probing() const {
    return probing_;
  }

  size_t in_flight() const {
    return in_flight_.size();
  }

  /// Whether another append may be sent now.
  bool can_send(size_t max_in_flight) const {
    return in_flight_.size() < (probing_ ? size_t{1} : max_in_flight);
  }

  /// Records an append sent with entries up to `last_index` (the previous
  /// index for an empty probe).
  void on_sent(index_t last_index);

  /// The follower's log matches ours up to `match`. Returns whether the
  /// match index advanced.
  bool on_success(index_t match);

  /// The follower refused prev_log_index `rejected`; resume at `next`.
  /// Returns false for a stale rejection (one overtaken by a success). A
  /// follower that refuses entries it had acknowledged (a wiped disk) is
  /// probed again from what it holds: match_index may go down then.
  bool on_reject(index_t rejected, index_t next);

  /// Nothing was heard for a heartbeat period while appends were in flight:
  /// assume they were lost and probe again from the last known match (or,
  /// when already probing, from the same probe point).
  void on_silence();

  /// Whether an answer acknowledged appends in flight (or a rejection came)
  /// since the last call; resets the flag.
  bool take_heard() {
    auto result = heard_;
    heard_ = false;
    return result;
  }

private:
  index_t match_index_ = 0;
  index_t next_index_;
  bool probing_ = true;
  bool heard_ = false;
  std::deque<index_t> in_flight_;
};

} // namespace raft
