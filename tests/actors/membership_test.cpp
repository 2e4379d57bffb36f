// Changing the cluster while it runs (Ongaro's thesis, chapter 4) on CAF's
// test scheduler: learners (thesis §4.2.1), promotion, removal of a follower
// and of the leader (thesis §4.2.2), several voters at once through the joint
// configuration (thesis §4.3), the refusal rules, and a restarted member that
// catches up. Figure 3 is checked after every message (test_cluster); time is
// simulated.
#define BOOST_TEST_MODULE actors_membership
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <vector>

#include "caf/event_based_actor.hpp"

#include "raft/core/rules.hpp"

#include "temp_dirs.hpp"
#include "test_cluster.hpp"

namespace raft {

inline std::ostream& boost_test_print_type(std::ostream& os,
                                           const cluster_configuration& x) {
  return os << to_string(x);
}

inline std::ostream& boost_test_print_type(std::ostream& os, role x) {
  return os << to_string(x);
}

} // namespace raft

using namespace raft;
using namespace raft::test;
using namespace std::chrono_literals;

namespace {

member_id id_of(size_t i) {
  // test_cluster's ids (sim_cluster::init).
  return "127.0.0.1:" + std::to_string(7001 + i);
}

cluster_configuration config_of(std::vector<size_t> voters,
                                std::vector<size_t> learners = {}) {
  cluster_configuration c;
  for (auto i : voters)
    c.voters.push_back(id_of(i));
  for (auto i : learners)
    c.learners.push_back(id_of(i));
  c.normalize();
  return c;
}

/// `n` members; the first `voters` form the cluster (their logs start with
/// a configuration entry naming them), the others start with config::join
/// and wait to be added.
std::unique_ptr<test_cluster> make_cluster(size_t n, size_t voters,
                                           uint64_t seed = 1,
                                           test_cluster::tweak_fn more = {}) {
  std::vector<size_t> first(voters);
  for (size_t i = 0; i < voters; ++i)
    first[i] = i;
  auto cfg = config_of(first);
  std::vector<recovered_state> initial(n);
  for (size_t i = 0; i < voters; ++i) {
    initial[i].state.current_term = 1;
    log_entry e;
    e.term = 1;
    e.index = 1;
    e.kind = entry_kind::configuration;
    e.data = encode_configuration(cfg);
    initial[i].entries.push_back(e);
  }
  return std::make_unique<test_cluster>(
    std::move(initial), seed,
    [voters, more](size_t i, raft::testing::member_setup& s) {
      s.join = i >= voters;
      if (more)
        more(i, s);
    });
}

/// Kills client actors still waiting when the test ends.
struct clients {
  std::vector<caf::actor> all;
  ~clients() {
    for (auto& a : all)
      caf::anon_send_exit(a, caf::exit_reason::kill);
  }
};

using config_reply = pending_reply<cluster_configuration>;

/// Sends a membership request to member i; the reply lands in the slot as
/// the cluster runs.
template <class... Ts>
std::shared_ptr<config_reply> ask(test_cluster& c, clients& cl, size_t i,
                                  Ts... xs) {
  auto slot = std::make_shared<config_reply>();
  auto dest = caf::actor_cast<caf::actor>(c.members[i]);
  cl.all.push_back(c.sys->spawn([=](caf::event_based_actor* self) {
    self->request(dest, caf::infinite, xs...)
      .then(
        [=](cluster_configuration& cfg) {
          slot->done = true;
          slot->value = std::move(cfg);
        },
        [=](caf::error& err) {
          slot->done = true;
          slot->error = std::move(err);
        });
  }));
  c.run();
  return slot;
}

/// ask() and run until the answer came (or 10 s of simulated time).
template <class... Ts>
std::shared_ptr<config_reply> call(test_cluster& c, clients& cl, size_t i,
                                   Ts... xs) {
  auto slot = ask(c, cl, i, xs...);
  c.run_until([&] { return slot->done; });
  return slot;
}

bool is(const caf::error& err, errc code) {
  return err.category() == errc_category
         && err.code() == static_cast<uint8_t>(code);
}

void put_many(test_cluster& c, size_t via, int from, int to) {
  for (int k = from; k < to; ++k)
    BOOST_REQUIRE(c.append(via, put_cmd("k" + std::to_string(k % 7),
                                        std::to_string(k)))
                    ->value.has_value());
}

size_t leader_of(test_cluster& c) {
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  return *l;
}

/// Member i applied everything the leader committed.
bool caught_up(test_cluster& c, size_t i) {
  auto l = c.leader();
  return l && c.alive(i)
         && c.state(i).last_applied >= c.state(*l).commit_index;
}

/// Every live member in `members` has configuration `cfg` in force.
bool all_have(test_cluster& c, const std::vector<size_t>& members,
              const cluster_configuration& cfg) {
  return std::all_of(members.begin(), members.end(), [&](size_t i) {
    return !c.alive(i) || c.state(i).configuration() == cfg;
  });
}

} // namespace

