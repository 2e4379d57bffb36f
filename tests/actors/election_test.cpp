// Leader election on CAF's test scheduler (§5.2): simulated time, seeded
// timers, Figure 3's safety properties checked after every message.
#define BOOST_TEST_MODULE actors_election
#include <boost/test/unit_test.hpp>

#include "test_cluster.hpp"

using namespace raft;
using namespace raft::test;
using namespace std::chrono_literals;

namespace {

size_t count_leaders(test_cluster& c) {
  size_t n = 0;
  for (size_t i = 0; i < c.size(); ++i)
    if (c.alive(i) && c.state(i).role == role::leader)
      ++n;
  return n;
}

} // namespace

// §5.2: "Raft uses randomized election timeouts to ensure that split votes
// are rare": one leader emerges among 1, 2, 3 and 5 members, for many seeds.
BOOST_AUTO_TEST_CASE(one_leader_for_1_2_3_and_5_members) {
  for (size_t n : {1, 2, 3, 5}) {
    for (uint64_t seed = 1; seed <= 10; ++seed) {
      BOOST_TEST_CONTEXT("members " << n << ", seed " << seed) {
        test_cluster c{n, seed};
        c.start_all();
        auto l = c.await_leader(5s);
        BOOST_REQUIRE(l.has_value());
        // Stays the only leader while heartbeats flow (§5.2: "Leaders send
        // periodic heartbeats ... to maintain their authority").
        auto term = c.state(*l).persistent.current_term;
        c.advance(2s);
        BOOST_TEST(count_leaders(c) == 1u);
        BOOST_TEST((c.leader() == l));
        BOOST_TEST(c.state(*l).persistent.current_term == term);
        for (size_t i = 0; i < n; ++i) {
          BOOST_TEST(c.state(i).leader == c.ids[*l]);
          BOOST_TEST(c.state(i).persistent.current_term == term);
        }
        BOOST_TEST(c.violation() == "");
      }
    }
  }
}

// §5.2: followers that stop hearing from the leader elect a new one in a
// higher term.
BOOST_AUTO_TEST_CASE(reelection_after_the_leader_stops) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    BOOST_TEST_CONTEXT("seed " << seed) {
      test_cluster c{3, seed};
      c.start_all();
      auto old = c.await_leader();
      BOOST_REQUIRE(old.has_value());
      auto old_term = c.state(*old).persistent.current_term;
      BOOST_TEST(!c.call_ok(*old, caf::make_message(stop_atom::value)));
      c.run();
      BOOST_TEST(!c.alive(*old));
      auto l = c.await_leader(5s);
      BOOST_REQUIRE(l.has_value());
      BOOST_TEST(*l != *old);
      BOOST_TEST(c.state(*l).persistent.current_term > old_term);
      BOOST_TEST(c.violation() == "");
    }
  }
}

// Two members need both votes (quorum of 2 is 2): one alone never wins.
BOOST_AUTO_TEST_CASE(two_members_need_both_votes) {
  test_cluster c{2, 7};
  c.start_all();
  BOOST_REQUIRE(c.await_leader().has_value());
  c.crash(*c.leader());
  c.advance(3s);
  BOOST_TEST(count_leaders(c) == 0u);
  BOOST_TEST(c.violation() == "");
}

// Four members need three votes: a 2-2 partition elects nobody.
BOOST_AUTO_TEST_CASE(four_members_split_two_two_elect_nobody) {
  test_cluster c{4, 3};
  c.net->partition({c.ids[0], c.ids[1]}, c.ids);
  c.start_all();
  c.advance(3s);
  BOOST_TEST(count_leaders(c) == 0u);
  c.net->heal();
  BOOST_TEST(c.await_leader(5s).has_value());
  BOOST_TEST(c.violation() == "");
}

// Vanadium's raft interface: StartElection forces an election; the caller wins when its log is
// up to date.
BOOST_AUTO_TEST_CASE(start_election_on_request) {
  test_cluster c{3, 5};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  auto other = (*l + 1) % 3;
  BOOST_TEST(!c.call_ok(other, caf::make_message(election_atom::value)));
  BOOST_TEST(c.run_until([&] { return c.leader() == std::optional<size_t>{other}; }, 2s));
  BOOST_TEST(c.violation() == "");
}

// Figure 2 (persistent state): the vote and term are durable before the vote
// is answered, and survive a crash.
BOOST_AUTO_TEST_CASE(term_and_vote_are_durable_before_voting) {
  test_cluster c{3, 11};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  auto term = c.state(*l).persistent.current_term;
  for (size_t i = 0; i < 3; ++i) {
    auto stored = c.storages[i]->contents().state;
    BOOST_TEST(stored.current_term == term);
  }
  BOOST_TEST(c.storages[*l]->contents().state.voted_for == c.ids[*l]);
}

// A minority leader (check quorum, thesis §6.2) steps down.
BOOST_AUTO_TEST_CASE(isolated_leader_steps_down) {
  test_cluster c{5, 13};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  c.net->partition({c.ids[*l]}, c.ids);
  BOOST_TEST(c.run_until([&] { return c.state(*l).role != role::leader; },
                         2s));
  BOOST_TEST(c.violation() == "");
}

// Bad configuration is refused at spawn with a clear error.
BOOST_AUTO_TEST_CASE(invalid_config_is_refused_at_spawn) {
  caf::actor_system_config cfg;
  cfg.set("scheduler.policy", caf::atom("testing"));
  caf::actor_system sys{cfg};
  auto sm = std::make_shared<kv_machine>();
  config bad;
  bad.host_port = "";
  auto m = spawn_member(sys, bad, sm);
  BOOST_REQUIRE(!m);
  BOOST_TEST(m.error().category() == errc_category);
  BOOST_TEST(m.error().code() == static_cast<uint8_t>(errc::invalid_config));
  config slow;
  slow.host_port = "a:1";
  slow.heartbeat = std::chrono::milliseconds(100);
  slow.election_timeout_min = std::chrono::milliseconds(100);
  BOOST_TEST(!spawn_member(sys, slow, sm));
  config zero;
  zero.host_port = "a:1";
  zero.heartbeat = caf::timespan{0};
  BOOST_TEST(!spawn_member(sys, zero, sm));
}
