// Membership rules of Ongaro's thesis, chapter 4, as pure functions: the
// configuration in force read from the log (thesis §4.1, with truncation and
// compaction), joint quorums for commitment and elections (thesis §4.3), the
// refusal rules of changes, and the learner's catch-up rule (thesis §4.2.1).
// Each case names the sentence it checks; the broken_rules knobs show that
// the case fails when the rule is switched off.
#define BOOST_TEST_MODULE core_membership_test
#include <boost/test/unit_test.hpp>

#include "raft/core/configuration_history.hpp"
#include "raft/core/rules.hpp"
#include "raft/errc.hpp"

#include "core_fixtures.hpp"

namespace raft {

// Boost.Test prints configurations in failed checks.
inline std::ostream& boost_test_print_type(std::ostream& os,
                                           const cluster_configuration& x) {
  return os << to_string(x);
}

} // namespace raft

using namespace raft;
using namespace raft::test;

namespace {

cluster_configuration voters(std::vector<member_id> ids,
                             std::vector<member_id> learners = {},
                             std::vector<member_id> old = {}) {
  cluster_configuration c;
  c.voters = std::move(ids);
  c.learners = std::move(learners);
  c.old_voters = std::move(old);
  c.normalize();
  return c;
}

bool is(const caf::error& err, errc code) {
  return err.category() == errc_category
         && err.code() == static_cast<uint8_t>(code);
}

} // namespace

// == the configuration in force (thesis §4.1) ==================================

BOOST_AUTO_TEST_SUITE(configuration_in_force)

// Thesis §4.1: "a server always uses the latest configuration in its log,
// regardless of whether the entry is committed".
BOOST_AUTO_TEST_CASE(the_latest_entry_is_in_force_committed_or_not) {
  configuration_history h{0, voters({"a", "b", "c"})};
  BOOST_TEST(h.current() == voters({"a", "b", "c"}));
  BOOST_TEST(h.current_index() == 0u);
  h.append(5, voters({"a", "b", "c"}, {"d"}));
  h.append(9, voters({"a", "b", "d"}, {}, {"a", "b", "c"}));
  BOOST_TEST(h.current() == voters({"a", "b", "d"}, {}, {"a", "b", "c"}));
  BOOST_TEST(h.current_index() == 9u);
  // The committed configuration is the latest at or below the commit index.
  BOOST_TEST(h.at(8) == voters({"a", "b", "c"}, {"d"}));
  BOOST_TEST(h.at(4) == voters({"a", "b", "c"}));
}

// Thesis §4.1: "a log entry for a configuration change may be removed (if
// there is a change in leadership); in this case, a server must be prepared
// to fall back to the previous configuration in its log".
BOOST_AUTO_TEST_CASE(a_truncation_brings_back_the_previous_configuration) {
  configuration_history h{0, voters({"a", "b", "c"})};
  h.append(5, voters({"a", "b", "c"}, {"d"}));
  h.append(9, voters({"a", "b", "d"}, {}, {"a", "b", "c"}));
  h.truncate_from(9);
  BOOST_TEST(h.current() == voters({"a", "b", "c"}, {"d"}));
  BOOST_TEST(h.current_index() == 5u);
  h.truncate_from(3);
  BOOST_TEST(h.current() == voters({"a", "b", "c"}));
  // A truncation above every entry changes nothing.
  h.append(7, voters({"a"}));
  h.truncate_from(8);
  BOOST_TEST(h.current() == voters({"a"}));
  // An entry appended at an index held replaces it and what follows.
  h.append(6, voters({"b"}));
  BOOST_TEST(h.entries().size() == 1u);
  BOOST_TEST(h.current() == voters({"b"}));
}

// A snapshot covers the entries up to its last index: their latest
// configuration becomes the base (it goes into the snapshot), later ones
// stay in force.
BOOST_AUTO_TEST_CASE(compaction_folds_covered_entries_into_the_base) {
  configuration_history h{0, voters({"a"})};
  h.append(3, voters({"a", "b"}, {}, {"a"}));
  h.append(4, voters({"a", "b"}));
  h.append(10, voters({"a", "b"}, {"c"}));
  h.compact(5);
  BOOST_TEST(h.base_index() == 5u);
  BOOST_TEST(h.base() == voters({"a", "b"}));
  BOOST_TEST(h.entries().size() == 1u);
  BOOST_TEST(h.current() == voters({"a", "b"}, {"c"}));
  // A truncation can never remove the base (committed, in the snapshot).
  h.truncate_from(6);
  BOOST_TEST(h.current() == voters({"a", "b"}));
}