// == learners (thesis §4.2.1) ====================================================

// Thesis §4.2.1: a new member joins as a learner, receives the log, counts for
// nothing and never starts an election; once caught up it is promoted.
BOOST_AUTO_TEST_CASE(a_learner_catches_up_and_is_promoted) {
  auto c = make_cluster(4, 3);
  clients cl; // ends before the cluster: kills waiting clients
  c->start_all();
  auto l = leader_of(*c);
  put_many(*c, l, 0, 20);
  // Waiting to join: no configuration, not a member, never a candidate.
  BOOST_TEST(c->state(3).configuration().empty());
  auto r = call(*c, cl, l, learner_atom::value, id_of(3), false);
  BOOST_REQUIRE_MESSAGE(r->value, c->sys->render(r->error));
  BOOST_TEST(*r->value == config_of({0, 1, 2}, {3}));
  BOOST_REQUIRE(c->run_until([&] { return caught_up(*c, 3); }));
  BOOST_TEST(c->machines[3]->data == c->machines[l]->data);
  BOOST_TEST(c->state(3).configuration() == config_of({0, 1, 2}, {3}));
  auto term = c->state(l).persistent.current_term;
  c->advance(2s);
  BOOST_TEST(c->state(3).role == role::follower);
  BOOST_TEST(c->state(l).persistent.current_term == term);
  // Promotion (thesis §4.3: through C_old,new, answered after C_new).
  auto p = call(*c, cl, l, promote_atom::value, id_of(3));
  BOOST_REQUIRE_MESSAGE(p->value, c->sys->render(p->error));
  BOOST_TEST(*p->value == config_of({0, 1, 2, 3}));
  BOOST_TEST(c->run_until([&] {
    return all_have(*c, {0, 1, 2, 3}, config_of({0, 1, 2, 3}));
  }));
  // Four voters: two are no majority any more.
  put_many(*c, l, 20, 22);
  BOOST_TEST(c->violation() == "");
}

// Learners count for nothing (thesis §4.2.1): with two of three voters down,
// nothing commits although two learners acknowledge everything.
BOOST_AUTO_TEST_CASE(learners_never_count_for_commitment) {
  auto c = make_cluster(5, 3);
  clients cl; // ends before the cluster: kills waiting clients
  c->start_all();
  auto l = leader_of(*c);
  for (size_t i : {3, 4})
    BOOST_REQUIRE(call(*c, cl, l, learner_atom::value, id_of(i), false)->value);
  std::vector<size_t> others;
  for (size_t i = 0; i < 3; ++i)
    if (i != l)
      others.push_back(i);
  for (auto i : others)
    c->crash(i);
  auto before = c->state(l).commit_index;
  auto r = c->append_async(l, put_cmd("x", "1"));
  c->advance(50ms);
  BOOST_TEST(!r->done);
  BOOST_TEST(c->state(l).commit_index == before);
  BOOST_TEST(c->violation() == "");
}

// Thesis §4.2.1: promotion is refused until the learner is within one round
// of entries (max_entries_per_message).
BOOST_AUTO_TEST_CASE(a_lagging_learner_is_not_promoted) {
  auto c = make_cluster(4, 3, 2, [](size_t, raft::testing::member_setup& s) {
    s.max_entries_per_message = 4;
  });
  clients cl;
  c->start_all();
  auto l = leader_of(*c);
  BOOST_REQUIRE(call(*c, cl, l, learner_atom::value, id_of(3), false)->value);
  BOOST_REQUIRE(c->run_until([&] { return caught_up(*c, 3); }));
  c->net->partition({id_of(3)}, c->ids);
  put_many(*c, l, 0, 10);
  auto p = call(*c, cl, l, promote_atom::value, id_of(3));
  BOOST_TEST(is(p->error, errc::not_caught_up));
  c->net->heal();
  BOOST_REQUIRE(c->run_until([&] { return caught_up(*c, 3); }));
  p = call(*c, cl, l, promote_atom::value, id_of(3));
  BOOST_TEST(p->value.has_value());
  BOOST_TEST(c->violation() == "");
}

