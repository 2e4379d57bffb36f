// The RPCs of Figure 2, one struct per message, fields named as in the paper.
// Members exchange them as one-way messages: a response names its sender so
// that it can travel through any transport (local, remote, simulated).
#pragma once

#include "raft/core/configuration.hpp"
#include "raft/core/types.hpp"

namespace raft {

// -- RequestVote (§5.2, §5.4.1) -------------------------------------------------

struct request_vote_request {
  /// Candidate's term.
  term_t term = 0;
  /// Candidate requesting vote.
  member_id candidate_id;
  /// Index of candidate's last log entry.
  index_t last_log_index = 0;
  /// Term of candidate's last log entry.
  term_t last_log_term = 0;
  /// A pre-vote (thesis §9.6): `term` is the term the sender would use; the
  /// receiver's term and vote do not change, whatever it answers.
  bool pre_vote = false;
  /// Sent because the leader handed over leadership with TimeoutNow (thesis
  /// §3.10): receivers grant it even if they heard from that leader within
  /// the minimum election timeout (thesis §4.2.3).
  bool transfer = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, request_vote_request& x) {
  return f(caf::meta::type_name("request_vote_request"), x.term,
           x.candidate_id, x.last_log_index, x.last_log_term, x.pre_vote,
           x.transfer);
}

struct request_vote_response {
  /// current_term, for candidate to update itself.
  term_t term = 0;
  /// The voter.
  member_id from;
  /// True means candidate received vote.
  bool vote_granted = false;
  /// Answers a pre-vote (thesis §9.6). A granted pre-vote carries the term
  /// asked for, a refused one the voter's current term.
  bool pre_vote = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f,
                                        request_vote_response& x) {
  return f(caf::meta::type_name("request_vote_response"), x.term, x.from,
           x.vote_granted, x.pre_vote);
}

// -- TimeoutNow (thesis §3.10, leadership transfer) ----------------------------------

/// The leader tells a follower whose log matches its own to start an
/// election at once, without a pre-vote: "the prior leader sends it a
/// TimeoutNow request. This request has the same effect as the target
/// server's election timer firing".
struct timeout_now_request {
  /// Leader's term.
  term_t term = 0;
  /// The leader handing over.
  member_id leader_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, timeout_now_request& x) {
  return f(caf::meta::type_name("timeout_now_request"), x.term, x.leader_id);
}

// -- AppendEntries (§5.3) ---------------------------------------------------------

struct append_entries_request {
  /// Leader's term.
  term_t term = 0;
  /// So follower can redirect clients.
  member_id leader_id;
  /// Index of log entry immediately preceding new ones.
  index_t prev_log_index = 0;
  /// Term of prev_log_index entry.
  term_t prev_log_term = 0;
  /// Log entries to store (empty for heartbeat).
  entry_vector entries;
  /// Leader's commit_index.
  index_t leader_commit = 0;
  /// ReadIndex round (thesis §6.4): echoed back, so the leader knows which
  /// of its reads a majority has confirmed it as leader for.
  uint64_t read_round = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f,
                                        append_entries_request& x) {
  return f(caf::meta::type_name("append_entries_request"), x.term, x.leader_id,
           x.prev_log_index, x.prev_log_term, x.entries, x.leader_commit,
           x.read_round);
}

struct append_entries_response {
  /// current_term, for leader to update itself.
  term_t term = 0;
  /// The follower.
  member_id from;
  /// True if follower contained entry matching prev_log_index and
  /// prev_log_term.
  bool success = false;
  /// On success: the follower's log matches the leader's up to here, and the
  /// entries are durable. Several requests may be acknowledged by one
  /// response (the follower acknowledges once per storage write).
  index_t match_index = 0;
  /// On rejection: the prev_log_index that was rejected, so the leader can
  /// tell a stale rejection from a current one.
  index_t rejected_index = 0;
  /// On rejection: where the leader should look next (fast backtracking,
  /// §5.3 "the follower can include the term of the conflicting entry and
  /// the first index it stores for that term"). conflict_term is 0 when the
  /// follower's log is simply shorter.
  index_t conflict_index = 0;
  term_t conflict_term = 0;
  /// The highest read_round of the requests this response answers.
  uint64_t read_round = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f,
                                        append_entries_response& x) {
  return f(caf::meta::type_name("append_entries_response"), x.term, x.from,
           x.success, x.match_index, x.rejected_index, x.conflict_index,
           x.conflict_term, x.read_round);
}

// -- InstallSnapshot (§7, Figure 13) ---------------------------------------------

/// One chunk of the leader's snapshot. Chunks go one at a time per follower,
/// so neither side ever holds more than one chunk of a snapshot in memory.
struct install_snapshot_request {
  /// Leader's term.
  term_t term = 0;
  /// So follower can redirect clients.
  member_id leader_id;
  /// The snapshot replaces all entries up through and including this index.
  index_t last_included_index = 0;
  /// Term of last_included_index.
  term_t last_included_term = 0;
  /// Byte offset where chunk is positioned in the snapshot file.
  uint64_t offset = 0;
  /// Raw bytes of the snapshot chunk, starting at offset.
  std::string data;
  /// True if this is the last chunk.
  bool done = false;
  /// Size and crc32c of the whole snapshot, checked when it is complete.
  uint64_t size = 0;
  uint32_t crc = 0;
  /// The latest configuration as of last_included_index (§7, thesis §5.1),
  /// stored with the snapshot; empty if the leader's snapshot has none.
  cluster_configuration configuration;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f,
                                        install_snapshot_request& x) {
  return f(caf::meta::type_name("install_snapshot_request"), x.term,
           x.leader_id, x.last_included_index, x.last_included_term, x.offset,
           x.data, x.done, x.size, x.crc, x.configuration);
}

struct install_snapshot_response {
  /// current_term, for leader to update itself.
  term_t term = 0;
  /// The follower.
  member_id from;
  /// The snapshot this answers.
  index_t last_included_index = 0;
  /// Bytes the follower holds so far: the leader continues from here (after
  /// a lost chunk or a restart of the transfer too).
  uint64_t next_offset = 0;
  /// The snapshot is installed and durable: the follower's log now matches
  /// the leader's up to last_included_index.
  bool done = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f,
                                        install_snapshot_response& x) {
  return f(caf::meta::type_name("install_snapshot_response"), x.term, x.from,
           x.last_included_index, x.next_offset, x.done);
}

} // namespace raft
