// Where a member records its metrics (raft/metrics.hpp) as it works. Each
// observation in the member's code is one call here; nothing on these paths
// allocates, except the first message to or from a peer (its map entry).
#pragma once

#include <map>

#include "caf/actor.hpp"
#include "caf/actor_clock.hpp"

#include "raft/messages.hpp"
#include "raft/metrics.hpp"

namespace raft {

/// Microseconds from `from` to `to` (0 if the clock went backwards).
inline uint64_t micros_between(caf::actor_clock::time_point from,
                               caf::actor_clock::time_point to) {
  if (to <= from)
    return 0;
  return static_cast<uint64_t>(
    std::chrono::duration_cast<std::chrono::microseconds>(to - from).count());
}

/// The payload bytes a Raft message carries: commands and snapshot data.
inline size_t payload_bytes(const append_entries_request& m) {
  size_t n = 0;
  for (auto& e : m.entries)
    n += e.data.size();
  return n;
}

inline size_t payload_bytes(const install_snapshot_request& m) {
  return m.data.size();
}

/// Votes and responses (also when type-erased in a caf::message) carry none.
template <class T>
size_t payload_bytes(const T&) {
  return 0;
}

struct metrics_recorder {
  /// Counters and histograms; gauges and peers are filled when asked.
  member_metrics totals;
  /// Traffic per peer id.
  std::map<member_id, peer_metrics> peers;
  /// The last leader this member knew of (for leader_changes).
  member_id last_leader;
  /// commit_index when the member started (for entries_committed).
  index_t commit_at_start = 0;
  /// When the batch at the log writer was handed to it.
  caf::actor_clock::time_point write_started;
  /// Follower: when the first chunk of the snapshot being received arrived.
  caf::actor_clock::time_point install_started;

  /// `handles`: the member's peers (id -> peer_actor); `dest` typed or not.
  template <class Handle, class Dest>
  void on_sent(const std::map<member_id, Handle>& handles, const Dest& dest,
               size_t bytes) {
    for (auto& kvp : handles) {
      if (dest && kvp.second.address() == dest.address()) {
        auto& p = peers[kvp.first];
        ++p.messages_sent;
        p.bytes_sent += bytes;
        return;
      }
    }
  }

  void on_received(const member_id& from, size_t bytes) {
    auto& p = peers[from];
    ++p.messages_received;
    p.bytes_received += bytes;
  }

  /// The leader this member knows of is now `leader` (maybe empty).
  void on_leader(const member_id& leader) {
    if (!leader.empty() && leader != last_leader) {
      ++totals.leader_changes;
      last_leader = leader;
    }
  }

  void on_refused(refusal why) {
    ++totals.refused[static_cast<size_t>(why)];
  }

  void on_write_started(caf::actor_clock::time_point now, size_t entries) {
    write_started = now;
    totals.log_write_entries.observe(entries);
  }

  void on_write_done(caf::actor_clock::time_point now) {
    totals.log_write_us.observe(micros_between(write_started, now));
  }

  void on_snapshot_saved(caf::actor_clock::time_point started,
                         caf::actor_clock::time_point now, uint64_t bytes) {
    totals.snapshot_save_us.observe(micros_between(started, now));
    totals.snapshot_save_bytes.observe(bytes);
  }

  void on_snapshot_installed(caf::actor_clock::time_point now,
                             uint64_t bytes) {
    totals.snapshot_install_us.observe(micros_between(install_started, now));
    totals.snapshot_install_bytes.observe(bytes);
  }
};

} // namespace raft
