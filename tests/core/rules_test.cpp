// One case per rule of Figure 2 and §5 of the Raft paper (extended version),
// checked against the pure functions of raft/core/rules.hpp. Each case names
// the sentence it checks; the broken_rules knobs show that the case fails
// when the rule is switched off.
#define BOOST_TEST_MODULE core_rules_test
#include <boost/test/unit_test.hpp>

#include <random>
#include <string>
#include <vector>

#include "raft/core/rules.hpp"

#include "core_fixtures.hpp"

using namespace raft;
using namespace raft::test;

namespace {

hard_state voter(term_t term, member_id voted_for = {}) {
  hard_state st;
  st.current_term = term;
  st.voted_for = std::move(voted_for);
  return st;
}

broken_rules skip_vote_log_check() {
  broken_rules b;
  b.skip_vote_log_check = true;
  return b;
}

broken_rules keep_conflicting_suffix() {
  broken_rules b;
  b.keep_conflicting_suffix = true;
  return b;
}

broken_rules commit_old_terms_by_counting() {
  broken_rules b;
  b.commit_old_terms_by_counting = true;
  return b;
}

} // namespace

// == RequestVote receiver ===================================================

BOOST_AUTO_TEST_SUITE(request_vote)

// §5.1, Figure 2 (RequestVote receiver 1): reply false if term < currentTerm.
BOOST_AUTO_TEST_CASE(refuses_a_candidate_of_an_older_term) {
  auto our_log = make_log({1, 1});
  // The candidate's log is better than ours; only its term is stale.
  auto req = make_vote_request(4, "b", 10, 4);
  BOOST_TEST(!should_grant_vote(voter(5), our_log, req));
  // The knob for the log check does not touch the term check.
  BOOST_TEST(!should_grant_vote(voter(5), our_log, req, skip_vote_log_check()));
  // Same request in the current term: granted.
  req.term = 5;
  BOOST_TEST(should_grant_vote(voter(5), our_log, req));
}

// §5.2, Figure 2 (RequestVote receiver 2): "each server will vote for at most
// one candidate in a given term, on a first-come-first-served basis".
BOOST_AUTO_TEST_CASE(votes_for_at_most_one_candidate_per_term) {
  auto our_log = make_log({1, 1});
  auto from_c = make_vote_request(3, "c", 5, 2);
  BOOST_TEST(!should_grant_vote(voter(3, "b"), our_log, from_c));
  BOOST_TEST(
    !should_grant_vote(voter(3, "b"), our_log, from_c, skip_vote_log_check()));
  // Nobody voted for yet: granted.
  BOOST_TEST(should_grant_vote(voter(3), our_log, from_c));
}

// §5.2, Figure 2 (RequestVote receiver 2): "If votedFor is null or
// candidateId": a repeated request from the candidate we voted for (a lost
// response) is granted again.
BOOST_AUTO_TEST_CASE(grants_again_to_the_candidate_already_voted_for) {
  auto our_log = make_log({1, 1});
  auto from_b = make_vote_request(3, "b", 2, 1);
  BOOST_TEST(should_grant_vote(voter(3, "b"), our_log, from_b));
  BOOST_TEST(should_grant_vote(voter(3, "b"), our_log, from_b));
}

// §5.4.1: "If the logs have last entries with different terms, then the log
// with the later term is more up-to-date."
BOOST_AUTO_TEST_CASE(up_to_date_compares_last_terms_first) {
  // Later last term wins even with a much shorter log.
  BOOST_TEST(log_up_to_date(3, 1, 2, 100));
  // Earlier last term loses even with a much longer log.
  BOOST_TEST(!log_up_to_date(2, 100, 3, 1));
  auto our_log = make_log({1, 1, 2}); // last term 2, last index 3
  BOOST_TEST(should_grant_vote(voter(4), our_log, make_vote_request(4, "b", 1, 3)));
  BOOST_TEST(!should_grant_vote(voter(4), our_log, make_vote_request(4, "b", 10, 1)));
}

// §5.4.1: "If the logs end with the same term, then whichever log is longer
// is more up-to-date" (and an equal log is "at least as up-to-date").
BOOST_AUTO_TEST_CASE(up_to_date_compares_lengths_on_equal_last_terms) {
  BOOST_TEST(log_up_to_date(2, 4, 2, 3));
  BOOST_TEST(log_up_to_date(2, 3, 2, 3));
  BOOST_TEST(!log_up_to_date(2, 2, 2, 3));
  BOOST_TEST(log_up_to_date(0, 0, 0, 0)); // two empty logs
  auto our_log = make_log({1, 2, 2});
  BOOST_TEST(should_grant_vote(voter(4), our_log, make_vote_request(4, "b", 4, 2)));
  BOOST_TEST(should_grant_vote(voter(4), our_log, make_vote_request(4, "b", 3, 2)));
  BOOST_TEST(!should_grant_vote(voter(4), our_log, make_vote_request(4, "b", 2, 2)));
  // An empty candidate log never beats a non-empty one.
  BOOST_TEST(!should_grant_vote(voter(4), our_log, make_vote_request(4, "b", 0, 0)));
}

