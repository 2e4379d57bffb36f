// Stage stamps (raft/trace.hpp) on CAF's test scheduler: every sampled entry
// of a put is stamped at every stage of its path, the stamps never go back
// along the path (the leader's write runs beside replication, so the path is
// a graph: commit waits for both), and only sampled indexes are stamped.
#define BOOST_TEST_MODULE actors_trace
#include <boost/test/unit_test.hpp>

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "raft/trace.hpp"

#include "test_cluster.hpp"

using namespace raft;
using namespace raft::test;
using namespace std::chrono_literals;

namespace {

int64_t ns(caf::actor_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           t.time_since_epoch())
    .count();
}

/// A member's stamps by index and stage (the first of each).
using stamp_map = std::map<index_t, std::map<trace_stage, int64_t>>;

stamp_map by_index(const trace_log& log) {
  stamp_map out;
  for (auto& s : log.stamps())
    out[s.index].emplace(s.stage, s.ns);
  return out;
}

std::optional<int64_t> find(const stamp_map& m, index_t i, trace_stage s) {
  auto e = m.find(i);
  if (e == m.end())
    return std::nullopt;
  auto x = e->second.find(s);
  if (x == e->second.end())
    return std::nullopt;
  return x->second;
}

/// A three-member cluster whose members trace every `every`-th index,
/// with a simulated disk that takes 5 ms per batch; member 0 leads.
struct traced_cluster {
  explicit traced_cluster(uint32_t every)
    : logs{std::make_shared<trace_log>(every),
           std::make_shared<trace_log>(every),
           std::make_shared<trace_log>(every)},
      c{3, 7, [this](size_t i, testing::member_setup& cfg) {
          cfg.trace = logs[i];
        }} {
    c.disk_latency = [](size_t) { return caf::timespan{5ms}; };
    c.start_all();
    BOOST_REQUIRE(!c.call_ok(0, caf::make_message(election_atom::value)));
    BOOST_REQUIRE(c.run_until([&] { return c.leader() == size_t{0}; }));
  }

  std::vector<std::shared_ptr<trace_log>> logs;
  test_cluster c;
};

/// The client's stamps of one put.
struct put {
  index_t index;
  int64_t sent;
  int64_t received;
};

/// Checks that `p` was stamped at every stage, in path order.
void check_path(traced_cluster& t, const put& p) {
  BOOST_TEST_CONTEXT("index " << p.index) {
    auto leader = by_index(*t.logs[0]);
    auto stage = [&](trace_stage s) {
      auto x = find(leader, p.index, s);
      BOOST_TEST_REQUIRE(x.has_value(), "leader lacks " << to_string(s));
      return *x;
    };
    auto received = stage(trace_stage::leader_receive);
    auto durable = stage(trace_stage::leader_durable);
    auto acked = stage(trace_stage::ack_received);
    auto committed = stage(trace_stage::commit);
    auto applied = stage(trace_stage::applied);
    BOOST_TEST(p.sent <= received);
    BOOST_TEST(received <= durable);
    // The simulated disk holds every batch 5 ms: the stamp measures it.
    BOOST_TEST(durable - received >= 5'000'000);
    std::optional<int64_t> first_durable;
    for (size_t f : {1, 2}) {
      auto m = by_index(*t.logs[f]);
      auto f_received = find(m, p.index, trace_stage::follower_receive);
      auto f_durable = find(m, p.index, trace_stage::follower_durable);
      BOOST_TEST_REQUIRE(f_received.has_value(), "follower " << f);
      BOOST_TEST_REQUIRE(f_durable.has_value(), "follower " << f);
      BOOST_TEST(received <= *f_received);
      BOOST_TEST(*f_received <= *f_durable);
      BOOST_TEST(*f_durable - *f_received >= 5'000'000);
      // A follower is not the leader: it never stamps the leader's stages.
      BOOST_TEST(!find(m, p.index, trace_stage::leader_receive));
      BOOST_TEST(!find(m, p.index, trace_stage::ack_received));
      if (!first_durable || *f_durable < *first_durable)
        first_durable = *f_durable;
    }
    // The first acknowledgement covering the entry leaves after the first
    // follower made it durable; commit waits for it and for the leader's
    // own write (§5.3: a majority, the leader counted once durable).
    BOOST_TEST(*first_durable <= acked);
    BOOST_TEST(acked <= committed);
    BOOST_TEST(durable <= committed);
    BOOST_TEST(committed <= applied);
    BOOST_TEST(applied <= p.received);
  }
}

} // namespace

BOOST_AUTO_TEST_CASE(every_stage_of_a_sampled_put_is_stamped_in_order) {
  traced_cluster t{1};
  auto& c = t.c;
  std::vector<put> puts;
  for (int k = 0; k < 5; ++k) {
    auto sent = ns(c.now());
    auto r = c.append(0, put_cmd("key" + std::to_string(k), "value"));
    BOOST_REQUIRE(r->value.has_value());
    puts.push_back(put{r->value->index, sent, ns(c.now())});
  }
  BOOST_TEST(c.violation().empty());
  for (auto& p : puts)
    check_path(t, p);
}

// Many puts at once: the stages that move as a range (a batch written, an
// acknowledgement covering several entries, a commit, an applied batch)
// stamp each sampled entry of the range, once, and only the sampled ones.
BOOST_AUTO_TEST_CASE(batched_puts_are_stamped_per_sampled_index) {
  constexpr uint32_t every = 3;
  traced_cluster t{every};
  auto& c = t.c;
  auto sent = ns(c.now());
  std::vector<std::shared_ptr<pending_reply<append_reply>>> replies;
  for (int k = 0; k < 20; ++k)
    replies.push_back(
      c.append_async(0, put_cmd("key" + std::to_string(k), "value")));
  BOOST_REQUIRE(c.run_until([&] {
    for (auto& r : replies)
      if (!r->value)
        return false;
    return true;
  }));
  auto done = ns(c.now());
  size_t sampled = 0;
  for (auto& r : replies) {
    auto index = r->value->index;
    if (index % every != 0)
      continue;
    ++sampled;
    // The client's reply stamp: no later than when the last reply was seen.
    check_path(t, put{index, sent, done});
  }
  BOOST_TEST(sampled >= 6u);
  for (size_t m = 0; m < 3; ++m) {
    std::map<std::pair<index_t, trace_stage>, int> seen;
    for (auto& s : t.logs[m]->stamps()) {
      BOOST_TEST(s.index % every == 0u);
      auto times = ++seen[std::make_pair(s.index, s.stage)];
      BOOST_TEST(times == 1);
    }
  }
}

BOOST_AUTO_TEST_CASE(the_ring_keeps_the_newest_stamps) {
  trace_log log{2, 4};
  BOOST_TEST(!log.sampled(3));
  BOOST_TEST(log.sampled(4));
  for (index_t i = 1; i <= 6; ++i)
    log.record(i * 2, trace_stage::commit, static_cast<int64_t>(i));
  auto s = log.stamps();
  BOOST_TEST_REQUIRE(s.size() == 4u);
  BOOST_TEST(s.front().index == 6u);
  BOOST_TEST(s.back().index == 12u);
  BOOST_TEST(log.recorded() == 6u);
  BOOST_TEST(trace_log{0}.sampled(0) == false);
}
