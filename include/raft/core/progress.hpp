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
/// waiting, up to `max_in_flight` unacknowledged messages (thesis §10.2.2)
/// and, if a byte limit is given, until the payload bytes of those messages
/// reach it (etcd's MaxInflightBytes): a follower that stops answering
/// holds at most that much of the leader's sending.
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

  /// Payload bytes of the appends in flight.
  size_t bytes_in_flight() const {
    return bytes_in_flight_;
  }

  /// Whether another append may be sent now: fewer than `max_in_flight`
  /// messages (one while probing) and, unless `max_bytes` is 0, fewer than
  /// `max_bytes` payload bytes in flight. The last message sent may pass the
  /// byte limit (it always carries at least one entry), as in etcd.
  bool can_send(size_t max_in_flight, size_t max_bytes = 0) const {
    if (in_flight_.size() >= (probing_ ? size_t{1} : max_in_flight))
      return false;
    return max_bytes == 0 || bytes_in_flight_ < max_bytes;
  }

  /// Whether appends to it may carry entries. Not after a heartbeat period
  /// of silence (on_silence) until it answers again: a follower that stopped
  /// (or whose link is down) then gets only empty probes, a heartbeat's
  /// worth of bytes, instead of a message of entries per heartbeat piling up
  /// in the transport. Its first answer resumes sending (one round trip).
  bool sends_entries() const {
    return !silent_;
  }

  /// Records an append sent with entries up to `last_index` (the previous
  /// index for an empty probe) carrying `bytes` payload bytes.
  void on_sent(index_t last_index, size_t bytes = 0);

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
  /// Set by on_silence, cleared by any answer (sends_entries).
  bool silent_ = false;
  /// One per append in flight: its last index and its payload bytes.
  struct sent_append {
    index_t last_index;
    size_t bytes;
  };
  std::deque<sent_append> in_flight_;
  /// Invariant: the sum of in_flight_[k].bytes.
  size_t bytes_in_flight_ = 0;

  void clear_in_flight() {
    in_flight_.clear();
    bytes_in_flight_ = 0;
  }
};

} // namespace raft