// §5.4.1 with §7: after compaction our last entry may be the snapshot's last
// included entry; its index and term still take part in the comparison.
BOOST_AUTO_TEST_CASE(up_to_date_uses_the_snapshot_boundary_of_an_empty_log) {
  auto our_log = make_log({}, snapshot_meta{5, 3});
  BOOST_TEST(our_log.last_index() == 5u);
  BOOST_TEST(our_log.last_term() == 3u);
  BOOST_TEST(!should_grant_vote(voter(4), our_log, make_vote_request(4, "b", 4, 3)));
  BOOST_TEST(should_grant_vote(voter(4), our_log, make_vote_request(4, "b", 5, 3)));
  BOOST_TEST(!should_grant_vote(voter(4), our_log, make_vote_request(4, "b", 9, 2)));
}

// §5.4.1, Figure 2 (RequestVote receiver 2), broken on purpose: with
// skip_vote_log_check a candidate with a stale log gets the vote, which is
// what the two cases above would catch.
BOOST_AUTO_TEST_CASE(skip_vote_log_check_grants_to_a_stale_candidate) {
  auto our_log = make_log({1, 2, 2});
  auto stale = make_vote_request(4, "b", 10, 1);
  BOOST_TEST(!should_grant_vote(voter(4), our_log, stale));
  BOOST_TEST(should_grant_vote(voter(4), our_log, stale, skip_vote_log_check()));
}

BOOST_AUTO_TEST_SUITE_END()

// == PreVote and leader stickiness (thesis §9.6, §4.2.3) ========================

BOOST_AUTO_TEST_SUITE(pre_vote)

namespace {

request_vote_request pre_vote_request(term_t term, member_id candidate,
                                      index_t last_log_index,
                                      term_t last_log_term) {
  auto req = make_vote_request(term, std::move(candidate), last_log_index,
                               last_log_term);
  req.pre_vote = true;
  return req;
}

broken_rules grant_pre_vote_despite_leader() {
  broken_rules b;
  b.grant_pre_vote_despite_leader = true;
  return b;
}

} // namespace

// Thesis §9.6: a pre-vote is granted when the candidate "could get votes":
// its proposed term is above ours, its log is up to date (§5.4.1), and no
// current leader is heard from. Granting changes neither term nor vote
// (the function takes the state by const reference: nothing to change).
BOOST_AUTO_TEST_CASE(granted_to_an_up_to_date_candidate_without_a_leader) {
  auto our_log = make_log({1, 1, 2});
  BOOST_TEST(should_grant_pre_vote(voter(2), our_log,
                                   pre_vote_request(3, "b", 3, 2), false));
  // We voted for someone else in term 2: a pre-vote for term 3 still counts,
  // since we have not voted in term 3.
  BOOST_TEST(should_grant_pre_vote(voter(2, "c"), our_log,
                                   pre_vote_request(3, "b", 3, 2), false));
}

// Thesis §9.6 (second condition, with §4.2.3): "it has not received a
// heartbeat from a valid leader for at least a baseline election timeout".
BOOST_AUTO_TEST_CASE(refused_while_a_current_leader_is_heard_from) {
  auto our_log = make_log({1, 1, 2});
  auto req = pre_vote_request(3, "b", 3, 2);
  BOOST_TEST(!should_grant_pre_vote(voter(2), our_log, req, true));
  // Broken on purpose: the variant that docs/testing.md shows is caught.
  BOOST_TEST(should_grant_pre_vote(voter(2), our_log, req, true,
                                   grant_pre_vote_despite_leader()));
}

// Thesis §9.6: "whether its log was up-to-date enough to get their vote"
// (§5.4.1): the same log comparison as a vote.
BOOST_AUTO_TEST_CASE(refused_to_a_candidate_with_a_stale_log) {
  auto our_log = make_log({1, 2, 2});
  BOOST_TEST(!should_grant_pre_vote(voter(2), our_log,
                                    pre_vote_request(3, "b", 5, 1), false));
  BOOST_TEST(!should_grant_pre_vote(voter(2), our_log,
                                    pre_vote_request(3, "b", 2, 2), false));
  BOOST_TEST(should_grant_pre_vote(voter(2), our_log,
                                   pre_vote_request(3, "b", 3, 2), false));
}

// Figure 2 (RequestVote receiver 1) applied to the proposed term: a term
// below ours is stale; at our own term only if we have not voted for
// another.
BOOST_AUTO_TEST_CASE(term_rules_for_the_proposed_term) {
  auto our_log = make_log({1});
  BOOST_TEST(!should_grant_pre_vote(voter(5), our_log,
                                    pre_vote_request(4, "b", 9, 4), false));
  BOOST_TEST(should_grant_pre_vote(voter(5), our_log,
                                   pre_vote_request(5, "b", 9, 4), false));
  BOOST_TEST(!should_grant_pre_vote(voter(5, "c"), our_log,
                                    pre_vote_request(5, "b", 9, 4), false));
  BOOST_TEST(should_grant_pre_vote(voter(5, "b"), our_log,
                                   pre_vote_request(5, "b", 9, 4), false));
}

// Thesis §4.2.3: a RequestVote received within the minimum election
// timeout of hearing from a current leader is disregarded (no term change,
// no vote); without a current leader it is not.
BOOST_AUTO_TEST_CASE(stickiness_disregards_votes_while_a_leader_is_current) {
  auto req = make_vote_request(7, "b", 3, 2);
  BOOST_TEST(disregard_vote_request(req, true));
  BOOST_TEST(!disregard_vote_request(req, false));
}