// Figure 13 receiver 6-7: a snapshot replaces the log; its configuration is
// in force unless entries kept after it hold a later one.
BOOST_AUTO_TEST_CASE(an_installed_snapshot_brings_its_configuration) {
  configuration_history h{0, voters({"a"})};
  h.append(3, voters({"a", "b"}));
  h.append(12, voters({"a", "b", "c"}));
  auto keep = h;
  h.reset(10, voters({"a", "b", "d"}), false);
  BOOST_TEST(h.current() == voters({"a", "b", "d"}));
  keep.reset(10, voters({"a", "b", "d"}), true);
  BOOST_TEST(keep.current() == voters({"a", "b", "c"}));
  keep.truncate_from(11);
  BOOST_TEST(keep.current() == voters({"a", "b", "d"}));
}

BOOST_AUTO_TEST_SUITE_END()

// == joint consensus (thesis §4.3) ================================================

BOOST_AUTO_TEST_SUITE(joint_consensus)

// Thesis §4.3: "Agreement (for elections and entry commitment) requires
// separate majorities from both the old and new configurations."
BOOST_AUTO_TEST_CASE(commitment_needs_a_majority_of_each_configuration) {
  // C_old = {a, b, c}, C_new = {a, d, e}.
  auto joint = voters({"a", "d", "e"}, {}, {"a", "b", "c"});
  // d and e hold 10 (a majority of C_new with a), C_old only a.
  std::map<member_id, index_t> m{{"a", 10}, {"b", 2}, {"c", 2},
                                 {"d", 10}, {"e", 10}};
  BOOST_TEST(joint_quorum_index(joint, m) == 2u);
  // Broken on purpose: C_new's majority alone would commit 10.
  broken_rules b;
  b.joint_commit_on_new_majority = true;
  BOOST_TEST(joint_quorum_index(joint, m, b) == 10u);
  // Once b holds it too, C_old has a majority (a, b) as well.
  m["b"] = 10;
  BOOST_TEST(joint_quorum_index(joint, m) == 10u);
}

// Thesis §4.2.1: learners count for neither commitment nor elections; a
// voter not heard from counts 0.
BOOST_AUTO_TEST_CASE(learners_never_count) {
  auto cfg = voters({"a", "b", "c"}, {"l1", "l2", "l3"});
  std::map<member_id, index_t> m{{"a", 7}, {"l1", 9}, {"l2", 9}, {"l3", 9}};
  BOOST_TEST(joint_quorum_index(cfg, m) == 0u);
  BOOST_TEST(!has_joint_majority(cfg, {"a", "l1", "l2", "l3"}));
  BOOST_TEST(has_joint_majority(cfg, {"a", "c"}));
}

// Thesis §4.3: elections need both majorities while joint.
BOOST_AUTO_TEST_CASE(an_election_needs_a_majority_of_each_configuration) {
  auto joint = voters({"a", "d", "e"}, {}, {"a", "b", "c"});
  BOOST_TEST(!has_joint_majority(joint, {"a", "d", "e"}));
  BOOST_TEST(!has_joint_majority(joint, {"a", "b", "c"}));
  BOOST_TEST(has_joint_majority(joint, {"a", "b", "d"}));
  BOOST_TEST(has_joint_majority(joint, {"b", "c", "d", "e"}));
  // Without voters nobody wins (a member waiting to join).
  BOOST_TEST(!has_joint_majority(cluster_configuration{}, {"a"}));
}

// A leader that is not in C_new (thesis §4.2.2) does not count for C_new.
BOOST_AUTO_TEST_CASE(a_leader_outside_c_new_does_not_count_for_it) {
  auto c_new = voters({"b", "c"});
  std::map<member_id, index_t> m{{"a", 20}, {"b", 20}, {"c", 3}};
  BOOST_TEST(joint_quorum_index(c_new, m) == 3u);
}

