// Elections without disruption and leadership transfer on CAF's test
// scheduler: PreVote (thesis §9.6), leader stickiness (thesis §4.2.3),
// leadership transfer (thesis §3.10), and a member restarted in-process that
// rejoins through the handle it announces. Figure 3 is checked after every
// message (test_cluster); time is simulated.
#define BOOST_TEST_MODULE actors_disruption
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "caf/event_based_actor.hpp"

#include "test_cluster.hpp"

using namespace raft;
using namespace raft::test;
using namespace std::chrono_literals;

namespace {

term_t max_term(test_cluster& c) {
  term_t t = 0;
  for (size_t i = 0; i < c.size(); ++i)
    if (c.alive(i))
      t = std::max(t, c.state(i).persistent.current_term);
  return t;
}

/// Kills client actors still waiting when the test ends (no simulated time
/// passes in the cluster's destructor, so their timeouts never fire).
struct clients {
  test_cluster& c;
  std::vector<caf::actor> all;
  ~clients() {
    for (auto& a : all)
      caf::anon_send_exit(a, caf::exit_reason::kill);
  }
};

/// Sends (transfer_atom, target) to member i; the reply lands in the slot.
std::shared_ptr<pending_reply<bool>> transfer_async(test_cluster& c,
                                                    clients& cl, size_t i,
                                                    const member_id& target) {
  auto slot = std::make_shared<pending_reply<bool>>();
  auto dest = caf::actor_cast<caf::actor>(c.members[i]);
  cl.all.push_back(c.sys->spawn([=](caf::event_based_actor* self) {
    self->request(dest, caf::infinite, transfer_atom::value, target)
      .then(
        [=](caf::ok_atom) {
          slot->done = true;
          slot->value = true;
        },
        [=](caf::error& err) {
          slot->done = true;
          slot->error = std::move(err);
        });
  }));
  c.run();
  return slot;
}

bool is(const caf::error& err, errc code) {
  return err.category() == errc_category
         && err.code() == static_cast<uint8_t>(code);
}

/// A follower cut off for `cut_for` (both ways, or only from the leader if
/// `one_way`), then healed. Returns how much the highest term rose.
term_t term_rise_after_isolation(uint64_t seed, bool pre_vote, bool one_way,
                                 bool broken = false) {
  test_cluster c{3, seed, [=](size_t, raft::testing::member_setup& cfg) {
                   cfg.pre_vote = pre_vote;
                   cfg.broken.grant_pre_vote_despite_leader = broken;
                 }};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  BOOST_REQUIRE(c.append(*l, put_cmd("a", "1"))->value.has_value());
  auto before = max_term(c);
  auto f = (*l + 1) % 3;
  if (one_way)
    c.net->cut.emplace(c.ids[*l], c.ids[f]); // hears nothing from the leader
  else
    c.net->partition({c.ids[f]}, c.ids);
  c.advance(2s); // 10 to 20 election timeouts
  c.net->heal();
  c.advance(1s);
  BOOST_REQUIRE(c.converge());
  BOOST_TEST(c.violation() == "");
  return max_term(c) - before;
}

} // namespace

// == PreVote (thesis §9.6) and leader stickiness (thesis §4.2.3) ===============

// Thesis §9.6: a member cut off from the others does not raise its term
// (it never gets a majority of pre-votes), so when it comes back the
// leader keeps its term and its leadership.
BOOST_AUTO_TEST_CASE(an_isolated_follower_that_comes_back_does_not_raise_the_term) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    BOOST_TEST_CONTEXT("seed " << seed) {
      BOOST_TEST(term_rise_after_isolation(seed, true, false) == 0u);
    }
  }
}

// The same without PreVote: the member's elections raise its term, and its
// answers to the leader's AppendEntries depose the leader (§5.1).
BOOST_AUTO_TEST_CASE(without_pre_vote_it_does) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    BOOST_TEST_CONTEXT("seed " << seed) {
      BOOST_TEST(term_rise_after_isolation(seed, false, false) > 0u);
    }
  }
}