// Thesis §3.10 with §4.2.3: the election that TimeoutNow starts must win
// although every follower heard from the (old) leader a moment ago.
BOOST_AUTO_TEST_CASE(a_transfer_election_bypasses_stickiness) {
  auto req = make_vote_request(7, "b", 3, 2);
  req.transfer = true;
  BOOST_TEST(!disregard_vote_request(req, true));
}

BOOST_AUTO_TEST_SUITE_END()

// == AppendEntries receiver ===================================================

BOOST_AUTO_TEST_SUITE(append_entries)

// §5.3, Figure 2 (AppendEntries receiver 2): "Reply false if log doesn't
// contain an entry at prevLogIndex". The hint says where our log ends
// (conflict_term 0), so the leader can jump there (§5.3, fast backtracking).
BOOST_AUTO_TEST_CASE(rejects_a_missing_prev_entry_with_our_length_as_hint) {
  auto our_log = make_log({1, 1});
  auto out = apply_append(our_log, make_append(2, 5, 2, make_entries(6, {2})), 0);
  BOOST_TEST(!out.success);
  BOOST_TEST(out.conflict_index == 3u);
  BOOST_TEST(out.conflict_term == 0u);
  BOOST_TEST(out.truncated_from == 0u);
  BOOST_TEST(out.first_appended == 0u);
  BOOST_TEST(terms_of(our_log) == (std::vector<term_t>{1, 1}));
  // An empty log asks for everything from index 1.
  raft::log empty;
  out = apply_append(empty, make_append(2, 1, 1, {}), 0);
  BOOST_TEST(!out.success);
  BOOST_TEST(out.conflict_index == 1u);
  BOOST_TEST(out.conflict_term == 0u);
}

// §5.3, Figure 2 (AppendEntries receiver 2): "... whose term matches
// prevLogTerm". The hint names our term at prevLogIndex and the first index
// we store for that term (§5.3: "the follower can include the term of the
// conflicting entry and the first index it stores for that term"). A
// rejection never changes the log.
BOOST_AUTO_TEST_CASE(rejects_a_prev_term_mismatch_with_the_conflicting_term) {
  auto our_log = make_log({1, 1, 2, 2, 2});
  auto out = apply_append(our_log, make_append(3, 5, 3, make_entries(6, {3})), 0);
  BOOST_TEST(!out.success);
  BOOST_TEST(out.conflict_term == 2u);
  BOOST_TEST(out.conflict_index == 3u);
  BOOST_TEST(terms_of(our_log) == (std::vector<term_t>{1, 1, 2, 2, 2}));
  // Mismatch in the middle: the hint is about prevLogIndex, not our end.
  out = apply_append(our_log, make_append(3, 4, 3, {}), 0);
  BOOST_TEST(!out.success);
  BOOST_TEST(out.conflict_term == 2u);
  BOOST_TEST(out.conflict_index == 3u);
  // The conflicting term starts at our first entry.
  auto twos = make_log({2, 2, 2});
  out = apply_append(twos, make_append(3, 3, 3, {}), 0);
  BOOST_TEST(out.conflict_term == 2u);
  BOOST_TEST(out.conflict_index == 1u);
}

// §5.3 fast backtracking with §7: when the conflicting term reaches into our
// snapshot, the hint stops at the first entry we still hold.
BOOST_AUTO_TEST_CASE(conflict_hint_stops_at_the_snapshot_boundary) {
  auto our_log = make_log({2, 2}, snapshot_meta{3, 2}); // indexes 4, 5
  auto out = apply_append(our_log, make_append(3, 5, 3, {}), 0);
  BOOST_TEST(!out.success);
  BOOST_TEST(out.conflict_term == 2u);
  BOOST_TEST(out.conflict_index == 4u);
}

// §5.3, Figure 2 (AppendEntries receiver 4): "Append any new entries not
// already in the log".
BOOST_AUTO_TEST_CASE(appends_new_entries_after_a_matching_prev) {
  raft::log our_log;
  auto out = apply_append(our_log, make_append(1, 0, 0, make_entries(1, {1, 1})), 0);
  BOOST_TEST(out.success);
  BOOST_TEST(out.last_new_index == 2u);
  BOOST_TEST(out.first_appended == 1u);
  BOOST_TEST(out.truncated_from == 0u);
  out = apply_append(our_log, make_append(2, 2, 1, make_entries(3, {2})), 0);
  BOOST_TEST(out.success);
  BOOST_TEST(out.last_new_index == 3u);
  BOOST_TEST(out.first_appended == 3u);
  BOOST_CHECK(entries_of(our_log) == make_entries(1, {1, 1, 2}));
  BOOST_TEST(log_invariant_violation(our_log) == "");
}

// §5.2/§5.3: a heartbeat is an AppendEntries with no entries; it passes the
// consistency check and changes nothing.
BOOST_AUTO_TEST_CASE(heartbeat_with_matching_prev_succeeds_without_change) {
  auto our_log = make_log({1, 1, 2});
  auto out = apply_append(our_log, make_append(2, 3, 2, {}), 0);
  BOOST_TEST(out.success);
  BOOST_TEST(out.last_new_index == 3u);
  BOOST_TEST(out.first_appended == 0u);
  BOOST_TEST(out.truncated_from == 0u);
  // Anchored at an earlier matching entry: our longer log stays intact.
  out = apply_append(our_log, make_append(2, 1, 1, {}), 0);
  BOOST_TEST(out.success);
  BOOST_TEST(out.last_new_index == 1u);
  BOOST_TEST(terms_of(our_log) == (std::vector<term_t>{1, 1, 2}));
}

