// The paper's figures replayed on real member actors: Figure 7's follower
// logs are brought in line, and Figure 8's old-term entry is never committed
// by counting replicas. Figure 3's properties are checked after every message,
// and a deliberately broken rule is caught.
#define BOOST_TEST_MODULE actors_figures
#include <boost/test/unit_test.hpp>

#include "caf/message.hpp"

#include "raft/messages.hpp"

#include "test_cluster.hpp"

using namespace raft;
using namespace raft::test;
using namespace std::chrono_literals;

namespace {

/// A stored log with the given entry terms and current term.
recovered_state stored_log(std::vector<term_t> terms, term_t current_term) {
  recovered_state st;
  st.state.current_term = current_term;
  for (size_t k = 0; k < terms.size(); ++k) {
    log_entry e;
    e.index = k + 1;
    e.term = terms[k];
    e.data = put_cmd("x", std::to_string(k + 1) + "@" + std::to_string(terms[k]));
    st.entries.push_back(e);
  }
  return st;
}

std::vector<term_t> terms_of(const raft::log& l) {
  std::vector<term_t> result;
  for (auto i = l.first_index(); i <= l.last_index(); ++i)
    result.push_back(l.at(i).term);
  return result;
}

bool carries_term(const caf::message& msg, term_t term) {
  if (!msg.match_elements<append_entries_request>())
    return false;
  for (auto& e : msg.get_as<append_entries_request>(0).entries)
    if (e.term == term)
      return true;
  return false;
}

} // namespace

// Figure 7: "When the leader at the top comes to power, it is possible that
// any of scenarios (a–f) could occur in follower logs." §5.3: "the leader
// handles inconsistencies by forcing the followers' logs to duplicate its
// own."
BOOST_AUTO_TEST_CASE(figure_7_follower_logs_are_brought_in_line) {
  std::vector<recovered_state> logs{
    stored_log({1, 1, 1, 4, 4, 5, 5, 6, 6, 6}, 7),       // the leader
    stored_log({1, 1, 1, 4, 4, 5, 5, 6, 6}, 7),          // (a)
    stored_log({1, 1, 1, 4}, 7),                         // (b)
    stored_log({1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6}, 7),    // (c)
    stored_log({1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7}, 7), // (d)
    stored_log({1, 1, 1, 4, 4, 4, 4}, 7),                // (e)
    stored_log({1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3}, 7),    // (f)
  };
  test_cluster c{logs, 1, [](size_t i, raft::testing::member_setup& cfg) {
    if (i != 0) { // Only the top log campaigns.
      cfg.election_timeout_min = 10s;
      cfg.election_timeout_max = 20s;
    }
  }};
  c.start_all();
  auto l = c.await_leader(2s);
  BOOST_REQUIRE(l.has_value());
  BOOST_REQUIRE_EQUAL(*l, 0u);
  BOOST_TEST(c.state(0).persistent.current_term == 8u);
  BOOST_REQUIRE(c.run_until([&] {
    for (size_t i = 1; i < c.size(); ++i)
      if (terms_of(c.state(i).log) != terms_of(c.state(0).log))
        return false;
    return c.state(0).commit_index == c.state(0).log.last_index();
  }, 3s));
  auto expected = std::vector<term_t>{1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 8};
  for (size_t i = 0; i < c.size(); ++i) {
    BOOST_TEST(terms_of(c.state(i).log) == expected, "member " << i);
    // The durable copy matches too.
    BOOST_TEST(c.storages[i]->contents().entries.size() == expected.size());
  }
  BOOST_TEST(c.violation() == "");
}

namespace {

/// Figure 8, played out: S1 leads term 4 with entry 2 (term 2), which reaches
/// a majority while S1's own term-4 entries never leave it; S5 (whose index 2
/// holds term 3) is cut off from S1 and later wins term 5.
std::unique_ptr<test_cluster> figure_8(bool broken) {
  std::vector<recovered_state> logs{
    stored_log({1, 2}, 3), // S1
    stored_log({1}, 3),    // S2
    stored_log({1}, 3),    // S3
    stored_log({1}, 3),    // S4
    stored_log({1, 3}, 3), // S5
  };
  auto ptr = std::make_unique<test_cluster>(
    logs, 1, [broken](size_t i, raft::testing::member_setup& cfg) {
    cfg.max_entries_per_message = 1;
    cfg.check_quorum = false;
    if (i == 0) {
      cfg.election_timeout_min = 50ms;
      cfg.election_timeout_max = 60ms;
      cfg.broken.commit_old_terms_by_counting = broken;
    } else if (i == 4) {
      cfg.election_timeout_min = 300ms;
      cfg.election_timeout_max = 310ms;
    } else {
      cfg.election_timeout_min = 5s;
      cfg.election_timeout_max = 6s;
    }
  });
  auto& c = *ptr;
  auto s1 = c.ids[0];
  auto s5 = c.ids[4];
  c.net->cut.emplace(s1, s5);
  c.net->cut.emplace(s5, s1);
  c.net->drop_if = [s1](const member_id& from, const member_id&,
                        const caf::message& msg) {
    return from == s1 && carries_term(msg, 4);
  };
  return ptr;
}

} // namespace

