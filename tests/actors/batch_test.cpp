// Batch requests on CAF's test scheduler: member_actor's
// (append_atom | query_atom, std::vector<payload>) answers one outcome per
// command, in order, each what the single request would have answered, in
// every role (actors/member_batch.cpp; issue 14: one message per client
// batch).
#define BOOST_TEST_MODULE actors_batch
#include <boost/test/unit_test.hpp>

#include "caf/event_based_actor.hpp"

#include "raft/errc.hpp"

#include "test_cluster.hpp"

using namespace raft;
using namespace raft::test;
using namespace std::chrono_literals;

namespace {

using outcomes = std::vector<command_outcome>;

/// Where a batch request's answer lands.
struct pending_batch {
  bool done = false;
  outcomes value;
  caf::error error; // the whole request's error
};

std::shared_ptr<pending_batch> send_batch(test_cluster& c, size_t i,
                                          std::vector<payload> cmds,
                                          bool query = false,
                                          caf::timespan timeout = 20s) {
  auto slot = std::make_shared<pending_batch>();
  auto msg = query ? caf::make_message(query_atom::value, std::move(cmds))
                   : caf::make_message(append_atom::value, std::move(cmds));
  c.call_async<outcomes>(i, std::move(msg), timeout,
                         [slot](caf::expected<outcomes> x) {
                           slot->done = true;
                           if (x)
                             slot->value = std::move(*x);
                           else
                             slot->error = std::move(x.error());
                         });
  return slot;
}

bool is(const caf::error& err, errc code) {
  return err.category() == errc_category
         && err.code() == static_cast<uint8_t>(code);
}

payload bytes(size_t n) {
  return payload{std::string(n, 'x')};
}

} // namespace

// At the leader: every command proposed, one index each, in order; a
// command too large fails alone; an application's error stays in its own
// reply (apply_error), apart from Raft's.
BOOST_AUTO_TEST_CASE(batch_at_the_leader_answers_each_command_in_order) {
  test_cluster c{3, 21, [](size_t, config& cfg) {
    cfg.max_entry_size = 64;
  }};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  auto r = send_batch(c, *l,
                      {put_cmd("a", "1"), bytes(65), get_cmd("missing"),
                       put_cmd("b", "2"), get_cmd("a")});
  BOOST_REQUIRE(c.run_until([&] { return r->done; }));
  BOOST_REQUIRE(!r->error);
  BOOST_REQUIRE(r->value.size() == 5u);
  auto& v = r->value;
  BOOST_TEST(!v[0].error);
  BOOST_TEST(v[0].reply.result == "ok");
  BOOST_TEST(is(v[1].error, errc::entry_too_large));
  BOOST_TEST(v[1].reply.index == 0u);
  BOOST_TEST(!v[2].error);
  BOOST_TEST(v[2].reply.apply_error == "not_found");
  BOOST_TEST(!v[3].error);
  BOOST_TEST(!v[4].error);
  BOOST_TEST(v[4].reply.result == "1");
  BOOST_TEST(v[2].reply.index == v[0].reply.index + 1);
  BOOST_TEST(v[3].reply.index == v[0].reply.index + 2);
  BOOST_TEST(v[4].reply.index == v[0].reply.index + 3);
  BOOST_REQUIRE(c.converge(5s));
  for (size_t i = 0; i < 3; ++i) {
    BOOST_TEST(c.machines[i]->data["a"] == "1");
    BOOST_TEST(c.machines[i]->data["b"] == "2");
    BOOST_TEST(c.machines[i]->applied.size() == 4u); // not the large one
  }
  BOOST_TEST(c.violation() == "");
}

// One request in, one answer out: the batch is one message to the member
// and its commands share the leader's write.
BOOST_AUTO_TEST_CASE(a_batch_is_one_write_at_the_leader) {
  test_cluster c{3, 22};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  BOOST_REQUIRE(c.converge(5s));
  auto writes_before = c.storages[*l]->writes();
  std::vector<payload> cmds;
  for (int k = 0; k < 100; ++k)
    cmds.push_back(put_cmd("k" + std::to_string(k), std::to_string(k)));
  auto r = send_batch(c, *l, std::move(cmds));
  BOOST_REQUIRE(c.run_until([&] { return r->done; }));
  BOOST_REQUIRE(r->value.size() == 100u);
  for (size_t k = 0; k < 100; ++k) {
    BOOST_TEST(!r->value[k].error);
    BOOST_TEST(r->value[k].reply.index == r->value[0].reply.index + k);
  }
  BOOST_TEST(c.storages[*l]->writes() - writes_before <= 2u);
  // An empty batch is answered at once, with nothing.
  auto none = send_batch(c, *l, {});
  BOOST_REQUIRE(c.run_until([&] { return none->done; }));
  BOOST_TEST(!none->error);
  BOOST_TEST(none->value.empty());
}

