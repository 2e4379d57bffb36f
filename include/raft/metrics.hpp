// What an operator watches on a member: counters, gauges and histograms,
// read with `(metrics_atom) -> member_metrics` (docs/operations.md, Metrics).
// Recording them costs a few increments per batch: histograms have fixed
// power-of-two buckets in plain arrays, so the hot path never allocates.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "caf/atom.hpp"
#include "caf/meta/type_name.hpp"

#include "raft/core/types.hpp"

namespace raft {

/// Client request: the member's metrics.
using metrics_atom = caf::atom_constant<caf::atom("metrics")>;

// -- histograms ---------------------------------------------------------------------

/// A histogram with fixed buckets: bucket i (i < buckets - 1) counts the
/// observations v with 2^(i-1) < v <= 2^i (bucket 0: v <= 1); the last
/// bucket counts v > 2^(buckets - 2) (Prometheus' +Inf). The unit is the
/// histogram's own (microseconds, entries or bytes: see its name).
struct histogram {
  static constexpr size_t buckets = 32;

  /// Observations per bucket (not cumulative).
  std::array<uint64_t, buckets> counts{};
  /// Number of observations.
  uint64_t count = 0;
  /// Sum of the observed values.
  uint64_t sum = 0;

  /// Upper bound of bucket i (i < buckets - 1); the last one is unbounded.
  static constexpr uint64_t upper_bound(size_t i) {
    return uint64_t{1} << i;
  }

  /// The bucket that `v` falls into: the smallest i with v <= 2^i.
  static constexpr size_t bucket_of(uint64_t v) {
    if (v <= 1)
      return 0;
    auto i = static_cast<size_t>(64 - __builtin_clzll(v - 1));
    return i < buckets - 1 ? i : buckets - 1;
  }

  void observe(uint64_t v) noexcept {
    ++counts[bucket_of(v)];
    ++count;
    sum += v;
  }

  /// The upper bound of the bucket that holds the q-quantile (0 < q <= 1),
  /// UINT64_MAX if that is the last bucket, 0 if nothing was observed.
  uint64_t quantile_bound(double q) const;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, histogram& x) {
  return f(caf::meta::type_name("histogram"), x.counts, x.count, x.sum);
}

// -- refusals ----------------------------------------------------------------------

/// Why a member refused a message (each refusal is also one log line).
/// Wire-level refusals (frames, handshakes, limits) happen before a message
/// reaches the member and are counted by the transport, not here.
enum class refusal : uint8_t {
  /// A Raft message naming a sender that is not a member.
  unknown_sender,
  /// A request no correct leader sends (entries out of order, ...).
  malformed,
  /// A request that would replace a committed entry (thesis §3.5).
  replaces_committed,
  /// AppendEntries of our own term while we lead (§5.2: cannot happen).
  second_leader,
  /// A response acknowledging entries never sent.
  bad_response,
  /// A message no behaviour of the member handles.
  unexpected_message,
  /// An error message sent to the member.
  error_message,
  /// Anything else.
  other,
};

constexpr size_t refusal_kinds = static_cast<size_t>(refusal::other) + 1;

/// The label of a refusal in metrics ("unknown_sender", ...).
const char* to_string(refusal x);

// -- per peer ------------------------------------------------------------------------

/// Traffic with one other member, as this member sees it: Raft messages
/// handed to (or received from) the transport. Bytes are the payload those
/// messages carry (commands and snapshot chunks), not framing or headers.
struct peer_metrics {
  member_id id;
  uint64_t messages_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t messages_received = 0;
  uint64_t bytes_received = 0;
  /// Leader only: whether match_lag is meaningful.
  bool is_follower = false;
  /// Leader only: last log index - the follower's match index (Figure 2).
  uint64_t match_lag = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, peer_metrics& x) {
  return f(caf::meta::type_name("peer_metrics"), x.id, x.messages_sent,
           x.bytes_sent, x.messages_received, x.bytes_received,
           x.is_follower, x.match_lag);
}

// -- the reply -----------------------------------------------------------------------

/// One member's metrics: gauges as of the request, counters and histograms
/// since the member started (a restart starts them at zero).
struct member_metrics {
  // -- gauges ---------------------------------------------------------------
  member_id id;
  raft::role role = role::idle;
  term_t term = 0;
  /// The leader this member knows of, or empty.
  member_id leader;
  index_t commit_index = 0;
  index_t last_applied = 0;
  index_t last_log_index = 0;
  /// The last index the log writer confirmed durable.
  index_t durable_index = 0;
  /// The last index covered by the newest snapshot.
  index_t snapshot_index = 0;

  // -- counters -------------------------------------------------------------
  /// Writes, entries written, messages and entries sent (member_status).
  uint64_t log_writes = 0;
  uint64_t entries_written = 0;
  uint64_t messages_sent = 0;
  uint64_t entries_sent = 0;
  /// How far commit_index advanced since start (entries committed).
  uint64_t entries_committed = 0;
  /// Elections this member started (§5.2).
  uint64_t elections_started = 0;
  /// Times the leader this member knows of changed to another one (the
  /// first leader it learns counts once).
  uint64_t leader_changes = 0;
  /// Times this member's term advanced (its own elections included).
  uint64_t term_changes = 0;
  /// Messages refused, by refusal.
  std::array<uint64_t, refusal_kinds> refused{};

  // -- histograms -----------------------------------------------------------
  /// Leader: a client's append received -> its entry committed, in µs.
  histogram commit_latency_us;
  /// A batch handed to the log writer -> durable (write + fdatasync), µs.
  histogram log_write_us;
  /// Entries per log write.
  histogram log_write_entries;
  /// Entries per AppendEntries sent (heartbeats not counted).
  histogram append_entries;
  /// Snapshot saves: the state machine's save to a durable file, µs; bytes.
  histogram snapshot_save_us;
  histogram snapshot_save_bytes;
  /// Snapshot installs (follower): first chunk received -> state restored
  /// (or the file kept), µs; bytes.
  histogram snapshot_install_us;
  histogram snapshot_install_bytes;

  /// Every other member, in id order.
  std::vector<peer_metrics> peers;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, member_metrics& x) {
  return f(caf::meta::type_name("member_metrics"), x.id, x.role, x.term,
           x.leader, x.commit_index, x.last_applied, x.last_log_index,
           x.durable_index, x.snapshot_index, x.log_writes,
           x.entries_written, x.messages_sent, x.entries_sent,
           x.entries_committed, x.elections_started, x.leader_changes,
           x.term_changes, x.refused, x.commit_latency_us, x.log_write_us,
           x.log_write_entries, x.append_entries, x.snapshot_save_us,
           x.snapshot_save_bytes, x.snapshot_install_us,
           x.snapshot_install_bytes, x.peers);
}

} // namespace raft
