// The leader's side of log replication (§5.3): where to resume after a
// rejection (fast backtracking), per-follower progress with probing and
// pipelining, and Figure 7 of the paper replayed as a pure loop between a
// leader log and each of the six follower logs.
#define BOOST_TEST_MODULE core_replication_test
#include <boost/test/unit_test.hpp>

#include <limits>
#include <random>
#include <string>
#include <vector>

#include "raft/core/progress.hpp"
#include "raft/core/rules.hpp"

#include "core_fixtures.hpp"

using namespace raft;
using namespace raft::test;

namespace {

/// Figure 2 (volatile state on leaders) plus the pipelining bookkeeping:
/// returns what is wrong with `p`, or an empty string.
std::string progress_violation(const progress& p, size_t max_in_flight) {
  if (p.match_index() >= p.next_index())
    return "match_index " + std::to_string(p.match_index())
           + " not below next_index " + std::to_string(p.next_index());
  if (p.next_index() == 0)
    return "next_index is 0";
  if (p.in_flight() > (p.probing() ? size_t{1} : max_in_flight))
    return std::to_string(p.in_flight()) + " appends in flight";
  return {};
}

/// The leader's log of Figure 7 (term 8, indexes 1..10) ...
const std::vector<term_t> figure7_leader_terms{1, 1, 1, 4, 4, 5, 5, 6, 6, 6};

/// ... and the six possible follower logs (a)-(f).
const std::vector<std::vector<term_t>> figure7_followers{
  {1, 1, 1, 4, 4, 5, 5, 6, 6},             // (a) missing entries
  {1, 1, 1, 4},                            // (b) missing entries
  {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6},       // (c) extra uncommitted entry
  {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7},    // (d) extra uncommitted entries
  {1, 1, 1, 4, 4, 4, 4},                   // (e) missing and extra
  {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3},       // (f) missing and extra
};

enum class backtracking { fast, one_by_one };

struct replication_run {
  bool converged = false;
  int rounds = 0;
  int rejections = 0;
  /// First violated invariant or safety property seen, if any.
  std::string violation;
};

/// Replicates `leader` (of term `term`) to `follower` the way the member
/// does, with every message delivered at once. One round: the leader sends
/// what progress allows (pipelined batches, or one probe); the follower runs
/// apply_append on each request and answers; the leader handles each
/// answer. Stops when the follower's log equals the leader's and the leader
/// knows it.
replication_run replicate(const raft::log& leader, term_t term,
                          raft::log& follower, index_t next_index,
                          size_t max_entries, size_t max_in_flight,
                          backtracking mode) {
  replication_run run;
  progress pr{next_index};
  auto fail = [&](std::string what) {
    if (run.violation.empty())
      run.violation = "round " + std::to_string(run.rounds) + ": " + what;
  };
  auto request_at = [&](index_t prev) {
    return make_append(term, prev, leader.term_at(prev).value_or(0), {});
  };
  for (run.rounds = 1; run.rounds <= 100; ++run.rounds) {
    // Leader: send.
    std::vector<append_entries_request> sent;
    while (pr.next_index() <= leader.last_index()
           && pr.can_send(max_in_flight)) {
      auto req = request_at(pr.next_index() - 1);
      req.entries = leader.slice(pr.next_index(), max_entries,
                                 std::numeric_limits<size_t>::max());
      pr.on_sent(req.entries.back().index);
      sent.push_back(std::move(req));
    }
    if (sent.empty()) // A heartbeat, anchored as the member anchors it.
      sent.push_back(
        request_at(pr.probing() ? pr.next_index() - 1 : pr.match_index()));
    if (auto why = progress_violation(pr, max_in_flight); !why.empty())
      fail("after sending: " + why);
    // Follower: apply and answer.
    std::vector<append_entries_response> answers;
    for (auto& req : sent) {
      auto out = apply_append(follower, req, 0);
      append_entries_response resp;
      resp.term = term;
      resp.from = "follower";
      resp.success = out.success;
      if (out.success) {
        resp.match_index = out.last_new_index;
        // §5.3 Log Matching: after a successful append, the follower's log
        // is identical to the leader's up to the last entry of the request.
        for (index_t i = 1; i <= out.last_new_index; ++i)
          if (follower.term_at(i) != leader.term_at(i))
            fail("log matching broken at index " + std::to_string(i));
      } else {
        resp.rejected_index = req.prev_log_index;
        resp.conflict_index = out.conflict_index;
        resp.conflict_term = out.conflict_term;
      }
      if (auto why = log_invariant_violation(follower); !why.empty())
        fail("follower log: " + why);
      answers.push_back(resp);
    }
    // Leader: handle the answers.
    for (auto& resp : answers) {
      if (resp.success) {
        pr.on_success(resp.match_index);
      } else {
        ++run.rejections;
        auto next = mode == backtracking::fast
                      ? next_index_after_reject(leader, resp.rejected_index,
                                                resp.conflict_index,
                                                resp.conflict_term)
                      // §5.3: "the leader decrements nextIndex and retries".
                      : resp.rejected_index;
        pr.on_reject(resp.rejected_index, next);
      }
      if (auto why = progress_violation(pr, max_in_flight); !why.empty())
        fail("after an answer: " + why);
    }
    if (entries_of(follower) == entries_of(leader)
        && pr.match_index() == leader.last_index()) {
      run.converged = true;
      return run;
    }
  }
  return run;
}

/// Figure 7 when the leader of term 8 has just taken over: nextIndex is 11
/// for everyone (§5.3: "initializes all nextIndex values to the index just
/// after the last one in its log (11 in Figure 7)"), then it appends its
/// no-op entry of term 8 at index 11 (§8), which is what removes the extra
/// entries of (c) and (d).
raft::log figure7_leader_with_noop() {
  auto l = make_log(figure7_leader_terms);
  l.append(make_entry(11, 8));
  return l;
}

constexpr index_t figure7_next_index = 11;

} // namespace