// Thesis §9.6 and §4.2.3: a follower that stops hearing from the leader
// (one-way cut) while the others still do gets no pre-vote from them, so
// it never raises its term either.
BOOST_AUTO_TEST_CASE(a_follower_cut_from_the_leader_alone_gets_no_pre_votes) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    BOOST_TEST_CONTEXT("seed " << seed) {
      BOOST_TEST(term_rise_after_isolation(seed, true, true) == 0u);
    }
  }
}

// Broken on purpose (broken_rules::grant_pre_vote_despite_leader): the
// others grant its pre-votes although they hear from the leader; it starts
// real elections and, once the cut heals, its higher term deposes the
// leader. This is the test that catches the broken variant (a disruption
// is no safety violation, so the fault simulation cannot).
BOOST_AUTO_TEST_CASE(pre_votes_granted_despite_a_leader_are_caught) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    BOOST_TEST_CONTEXT("seed " << seed) {
      BOOST_TEST(term_rise_after_isolation(seed, true, true, true) > 0u);
    }
  }
}

// Thesis §4.2.3: a RequestVote from a member that has not heard from the
// leader is disregarded by members that have: neither their term nor their
// vote changes (PreVote off, so that the RequestVote is really sent).
BOOST_AUTO_TEST_CASE(stickiness_keeps_the_term_of_members_that_hear_the_leader) {
  test_cluster c{3, 3, [](size_t, config& cfg) { cfg.pre_vote = false; }};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  auto term = c.state(*l).persistent.current_term;
  auto f = (*l + 1) % 3;
  auto other = (*l + 2) % 3;
  c.net->cut.emplace(c.ids[*l], c.ids[f]);
  // Keep the candidate's stale answers away from the leader too, so that
  // only RequestVote can carry its term.
  c.net->cut.emplace(c.ids[f], c.ids[*l]);
  c.advance(1s);
  BOOST_TEST(c.state(f).persistent.current_term > term);
  BOOST_TEST(c.state(other).persistent.current_term == term);
  BOOST_TEST(c.state(*l).persistent.current_term == term);
  BOOST_TEST((c.state(*l).role == role::leader));
  BOOST_TEST(c.violation() == "");
}

// == Leadership transfer (thesis §3.10) ======================================

// Thesis §3.10: the leader brings the target up to date, sends it
// TimeoutNow, and refuses new appends meanwhile; the target wins the
// election at once and the transfer answers ok once it leads.
BOOST_AUTO_TEST_CASE(transfer_to_a_named_member) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    BOOST_TEST_CONTEXT("seed " << seed) {
      test_cluster c{3, seed};
      clients cl{c, {}};
      c.start_all();
      auto l = c.await_leader();
      BOOST_REQUIRE(l.has_value());
      auto term = c.state(*l).persistent.current_term;
      auto t = (*l + 1) % 3;
      // The target misses some entries: the transfer must wait for it.
      c.net->partition({c.ids[t]}, c.ids);
      for (int k = 0; k < 3; ++k)
        BOOST_REQUIRE(c.append(*l, put_cmd("k", std::to_string(k)))
                        ->value.has_value());
      auto reply = transfer_async(c, cl, *l, c.ids[t]);
      BOOST_TEST(!reply->done);
      // Meanwhile, new appends are refused with a clear error.
      auto refused = c.append(*l, put_cmd("x", "1"), 100ms);
      BOOST_REQUIRE(refused->done);
      BOOST_TEST(is(refused->error, errc::transfer_in_progress));
      c.net->heal();
      BOOST_REQUIRE(c.run_until([&] { return reply->done; }, 1s));
      BOOST_TEST(reply->value.has_value());
      BOOST_TEST((c.leader() == std::optional<size_t>{t}));
      BOOST_TEST(c.state(t).persistent.current_term == term + 1);
      // The new leader serves writes; the old one follows it.
      BOOST_TEST(c.append(t, put_cmd("y", "2"))->value.has_value());
      BOOST_TEST(c.state(*l).leader == c.ids[t]);
      BOOST_TEST(c.machines[t]->applied.size() >= 4u);
      BOOST_TEST(c.violation() == "");
    }
  }
}