// Figure 8 / §5.4.2: "Raft never commits log entries from previous terms by
// counting replicas." S1 replicates entry 2 (term 2) to a majority, but must
// not commit it; S5 then legitimately overwrites it.
BOOST_AUTO_TEST_CASE(figure_8_old_term_entry_is_not_committed_by_counting) {
  auto ptr = figure_8(false);
  auto& c = *ptr;
  c.start_all();
  BOOST_REQUIRE(c.run_until([&] { return c.leader() == std::optional<size_t>{0}; }, 1s));
  BOOST_TEST(c.state(0).persistent.current_term == 4u);
  // Entry 2 reaches S2..S4: a majority holds it.
  BOOST_REQUIRE(c.run_until([&] {
    return c.state(1).log.last_index() == 2 && c.state(2).log.last_index() == 2
           && c.state(3).log.last_index() == 2;
  }, 1s));
  for (size_t i = 0; i < 5; ++i)
    BOOST_TEST(c.state(i).commit_index < 2u, "member " << i);
  // S5 wins term 5 and replaces entry 2 with its own.
  BOOST_REQUIRE(c.run_until([&] { return c.leader() == std::optional<size_t>{4}; }, 3s));
  BOOST_REQUIRE(c.run_until([&] {
    return c.state(1).commit_index >= 3 && c.state(1).log.at(2).term == 3;
  }, 2s));
  auto& applied = c.machines[1]->applied;
  BOOST_REQUIRE(applied.size() >= 2u);
  BOOST_TEST(applied[1].first == 2u);
  BOOST_TEST(applied[1].second == "put x 2@3"); // S5's entry, not S1's
  BOOST_TEST(c.violation() == "");
}

// The same run with the rule switched off (test-only knob): S1 commits the
// old entry by counting, S5 overwrites it, and the safety checker catches it.
BOOST_AUTO_TEST_CASE(figure_8_counting_old_entries_is_caught) {
  auto ptr = figure_8(true);
  auto& c = *ptr;
  c.start_all();
  c.run_until([&] { return !c.violation().empty(); }, 5s);
  BOOST_TEST(c.violation() != "");
  BOOST_TEST_MESSAGE("caught: " << c.violation());
}

// §5.4.1 switched off: voting without the up-to-date check lets a stale
// candidate win and erase committed entries; the checker catches it.
BOOST_AUTO_TEST_CASE(voting_without_the_log_check_is_caught) {
  bool caught = false;
  for (uint64_t seed = 1; seed <= 20 && !caught; ++seed) {
    test_cluster c{3, seed, [](size_t, raft::testing::member_setup& cfg) {
      cfg.broken.skip_vote_log_check = true;
    }};
    c.start_all();
    auto l = c.await_leader();
    BOOST_REQUIRE(l.has_value());
    auto stale = (*l + 1) % 3;
    // The stale member misses some committed entries...
    c.net->partition({c.ids[stale]}, c.ids);
    for (int k = 0; k < 5; ++k)
      c.append(*l, put_cmd("k", std::to_string(k)));
    c.net->heal();
    // ... and forces an election before it catches up.
    c.net->drop_if = [&](const member_id&, const member_id& to,
                         const caf::message& msg) {
      return to == c.ids[stale] && msg.match_elements<append_entries_request>();
    };
    c.call_ok(stale, caf::make_message(election_atom::value));
    c.run_until([&] { return !c.violation().empty(); }, 2s);
    caught = !c.violation().empty();
    if (caught)
      BOOST_TEST_MESSAGE("seed " << seed << " caught: " << c.violation());
  }
  BOOST_TEST(caught);
}

namespace {

/// Figure 7's leader with followers (f) and (b); (b) is down while the
/// leader brings (f) in line and commits with it, then the leader dies and
/// (b) comes back. Returns the first safety violation (empty if none).
std::string conflicting_suffix_run(bool broken) {
  std::vector<recovered_state> logs{
    stored_log({1, 1, 1, 4, 4, 5, 5, 6, 6, 6}, 7),
    stored_log({1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3}, 7), // Figure 7 (f)
    stored_log({1, 1, 1, 4}, 7),                      // Figure 7 (b)
  };
  test_cluster c{logs, 1, [broken](size_t i, raft::testing::member_setup& cfg) {
    cfg.broken.keep_conflicting_suffix = broken;
    if (i == 1) {
      cfg.election_timeout_min = 10s;
      cfg.election_timeout_max = 20s;
    } else if (i == 2) {
      cfg.election_timeout_min = 300ms;
      cfg.election_timeout_max = 400ms;
    }
  }};
  c.crash(2);
  c.start_all();
  if (c.await_leader(2s) != std::optional<size_t>{0})
    return "setup: the top log did not win";
  // The leader commits its whole log with (f)'s acknowledgement.
  c.run_until([&] { return c.state(0).commit_index >= 11; }, 2s);
  c.crash(0);
  c.restart(2);
  c.run_until([&] { return !c.violation().empty(); }, 3s);
  return c.violation();
}

} // namespace

// §5.3 step 3 ("delete the existing entry and all that follow it") switched
// off: a follower acknowledges entries it does not hold, a leader commits
// with it, and a later leader lacks committed entries. Caught; and the same
// run with the rule intact is clean.
BOOST_AUTO_TEST_CASE(keeping_a_conflicting_suffix_is_caught) {
  BOOST_TEST(conflicting_suffix_run(false) == "");
  auto caught = conflicting_suffix_run(true);
  BOOST_TEST(caught != "");
  BOOST_TEST_MESSAGE("caught: " << caught);
}
