// The rules of Figure 2 as pure functions over the log and plain values.
// The member actor calls them; tests/core checks each against the paper.
#pragma once

#include <map>
#include <set>
#include <vector>

#include "caf/error.hpp"
#include "caf/expected.hpp"

#include "raft/core/configuration.hpp"
#include "raft/core/log.hpp"
#include "raft/messages.hpp"

namespace raft {

// -- elections -----------------------------------------------------------------

/// Votes needed to win and acknowledgements needed to commit:
/// floor(n/2) + 1 of `n` voting members (§5.2 "a majority of the servers").
size_t quorum_size(size_t members);

/// §5.4.1: "If the logs have last entries with different terms, then the log
/// with the later term is more up-to-date. If the logs end with the same
/// term, then whichever log is longer is more up-to-date."
/// True if a candidate's log (cand_*) is at least as up-to-date as ours.
bool log_up_to_date(term_t cand_last_term, index_t cand_last_index,
                    term_t our_last_term, index_t our_last_index);

/// Knobs that switch off a rule on purpose, so that the fault rig can show
/// that it catches the resulting bugs. Never set outside tests.
struct broken_rules {
  /// Grant votes without the §5.4.1 up-to-date check.
  bool skip_vote_log_check = false;
  /// Commit entries of earlier terms by counting replicas (Figure 8's bug).
  bool commit_old_terms_by_counting = false;
  /// Keep a conflicting suffix instead of truncating it (§5.3 step 3).
  bool keep_conflicting_suffix = false;
  /// Answer queries from the local state machine without confirming
  /// leadership first (thesis §6.4), so a deposed leader serves stale reads.
  bool serve_reads_without_quorum_check = false;
  /// Acknowledge appends before the log writer confirms them durable
  /// (Figure 2: "before responding to RPCs", persistent state is on stable
  /// storage).
  bool ack_before_durable = false;
  /// Grant pre-votes although a current leader was heard from within the
  /// minimum election timeout (thesis §9.6 without its second condition), so
  /// a member that rejoins can still disrupt the cluster.
  bool grant_pre_vote_despite_leader = false;

  // -- membership (thesis chapter 4) ------------------------------------------