// (learner_atom, id, true): added as a learner, promoted once caught up, and
// answered after the promotion committed.
BOOST_AUTO_TEST_CASE(automatic_promotion_answers_after_the_promotion) {
  auto c = make_cluster(4, 3, 3);
  clients cl; // ends before the cluster: kills waiting clients
  c->start_all();
  auto l = leader_of(*c);
  put_many(*c, l, 0, 30);
  auto r = call(*c, cl, l, learner_atom::value, id_of(3), true);
  BOOST_REQUIRE_MESSAGE(r->value, c->sys->render(r->error));
  BOOST_TEST(*r->value == config_of({0, 1, 2, 3}));
  BOOST_TEST(c->state(l).configuration() == config_of({0, 1, 2, 3}));
  BOOST_TEST(c->violation() == "");
}

// §7 with thesis §4.2.1: a learner that needs entries compacted away gets the
// snapshot, then the log.
BOOST_AUTO_TEST_CASE(a_learner_catches_up_through_a_snapshot) {
  temp_dirs t{4};
  auto c = make_cluster(4, 3, 4, [&t](size_t i, raft::testing::member_setup& s) {
    s.snapshot_dir = t.dirs[i];
    s.snapshot_threshold = 10;
  });
  clients cl;
  c->start_all();
  auto l = leader_of(*c);
  put_many(*c, l, 0, 40);
  BOOST_REQUIRE(c->state(l).snapshot.last_index > 1);
  auto r = call(*c, cl, l, learner_atom::value, id_of(3), false);
  BOOST_REQUIRE_MESSAGE(r->value, c->sys->render(r->error));
  BOOST_REQUIRE(c->run_until([&] { return caught_up(*c, 3); }));
  BOOST_TEST(c->recorders[3]->restored_index > 0u);
  BOOST_TEST(c->machines[3]->data == c->machines[l]->data);
  put_many(*c, l, 40, 45);
  BOOST_TEST(c->run_until([&] { return caught_up(*c, 3); }));
  BOOST_TEST(c->machines[3]->data == c->machines[l]->data);
  auto p = call(*c, cl, l, promote_atom::value, id_of(3));
  BOOST_REQUIRE_MESSAGE(p->value, c->sys->render(p->error));
  BOOST_TEST(c->run_until([&] {
    return c->state(3).configuration() == config_of({0, 1, 2, 3});
  }));
  BOOST_TEST(c->violation() == "");
}

// == removing (thesis §4.2.2) ======================================================

// A removed follower is no longer replicated to, knows it was removed
// (not_member), and does not disrupt the others (PreVote, stickiness).
BOOST_AUTO_TEST_CASE(removing_a_follower) {
  auto c = make_cluster(3, 3, 5);
  clients cl; // ends before the cluster: kills waiting clients
  c->start_all();
  auto l = leader_of(*c);
  auto f = (l + 1) % 3;
  put_many(*c, l, 0, 5);
  auto r = call(*c, cl, l, remove_atom::value, id_of(f));
  BOOST_REQUIRE_MESSAGE(r->value, c->sys->render(r->error));
  std::vector<size_t> rest;
  for (size_t i = 0; i < 3; ++i)
    if (i != f)
      rest.push_back(i);
  BOOST_TEST(*r->value == config_of(rest));
  BOOST_TEST(c->state(l).leading().followers.count(id_of(f)) == 0u);
  BOOST_TEST(c->run_until([&] {
    return !c->state(f).configuration().contains(id_of(f));
  }));
  auto a = c->append(f, put_cmd("y", "1"));
  BOOST_TEST(is(a->error, errc::not_member));
  auto term = c->state(l).persistent.current_term;
  c->advance(3s);
  BOOST_TEST((c->leader() == std::optional<size_t>{l}));
  BOOST_TEST(c->state(l).persistent.current_term == term);
  // Two voters left: both are needed, the removed one is not.
  c->crash(f);
  put_many(*c, l, 5, 8);
  BOOST_TEST(c->violation() == "");
}