// == next_index_after_reject ================================================

BOOST_AUTO_TEST_SUITE(fast_backtracking)

// §5.3: "If a follower's log is inconsistent with the leader's, the
// AppendEntries consistency check will fail ... After a rejection, the leader
// decrements nextIndex and retries"; with a short follower log the leader
// jumps straight to the follower's end (conflict_term 0).
BOOST_AUTO_TEST_CASE(a_short_follower_log_resumes_at_its_end) {
  auto leader = make_log(figure7_leader_terms);
  BOOST_TEST(next_index_after_reject(leader, 10, 5, 0) == 5u); // (b)
  BOOST_TEST(next_index_after_reject(leader, 10, 10, 0) == 10u); // (a)
}

// §5.3 fast backtracking: when the leader holds entries of the conflicting
// term, it resumes just after its last entry of that term.
BOOST_AUTO_TEST_CASE(resumes_after_the_leaders_last_entry_of_the_conflict_term) {
  auto leader = make_log(figure7_leader_terms);
  // (e) rejects prev 7 (its term 4 there, starting at index 4); the
  // leader's last term-4 entry is 5.
  BOOST_TEST(next_index_after_reject(leader, 7, 4, 4) == 6u);
  // (c) once the leader has its term-8 entry at 11: (c) rejects prev 11
  // (its term 6 there, from index 8); the leader's term 6 ends at 10.
  BOOST_TEST(next_index_after_reject(figure7_leader_with_noop(), 11, 8, 6)
             == 11u);
}

// §5.3 fast backtracking: "the leader can decrement nextIndex to bypass all
// of the conflicting entries in that term" when it has none of that term.
BOOST_AUTO_TEST_CASE(skips_a_whole_term_the_leader_does_not_have) {
  auto leader = make_log(figure7_leader_terms);
  // (f) rejects prev 10 with its term 3, which starts at index 7.
  BOOST_TEST(next_index_after_reject(leader, 10, 7, 3) == 7u);
  // ... then prev 6 with its term 2, which starts at index 4.
  BOOST_TEST(next_index_after_reject(leader, 6, 4, 2) == 4u);
}

// Never past the refused point (the rejected prevLogIndex stays unverified,
// so nextIndex <= rejected) and never below index 1.
BOOST_AUTO_TEST_CASE(result_is_clamped_to_one_and_the_rejected_index) {
  auto leader = make_log(figure7_leader_terms);
  BOOST_TEST(next_index_after_reject(leader, 7, 20, 0) == 7u);
  BOOST_TEST(next_index_after_reject(leader, 3, 9, 6) == 3u);
  BOOST_TEST(next_index_after_reject(leader, 5, 0, 0) == 1u);
  BOOST_TEST(next_index_after_reject(leader, 0, 0, 0) == 1u);
}