// Thesis §3.10: the refusals, and "if the transfer does not complete within
// an election timeout, the prior leader aborts the transfer and resumes
// accepting client requests".
BOOST_AUTO_TEST_CASE(transfer_errors_and_timeout) {
  test_cluster c{3, 2};
  clients cl{c, {}};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  auto t = (*l + 1) % 3;
  auto other = (*l + 2) % 3;
  auto unknown = transfer_async(c, cl, *l, "127.0.0.1:9");
  BOOST_REQUIRE(unknown->done);
  BOOST_TEST(is(unknown->error, errc::unknown_member));
  auto not_leader = transfer_async(c, cl, other, c.ids[t]);
  BOOST_REQUIRE(not_leader->done);
  BOOST_TEST(is(not_leader->error, errc::not_leader));
  auto self = transfer_async(c, cl, *l, c.ids[*l]);
  BOOST_REQUIRE(self->done);
  BOOST_TEST(self->value.has_value());
  // The target is unreachable: the transfer times out.
  c.net->partition({c.ids[t]}, c.ids);
  auto first = transfer_async(c, cl, *l, c.ids[t]);
  auto second = transfer_async(c, cl, *l, c.ids[other]);
  BOOST_REQUIRE(second->done);
  BOOST_TEST(is(second->error, errc::transfer_in_progress));
  BOOST_REQUIRE(c.run_until([&] { return first->done; },
                            c.configs[*l].election_timeout_max + 10ms));
  BOOST_TEST(is(first->error, errc::timeout));
  BOOST_TEST((c.leader() == l));
  BOOST_TEST(c.append(*l, put_cmd("z", "1"))->value.has_value());
  BOOST_TEST(c.violation() == "");
}

// == Peers by id: a member restarted in-process rejoins =======================

// The members hold each other's own handles (no relay that outlives an
// incarnation, as test_cluster's network normally gives them): a crashed
// member's handle goes down. Its new incarnation, on the same storage,
// tells its peers its handle at start, and catches up with no change of
// term (PreVote: its timer may fire before the leader reaches it).
BOOST_AUTO_TEST_CASE(a_member_restarted_in_process_rejoins_without_a_term_change) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    BOOST_TEST_CONTEXT("seed " << seed) {
      test_cluster c{3, seed};
      c.start_all();
      auto l = c.await_leader();
      BOOST_REQUIRE(l.has_value());
      auto f0 = (*l + 1) % 3;
      // After start, (add_atom, id, handle) replaces a known member's
      // handle: every member now reaches the others directly.
      for (size_t i = 0; i < 3; ++i)
        for (size_t j = 0; j < 3; ++j)
          if (i != j)
            BOOST_REQUIRE(!c.call_ok(
              i, caf::make_message(caf::add_atom::value, c.ids[j],
                                   caf::actor_cast<caf::actor>(c.members[j]))));
      // ... and registers an unknown one in the directory without making
      // it a member (the configuration changes only through the log).
      auto before = c.state(*l).configuration();
      auto added = c.call_ok(*l, caf::make_message(
                                   caf::add_atom::value,
                                   member_id{"127.0.0.1:9"},
                                   caf::actor_cast<caf::actor>(c.members[f0])));
      BOOST_TEST(!added);
      BOOST_TEST(c.state(*l).peers.count("127.0.0.1:9") == 1u);
      BOOST_TEST((c.state(*l).configuration() == before));
      BOOST_REQUIRE(c.append(*l, put_cmd("a", "1"))->value.has_value());
      auto term = max_term(c);
      auto f = f0;
      c.crash(f);
      for (int k = 0; k < 5; ++k)
        BOOST_REQUIRE(c.append(*l, put_cmd("b", std::to_string(k)))
                        ->value.has_value());
      c.restart(f);
      BOOST_REQUIRE(c.run_until(
        [&] {
          return c.state(f).commit_index == c.state(*l).commit_index
                 && c.state(f).last_applied == c.state(*l).commit_index;
        },
        2s));
      BOOST_TEST(max_term(c) == term);
      BOOST_TEST((c.leader() == l));
      BOOST_TEST(c.state(f).leader == c.ids[*l]);
      BOOST_TEST(c.violation() == "");
    }
  }
}

// == Figures for the closing note (virtual time) ================================