// Thesis §4.2.2: a leader that is not in C_new manages the change and steps
// down once C_new commits; a member of C_new leads then.
BOOST_AUTO_TEST_CASE(removing_the_leader) {
  auto c = make_cluster(3, 3, 6);
  clients cl; // ends before the cluster: kills waiting clients
  c->start_all();
  auto l = leader_of(*c);
  put_many(*c, l, 0, 5);
  auto r = call(*c, cl, l, remove_atom::value, id_of(l));
  BOOST_REQUIRE_MESSAGE(r->value, c->sys->render(r->error));
  BOOST_TEST(!r->value->contains(id_of(l)));
  BOOST_TEST(c->state(l).role != role::leader);
  auto next = c->await_leader();
  BOOST_REQUIRE(next.has_value());
  BOOST_TEST(*next != l);
  BOOST_TEST(c->state(*next).configuration() == *r->value);
  c->crash(l);
  put_many(*c, *next, 5, 8);
  c->advance(2s);
  BOOST_TEST((c->leader() == next));
  BOOST_TEST(c->violation() == "");
}

// Thesis §4.2.2 with §3.10: a leader that removed itself hands over at once.
// Once C_new commits and it steps down, it sends TimeoutNow to the most
// up-to-date voter of C_new, which starts its election without waiting for
// its election timer (100-200 ms here). Measured from the step-down (the
// moment C_new committed on the leader) to a leader of C_new, on 5 seeds
// with 1-3 ms per message.
BOOST_AUTO_TEST_CASE(a_leader_that_removed_itself_hands_over_at_once) {
  using std::chrono::duration_cast;
  using std::chrono::microseconds;
  std::vector<double> handover_ms;
  for (uint64_t seed : {21, 22, 23, 24, 25}) {
    BOOST_TEST_CONTEXT("seed " << seed) {
      auto c = make_cluster(3, 3, seed);
      clients cl;
      c->start_all();
      c->net->base.delay_min = 1ms;
      c->net->base.delay_max = 3ms;
      auto l = leader_of(*c);
      put_many(*c, l, 0, 5);
      auto r = ask(*c, cl, l, remove_atom::value, id_of(l));
      BOOST_REQUIRE(c->run_until(
        [&] { return c->state(l).role != role::leader; }, 5s,
        std::chrono::microseconds(100)));
      auto stepped_down = c->now();
      std::optional<size_t> next;
      BOOST_REQUIRE(c->run_until(
        [&] {
          next = c->leader();
          return next && *next != l;
        },
        5s, std::chrono::microseconds(100)));
      auto ms = duration_cast<microseconds>(c->now() - stepped_down).count()
                / 1000.0;
      handover_ms.push_back(ms);
      BOOST_TEST_MESSAGE("seed " << seed << ": a new leader " << ms
                                 << " ms after the step-down");
      // Well below the minimum election timeout (100 ms): no timer waited.
      BOOST_TEST(ms < 30.0);
      BOOST_TEST(c->run_until([&] { return r->done; }));
      BOOST_TEST(c->state(*next).configuration() == *r->value);
      BOOST_TEST(c->violation() == "");
    }
  }
  std::sort(handover_ms.begin(), handover_ms.end());
  std::cout << "handover after removing the leader: median "
            << handover_ms[handover_ms.size() / 2] << " ms (min "
            << handover_ms.front() << ", max " << handover_ms.back()
            << ") of simulated time" << std::endl;
}

// == joint consensus (thesis §4.3) =====================================================

// Replacing one member of three in one change: C_old,new, then C_new.
BOOST_AUTO_TEST_CASE(replacing_one_of_three_in_one_change) {
  auto c = make_cluster(4, 3, 7);
  clients cl; // ends before the cluster: kills waiting clients
  c->start_all();
  auto l = leader_of(*c);
  put_many(*c, l, 0, 5);
  // Thesis §4.2.1: the newcomer is a caught-up learner first.
  BOOST_REQUIRE(call(*c, cl, l, learner_atom::value, id_of(3), false)->value);
  BOOST_REQUIRE(c->run_until([&] { return caught_up(*c, 3); }));
  c->advance(100ms); // its acknowledgement reaches the leader
  auto gone = (l + 1) % 3;
  std::vector<size_t> target{3};
  for (size_t i = 0; i < 3; ++i)
    if (i != gone)
      target.push_back(i);
  auto r = call(*c, cl, l, reconfig_atom::value, config_of(target));
  BOOST_REQUIRE_MESSAGE(r->value, c->sys->render(r->error));
  BOOST_TEST(*r->value == config_of(target));
  // The joint configuration came and went: the log holds both entries.
  size_t joint = 0;
  for (auto i = c->state(l).log.first_index(); i <= c->state(l).log.last_index();
       ++i) {
    auto& e = c->state(l).log.at(i);
    if (e.kind == entry_kind::configuration
        && decode_configuration(e.data)->joint())
      ++joint;
  }
  BOOST_TEST(joint == 1u);
  c->crash(gone);
  put_many(*c, l, 5, 10);
  BOOST_TEST(c->run_until([&] { return caught_up(*c, 3); }));
  BOOST_TEST(c->violation() == "");
}