  /// Accept a configuration change while another is still uncommitted
  /// (thesis §4.1/§4.3 allow one at a time), so two changes can overlap.
  bool accept_concurrent_changes = false;
  /// While joint, count commitment on C_new's majority alone (thesis §4.3
  /// requires a majority of C_old as well).
  bool joint_commit_on_new_majority = false;
  /// Accept a change before the leader committed an entry of its term (the
  /// single-server change bug reported on raft-dev in 2015).
  bool change_before_term_commit = false;
};

/// Figure 2, RequestVote receiver: decides whether to grant a vote. The
/// caller has already adopted `req.term` if it was newer (§5.1).
/// 1. Reply false if term < currentTerm.
/// 2. If votedFor is null or candidateId, and candidate's log is at least as
///    up-to-date as receiver's log, grant vote.
bool should_grant_vote(const hard_state& state, const log& our_log,
                       const request_vote_request& req,
                       const broken_rules& broken = {});

/// Thesis §9.6 (PreVote): "a candidate would first ask other servers whether
/// its log was up-to-date enough to get their vote. Only if the candidate
/// believed it could get votes from a majority of the cluster would it
/// increment its term and start a normal election." A pre-vote is asked for
/// at the term the candidate would use (`req.term`, its term + 1) and is
/// granted when
/// - that term is above ours (or equals it and we could still vote in it),
/// - the candidate's log is at least as up-to-date as ours (§5.4.1), and
/// - we have not heard from a current leader within the minimum election
///   timeout (`leader_is_current`: "it has not received a heartbeat from a
///   valid leader for at least a baseline election timeout").
/// Granting a pre-vote changes nothing: neither our term nor our vote.
bool should_grant_pre_vote(const hard_state& state, const log& our_log,
                           const request_vote_request& req,
                           bool leader_is_current,
                           const broken_rules& broken = {});

/// Thesis §4.2.3 (disruptive servers): "if a server receives a RequestVote
/// request within the minimum election timeout of hearing from a current
/// leader, it does not update its term or grant its vote." True if the
/// request is to be disregarded. A request sent because the leader asked
/// for it (leadership transfer, thesis §3.10: TimeoutNow) is never
/// disregarded: `req.transfer` bypasses the rule.
bool disregard_vote_request(const request_vote_request& req,
                            bool leader_is_current);

// -- replication: follower side --------------------------------------------------

/// What a follower did with an AppendEntries request.
struct append_outcome {
  /// The consistency check passed (Figure 2, AppendEntries receiver 2).
  bool success = false;
  /// On success: index of the last entry the request covers (prev + n),
  /// which the follower's log now matches.
  index_t last_new_index = 0;
  /// First index removed from the log, or 0 if nothing was truncated.
  index_t truncated_from = 0;
  /// First index appended by this request, or 0 if nothing was new.
  index_t first_appended = 0;
  /// On failure: the fast-backtracking hint (see append_entries_response).
  index_t conflict_index = 0;
  term_t conflict_term = 0;
  /// The request would have replaced this committed entry: refused, the
  /// log is unchanged (committed_conflict); 0 otherwise.
  index_t refused_committed = 0;
};

/// Committed means committed (thesis §3.5; §5.4 Leader Completeness): an
/// entry at or below this member's commit index is never removed or
/// replaced. Returns the index of the first entry in `req` that conflicts
/// with a committed entry of `our_log` (same index, different term), or 0.
/// No correct leader sends one (etcd-io/raft treats it as fatal); a member
/// refuses such a request and keeps its log.
index_t committed_conflict(const log& our_log, index_t commit_index,
                           const append_entries_request& req);

/// The same for InstallSnapshot (Figure 13): true if the snapshot's last
/// included entry is at or below `commit_index` and this log holds another
/// term there, so installing it would replace committed entries.
bool snapshot_conflicts_with_commit(const log& our_log, index_t commit_index,
                                    index_t last_included_index,
                                    term_t last_included_term);

/// Figure 2, AppendEntries receiver steps 2-4, applied to `our_log`:
/// 2. Reply false if log doesn't contain an entry at prevLogIndex whose term
///    matches prevLogTerm.
/// 3. If an existing entry conflicts with a new one (same index but different
///    terms), delete the existing entry and all that follow it.
/// 4. Append any new entries not already in the log.
/// Step 1 (the term check) is the caller's, as is step 5 (commit_index).
/// A request that would delete an entry at or below `commit_index` changes
/// nothing and fails with `refused_committed` set (committed_conflict).
append_outcome apply_append(log& our_log, const append_entries_request& req,
                            index_t commit_index,
                            const broken_rules& broken = {});

/// Figure 2, AppendEntries receiver 5: "If leaderCommit > commitIndex, set
/// commitIndex = min(leaderCommit, index of last new entry)".
index_t follower_commit(index_t commit_index, index_t leader_commit,
                        index_t last_new_index);

// -- replication: leader side ------------------------------------------------------

/// Where the leader resumes after a rejection, using the follower's hint
/// (§5.3, fast backtracking): past the leader's last entry of the conflicting
/// term if it has one, else at the follower's conflict index. The result is
/// never above `rejected_index`, so a follower is never skipped past the
/// point it just refused.
index_t next_index_after_reject(const log& leader_log, index_t rejected_index,
                                index_t conflict_index, term_t conflict_term);

/// The highest index stored on a majority, given every voter's match index
/// (the leader's own counts only once its write is durable).
index_t quorum_match_index(std::vector<index_t> match_indexes);

/// Figure 2, Rules for Servers, Leaders: "If there exists an N such that
/// N > commitIndex, a majority of matchIndex[i] >= N, and log[N].term ==
/// currentTerm: set commitIndex = N" (§5.3, §5.4.2). Returns the new commit
/// index (unchanged if no such N exists).
index_t leader_commit(const log& leader_log, term_t current_term,
                      index_t commit_index, std::vector<index_t> match_indexes,
                      const broken_rules& broken = {});

// -- membership (thesis chapter 4) ----------------------------------------------

/// Thesis §4.3: "Agreement (for elections and entry commitment) requires
/// separate majorities from both the old and new configurations." The
/// highest value that a majority of `cfg.voters` holds and, while joint, a
/// majority of `cfg.old_voters` too (the smaller of the two). `values` by
/// member (a missing voter counts 0); 0 for a configuration without voters.
/// Used for match indexes (commitment) and ReadIndex rounds (thesis §6.4).
/// `broken.joint_commit_on_new_majority` ignores old_voters.
index_t joint_quorum_index(const cluster_configuration& cfg,
                           const std::map<member_id, index_t>& values,
                           const broken_rules& broken = {});

/// Thesis §4.3 (and §5.2 "a majority of the servers"): `granted` holds a
/// majority of `cfg.voters` and, while joint, of `cfg.old_voters`. Learners
/// never count (thesis §4.2.1). False without voters.
bool has_joint_majority(const cluster_configuration& cfg,
                        const std::set<member_id>& granted);

/// Figure 2's commit rule once the quorum's index is known: `quorum_index`
/// if it is above `commit_index` and holds an entry of `current_term`
/// (§5.4.2), else `commit_index`.
index_t leader_commit_at(const log& leader_log, term_t current_term,
                         index_t commit_index, index_t quorum_index,
                         const broken_rules& broken = {});

/// Whether a leader may start a configuration change now (errc if not):
/// - thesis §4.1/§4.3, one change at a time: the latest configuration entry
///   (`config_index`) must be committed, the automatic C_new included
///   (change_in_progress);
/// - thesis §4.1 (the fix for the single-server change bug reported on
///   raft-dev in 2015): the leader must have committed an entry of its own
///   term (`term_start`, its no-op), so that no configuration entry of an
///   earlier leader can still appear (change_in_progress).
caf::error change_allowed(index_t config_index, index_t term_start,
                          index_t commit_index,
                          const broken_rules& broken = {});

/// Normalizes a change's `target` and checks it: invalid_config if it is
/// joint (a target names no old voters), breaks the invariants (check()) or
/// has no voter. start_change() and the member's requests share it.
caf::error check_target(cluster_configuration& target);

/// The configuration entry that starts a change from `current` (not joint)
/// to `target` (voters and learners, no old_voters): thesis §4.3, a change
/// of voters goes through the joint configuration {voters: target's,
/// old_voters: current's, learners: target's}; a change of learners alone
/// is one step (learners count for nothing, thesis §4.2.1). invalid_config
/// for a target that is joint or breaks the invariants (check()), has no
/// voter, or is the current configuration.
caf::expected<cluster_configuration>
start_change(const cluster_configuration& current,
             cluster_configuration target);

/// Thesis §4.3: "Once C_old,new has been committed ... the leader [creates] a
/// log entry describing C_new": the joint configuration without old_voters.
cluster_configuration leave_joint(const cluster_configuration& joint);

/// Thesis §4.2.1: a learner is caught up when it is within one round of
/// entries of the leader: it has acknowledged entries (match index above 0:
/// a learner that never answered is not caught up, however short the log)
/// and its match index is at most `max_entries` (one AppendEntries' worth)
/// behind `last_index`.
bool learner_caught_up(index_t match_index, index_t last_index,
                       size_t max_entries);

} // namespace raft