// §7 with §5.3: the leader's last entry of the conflicting term may be the
// last entry of its snapshot.
BOOST_AUTO_TEST_CASE(the_leaders_snapshot_boundary_counts_as_its_entry) {
  auto leader = make_log({4, 5}, snapshot_meta{5, 3}); // indexes 6, 7
  BOOST_TEST(next_index_after_reject(leader, 7, 2, 3) == 6u);
  BOOST_TEST(next_index_after_reject(leader, 7, 2, 4) == 7u);
  // A term the leader never had: the follower's own hint.
  BOOST_TEST(next_index_after_reject(leader, 7, 2, 2) == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

// == progress ================================================================

BOOST_AUTO_TEST_SUITE(replication_progress)

// Figure 2 (volatile state on leaders): nextIndex starts at the leader's
// last log index + 1 and matchIndex at 0; until a follower's log is found to
// match, the leader probes with one append at a time.
BOOST_AUTO_TEST_CASE(a_new_follower_is_probed_one_append_at_a_time) {
  progress p{11};
  BOOST_TEST(p.next_index() == 11u);
  BOOST_TEST(p.match_index() == 0u);
  BOOST_TEST(p.probing());
  BOOST_TEST(p.can_send(8));
  p.on_sent(10); // an empty probe anchored at prev 10
  BOOST_TEST(!p.can_send(8));
  BOOST_TEST(p.in_flight() == 1u);
  BOOST_TEST(progress_violation(p, 8) == "");
}

// Figure 2 (Rules for Servers, Leaders): "If successful: update nextIndex
// and matchIndex for follower"; then the leader pipelines up to
// max_in_flight batches without waiting (thesis §10.2.2).
BOOST_AUTO_TEST_CASE(a_success_switches_to_pipelining) {
  progress p{11};
  p.on_sent(10);
  BOOST_TEST(p.on_success(10));
  BOOST_TEST(!p.probing());
  BOOST_TEST(p.match_index() == 10u);
  BOOST_TEST(p.next_index() == 11u);
  BOOST_TEST(p.in_flight() == 0u);
  p.on_sent(12);
  p.on_sent(14);
  BOOST_TEST(p.can_send(3));
  p.on_sent(16);
  BOOST_TEST(!p.can_send(3));
  BOOST_TEST(p.next_index() == 17u);
  // One answer may acknowledge several batches.
  BOOST_TEST(p.on_success(14));
  BOOST_TEST(p.in_flight() == 1u);
  BOOST_TEST(p.match_index() == 14u);
  BOOST_TEST(p.next_index() == 17u);
  BOOST_TEST(p.can_send(3));
  BOOST_TEST(progress_violation(p, 3) == "");
}

// §5.3: matchIndex "increases monotonically": a late success for an earlier
// batch changes nothing.
BOOST_AUTO_TEST_CASE(a_stale_success_does_not_lower_match_index) {
  progress p{1};
  p.on_sent(5);
  p.on_success(5);
  p.on_sent(9);
  BOOST_TEST(p.on_success(9));
  BOOST_TEST(!p.on_success(5));
  BOOST_TEST(p.match_index() == 9u);
  BOOST_TEST(p.next_index() == 10u);
}

// Figure 2 (Rules for Servers, Leaders): "If AppendEntries fails because of
// log inconsistency: decrement nextIndex and retry", back in probe mode with
// nothing in flight.
BOOST_AUTO_TEST_CASE(a_rejection_returns_to_probing) {
  progress p{11};
  p.on_sent(10);
  p.on_success(10);
  p.on_sent(12);
  p.on_sent(14);
  BOOST_TEST(p.on_reject(12, 12));
  BOOST_TEST(p.probing());
  BOOST_TEST(p.in_flight() == 0u);
  BOOST_TEST(p.next_index() == 12u);
  BOOST_TEST(p.can_send(8));
  p.on_sent(14);
  BOOST_TEST(!p.can_send(8));
  // A current rejection whose hint lies below the match index means the
  // follower lost entries it had acknowledged (a wiped disk): probe again
  // from what it holds, or the leader would resend refused entries forever.
  BOOST_TEST(p.on_reject(14, 3));
  BOOST_TEST(p.next_index() == 3u);
  BOOST_TEST(p.match_index() == 2u);
  BOOST_TEST(progress_violation(p, 8) == "");
}

// §5.3 with reordering: a rejection of a prevLogIndex below what a later
// success already proved to match is stale and ignored.
BOOST_AUTO_TEST_CASE(a_stale_rejection_is_ignored) {
  progress p{1};
  p.on_sent(3);
  p.on_success(3);
  p.on_sent(6);
  p.on_sent(9);
  p.on_success(6);
  BOOST_TEST(!p.on_reject(2, 1));
  BOOST_TEST(!p.probing());
  BOOST_TEST(p.match_index() == 6u);
  BOOST_TEST(p.next_index() == 10u);
  BOOST_TEST(p.in_flight() == 1u);
}

// §5.3: "If followers crash or run slowly, or if network packets are lost,
// the leader retries AppendEntries RPCs indefinitely": after silence the
// leader assumes the in-flight appends lost and probes from match + 1.
BOOST_AUTO_TEST_CASE(silence_falls_back_to_probing_from_match) {
  progress p{1};
  p.on_sent(4);
  p.on_success(4);
  p.on_sent(8);
  p.on_sent(12);
  p.on_silence();
  BOOST_TEST(p.probing());
  BOOST_TEST(p.in_flight() == 0u);
  BOOST_TEST(p.next_index() == 5u);
  BOOST_TEST(p.match_index() == 4u);
  BOOST_TEST(progress_violation(p, 8) == "");
}

// A new leader probes at its last index + 1 with match 0. If that probe is
// lost, it probes there again: falling back to match + 1 = 1 would resend the
// whole log one message at a time, or a snapshot (found by the long
// simulation run: seed 101304 stalled 2 s after healing).
BOOST_AUTO_TEST_CASE(silence_while_probing_resends_the_same_probe) {
  progress p{592};
  BOOST_TEST(p.probing());
  p.on_sent(591);
  p.on_silence();
  BOOST_TEST(p.probing());
  BOOST_TEST(p.in_flight() == 0u);
  BOOST_TEST(p.next_index() == 592u);
  BOOST_TEST(p.can_send(8));
  BOOST_TEST(progress_violation(p, 8) == "");
}

// Liveness bookkeeping: take_heard reports whether any answer arrived since
// the last heartbeat period.
BOOST_AUTO_TEST_CASE(take_heard_reports_answers_once) {
  progress p{1};
  BOOST_TEST(!p.take_heard());
  p.on_sent(2);
  p.on_reject(2, 1);
  BOOST_TEST(p.take_heard());
  BOOST_TEST(!p.take_heard());
  p.on_success(0);
  BOOST_TEST(p.take_heard());
}

// Figure 2 invariants under any order of events: matchIndex < nextIndex,
// matchIndex never decreases (except when a follower refuses entries it had
// acknowledged: a wiped disk), and the number of appends in flight respects
// the probe/pipeline limit, for a seeded random mix of sends, successes,
// rejections (current and stale) and silences.
BOOST_AUTO_TEST_CASE(invariants_hold_for_any_event_sequence) {
  constexpr size_t max_in_flight = 4;
  std::mt19937_64 rng{20240611};
  auto pick = [&](uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>{lo, hi}(rng);
  };
  for (int run = 0; run < 200; ++run) {
    progress p{pick(1, 20)};
    index_t highest_sent = 0;
    index_t last_match = 0;
    for (int step = 0; step < 200; ++step) {
      bool rejected = false;
      switch (pick(0, 3)) {
        case 0:
          if (p.can_send(max_in_flight)) {
            auto last = p.next_index() - 1 + pick(0, 5);
            p.on_sent(last);
            highest_sent = std::max(highest_sent, last);
          }
          break;
        case 1:
          p.on_success(pick(0, highest_sent));
          break;
        case 2: {
          auto before = p.match_index();
          auto hint = pick(0, highest_sent + 1);
          p.on_reject(pick(0, highest_sent + 1), hint);
          // Only a follower that refuses what it acknowledged lowers it.
          rejected = p.match_index() < before && hint <= before;
          break;
        }
        default:
          p.on_silence();
      }
      auto why = progress_violation(p, max_in_flight);
      if (why.empty() && p.match_index() < last_match && !rejected)
        why = "match_index decreased";
      last_match = p.match_index();
      BOOST_TEST_REQUIRE(why == "", "run " << run << " step " << step);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

// == Figure 7 ====================================================================

BOOST_AUTO_TEST_SUITE(figure7)

// §5.3, Figure 7: "the leader handles inconsistencies by forcing the
// followers' logs to duplicate its own"; each of (a)-(f) ends up identical
// to the leader's log. With fast backtracking (one round trip per
// conflicting term rather than per entry) no follower needs more than three
// rounds: one to find the follower's end or its conflicting term, at most
// one more per term to skip, and the successful append.
BOOST_AUTO_TEST_CASE(every_follower_converges_with_fast_backtracking) {
  auto leader = figure7_leader_with_noop();
  const char* names = "abcdef";
  std::vector<index_t> matches{leader.last_index()}; // the leader's own
  for (size_t k = 0; k < figure7_followers.size(); ++k) {
    BOOST_TEST_CONTEXT("follower (" << names[k] << ")") {
      auto follower = make_log(figure7_followers[k]);
      auto run = replicate(leader, 8, follower, figure7_next_index, 1024, 8,
                           backtracking::fast);
      BOOST_TEST_MESSAGE("(" << names[k] << "): " << run.rounds
                              << " rounds, " << run.rejections
                              << " rejections");
      BOOST_TEST(run.violation == "");
      BOOST_TEST(run.converged);
      BOOST_TEST(run.rounds <= 3);
      BOOST_CHECK(entries_of(follower) == entries_of(leader));
      matches.push_back(follower.last_index());
    }
  }
  // §5.3/§5.4.2: with all seven logs equal, the term-8 entry is committed
  // and every entry before it with it.
  BOOST_TEST(leader_commit(leader, 8, 0, matches) == 11u);
}

// §5.3: the same with the paper's plain rule (decrement nextIndex by one per
// rejection): it converges too, but (f) needs a round per missing entry,
// more than the bound above. This is what makes that bound meaningful.
BOOST_AUTO_TEST_CASE(one_by_one_decrement_converges_but_slower) {
  auto leader = figure7_leader_with_noop();
  auto f = make_log(figure7_followers[5]);
  auto slow = replicate(leader, 8, f, figure7_next_index, 1024, 8,
                        backtracking::one_by_one);
  BOOST_TEST(slow.violation == "");
  BOOST_TEST(slow.converged);
  // Rejected at prev 10, 9, ..., 4; accepted at prev 3.
  BOOST_TEST(slow.rejections == 7);
  BOOST_TEST(slow.rounds == 8);
  auto f2 = make_log(figure7_followers[5]);
  auto fast = replicate(leader, 8, f2, figure7_next_index, 1024, 8,
                        backtracking::fast);
  BOOST_TEST(fast.rejections == 2);
  BOOST_TEST(fast.rounds == 3);
  BOOST_TEST(slow.rounds > 3);
}

// §5.3 with pipelining (thesis §10.2.2): small batches and several in
// flight; every follower still converges, and the in-flight limit and
// Figure 2 invariants hold at every step (checked inside replicate()).
BOOST_AUTO_TEST_CASE(every_follower_converges_with_small_pipelined_batches) {
  auto leader = figure7_leader_with_noop();
  for (size_t max_entries : {1, 2, 3}) {
    for (size_t max_in_flight : {1, 2, 4}) {
      for (size_t k = 0; k < figure7_followers.size(); ++k) {
        BOOST_TEST_CONTEXT("follower " << k << ", batches of " << max_entries
                                       << ", " << max_in_flight
                                       << " in flight") {
          auto follower = make_log(figure7_followers[k]);
          auto run = replicate(leader, 8, follower, figure7_next_index,
                               max_entries, max_in_flight, backtracking::fast);
          BOOST_TEST(run.violation == "");
          BOOST_TEST(run.converged);
          BOOST_CHECK(entries_of(follower) == entries_of(leader));
        }
      }
    }
  }
}

// §5.3, Figure 7 (a)-(f) before the no-op: with only the leader's ten
// entries, (c) and (d) keep their extra uncommitted entries (nothing
// conflicts with them yet), but every follower matches the leader up to 10.
BOOST_AUTO_TEST_CASE(without_the_noop_followers_match_up_to_the_leaders_end) {
  auto leader = make_log(figure7_leader_terms);
  for (size_t k = 0; k < figure7_followers.size(); ++k) {
    BOOST_TEST_CONTEXT("follower " << k) {
      auto follower = make_log(figure7_followers[k]);
      progress pr{11};
      // One probe/append exchange per round until the follower matches.
      for (int round = 0; round < 5 && pr.match_index() < 10; ++round) {
        auto prev = pr.next_index() - 1;
        auto req = make_append(8, prev, *leader.term_at(prev),
                               leader.slice(pr.next_index(), 1024, 1 << 20));
        pr.on_sent(req.entries.empty() ? prev : req.entries.back().index);
        auto out = apply_append(follower, req, 0);
        if (out.success)
          pr.on_success(out.last_new_index);
        else
          pr.on_reject(prev, next_index_after_reject(leader, prev,
                                                     out.conflict_index,
                                                     out.conflict_term));
      }
      BOOST_TEST(pr.match_index() == 10u);
      for (index_t i = 1; i <= 10; ++i)
        BOOST_TEST(*follower.term_at(i) == *leader.term_at(i));
      BOOST_TEST(follower.last_index() >= 10u);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