// Thesis §4.3 (etcd's auto-leave): leaving C_old,new does not depend on the
// leader that started the change. The leader appends C_old,new, the
// followers store it but their acknowledgements never reach it, and it
// crashes: the next leader is elected while joint, commits C_old,new with
// its no-op and appends C_new itself.
BOOST_AUTO_TEST_CASE(a_leader_elected_while_joint_leaves_it) {
  auto c = make_cluster(4, 3, 15);
  clients cl;
  c->start_all();
  auto l = leader_of(*c);
  BOOST_REQUIRE(call(*c, cl, l, learner_atom::value, id_of(3), false)->value);
  BOOST_REQUIRE(c->run_until([&] { return caught_up(*c, 3); }));
  auto lid = id_of(l);
  c->net->drop_if = [lid](const member_id&, const member_id& to,
                          const caf::message& msg) {
    return to == lid && msg.match_elements<append_entries_response>();
  };
  auto r = ask(*c, cl, l, promote_atom::value, id_of(3));
  auto joint = c->state(l).configuration();
  BOOST_REQUIRE(joint.joint());
  std::vector<size_t> others;
  for (size_t i = 0; i < 4; ++i)
    if (i != l)
      others.push_back(i);
  BOOST_REQUIRE(c->run_until([&] { return all_have(*c, others, joint); }));
  BOOST_REQUIRE(!r->done);
  c->crash(l);
  c->net->drop_if = nullptr;
  std::optional<size_t> next;
  BOOST_REQUIRE(c->run_until([&] {
    next = c->leader();
    return next && *next != l;
  }));
  BOOST_TEST(c->run_until(
    [&] { return all_have(*c, others, config_of({0, 1, 2, 3})); }));
  BOOST_TEST(c->violation() == "");
}

// 3 → 5 → 3 (a different three): each step one joint change; the cluster
// works with the members outside the configuration gone.
BOOST_AUTO_TEST_CASE(three_to_five_to_three) {
  auto c = make_cluster(5, 3, 8);
  clients cl; // ends before the cluster: kills waiting clients
  c->start_all();
  auto l = leader_of(*c);
  put_many(*c, l, 0, 5);
  // A member that is not a learner yet cannot become a voter in one step
  // (thesis §4.2.1): it holds nothing its vote could stand for.
  auto direct = call(*c, cl, l, reconfig_atom::value, config_of({0, 1, 2, 3, 4}));
  BOOST_TEST(is(direct->error, errc::invalid_config));
  for (size_t n : {3, 4})
    BOOST_REQUIRE(call(*c, cl, l, learner_atom::value, id_of(n), false)->value);
  BOOST_REQUIRE(c->run_until([&] { return caught_up(*c, 3) && caught_up(*c, 4); }));
  c->advance(100ms); // their acknowledgements reach the leader
  auto five = call(*c, cl, l, reconfig_atom::value, config_of({0, 1, 2, 3, 4}));
  BOOST_REQUIRE_MESSAGE(five->value, c->sys->render(five->error));
  put_many(*c, l, 5, 10);
  auto three = call(*c, cl, l, reconfig_atom::value, config_of({2, 3, 4}));
  BOOST_REQUIRE_MESSAGE(three->value, c->sys->render(three->error));
  auto now = c->await_leader();
  BOOST_REQUIRE(now.has_value());
  BOOST_TEST(*now >= 2u);
  BOOST_TEST(c->run_until(
    [&] { return all_have(*c, {2, 3, 4}, config_of({2, 3, 4})); }));
  c->crash(0);
  c->crash(1);
  now = c->await_leader();
  BOOST_REQUIRE(now.has_value());
  put_many(*c, *now, 10, 15);
  BOOST_TEST(c->violation() == "");
}

