// Metrics (raft/metrics.hpp) on CAF's test scheduler: the reply to
// metrics_atom reports exactly what a known sequence did (one election, N
// commits, the entries and bytes per peer, a refused message, snapshots),
// and latencies measured on the simulated clock.
#define BOOST_TEST_MODULE actors_metrics
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>

#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"

#include "raft/messages.hpp"
#include "raft/metrics.hpp"

#include "test_cluster.hpp"

using namespace raft;
using namespace raft::test;
using namespace std::chrono_literals;

namespace {

/// Asks member i for its metrics with the typed message, as a client would.
member_metrics metrics_of(test_cluster& c, size_t i) {
  auto result = std::make_shared<std::optional<member_metrics>>();
  member_actor dest = c.members[i];
  c.sys->spawn([=](caf::event_based_actor* self) {
    self->request(dest, caf::infinite, metrics_atom::value)
      .then([=](member_metrics& m) { *result = std::move(m); });
  });
  c.run();
  BOOST_REQUIRE(result->has_value());
  return std::move(**result);
}

uint64_t refused(const member_metrics& m, refusal why) {
  return m.refused[static_cast<size_t>(why)];
}

const peer_metrics& peer(const member_metrics& m, const member_id& id) {
  for (auto& p : m.peers)
    if (p.id == id)
      return p;
  BOOST_FAIL("no metrics for peer " + id);
  throw 0;
}

/// The smallest observation's bucket bound: every observation is above
/// half of it.
uint64_t min_bound(const histogram& h) {
  return h.quantile_bound(1.0 / static_cast<double>(h.count + 1));
}

} // namespace

BOOST_AUTO_TEST_CASE(histogram_buckets_are_powers_of_two) {
  histogram h;
  BOOST_TEST(histogram::bucket_of(0) == 0u);
  BOOST_TEST(histogram::bucket_of(1) == 0u);
  BOOST_TEST(histogram::bucket_of(2) == 1u);
  BOOST_TEST(histogram::bucket_of(3) == 2u);
  BOOST_TEST(histogram::bucket_of(4) == 2u);
  BOOST_TEST(histogram::bucket_of(5000) == 13u); // 4096 < 5000 <= 8192
  BOOST_TEST(histogram::bucket_of(uint64_t{1} << 40) == histogram::buckets - 1);
  for (uint64_t v : {1, 3, 3, 100, 5000})
    h.observe(v);
  BOOST_TEST(h.count == 5u);
  BOOST_TEST(h.sum == 5107u);
  BOOST_TEST(h.counts[0] == 1u);
  BOOST_TEST(h.counts[2] == 2u);
  BOOST_TEST(h.counts[7] == 1u); // 64 < 100 <= 128
  BOOST_TEST(h.quantile_bound(0.5) == 4u);
  BOOST_TEST(h.quantile_bound(1.0) == 8192u);
  BOOST_TEST(histogram{}.quantile_bound(0.5) == 0u);
}

// One election, N client appends through the leader, one refused message:
// the metrics of leader and followers say exactly that.
BOOST_AUTO_TEST_CASE(metrics_report_a_known_sequence) {
  constexpr int n = 10;
  test_cluster c{3, 4};
  // Every batch waits 5 ms at the (simulated) disk: write and commit
  // latencies are at least that, on the simulated clock.
  c.disk_latency = [](size_t) { return caf::timespan{5ms}; };
  c.start_all();
  auto before = metrics_of(c, 0);
  BOOST_TEST(before.elections_started == 0u);
  BOOST_TEST(before.leader_changes == 0u);
  // One write at start: the new cluster's bootstrap configuration
  // (docs/membership.md).
  BOOST_TEST(before.log_writes == 1u);
  BOOST_TEST(before.peers.size() == 2u);
  // Member 0 starts the only election (StartElection, before any timer).
  BOOST_REQUIRE(!c.call_ok(0, caf::make_message(election_atom::value)));
  BOOST_REQUIRE(c.run_until([&] { return c.leader() == size_t{0}; }));
  size_t payload = 0;
  std::vector<std::shared_ptr<pending_reply<append_reply>>> replies;
  for (int k = 0; k < n; ++k) {
    auto cmd = put_cmd("key" + std::to_string(k), std::string(100, 'v'));
    payload += cmd.size();
    replies.push_back(c.append(0, cmd));
    BOOST_REQUIRE(replies.back()->value.has_value());
  }
  BOOST_REQUIRE(c.converge(5s));
  // A message from a stranger is refused (and counted by reason).
  append_entries_response stranger;
  stranger.from = "stranger:1";
  stranger.term = 1;
  caf::anon_send(caf::actor_cast<caf::actor>(c.members[0]), stranger);
  c.run();
  auto m = metrics_of(c, 0);
  BOOST_TEST(m.id == c.ids[0]);
  BOOST_TEST((m.role == role::leader));
  BOOST_TEST(m.leader == c.ids[0]);
  BOOST_TEST(m.term == 1u);
  BOOST_TEST(m.elections_started == 1u);
  BOOST_TEST(m.leader_changes == 1u);
  BOOST_TEST(m.term_changes == 1u);
  // The leader's no-op (§5.4.2) and the n commands.
  BOOST_TEST(m.commit_index == uint64_t(n + 1));
  BOOST_TEST(m.entries_committed == uint64_t(n + 1));
  BOOST_TEST(m.durable_index == uint64_t(n + 1));
  // Commit latency counts the client appends only, each >= the 5 ms write.
  BOOST_TEST(m.commit_latency_us.count == uint64_t(n));
  BOOST_TEST(min_bound(m.commit_latency_us) >= 8192u);
  // Each write waited 5 ms: its latency falls in (4096, 8192] µs or above.
  BOOST_TEST(m.log_write_us.count == m.log_writes);
  BOOST_TEST(min_bound(m.log_write_us) >= 8192u);
  BOOST_TEST(m.log_write_entries.count == m.log_writes);
  BOOST_TEST(m.log_write_entries.sum == uint64_t(n + 1));
  BOOST_TEST(m.log_write_entries.sum == m.entries_written);
  BOOST_TEST(m.append_entries.sum == m.entries_sent);
  BOOST_TEST(m.append_entries.sum == uint64_t(2 * (n + 1)));
  BOOST_TEST(refused(m, refusal::unknown_sender) == 1u);
  BOOST_TEST(refused(m, refusal::malformed) == 0u);
  uint64_t sent = 0;
  for (size_t f : {1, 2}) {
    auto& p = peer(m, c.ids[f]);
    BOOST_TEST_CONTEXT("follower " << f) {
      BOOST_TEST(p.is_follower);
      BOOST_TEST(p.match_lag == 0u);
      BOOST_TEST(p.bytes_sent == payload);
      BOOST_TEST(p.bytes_received == 0u);
      BOOST_TEST(p.messages_received > 0u);
      sent += p.messages_sent;
    }
    auto fm = metrics_of(c, f);
    BOOST_TEST_CONTEXT("follower " << f << "'s own view") {
      BOOST_TEST((fm.role == role::follower));
      BOOST_TEST(fm.leader == c.ids[0]);
      BOOST_TEST(fm.elections_started == 0u);
      BOOST_TEST(fm.leader_changes == 1u);
      BOOST_TEST(fm.term_changes == 1u);
      BOOST_TEST(fm.entries_committed == uint64_t(n + 1));
      BOOST_TEST(fm.commit_latency_us.count == 0u);
      BOOST_TEST(peer(fm, c.ids[0]).bytes_received == payload);
      BOOST_TEST(peer(fm, c.ids[0]).messages_received
                 == p.messages_sent);
      BOOST_TEST(peer(fm, c.ids[0]).messages_sent == p.messages_received);
      BOOST_TEST(!peer(fm, c.ids[0]).is_follower);
    }
  }
  BOOST_TEST(sent == m.messages_sent);
  BOOST_TEST(c.violation() == "");
}