// §5.3, Figure 2 (AppendEntries receiver 3): "If an existing entry conflicts
// with a new one (same index but different terms), delete the existing entry
// and all that follow it". Entries before the first conflict stay; so do
// entries matching the request (they are not appended again).
BOOST_AUTO_TEST_CASE(truncates_from_the_first_conflict_only) {
  auto our_log = make_log({1, 1, 1, 2, 2, 2});
  auto req = make_append(3, 2, 1, make_entries(3, {1, 3, 3}));
  auto out = apply_append(our_log, req, 0);
  BOOST_TEST(out.success);
  BOOST_TEST(out.truncated_from == 4u);
  BOOST_TEST(out.first_appended == 4u); // entry 3 matched: not re-appended
  BOOST_TEST(out.last_new_index == 5u);
  // Entry 6 (term 2) followed the conflict: deleted although the request
  // does not reach it.
  BOOST_TEST(terms_of(our_log) == (std::vector<term_t>{1, 1, 1, 3, 3}));
  BOOST_CHECK(entries_of(our_log) == make_entries(1, {1, 1, 1, 3, 3}));
  BOOST_TEST(log_invariant_violation(our_log) == "");
}

// §5.3, Figure 2 (AppendEntries receiver 3): truncation is triggered by a
// conflict, never by the request being shorter than our log.
BOOST_AUTO_TEST_CASE(keeps_entries_past_a_shorter_matching_request) {
  auto our_log = make_log({1, 1, 2, 2});
  auto out = apply_append(our_log, make_append(2, 1, 1, make_entries(2, {1})), 0);
  BOOST_TEST(out.success);
  BOOST_TEST(out.truncated_from == 0u);
  BOOST_TEST(out.first_appended == 0u);
  BOOST_TEST(out.last_new_index == 2u);
  BOOST_TEST(terms_of(our_log) == (std::vector<term_t>{1, 1, 2, 2}));
}

// §5.3, Figure 2 (AppendEntries receiver 3-4): applying the same request
// twice (a retransmission) is a no-op the second time.
BOOST_AUTO_TEST_CASE(a_duplicated_request_is_idempotent) {
  auto our_log = make_log({1});
  auto req = make_append(2, 1, 1, make_entries(2, {2, 2}));
  auto first = apply_append(our_log, req, 0);
  auto after_first = entries_of(our_log);
  auto second = apply_append(our_log, req, 0);
  BOOST_TEST(first.success);
  BOOST_TEST(first.first_appended == 2u);
  BOOST_TEST(second.success);
  BOOST_TEST(second.first_appended == 0u);
  BOOST_TEST(second.truncated_from == 0u);
  BOOST_TEST(second.last_new_index == first.last_new_index);
  BOOST_CHECK(entries_of(our_log) == after_first);
}

// §5.3, Figure 2 (AppendEntries receiver 3): "same index but different
// terms" is the only reason to truncate. An older request of the same leader
// that arrives late (reordered or duplicated by the network) matches our
// newer entries and must not cut them off; its last_new_index stays its own,
// so it cannot move the commit index past what it covers.
BOOST_AUTO_TEST_CASE(a_late_older_request_does_not_truncate_newer_entries) {
  raft::log our_log;
  auto older = make_append(1, 0, 0, make_entries(1, {1, 1, 1}));
  auto newer = make_append(1, 3, 1, make_entries(4, {1, 1}));
  BOOST_TEST(apply_append(our_log, older, 0).success);
  BOOST_TEST(apply_append(our_log, newer, 0).success);
  BOOST_TEST(our_log.last_index() == 5u);
  auto late = apply_append(our_log, older, 0);
  BOOST_TEST(late.success);
  BOOST_TEST(late.truncated_from == 0u);
  BOOST_TEST(late.first_appended == 0u);
  BOOST_TEST(late.last_new_index == 3u);
  // A late heartbeat anchored below our end changes nothing either.
  auto late_heartbeat = apply_append(our_log, make_append(1, 2, 1, {}), 0);
  BOOST_TEST(late_heartbeat.success);
  BOOST_TEST(late_heartbeat.last_new_index == 2u);
  BOOST_CHECK(entries_of(our_log) == make_entries(1, {1, 1, 1, 1, 1}));
}

// §5.3, Figure 2 (AppendEntries receiver 3), broken on purpose: with
// keep_conflicting_suffix the stale entries survive, which
// truncates_from_the_first_conflict_only would catch.
BOOST_AUTO_TEST_CASE(keep_conflicting_suffix_keeps_stale_entries) {
  auto our_log = make_log({1, 1, 1, 2, 2, 2});
  auto req = make_append(3, 2, 1, make_entries(3, {1, 3, 3}));
  auto out = apply_append(our_log, req, 0, keep_conflicting_suffix());
  BOOST_TEST(out.success);
  BOOST_TEST(out.truncated_from == 0u);
  BOOST_TEST(terms_of(our_log) != (std::vector<term_t>{1, 1, 1, 3, 3}));
  BOOST_TEST(terms_of(our_log) == (std::vector<term_t>{1, 1, 1, 2, 2, 2}));
}

