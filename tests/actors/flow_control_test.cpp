// A leader's memory stays bounded when followers fall silent (issue 14), on
// CAF's test scheduler: the bytes it sends ahead to one follower stop at
// config::max_inflight_bytes, and appends past config::max_uncommitted_bytes
// are refused at once with errc::overloaded (not appended), while the
// leader's own entries still get in. Figure 3 is checked after every message.
#define BOOST_TEST_MODULE actors_flow_control
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "caf/message.hpp"

#include "raft/errc.hpp"
#include "raft/messages.hpp"

#include "test_cluster.hpp"

using namespace raft;
using namespace raft::test;
using namespace std::chrono_literals;

namespace {

/// A put whose command carries about `bytes` payload bytes.
payload big_put(int k, size_t bytes) {
  return put_cmd("k" + std::to_string(k), std::string(bytes, 'v'));
}

bool all_done(const std::vector<std::shared_ptr<pending_reply<append_reply>>>& rs) {
  for (auto& r : rs)
    if (!r->done)
      return false;
  return true;
}

} // namespace

// Thesis §10.2.2 pipelining, bounded in bytes (etcd's MaxInflightBytes): a
// follower that never answers gets no more than the limit (plus the one
// message that crossed it), while the majority keeps committing; once it
// answers again, it catches up.
BOOST_AUTO_TEST_CASE(a_silent_follower_gets_at_most_max_inflight_bytes) {
  const size_t limit = 8 * 1024;
  test_cluster c{3, 7, [&](size_t, testing::member_setup& s) {
                   s.max_inflight_bytes = limit;
                   s.max_in_flight = 1000; // the count never binds here
                   s.max_bytes_per_message = 1024;
                 }};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  BOOST_REQUIRE(c.converge(5s));
  auto silent = (*l + 1) % 3;
  auto& silent_id = c.ids[silent];
  // Its answers are lost: the leader hears nothing from it.
  c.net->cut.insert({silent_id, c.ids[*l]});
  std::vector<std::shared_ptr<pending_reply<append_reply>>> replies;
  for (int k = 0; k < 200; ++k)
    replies.push_back(c.append_async(*l, big_put(k, 500)));
  c.run(); // no simulated time passes: no heartbeat, no silence detection
  BOOST_REQUIRE(all_done(replies));
  for (auto& r : replies)
    BOOST_REQUIRE(r->value.has_value()); // the majority committed them all
  auto& pr = c.state(*l).leading().followers.at(silent_id);
  BOOST_TEST(pr.bytes_in_flight() >= limit);
  BOOST_TEST(pr.bytes_in_flight() < limit + 1024 + 600);
  // It holds far less of the log than the leader sent the other follower.
  auto sent_up_to = pr.next_index() - 1;
  BOOST_TEST(sent_up_to < c.state(*l).log.last_index() / 4);
  // Heartbeats meanwhile: after a period of silence it gets empty probes
  // only, nothing more of the log.
  auto entries_sent = c.state(*l).counters.entries_sent;
  c.advance(300ms);
  auto& after = c.state(*l).leading().followers.at(silent_id);
  BOOST_TEST(!after.sends_entries());
  BOOST_TEST(after.bytes_in_flight() == 0u);
  // (The other follower is idle: nothing new to send it either.)
  BOOST_TEST(c.state(*l).counters.entries_sent - entries_sent <= 2u);
  // Its answers come through again: it catches up.
  c.net->heal();
  BOOST_REQUIRE(c.converge(10s));
  BOOST_TEST(c.state(silent).last_applied == c.state(*l).last_applied);
  BOOST_TEST(c.violation() == "");
}

// etcd's MaxUncommittedEntriesSize: with no majority answering, the leader
// takes commands up to max_uncommitted_bytes, then refuses the next at once
// with errc::overloaded, which says "not appended" (outcome known); once
// commits resume, appends are taken again.
BOOST_AUTO_TEST_CASE(appends_past_max_uncommitted_bytes_are_refused) {
  const size_t limit = 4 * 1024;
  test_cluster c{3, 8, [&](size_t, testing::member_setup& s) {
                   s.max_uncommitted_bytes = limit;
                 }};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  BOOST_REQUIRE(c.converge(5s));
  // The followers' acknowledgements are lost (their forwarded appends still
  // reach the leader): nothing commits.
  c.net->drop_if = [](const member_id&, const member_id&,
                      const caf::message& msg) {
    return msg.match_elements<append_entries_response>();
  };
  std::vector<std::shared_ptr<pending_reply<append_reply>>> taken;
  for (int k = 0; k < 4; ++k) // about 4 x 1,000 bytes: under the limit
    taken.push_back(c.append_async(*l, big_put(k, 990)));
  c.run();
  auto last_before = c.state(*l).log.last_index();
  BOOST_TEST(c.state(*l).leading().uncommitted.held() <= limit);
  auto refused = c.append_async(*l, big_put(99, 990));
  c.run();
  BOOST_REQUIRE(refused->done); // at once: no time passed
  BOOST_REQUIRE(refused->error);
  BOOST_TEST(refused->error.category() == errc_category);
  BOOST_TEST(refused->error.code() == static_cast<uint8_t>(errc::overloaded));
  BOOST_TEST(!outcome_unknown(refused->error));
  BOOST_TEST(c.state(*l).log.last_index() == last_before); // not appended
  BOOST_TEST(c.state(*l).leading().overloaded_refusals == 1u);
  // Through a follower: the leader's refusal reaches the client as is.
  auto via = c.append_async((*l + 1) % 3, big_put(98, 990));
  c.run();
  BOOST_REQUIRE(via->done);
  BOOST_TEST(via->error.code() == static_cast<uint8_t>(errc::overloaded));
  // The majority answers again: the four commit, the budget empties, and
  // appends are taken again.
  c.net->heal();
  BOOST_REQUIRE(c.run_until([&] { return all_done(taken); }, 5s));
  for (auto& r : taken)
    BOOST_TEST(r->value.has_value());
  BOOST_TEST(c.state(*l).leading().uncommitted.held() == 0u);
  auto again = c.append(*l, big_put(100, 990));
  BOOST_TEST(again->value.has_value());
  BOOST_TEST(c.violation() == "");
}

// The budget belongs to the leader's term: a new leader starts with nothing
// held, and its no-op (never counted, never refused) commits the earlier
// terms' entries.
BOOST_AUTO_TEST_CASE(a_new_leader_starts_with_an_empty_budget) {
  test_cluster c{3, 9, [&](size_t, testing::member_setup& s) {
                   s.max_uncommitted_bytes = 1;
                 }};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  // Nothing held: even a command above the limit gets in (as in etcd).
  auto first = c.append(*l, big_put(1, 100));
  BOOST_REQUIRE(first->value.has_value());
  c.crash(*l);
  auto l2 = c.await_leader();
  BOOST_REQUIRE(l2.has_value());
  BOOST_TEST(c.state(*l2).leading().uncommitted.held() == 0u);
  auto second = c.append(*l2, big_put(2, 100));
  BOOST_TEST(second->value.has_value());
  BOOST_TEST(c.violation() == "");
}