// Figure 2 / §5.4.2 with the joint quorum: only entries of the current term
// commit by counting.
BOOST_AUTO_TEST_CASE(the_quorum_index_commits_only_in_the_current_term) {
  auto l = make_log({1, 1, 2, 3});
  BOOST_TEST(leader_commit_at(l, 3, 1, 3) == 1u);
  BOOST_TEST(leader_commit_at(l, 3, 1, 4) == 4u);
  BOOST_TEST(leader_commit_at(l, 3, 4, 2) == 4u);
}

// Thesis §4.3: leaving the joint configuration drops C_old.
BOOST_AUTO_TEST_CASE(leaving_joint_keeps_c_new) {
  auto joint = voters({"a", "d"}, {"x"}, {"a", "b"});
  BOOST_TEST(leave_joint(joint) == voters({"a", "d"}, {"x"}));
}

BOOST_AUTO_TEST_SUITE_END()

// == changes ========================================================================

BOOST_AUTO_TEST_SUITE(changes)

// Thesis §4.3: a change of voters, any number at once, goes through
// C_old,new; a change of learners alone is one step (thesis §4.2.1).
BOOST_AUTO_TEST_CASE(voter_changes_go_through_joint_learner_changes_do_not) {
  auto cur = voters({"a", "b", "c"});
  auto replace = start_change(cur, voters({"a", "b", "d"}));
  BOOST_REQUIRE(replace);
  BOOST_TEST(*replace == voters({"a", "b", "d"}, {}, {"a", "b", "c"}));
  auto grow = start_change(cur, voters({"a", "b", "c", "d", "e"}));
  BOOST_REQUIRE(grow);
  BOOST_TEST(grow->old_voters == cur.voters);
  auto learner = start_change(cur, voters({"a", "b", "c"}, {"x"}));
  BOOST_REQUIRE(learner);
  BOOST_TEST(!learner->joint());
}

// Nonsense is refused: no voter left, a joint target, the same configuration,
// a member both learner and voter.
BOOST_AUTO_TEST_CASE(nonsense_targets_are_invalid) {
  auto cur = voters({"a", "b", "c"});
  BOOST_TEST(is(start_change(cur, voters({}, {"a"})).error(),
                errc::invalid_config));
  BOOST_TEST(is(start_change(cur, voters({"a"}, {}, {"b"})).error(),
                errc::invalid_config));
  BOOST_TEST(is(start_change(cur, cur).error(), errc::invalid_config));
  BOOST_TEST(is(start_change(cur, voters({"a"}, {"a"})).error(),
                errc::invalid_config));
  // An old voter made a learner in one step would be both in C_old,new.
  BOOST_TEST(is(start_change(cur, voters({"a", "b"}, {"c"})).error(),
                errc::invalid_config));
}

// Thesis §4.3: one change at a time, C_new of a joint change included.
BOOST_AUTO_TEST_CASE(one_change_at_a_time) {
  // Configuration entry at 12, commit at 11: refused.
  BOOST_TEST(is(change_allowed(12, 5, 11), errc::change_in_progress));
  BOOST_TEST(!change_allowed(12, 5, 12));
  broken_rules b;
  b.accept_concurrent_changes = true;
  BOOST_TEST(!change_allowed(12, 5, 11, b));
}

// Thesis §4.1 (the single-server change bug, raft-dev 2015): "a leader may
// not append a new configuration entry until it has committed an entry from
// its current term".
BOOST_AUTO_TEST_CASE(not_before_the_leader_committed_in_its_term) {
  // The leader's no-op at 20, commit at 19.
  BOOST_TEST(is(change_allowed(3, 20, 19), errc::change_in_progress));
  BOOST_TEST(!change_allowed(3, 20, 20));
  broken_rules b;
  b.change_before_term_commit = true;
  BOOST_TEST(!change_allowed(3, 20, 19, b));
}

// Thesis §4.2.1: a learner may be promoted once within one round of entries.
BOOST_AUTO_TEST_CASE(a_learner_is_caught_up_within_one_round) {
  BOOST_TEST(learner_caught_up(900, 1000, 100));
  BOOST_TEST(!learner_caught_up(899, 1000, 100));
  BOOST_TEST(learner_caught_up(1000, 1000, 1));
  // Never answered: not caught up, though the log is shorter than a round
  // (hostile_membership_test promoted a learner at an address where
  // nothing listened).
  BOOST_TEST(!learner_caught_up(0, 5, 1024));
  BOOST_TEST(learner_caught_up(1, 5, 1024));
}

BOOST_AUTO_TEST_SUITE_END()