// §7 with Figure 2 (AppendEntries receiver 2): entries covered by our
// snapshot are committed, hence the leader's; a prevLogIndex below the
// snapshot is treated as matching and the covered part of the request is
// skipped.
BOOST_AUTO_TEST_CASE(prev_below_the_snapshot_counts_as_matching) {
  auto our_log = make_log({2, 3}, snapshot_meta{5, 2}); // indexes 6, 7
  // The leader's view: indexes 4..8 with terms 1 2 2 3 3, prev 3 (term 1).
  auto req = make_append(3, 3, 1, make_entries(4, {1, 2, 2, 3, 3}));
  auto out = apply_append(our_log, req, 0);
  BOOST_TEST(out.success);
  BOOST_TEST(out.last_new_index == 8u);
  BOOST_TEST(out.truncated_from == 0u);
  BOOST_TEST(out.first_appended == 8u);
  BOOST_TEST(our_log.first_index() == 6u);
  BOOST_TEST(terms_of(our_log) == (std::vector<term_t>{2, 3, 3}));
  BOOST_TEST(log_invariant_violation(our_log) == "");
  // A heartbeat below the snapshot succeeds and changes nothing.
  out = apply_append(our_log, make_append(3, 2, 1, {}), 0);
  BOOST_TEST(out.success);
  BOOST_TEST(out.last_new_index == 2u);
  BOOST_TEST(terms_of(our_log) == (std::vector<term_t>{2, 3, 3}));
}

// §7 with Figure 2 (AppendEntries receiver 2): prevLogIndex equal to the
// snapshot's last index is checked against the snapshot's last term.
BOOST_AUTO_TEST_CASE(prev_at_the_snapshot_boundary_matches_its_term) {
  auto our_log = make_log({}, snapshot_meta{5, 2});
  auto out = apply_append(our_log, make_append(3, 5, 2, make_entries(6, {3})), 0);
  BOOST_TEST(out.success);
  BOOST_TEST(out.first_appended == 6u);
  BOOST_TEST(our_log.last_index() == 6u);
}

// §7 with Figure 2 (AppendEntries receiver 3): a request that starts below
// the snapshot and conflicts above it truncates above it only.
BOOST_AUTO_TEST_CASE(a_conflict_above_the_snapshot_truncates_above_it) {
  auto our_log = make_log({2, 2}, snapshot_meta{5, 2}); // indexes 6, 7
  auto out = apply_append(our_log, make_append(3, 4, 2, make_entries(5, {2, 3})), 0);
  BOOST_TEST(out.success);
  BOOST_TEST(out.truncated_from == 6u);
  BOOST_TEST(out.first_appended == 6u);
  BOOST_TEST(out.last_new_index == 6u);
  BOOST_TEST(our_log.base().last_index == 5u);
  BOOST_TEST(terms_of(our_log) == (std::vector<term_t>{3}));
  BOOST_TEST(log_invariant_violation(our_log) == "");
}