// Simulation seed 294, distilled: a member whose storage was wiped (it now
// waits to join, holding no configuration) must not vote. The leader commits
// entries on itself and one follower while the other follower is down; the
// leader is wiped, the stale follower comes back and the up-to-date one is
// cut off. The stale one must not win with the wiped member's vote (Leader
// Completeness, §5.4): no leader until the up-to-date member is back.
BOOST_AUTO_TEST_CASE(a_wiped_member_does_not_vote) {
  auto c = make_cluster(3, 3, 21);
  clients cl;
  c->start_all();
  auto l = leader_of(*c);
  auto stale = (l + 1) % 3;
  auto current = (l + 2) % 3;
  put_many(*c, l, 0, 3);
  c->crash(stale);
  put_many(*c, l, 3, 6); // committed on l and `current` only
  auto committed = c->state(l).commit_index;
  c->wipe(l);
  BOOST_TEST(c->state(l).configuration().empty());
  for (auto other : {l, stale}) {
    c->net->cut.emplace(c->ids[current], c->ids[other]);
    c->net->cut.emplace(c->ids[other], c->ids[current]);
  }
  c->restart(stale);
  c->advance(3s);
  BOOST_TEST(c->state(stale).role != role::leader);
  BOOST_TEST(c->state(l).persistent.voted_for.empty());
  c->net->cut.clear();
  auto now = c->await_leader();
  BOOST_REQUIRE(now.has_value());
  BOOST_TEST(*now == current);
  BOOST_TEST(c->state(*now).log.last_index() >= committed);
  BOOST_TEST(c->violation() == "");
}

// == refusal rules ===================================================================

// Thesis §4.3: one change at a time: a second change is refused while the
// first is uncommitted (the leader hears from nobody meanwhile).
BOOST_AUTO_TEST_CASE(a_second_change_waits_for_the_first) {
  for (bool broken : {false, true}) {
    BOOST_TEST_CONTEXT("broken " << broken) {
      auto c = make_cluster(5, 3, 9, [=](size_t, raft::testing::member_setup& s) {
        s.broken.accept_concurrent_changes = broken;
        s.check_quorum = false;
      });
      clients cl;
      c->start_all();
      auto l = leader_of(*c);
      c->net->partition({id_of(l)}, c->ids);
      auto first = ask(*c, cl, l, learner_atom::value, id_of(3), false);
      auto second = ask(*c, cl, l, learner_atom::value, id_of(4), false);
      BOOST_TEST(!first->done);
      if (broken)
        BOOST_TEST(!second->done); // accepted: the bug
      else
        BOOST_TEST(is(second->error, errc::change_in_progress));
    }
  }
}

// Thesis §4.1 (raft-dev 2015): no change before the leader committed an
// entry of its term.
BOOST_AUTO_TEST_CASE(no_change_before_the_leader_committed_in_its_term) {
  for (bool broken : {false, true}) {
    BOOST_TEST_CONTEXT("broken " << broken) {
      auto c = make_cluster(4, 3, 10, [=](size_t, raft::testing::member_setup& s) {
        s.broken.change_before_term_commit = broken;
        s.check_quorum = false;
      });
      clients cl;
      c->start_all();
      auto l = leader_of(*c);
      put_many(*c, l, 0, 3);
      // From now on no follower acknowledges: a new leader's no-op never
      // commits.
      c->net->drop_if = [](const member_id&, const member_id&,
                           const caf::message& msg) {
        return msg.match_elements<append_entries_response>();
      };
      c->crash(l);
      auto next = c->await_leader();
      BOOST_REQUIRE(next.has_value());
      BOOST_REQUIRE(c->state(*next).commit_index
                    < c->state(*next).leading().term_start);
      auto r = ask(*c, cl, *next, learner_atom::value, id_of(3), false);
      if (broken)
        BOOST_TEST(!r->done); // accepted: the bug
      else
        BOOST_TEST(is(r->error, errc::change_in_progress));
    }
  }
}

