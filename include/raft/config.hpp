// Configuration of one member: Vanadium's RaftConfig plus the knobs a user
// tunes in practice. Zero durations mean "derive from the heartbeat".
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "caf/error.hpp"
#include "caf/timespan.hpp"

#include "raft/core/rules.hpp"
#include "raft/core/types.hpp"
#include "raft/logging.hpp"
#include "raft/trace.hpp"

namespace raft {

/// Default for config::max_entry_size: 4 MiB (wire::max_entry_bytes).
constexpr size_t default_max_entry_size = 4u * 1024 * 1024;

struct config {
  // -- Vanadium's RaftConfig ----------------------------------------------------

  /// Directory for log and snapshot files (the durable backend).
  std::string log_dir;
  /// `host:port` for RPCs from other members; also this member's id.
  std::string host_port;
  /// If set, the member registers under this name (remote lookup).
  std::string server_name;
  /// Time between heartbeats (leader to followers).
  caf::timespan heartbeat = std::chrono::milliseconds(50);
  /// Approximate number of applied entries between snapshots (0: never).
  /// No command is applied while the state machine saves one (Vanadium's raft interface), so
  /// each snapshot stalls the commit path for as long as the save takes;
  /// 100,000 (etcd's --snapshot-count) keeps that rare: with 10,000, p99
  /// at 64 clients was 3 x higher (docs/benchmarks.md). The log in memory
  /// holds up to this many entries past the snapshot. Members take their
  /// first snapshot up to half a threshold apart (by their place among the
  /// members' ids), so that they do not all write one at once.
  int64_t snapshot_threshold = 100000;
  /// Where snapshot files go (default: log_dir). With neither set, the
  /// member takes no snapshots.
  std::string snapshot_dir;
  /// Bytes per InstallSnapshot chunk.
  size_t snapshot_chunk_bytes = 512 * 1024;
  /// Identities allowed to talk to this member (empty: anyone authenticated).
  std::vector<std::string> acl;

  // -- timing -------------------------------------------------------------------

  /// Election timeouts are drawn uniformly from [min, max] (§5.2).
  /// Default: min = 10 * heartbeat, max = 2 * min.
  caf::timespan election_timeout_min{0};
  caf::timespan election_timeout_max{0};
  /// How long an append may wait for a leader or a commit before it fails.
  /// Default: 4 * election_timeout_max.
  caf::timespan append_timeout{0};
  /// Seed for the election timer's randomness (0: derived from the id and the
  /// clock). Tests set it to replay a run.
  uint64_t random_seed = 0;

  // -- replication -----------------------------------------------------------------

  /// At most this many entries in one AppendEntries message.
  size_t max_entries_per_message = 1024;
  /// At most about this many payload bytes in one AppendEntries message.
  size_t max_bytes_per_message = 1024 * 1024;
  /// Unacknowledged AppendEntries messages per follower (pipelining depth).
  size_t max_in_flight = 8;
  /// At most this many entries in one apply batch to the state machine.
  size_t max_apply_batch = 1024;
  /// A leader that hears from no majority for an election timeout steps down
  /// (thesis §6.2), so a minority leader stops accepting appends.
  bool check_quorum = true;

  // -- logging ----------------------------------------------------------------------

  /// Where this member's log lines go, and from which level on (default:
  /// info and above, to stderr).
  log_sink log;

  // -- elections without disruption (thesis §9.6, §4.2.3) -----------------------

  /// PreVote (thesis §9.6): before raising its term, a member whose election
  /// timer fired asks for pre-votes and becomes a candidate only with a
  /// majority of them, so a member that was cut off and comes back does not
  /// force an election.
  bool pre_vote = true;

  // -- membership (thesis chapter 4) ----------------------------------------------

  /// Start without a configuration and wait to be added by the leader (as a
  /// learner, then promoted): the members added before start only tell this
  /// member how to reach them, they do not bootstrap a cluster. A member
  /// that already has a stored configuration ignores this.
  bool join = false;

  // -- sizes (issue 13) ---------------------------------------------------------

  /// Largest command (entry payload) a member accepts; a larger append is
  /// refused with errc::entry_too_large before anything is written. The
  /// wire's frame limit (wire::default_max_payload) is derived from it:
  /// max_bytes_per_message + this + headroom, so keep it at most
  /// default_max_entry_size for members that talk over the wire.
  size_t max_entry_size = default_max_entry_size;

  // -- memory bounds (issue 14) ---------------------------------------------------

  /// Leader: payload bytes of unacknowledged AppendEntries per follower
  /// (etcd's MaxInflightBytes). A follower that stops answering holds at
  /// most this much of the leader's sending (plus one message). 0: derived,
  /// max_in_flight x max_bytes_per_message (8 MiB by default): the count
  /// limit alone lets 8 messages of one large entry each (up to
  /// max_entry_size) be in flight, 32 MiB; the derived byte limit keeps
  /// that at what 8 full messages of small entries hold.
  size_t max_inflight_bytes = 0;
  /// Leader: payload bytes of its log's commands that are not yet committed
  /// (etcd's MaxUncommittedEntriesSize). An append that would pass it is
  /// refused at once with errc::overloaded (not appended: retry later),
  /// unless nothing is uncommitted (so any entry up to max_entry_size gets
  /// in). The leader's own entries (no-op, configuration) are never
  /// refused. 0: no limit. Default 32 MiB: about 120,000 puts of 256 bytes,
  /// far more than a healthy cluster has uncommitted (a few batches).
  size_t max_uncommitted_bytes = 32u * 1024 * 1024;
  /// After a snapshot compacts the log, return the allocator's free memory
  /// to the system (glibc: malloc_trim; elsewhere nothing). The compacted
  /// entries' pages otherwise stay in the process between live allocations.
  bool trim_memory_after_snapshot = true;

  // -- tracing (issue 14) -------------------------------------------------------

  /// Stage stamps of sampled entries (raft/trace.hpp): one trace_log per
  /// member, or null (the default: off, one branch per stage point).
  std::shared_ptr<trace_log> trace;

  /// This member's id (`host_port`).
  const std::string& id() const {
    return host_port;
  }
};

/// Checks `cfg` and fills in the derived defaults. Returns an `invalid_config`
/// error that says what is wrong.
caf::error validate(config& cfg);

} // namespace raft