// §5.3 Log Matching ("if two logs contain an entry with the same index and
// term, then the logs are identical in all entries up through the given
// index") and Figure 2 (AppendEntries receiver 2-4), over seeded random
// pairs of logs: a leader log, and a follower log that shares a prefix of
// length p with it, then diverges (leader terms are even, the follower's own
// terms odd), possibly compacted within the shared prefix (§7). For every
// request the leader could send:
// - it succeeds exactly when prevLogIndex <= p;
// - on success the follower equals the leader up to the request's last
//   entry, keeps matching entries past it, and loses divergent ones;
// - on failure nothing changes, the hint is consistent with the follower's
//   log, and the leader's next index from it (§5.3 fast backtracking) is
//   below the refused index but never below the shared prefix.
BOOST_AUTO_TEST_CASE(log_matching_holds_for_random_logs) {
  std::mt19937_64 rng{5331};
  auto pick = [&](uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>{lo, hi}(rng);
  };
  for (int run = 0; run < 3000; ++run) {
    std::vector<term_t> leader_terms;
    term_t t = 2;
    for (auto n = pick(0, 12); n > 0; --n) {
      if (pick(0, 2) == 0)
        t += 2;
      leader_terms.push_back(t);
    }
    auto leader = make_log(leader_terms);
    index_t p = pick(0, leader_terms.size());
    std::vector<term_t> follower_terms(leader_terms.begin(),
                                       leader_terms.begin() + p);
    term_t u = (p == 0 ? 0 : follower_terms.back()) + 1;
    for (auto n = pick(0, 6); n > 0; --n) {
      if (pick(0, 2) == 0)
        u += 2;
      follower_terms.push_back(u);
    }
    auto follower = make_log(follower_terms);
    if (pick(0, 2) == 0) {
      index_t c = pick(0, p);
      follower.compact(snapshot_meta{c, *leader.term_at(c)});
    }
    auto before = entries_of(follower);
    index_t prev = pick(0, leader.last_index());
    size_t n = pick(0, leader.last_index() - prev);
    entry_vector entries;
    if (n > 0)
      entries = leader.slice(prev + 1, n, 1 << 20);
    auto req = make_append(9, prev, *leader.term_at(prev), entries);
    auto out = apply_append(follower, req, 0);
    auto where = "run " + std::to_string(run) + ", shared prefix "
                 + std::to_string(p) + ", prev " + std::to_string(prev)
                 + ", entries " + std::to_string(n);
    BOOST_TEST_REQUIRE(log_invariant_violation(follower) == "", where);
    BOOST_TEST_REQUIRE(out.success == (prev <= p), where);
    if (out.success) {
      index_t m = prev + n;
      BOOST_TEST_REQUIRE(out.last_new_index == m, where);
      for (auto i = follower.first_index(); i <= m; ++i)
        BOOST_TEST_REQUIRE((follower.at(i) == leader.at(i)), where);
      if (m <= p)
        BOOST_TEST_REQUIRE((entries_of(follower) == before), where);
      else
        BOOST_TEST_REQUIRE(follower.last_index() == m, where);
    } else {
      BOOST_TEST_REQUIRE((entries_of(follower) == before), where);
      auto ci = out.conflict_index;
      auto ct = out.conflict_term;
      BOOST_TEST_REQUIRE(ci <= prev, where);
      BOOST_TEST_REQUIRE(ci >= follower.first_index(), where);
      if (ct == 0) {
        BOOST_TEST_REQUIRE(prev > follower.last_index(), where);
        BOOST_TEST_REQUIRE(ci == follower.last_index() + 1, where);
      } else {
        BOOST_TEST_REQUIRE(*follower.term_at(prev) == ct, where);
        BOOST_TEST_REQUIRE(*follower.term_at(ci) == ct, where);
        BOOST_TEST_REQUIRE((ci == follower.first_index()
                            || *follower.term_at(ci - 1) != ct),
                           where);
      }
      auto next = next_index_after_reject(leader, prev, ci, ct);
      BOOST_TEST_REQUIRE(next >= 1u, where);
      BOOST_TEST_REQUIRE(next <= prev, where);
      BOOST_TEST_REQUIRE(next - 1 >= p, where);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

// == follower commit index ===================================================

BOOST_AUTO_TEST_SUITE(follower_commit_index)

// Figure 2 (AppendEntries receiver 5): "If leaderCommit > commitIndex, set
// commitIndex = min(leaderCommit, index of last new entry)".
BOOST_AUTO_TEST_CASE(commit_is_min_of_leader_commit_and_last_new_entry) {
  BOOST_TEST(follower_commit(0, 5, 3) == 3u); // we only know up to 3
  BOOST_TEST(follower_commit(0, 2, 3) == 2u); // the leader committed only 2
  BOOST_TEST(follower_commit(1, 3, 3) == 3u);
}

// Figure 2 (AppendEntries receiver 5): only "If leaderCommit > commitIndex";
// and §5.3 commitIndex "increases monotonically": it never moves back, also
// when a late request covers less than we have already committed.
BOOST_AUTO_TEST_CASE(commit_never_moves_backwards) {
  BOOST_TEST(follower_commit(5, 3, 10) == 5u);
  BOOST_TEST(follower_commit(5, 5, 10) == 5u);
  BOOST_TEST(follower_commit(5, 7, 4) == 5u);
  // End to end: a late, short request after the commit index moved on.
  auto our_log = make_log({1, 1, 1, 1, 1, 1});
  auto late = apply_append(our_log, make_append(1, 1, 1, make_entries(2, {1}), 6), 0);
  BOOST_TEST(late.success);
  BOOST_TEST(late.last_new_index == 2u);
  BOOST_TEST(follower_commit(5, 6, late.last_new_index) == 5u);
}

// Figure 2 (AppendEntries receiver 5) with receiver 3: the follower must not
// commit entries past the request even if its log is longer, because those
// entries may conflict with the leader's and be truncated later.
BOOST_AUTO_TEST_CASE(commit_does_not_cover_unverified_entries) {
  auto our_log = make_log({1, 1, 2, 2}); // 3 and 4 may be stale
  auto hb = apply_append(our_log, make_append(3, 2, 1, {}, 4), 0);
  BOOST_TEST(hb.success);
  BOOST_TEST(follower_commit(0, 4, hb.last_new_index) == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

// == quorums ==============================================================

BOOST_AUTO_TEST_SUITE(quorums)

// §5.2: "A candidate wins an election if it receives votes from a majority of
// the servers in the full cluster"; floor(n/2)+1 for odd and even sizes.
BOOST_AUTO_TEST_CASE(quorum_size_is_a_strict_majority) {
  const std::vector<size_t> expected{0, 1, 2, 2, 3, 3, 4, 4};
  for (size_t n = 1; n <= 7; ++n) {
    BOOST_TEST_CONTEXT("members " << n) {
      BOOST_TEST(quorum_size(n) == expected[n]);
      // Any two quorums intersect (what Election Safety relies on) ...
      BOOST_TEST(2 * quorum_size(n) > n);
      // ... and no smaller number would guarantee that.
      BOOST_TEST(2 * (quorum_size(n) - 1) <= n);
    }
  }
}

// §5.3/§5.4.2 (Figure 2, Rules for Servers, Leaders): the highest N with "a
// majority of matchIndex[i] >= N". Checked against that definition for every
// match vector over {0..3} of 1 to 7 voters, then on named cases.
BOOST_AUTO_TEST_CASE(quorum_match_index_is_the_majority_replicated_index) {
  for (size_t n = 1; n <= 7; ++n) {
    std::vector<index_t> xs(n, 0);
    for (;;) {
      index_t expected = 0;
      for (index_t candidate = 0; candidate <= 3; ++candidate) {
        size_t count = 0;
        for (auto x : xs)
          if (x >= candidate)
            ++count;
        if (2 * count > n) // a majority, independent of quorum_size()
          expected = candidate;
      }
      BOOST_TEST_CONTEXT("members " << n) {
        BOOST_TEST(quorum_match_index(xs) == expected);
      }
      // Next vector (odometer over base 4).
      size_t k = 0;
      while (k < n && xs[k] == 3)
        xs[k++] = 0;
      if (k == n)
        break;
      ++xs[k];
    }
  }
  BOOST_TEST(quorum_match_index({}) == 0u);
  BOOST_TEST(quorum_match_index({7}) == 7u);
  // Two members need both (Vanadium's Go raft took one of two as a majority).
  BOOST_TEST(quorum_match_index({5, 3}) == 3u);
  // Four members need three.
  BOOST_TEST(quorum_match_index({9, 9, 1, 1}) == 1u);
  BOOST_TEST(quorum_match_index({9, 9, 9, 1}) == 9u);
  BOOST_TEST(quorum_match_index({4, 2, 9}) == 4u);
  BOOST_TEST(quorum_match_index({10, 20, 30, 40, 50, 60}) == 30u);
  BOOST_TEST(quorum_match_index({10, 20, 30, 40, 50, 60, 70}) == 40u);
}

BOOST_AUTO_TEST_SUITE_END()

// == leader commit ===========================================================

BOOST_AUTO_TEST_SUITE(leader_commit_index)

// §5.3, Figure 2 (Rules for Servers, Leaders, last rule): an entry of the
// current term stored on a majority is committed, and with it every entry
// before it (§5.3: "This also commits all preceding entries").
BOOST_AUTO_TEST_CASE(commits_a_current_term_entry_stored_on_a_majority) {
  auto leader = make_log({1, 1, 2});
  BOOST_TEST(leader_commit(leader, 2, 0, {3, 3, 0}) == 3u);
  BOOST_TEST(leader_commit(leader, 2, 0, {3, 0, 0}) == 0u); // no majority
  BOOST_TEST(leader_commit(leader, 2, 0, {3, 3, 3, 0, 0}) == 3u);
  BOOST_TEST(leader_commit(leader, 2, 0, {3, 3, 0, 0}) == 0u); // 2 of 4
}

// §5.3: commitIndex "increases monotonically": a leader never lowers it, even
// if match indexes reported now are lower (e.g. after a follower restarted
// with a lost tail in a broken setup).
BOOST_AUTO_TEST_CASE(leader_commit_never_moves_backwards) {
  auto leader = make_log({1, 2, 2, 2});
  BOOST_TEST(leader_commit(leader, 2, 3, {4, 2, 2}) == 3u);
  BOOST_TEST(leader_commit(leader, 2, 3, {4, 4, 2}) == 4u);
}

namespace {

/// Figure 8 of the paper, built as logs. Index 1 holds term 1 everywhere;
/// the rest is per the figure.
struct figure8 {
  // (c): S1 is leader in term 4 and has replicated its term-2 entry at
  // index 2 to S2 and S3; S5 holds a term-3 entry at index 2 from (b).
  raft::log s1 = make_log({1, 2, 4});
  raft::log s2 = make_log({1, 2});
  raft::log s3 = make_log({1, 2});
  raft::log s4 = make_log({1});
  raft::log s5 = make_log({1, 3});
  // S1's view (own durable log first): S2 and S3 match up to 2; S4 and S5
  // only up to 1.
  std::vector<index_t> match{3, 2, 2, 1, 1};
};

} // namespace

// §5.4.2, Figure 8 (c)/(d): "Raft never commits log entries from previous
// terms by counting replicas." Index 2 (term 2) is on S1, S2, S3, a majority,
// yet S1 in term 4 must not commit it: in (d) S5 can still win an election
// and overwrite it everywhere.
BOOST_AUTO_TEST_CASE(figure8_an_old_term_entry_is_not_committed_by_counting) {
  figure8 fig;
  BOOST_TEST(quorum_match_index(fig.match) == 2u);
  BOOST_TEST(leader_commit(fig.s1, 4, 1, fig.match) == 1u);
  // (d): S5 times out, becomes candidate in term 5 and gets the votes of
  // S2, S3 and S4 (its last term 3 beats their 2 and 1) ...
  auto req = make_vote_request(5, "s5", fig.s5.last_index(), fig.s5.last_term());
  size_t votes = 1; // its own
  for (auto* voter_log : {&fig.s2, &fig.s3, &fig.s4})
    if (should_grant_vote(voter(5), *voter_log, req))
      ++votes;
  BOOST_TEST(votes >= quorum_size(5));
  // ... and replaces index 2 with its term-3 entry on a majority.
  auto overwrite = make_append(5, 1, 1, make_entries(2, {3}));
  for (auto* l : {&fig.s2, &fig.s3, &fig.s4})
    BOOST_TEST(apply_append(*l, overwrite, 0).success);
  BOOST_TEST(*fig.s2.term_at(2) == 3u);
  BOOST_TEST(*fig.s3.term_at(2) == 3u);
}

// §5.4.2, Figure 8, broken on purpose: commit_old_terms_by_counting commits
// index 2 in (c), which the (d) sequence above then erases from a majority:
// exactly the State Machine Safety violation the previous case guards.
BOOST_AUTO_TEST_CASE(figure8_commit_old_terms_by_counting_commits_index_2) {
  figure8 fig;
  auto committed = leader_commit(fig.s1, 4, 1, fig.match,
                                 commit_old_terms_by_counting());
  BOOST_TEST(committed == 2u);
  BOOST_TEST(committed != leader_commit(fig.s1, 4, 1, fig.match));
  // The "committed" entry (2, term 2) is then lost on S2 and S3.
  auto overwrite = make_append(5, 1, 1, make_entries(2, {3}));
  apply_append(fig.s2, overwrite, 0);
  apply_append(fig.s3, overwrite, 0);
  BOOST_TEST(*fig.s2.term_at(2) != *fig.s1.term_at(2));
}

// §5.4.2, Figure 8 (e): once S1 replicates an entry of its current term
// (index 3, term 4) to a majority, that entry is committed by counting and
// index 2 with it, indirectly; S5 can no longer win an election (§5.4.1).
BOOST_AUTO_TEST_CASE(figure8_a_current_term_entry_commits_earlier_ones) {
  figure8 fig;
  auto req = make_append(4, 2, 2, make_entries(3, {4}), 1);
  for (auto* l : {&fig.s2, &fig.s3}) {
    auto out = apply_append(*l, req, 0);
    BOOST_TEST(out.success);
    BOOST_TEST(out.last_new_index == 3u);
  }
  fig.match = {3, 3, 3, 1, 1};
  BOOST_TEST(leader_commit(fig.s1, 4, 1, fig.match) == 3u);
  auto vote = make_vote_request(5, "s5", fig.s5.last_index(), fig.s5.last_term());
  size_t votes = 1;
  for (auto* voter_log : {&fig.s1, &fig.s2, &fig.s3, &fig.s4})
    if (should_grant_vote(voter(5), *voter_log, vote))
      ++votes;
  BOOST_TEST(votes < quorum_size(5));
}

// §5.4.2, Figure 2 (Rules for Servers, Leaders): "log[N].term ==
// currentTerm". A new leader whose log has no entry of its term yet commits
// nothing, even with everything replicated everywhere (hence the no-op entry
// of §8).
BOOST_AUTO_TEST_CASE(a_leader_without_current_term_entries_commits_nothing) {
  auto leader = make_log({1, 1, 2});
  BOOST_TEST(leader_commit(leader, 3, 0, {3, 3, 3}) == 0u);
  BOOST_TEST(leader_commit(leader, 3, 0, {3, 3, 3}, commit_old_terms_by_counting())
             == 3u);
}

BOOST_AUTO_TEST_SUITE_END()

// Thesis §3.5 (committed means committed; §5.4.3 State Machine Safety): an
// AppendEntries that would remove or replace an entry at or below the
// receiver's commit index is refused and the log is kept; one that
// conflicts only above it truncates as Figure 2 says.
BOOST_AUTO_TEST_CASE(never_replaces_a_committed_entry) {
  auto our_log = make_log({1, 1, 1, 1});
  // Entries 2-4 of term 2 conflict from index 2 on; 3 is committed here.
  auto req = make_append(2, 1, 1, make_entries(2, {2, 2, 2}));
  BOOST_TEST(committed_conflict(our_log, 3, req) == 2u);
  auto out = apply_append(our_log, req, 3);
  BOOST_TEST(!out.success);
  BOOST_TEST(out.refused_committed == 2u);
  BOOST_TEST(out.truncated_from == 0u);
  BOOST_TEST(terms_of(our_log) == (std::vector<term_t>{1, 1, 1, 1}));
  // Committed up to 1 only: the same request truncates from 2.
  BOOST_TEST(committed_conflict(our_log, 1, req) == 0u);
  out = apply_append(our_log, req, 1);
  BOOST_TEST(out.success);
  BOOST_TEST(out.truncated_from == 2u);
  BOOST_TEST(terms_of(our_log) == (std::vector<term_t>{1, 2, 2, 2}));
  // Matching committed entries are no conflict.
  BOOST_TEST(committed_conflict(our_log, 4, req) == 0u);
}

// The same for InstallSnapshot (Figure 13): a snapshot that ends at or below
// the commit index on a different term would replace committed entries.
BOOST_AUTO_TEST_CASE(never_installs_a_snapshot_over_committed_entries) {
  auto our_log = make_log({1, 1, 2, 2});
  BOOST_TEST(snapshot_conflicts_with_commit(our_log, 3, 3, 3));
  BOOST_TEST(!snapshot_conflicts_with_commit(our_log, 3, 3, 2)); // same
  BOOST_TEST(!snapshot_conflicts_with_commit(our_log, 2, 3, 3)); // above
  BOOST_TEST(!snapshot_conflicts_with_commit(our_log, 4, 6, 3)); // beyond log
}