BOOST_AUTO_TEST_CASE(nonsense_and_non_leaders_are_refused) {
  auto c = make_cluster(4, 3, 11);
  clients cl; // ends before the cluster: kills waiting clients
  c->start_all();
  auto l = leader_of(*c);
  auto f = (l + 1) % 3;
  // not_leader names the leader.
  auto r = call(*c, cl, f, learner_atom::value, id_of(3), false);
  BOOST_TEST(is(r->error, errc::not_leader));
  BOOST_TEST(c->sys->render(r->error).find(id_of(l)) != std::string::npos);
  // Promoting a member that is not a learner, removing a stranger.
  BOOST_TEST(is(call(*c, cl, l, promote_atom::value, id_of(3))->error,
                errc::unknown_member));
  BOOST_TEST(is(call(*c, cl, l, remove_atom::value, std::string{"x:1"})->error,
                errc::unknown_member));
  // No voter left.
  BOOST_TEST(is(call(*c, cl, l, reconfig_atom::value, config_of({}, {0}))->error,
                errc::invalid_config));
  // Already in the wanted role: ok at once, with the configuration.
  BOOST_REQUIRE(call(*c, cl, l, learner_atom::value, id_of(3), false)->value);
  auto again = call(*c, cl, l, learner_atom::value, id_of(3), false);
  BOOST_REQUIRE(again->value);
  BOOST_TEST(*again->value == config_of({0, 1, 2}, {3}));
  // members_atom on any member: the configuration in force.
  BOOST_TEST(c->run_until([&] {
    return c->state(f).configuration() == config_of({0, 1, 2}, {3});
  }));
  auto m = call(*c, cl, f, members_atom::value);
  BOOST_REQUIRE(m->value);
  BOOST_TEST(*m->value == config_of({0, 1, 2}, {3}));
  BOOST_TEST(c->violation() == "");
}

// == restarts ===========================================================================

// A member restarted in-process catches up with no change of term (PreVote,
// stickiness), and keeps its configuration from the log.
BOOST_AUTO_TEST_CASE(a_restarted_member_catches_up_without_a_new_term) {
  auto c = make_cluster(4, 3, 12);
  clients cl; // ends before the cluster: kills waiting clients
  c->start_all();
  auto l = leader_of(*c);
  BOOST_REQUIRE(call(*c, cl, l, learner_atom::value, id_of(3), true)->value);
  auto f = (l + 1) % 3;
  auto term = c->state(l).persistent.current_term;
  c->crash(f);
  put_many(*c, l, 0, 10);
  c->restart(f);
  BOOST_TEST(c->state(f).configuration() == config_of({0, 1, 2, 3}));
  BOOST_TEST(c->run_until([&] { return caught_up(*c, f); }));
  c->advance(1s);
  BOOST_TEST(c->state(l).persistent.current_term == term);
  BOOST_TEST((c->leader() == std::optional<size_t>{l}));
  BOOST_TEST(c->violation() == "");
}

// Thesis §4.1 with §7: a snapshot that covers configuration entries carries
// the configuration at its last index, so a member restarted from it keeps
// the configuration in force (not the one it was created with).
BOOST_AUTO_TEST_CASE(a_restart_from_a_snapshot_keeps_the_configuration) {
  temp_dirs t{4};
  auto c = make_cluster(4, 3, 13, [&t](size_t i, raft::testing::member_setup& s) {
    s.snapshot_dir = t.dirs[i];
    s.snapshot_threshold = 10;
  });
  clients cl; // ends before the cluster: kills waiting clients
  c->start_all();
  auto l = leader_of(*c);
  BOOST_REQUIRE(call(*c, cl, l, learner_atom::value, id_of(3), true)->value);
  put_many(*c, l, 0, 40);
  auto f = (l + 1) % 3;
  BOOST_REQUIRE(c->run_until([&] { return caught_up(*c, f); }));
  BOOST_REQUIRE(c->state(f).snapshot.last_index > 5);
  BOOST_REQUIRE(c->state(f).configs.entries().empty());
  c->crash(f);
  c->restart(f);
  BOOST_TEST(c->state(f).configuration() == config_of({0, 1, 2, 3}));
  BOOST_TEST(c->violation() == "");
}

// A new cluster stores its bootstrap configuration (write_batch::bootstrap),
// so that a restart with other members never obeys them.
BOOST_AUTO_TEST_CASE(the_bootstrap_configuration_is_stored) {
  test_cluster c{3, 14};
  c.start_all();
  BOOST_REQUIRE(c.await_leader().has_value());
  auto rec = c.storages[0]->load();
  BOOST_REQUIRE(rec);
  BOOST_TEST(rec->configuration == config_of({0, 1, 2}));
}