// At a follower: each command forwarded to the leader; the answer comes
// once this member applied them too (as for a single append).
BOOST_AUTO_TEST_CASE(batch_at_a_follower_is_forwarded_and_applied_there) {
  test_cluster c{3, 23};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  BOOST_REQUIRE(c.converge(5s));
  auto f = (*l + 1) % 3;
  auto r = send_batch(c, f, {put_cmd("x", "1"), get_cmd("x"), get_cmd("y")});
  index_t applied_at_answer = 0;
  BOOST_REQUIRE(c.run_until([&] {
    if (r->done && applied_at_answer == 0)
      applied_at_answer = c.state(f).last_applied;
    return r->done;
  }));
  BOOST_REQUIRE(!r->error);
  BOOST_REQUIRE(r->value.size() == 3u);
  BOOST_TEST(r->value[0].reply.result == "ok");
  BOOST_TEST(r->value[1].reply.result == "1");
  BOOST_TEST(r->value[2].reply.apply_error == "not_found");
  BOOST_TEST(applied_at_answer >= r->value[2].reply.index);
  BOOST_TEST(c.machines[f]->data["x"] == "1");
  // Queries in a batch: linearizable reads through the follower.
  auto q = send_batch(c, f, {get_cmd("x"), get_cmd("y")}, true);
  BOOST_REQUIRE(c.run_until([&] { return q->done; }));
  BOOST_REQUIRE(q->value.size() == 2u);
  BOOST_TEST(q->value[0].reply.result == "1");
  BOOST_TEST(q->value[1].reply.apply_error == "not_found");
  BOOST_TEST(c.violation() == "");
}

// At a candidate: parked until a leader is known, then forwarded and
// answered.
BOOST_AUTO_TEST_CASE(batch_at_a_candidate_is_parked_then_answered) {
  test_cluster c{3, 24, [](size_t, config& cfg) {
    cfg.append_timeout = 30s;
  }};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  BOOST_REQUIRE(c.converge(5s));
  auto a = (*l + 1) % 3;
  auto b = (*l + 2) % 3;
  c.crash(*l);
  c.crash(b);
  // Alone, `a` campaigns and cannot win.
  BOOST_REQUIRE(
    c.run_until([&] { return c.state(a).role == role::candidate; }));
  auto r = send_batch(c, a, {put_cmd("p", "1"), put_cmd("q", "2")}, false,
                      60s);
  auto q = send_batch(c, a, {get_cmd("p")}, true, 60s);
  c.advance(5ms);
  BOOST_TEST(!r->done);
  BOOST_TEST(c.state(a).parked.size() == 3u);
  c.restart(*l);
  c.restart(b);
  BOOST_REQUIRE(c.run_until([&] { return r->done && q->done; }, 20s));
  BOOST_REQUIRE(!r->error);
  BOOST_REQUIRE(r->value.size() == 2u);
  BOOST_TEST(!r->value[0].error);
  BOOST_TEST(!r->value[1].error);
  BOOST_TEST(r->value[1].reply.index == r->value[0].reply.index + 1);
  BOOST_REQUIRE(q->value.size() == 1u);
  BOOST_TEST(!q->value[0].error);
  BOOST_TEST(c.violation() == "");
}

// Before start and after stop the whole request fails, as a single one
// would.
BOOST_AUTO_TEST_CASE(batch_before_start_and_after_stop_fails_clearly) {
  test_cluster c{3, 25};
  auto early = send_batch(c, 0, {put_cmd("x", "1"), put_cmd("y", "1")});
  auto early_q = send_batch(c, 0, {get_cmd("x")}, true);
  c.advance(10ms);
  BOOST_REQUIRE(early->done);
  BOOST_TEST(is(early->error, errc::not_started));
  BOOST_REQUIRE(early_q->done);
  BOOST_TEST(is(early_q->error, errc::not_started));
  c.start_all();
  BOOST_REQUIRE(c.await_leader().has_value());
  BOOST_TEST(!c.call_ok(0, caf::make_message(stop_atom::value)));
  auto late = send_batch(c, 0, {put_cmd("x", "1")});
  c.advance(10ms);
  BOOST_REQUIRE(late->done);
  BOOST_TEST(is(late->error, errc::stopped));
}

// Leadership lost with a batch appended: the appended commands' outcome is
// unknown (they may still commit through a later leader); those refused
// before appending (too large, overloaded) say so and are certainly not
// applied.
BOOST_AUTO_TEST_CASE(leadership_lost_mid_batch_leaves_appended_ones_unknown) {
  test_cluster c{3, 26, [](size_t, config& cfg) {
    cfg.max_entry_size = 64;
    cfg.max_uncommitted_bytes = 100;
  }};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  BOOST_REQUIRE(c.converge(5s));
  // Cut the leader off: nothing it appends commits, and check quorum makes
  // it step down.
  c.net->partition({c.ids[*l]}, c.ids);
  auto r = send_batch(c, *l,
                      {bytes(40), bytes(65), bytes(40), bytes(40)});
  BOOST_REQUIRE(c.run_until([&] { return r->done; }, 20s));
  BOOST_REQUIRE(!r->error);
  BOOST_REQUIRE(r->value.size() == 4u);
  auto& v = r->value;
  BOOST_TEST(outcome_unknown(v[0].error));
  BOOST_TEST(is(v[1].error, errc::entry_too_large));
  BOOST_TEST(!outcome_unknown(v[1].error));
  BOOST_TEST(outcome_unknown(v[2].error));
  BOOST_TEST(is(v[3].error, errc::overloaded)); // 120 bytes > 100
  BOOST_TEST(!outcome_unknown(v[3].error));
  BOOST_TEST(c.violation() == "");
}
