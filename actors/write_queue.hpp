// The write queue: the one owner of "nothing is acknowledged before it is
// durable" (Figure 2: "respond to RPCs" only after updating stable storage;
// §5.3 / §5.4 rely on it).
//
// It holds what the member has changed in memory but not yet made durable
// (the pending write batch), numbers the batches it hands to the log writer
// (one at a time: group commit), knows up to which index the log is durable,
// and holds the messages and the follower's acknowledgement that may leave
// only once the writes issued before them are durable. No other code changes
// these fields; every change ends with a check of the invariants below.
//
// Invariants (checked after every change; tests/actors/write_queue_test.cpp
// has one case per invariant):
//   I1 one batch at the writer:  durable_seq <= issued_seq <= durable_seq + 1,
//      and writing() == (issued_seq == durable_seq + 1)
//   I2 held messages wait for a later write, in order: every held message's
//      write is not durable yet (seq > durable_seq), seqs never decrease
//   I3 the held acknowledgement waits for a write that is not durable yet
//   I4 pending entries are contiguous and lie above durable_index and above
//      the entries of the batch at the writer
//   I5 nothing at the writer leaves no trace: writing_last == 0 unless writing
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/message.hpp"

#include "raft/messages.hpp"
#include "raft/storage/storage.hpp"

namespace raft {

class write_queue {
public:
  /// A message that may leave now, to `dest`.
  struct outgoing {
    caf::actor dest;
    caf::message content;
  };

  /// Starts with everything up to `durable_index` durable (recovered state).
  explicit write_queue(index_t durable_index = 0);

  // -- what must become durable --------------------------------------------------

  /// Appends an entry (its index follows the last pending one, if any).
  void append(log_entry entry);

  /// The current term and vote changed: write them with the next batch.
  void save_state(const hard_state& state);

  /// A new cluster's first configuration (write_batch::bootstrap): written
  /// with the next batch.
  void save_bootstrap(const cluster_configuration& cfg) {
    pending_.bootstrap = cfg;
  }

  /// The log dropped every entry from `index` on (a conflict, §5.3): drop
  /// them from the pending batch, write the truncation, and lower what
  /// counts as durable to `index - 1`.
  void truncate(index_t index);

  /// A durable snapshot covers `meta`: free the entries it covers on disk
  /// after the writes before it.
  void compact(const snapshot_meta& meta);

  /// InstallSnapshot replaced the whole log (Figure 13, receiver 7): forget
  /// the pending batch, write a reset to `meta` with `state`. The snapshot
  /// counts as durable (the snapshot actor persisted it before this).
  void reset(const snapshot_meta& meta, const hard_state& state);

  // -- the log writer ---------------------------------------------------------------

  /// The next batch for the log writer, or none while one is there already
  /// or nothing is pending.
  std::optional<write_batch> next_write();

  /// The log writer confirmed the batch from next_write(): returns what may
  /// now be sent, in the order it was held.
  std::vector<outgoing> on_durable();

  // -- what waits for durability ----------------------------------------------------

  /// Returns the message if it may leave now (everything written so far is
  /// durable and nothing is held before it); otherwise holds it until then.
  std::optional<outgoing> send_after_persist(caf::actor dest,
                                             caf::message content);

  /// A follower's acknowledgement of an AppendEntries (§5.3). Coalesced: one
  /// per durable batch; a held acknowledgement to the same leader in the
  /// same term is merged (highest match_index and read_round). Returns it if
  /// it may leave now, else holds it until on_durable().
  std::optional<outgoing> acknowledge(caf::actor dest,
                                      append_entries_response resp);

  // -- observers ------------------------------------------------------------------

  /// Entries up to here are durable and match the in-memory log.
  index_t durable_index() const {
    return durable_index_;
  }

  /// A batch is at the log writer.
  bool writing() const {
    return issued_seq_ != durable_seq_;
  }

  /// Something waits to be written.
  bool has_pending() const {
    return !pending_.empty();
  }

  /// Messages held (the acknowledgement included).
  size_t held() const {
    return held_.size() + (ack_ ? 1 : 0);
  }

  /// The first broken invariant (I1..I5), or empty if all hold.
  std::string violation() const;

private:
  /// A message held until write `seq` is durable.
  struct held_message {
    uint64_t seq;
    outgoing msg;
  };

  /// The acknowledgement held until write `seq` is durable.
  struct held_ack {
    uint64_t seq;
    caf::actor dest;
    append_entries_response resp;
  };

  /// The write after which everything known now is durable.
  uint64_t barrier_seq() const {
    return pending_.empty() ? issued_seq_ : issued_seq_ + 1;
  }

  /// The first broken invariant; `full` scans every held message and
  /// pending entry, otherwise only their ends (O(1)).
  std::string find_violation(bool full) const;

  /// Throws std::logic_error naming the broken invariant (a bug here).
  void check() const;

  /// Accumulates while a batch is at the writer: group commit.
  write_batch pending_;
  /// Last entry index of the batch at the writer (0 if it has none).
  index_t writing_last_ = 0;
  /// Batches handed to the writer / confirmed durable so far.
  uint64_t issued_seq_ = 0;
  uint64_t durable_seq_ = 0;
  index_t durable_index_ = 0;
  /// Messages held until their batch is durable, in order.
  std::deque<held_message> held_;
  std::optional<held_ack> ack_;
};

} // namespace raft
