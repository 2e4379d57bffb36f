#include "raft/core/rules.hpp"

#include <algorithm>
#include <functional>

namespace raft {

size_t quorum_size(size_t members) {
  return members / 2 + 1;
}

bool log_up_to_date(term_t cand_last_term, index_t cand_last_index,
                    term_t our_last_term, index_t our_last_index) {
  if (cand_last_term != our_last_term)
    return cand_last_term > our_last_term;
  return cand_last_index >= our_last_index;
}

bool should_grant_vote(const hard_state& state, const log& our_log,
                       const request_vote_request& req,
                       const broken_rules& broken) {
  if (req.term < state.current_term)
    return false;
  if (!state.voted_for.empty() && state.voted_for != req.candidate_id)
    return false;
  if (broken.skip_vote_log_check)
    return true;
  return log_up_to_date(req.last_log_term, req.last_log_index,
                        our_log.last_term(), our_log.last_index());
}

bool should_grant_pre_vote(const hard_state& state, const log& our_log,
                           const request_vote_request& req,
                           bool leader_is_current,
                           const broken_rules& broken) {
  // Thesis §9.6: the pre-candidate asks at the term it would use. A term
  // below ours is stale; at our own term the usual vote rule applies (we may
  // have voted in it already); above ours we have not voted in it yet.
  if (req.term < state.current_term)
    return false;
  if (req.term == state.current_term && !state.voted_for.empty()
      && state.voted_for != req.candidate_id)
    return false;
  // Thesis §9.6: no pre-vote while a current leader is heard from.
  if (leader_is_current && !broken.grant_pre_vote_despite_leader)
    return false;
  // Thesis §9.6: "whether its log was up-to-date enough to get their vote"
  // (§5.4.1).
  if (broken.skip_vote_log_check)
    return true;
  return log_up_to_date(req.last_log_term, req.last_log_index,
                        our_log.last_term(), our_log.last_index());
}

bool disregard_vote_request(const request_vote_request& req,
                            bool leader_is_current) {
  // Thesis §4.2.3; thesis §3.10: a transfer's election must not be stopped
  // by the stickiness the old leader's heartbeats gave its followers.
  return leader_is_current && !req.transfer;
}

index_t committed_conflict(const log& our_log, index_t commit_index,
                           const append_entries_request& req) {
  // Thesis §3.5: committed entries are durable and will eventually be
  // executed by every state machine; replacing one breaks State Machine
  // Safety (§5.4.3). Entries compacted into the snapshot have no term here
  // any more: they are committed, and apply_append skips them.
  for (auto& e : req.entries) {
    if (e.index > commit_index)
      break;
    auto ours = our_log.term_at(e.index);
    if (ours && *ours != e.term && e.index > our_log.base().last_index)
      return e.index;
  }
  return 0;
}

bool snapshot_conflicts_with_commit(const log& our_log, index_t commit_index,
                                    index_t last_included_index,
                                    term_t last_included_term) {
  if (last_included_index > commit_index)
    return false;
  auto ours = our_log.term_at(last_included_index);
  return ours && *ours != last_included_term;
}

append_outcome apply_append(log& our_log, const append_entries_request& req,
                            index_t commit_index,
                            const broken_rules& broken) {
  append_outcome out;
  if (auto i = committed_conflict(our_log, commit_index, req); i != 0) {
    out.refused_committed = i;
    return out;
  }
  // Entries covered by our snapshot are committed, hence identical to the
  // leader's (§7): treat the snapshot boundary as matching.
  auto prev = req.prev_log_index;
  if (prev < our_log.base().last_index) {
    // Skip the part of the request our snapshot covers.
    prev = our_log.base().last_index;
  } else if (!our_log.matches(prev, req.prev_log_term)) {
    // Step 2: reply false, with a hint for fast backtracking.
    if (prev > our_log.last_index()) {
      out.conflict_index = our_log.last_index() + 1;
    } else {
      out.conflict_term = *our_log.term_at(prev);
      out.conflict_index = our_log.first_index_of_term(out.conflict_term, prev);
    }
    return out;
  }
  out.success = true;
  out.last_new_index = req.prev_log_index + req.entries.size();
  for (auto& e : req.entries) {
    if (e.index <= prev)
      continue; // Covered by the snapshot.
    if (e.index <= our_log.last_index()) {
      if (our_log.at(e.index).term == e.term)
        continue; // Already held: appending again would be a no-op.
      if (broken.keep_conflicting_suffix)
        continue;
      // Step 3: a conflict; delete the entry and all that follow it.
      our_log.truncate_from(e.index);
      out.truncated_from = e.index;
    }
    // Step 4: append new entries not already in the log.
    if (out.first_appended == 0)
      out.first_appended = e.index;
    our_log.append(e);
  }
  return out;
}

index_t follower_commit(index_t commit_index, index_t leader_commit,
                        index_t last_new_index) {
  if (leader_commit <= commit_index)
    return commit_index;
  return std::max(commit_index, std::min(leader_commit, last_new_index));
}

index_t next_index_after_reject(const log& leader_log, index_t rejected_index,
                                index_t conflict_index, term_t conflict_term) {
  index_t next = conflict_index;
  if (conflict_term != 0) {
    auto last = leader_log.last_index_at_or_below(conflict_term);
    if (last > 0 && leader_log.term_at(last) == conflict_term)
      next = last + 1;
  }
  return std::max<index_t>(1, std::min(next, rejected_index));
}

index_t quorum_match_index(std::vector<index_t> match_indexes) {
  if (match_indexes.empty())
    return 0;
  auto k = quorum_size(match_indexes.size()) - 1;
  std::nth_element(match_indexes.begin(), match_indexes.begin() + k,
                   match_indexes.end(), std::greater<index_t>{});
  return match_indexes[k];
}

index_t leader_commit(const log& leader_log, term_t current_term,
                      index_t commit_index, std::vector<index_t> match_indexes,
                      const broken_rules& broken) {
  auto n = quorum_match_index(std::move(match_indexes));
  if (n <= commit_index)
    return commit_index;
  // §5.4.2: "Raft never commits log entries from previous terms by counting
  // replicas. Only log entries from the leader's current term are committed
  // by counting replicas." Once one is, all before it are committed too.
  if (broken.commit_old_terms_by_counting
      || leader_log.term_at(n) == current_term)
    return n;
  return commit_index;
}

} // namespace raft