// A follower cut off while the leader goes on shows a match lag that grows
// with the load, and none once it caught up.
BOOST_AUTO_TEST_CASE(match_lag_follows_a_cut_off_follower) {
  test_cluster c{3, 5};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  BOOST_REQUIRE(c.converge(5s));
  auto f = (*l + 1) % 3;
  c.net->partition({c.ids[f]}, c.ids);
  for (int k = 0; k < 7; ++k)
    BOOST_REQUIRE(c.append(*l, put_cmd("k", std::to_string(k)))->value);
  auto m = metrics_of(c, *l);
  BOOST_TEST(peer(m, c.ids[f]).match_lag == 7u);
  BOOST_TEST(peer(m, c.ids[(f + 1) % 3]).match_lag == 0u);
  c.net->heal();
  BOOST_REQUIRE(c.converge(10s));
  BOOST_TEST(peer(metrics_of(c, *l), c.ids[f]).match_lag == 0u);
}

// Snapshots: the leader's saves and a lagging follower's install are
// counted with their sizes.
BOOST_AUTO_TEST_CASE(snapshot_saves_and_installs_are_measured) {
  char tmpl[] = "/tmp/caf-raft-metrics-XXXXXX";
  std::string root = mkdtemp(tmpl);
  {
    test_cluster c{3, 2, [&](size_t i, config& cfg) {
      cfg.snapshot_dir = root + "/m" + std::to_string(i);
      cfg.snapshot_threshold = 10;
    }};
    c.start_all();
    auto l = c.await_leader();
    BOOST_REQUIRE(l.has_value());
    auto f = (*l + 1) % 3;
    c.net->partition({c.ids[f]}, c.ids);
    for (int k = 0; k < 30; ++k)
      BOOST_REQUIRE(c.append(*l, put_cmd("k" + std::to_string(k % 5),
                                         std::to_string(k)))
                      ->value);
    c.net->heal();
    BOOST_REQUIRE(c.converge(20s));
    auto lm = metrics_of(c, *l);
    BOOST_TEST(lm.snapshot_save_us.count >= 2u);
    BOOST_TEST(lm.snapshot_save_bytes.count == lm.snapshot_save_us.count);
    BOOST_TEST(lm.snapshot_save_bytes.sum > 0u);
    BOOST_TEST(lm.snapshot_index >= 20u);
    BOOST_TEST(lm.snapshot_install_us.count == 0u);
    BOOST_TEST(peer(lm, c.ids[f]).bytes_sent > 0u);
    auto fm = metrics_of(c, f);
    BOOST_TEST(fm.snapshot_install_us.count == 1u);
    BOOST_TEST(fm.snapshot_install_bytes.count == 1u);
    BOOST_TEST(fm.snapshot_install_bytes.sum > 0u);
    BOOST_TEST(peer(fm, c.ids[*l]).bytes_received
               >= fm.snapshot_install_bytes.sum);
    BOOST_TEST(c.violation() == "");
  }
  std::filesystem::remove_all(root);
}