namespace {

/// Rolling restart: each member in turn crashes, is down for 300 ms,
/// restarts on its storage and gets 1 s. Returns how much the term rose
/// across the restarts of the leader and of followers, and how often the
/// member restarted was the leader.
struct rolling_rise {
  term_t of_leader = 0;
  term_t of_followers = 0;
  term_t leader_restarts = 0;
};

rolling_rise rolling_restart_elections(uint64_t seed, bool pre_vote) {
  test_cluster c{3, seed, [=](size_t, config& cfg) { cfg.pre_vote = pre_vote; }};
  c.net->base.delay_min = 1ms;
  c.net->base.delay_max = 3ms;
  c.start_all();
  BOOST_REQUIRE(c.await_leader().has_value());
  BOOST_REQUIRE(c.converge());
  rolling_rise rise;
  for (size_t i = 0; i < 3; ++i) {
    auto before = max_term(c);
    auto was_leader = c.leader() == std::optional<size_t>{i};
    c.crash(i);
    c.advance(300ms);
    c.restart(i);
    c.advance(1s);
    BOOST_REQUIRE(c.converge());
    (was_leader ? rise.of_leader : rise.of_followers) += max_term(c) - before;
    rise.leader_restarts += was_leader ? 1 : 0;
  }
  BOOST_TEST(c.violation() == "");
  return rise;
}

template <class T>
T median(std::vector<T> xs) {
  std::sort(xs.begin(), xs.end());
  return xs[xs.size() / 2];
}

} // namespace

BOOST_AUTO_TEST_CASE(figures_elections_and_transfer_time) {
  constexpr uint64_t seeds = 11;
  for (bool pre_vote : {true, false}) {
    std::vector<term_t> rolling, of_leader, of_followers, rejoin, restarts;
    for (uint64_t seed = 1; seed <= seeds; ++seed) {
      auto rise = rolling_restart_elections(seed, pre_vote);
      of_leader.push_back(rise.of_leader);
      of_followers.push_back(rise.of_followers);
      restarts.push_back(rise.leader_restarts);
      rolling.push_back(rise.of_leader + rise.of_followers);
      rejoin.push_back(term_rise_after_isolation(seed, pre_vote, false));
    }
    auto sum = [](const std::vector<term_t>& xs) {
      term_t s = 0;
      for (auto x : xs)
        s += x;
      return s;
    };
    BOOST_TEST_MESSAGE("PreVote " << (pre_vote ? "on" : "off") << ", "
                       << seeds << " seeds: rolling restart of 3 members: "
                       << sum(rolling) << " term increments in total (median "
                       << median(rolling) << "; the "
                       << sum(restarts) << " restarts of the leader "
                       << sum(of_leader) << ", of followers "
                       << sum(of_followers) << "); a partitioned member "
                       << "rejoining: " << sum(rejoin) << " (median "
                       << median(rejoin) << ")");
    if (pre_vote)
      BOOST_TEST(sum(rejoin) == 0u);
  }
  // Transfer: from the request to the new leader's first acknowledged
  // write, network latency 1-3 ms per message, no disk latency.
  std::vector<double> ms;
  for (uint64_t seed = 1; seed <= seeds; ++seed) {
    test_cluster c{3, seed};
    clients cl{c, {}};
    c.net->base.delay_min = 1ms;
    c.net->base.delay_max = 3ms;
    c.start_all();
    auto l = c.await_leader();
    BOOST_REQUIRE(l.has_value());
    BOOST_REQUIRE(c.converge());
    auto t = (*l + 1) % 3;
    auto start = c.now();
    auto reply = transfer_async(c, cl, *l, c.ids[t]);
    BOOST_REQUIRE(c.run_until([&] { return reply->done; }, 1s, 100us));
    BOOST_REQUIRE(reply->value.has_value());
    auto put = c.append_async(t, put_cmd("t", "1"));
    BOOST_REQUIRE(c.run_until([&] { return put->done; }, 1s, 100us));
    BOOST_REQUIRE(put->value.has_value());
    ms.push_back(std::chrono::duration<double, std::milli>(c.now() - start)
                   .count());
  }
  BOOST_TEST_MESSAGE("transfer request to the new leader's first write: "
                     "median "
                     << median(ms) << " ms, min "
                     << *std::min_element(ms.begin(), ms.end()) << " ms, max "
                     << *std::max_element(ms.begin(), ms.end())
                     << " ms (virtual time, " << seeds << " seeds)");
}
