// The leader is SIGKILLed while several concurrent clients write: no
// acknowledged write is lost, writes resume within a few election timeouts,
// and the old leader catches up when restarted. A follower that goes
// silent (SIGSTOP, so its TCP connections stay open) is noticed through
// the middleman's heartbeats, does not slow the others down, and is caught
// up when it resumes.
#define BOOST_TEST_MODULE distributed_failover
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"

#include "raft/remote.hpp"

#include "kv_client.hpp"
#include "kv_cluster.hpp"

using namespace raft::dist;
using std::chrono::milliseconds;

namespace {

constexpr auto leader_timeout = milliseconds(15000);
/// With a 50 ms heartbeat, election timeouts are drawn from [0.5 s, 1 s].
constexpr auto election_timeout_max = milliseconds(1000);

struct write_record {
  std::string key;
  std::string value;
  clock_type::time_point start;
  clock_type::time_point end;
  kv::outcome outcome;
};

/// A process-local actor system with a kv client library instance.
struct library_client {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<kv::client> client;

  explicit library_client(const kv_cluster& c) {
    if (auto err = raft::configure_remote(cfg, {}))
      throw std::runtime_error("configure_remote failed");
    sys = std::make_unique<caf::actor_system>(cfg);
    raft::client_options opts;
    opts.cluster = c.ids();
    opts.timeout = milliseconds(3000);
    auto made = kv::client::make(*sys, opts);
    if (!made)
      throw std::runtime_error("cannot make a client");
    client = std::move(*made);
  }

  ~library_client() {
    client.reset();
  }
};

} // namespace

BOOST_AUTO_TEST_CASE(leader_killed_under_load_loses_no_acknowledged_write) {
  kv_cluster c{kv_cluster::options{}};
  c.start_all();
  auto leader = c.await_leader(leader_timeout);
  BOOST_REQUIRE(leader.has_value());
  library_client lib{c};
  std::mutex mtx;
  std::vector<write_record> records;
  std::atomic<bool> stop{false};
  std::atomic<size_t> acked{0};
  constexpr int writers = 4;
  std::vector<std::thread> threads;
  for (int t = 0; t < writers; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        write_record r;
        r.key = "w" + std::to_string(t) + "-" + std::to_string(i);
        r.value = "v" + std::to_string(i);
        r.start = clock_type::now();
        r.outcome = lib.client->put(r.key, r.value).outcome;
        r.end = clock_type::now();
        if (r.outcome == kv::outcome::ok)
          ++acked;
        std::lock_guard<std::mutex> guard{mtx};
        records.push_back(std::move(r));
      }
    });
  // Some load first, then the crash.
  BOOST_REQUIRE(wait_until([&] { return acked >= 200; }, milliseconds(20000)));
  auto killed_at = clock_type::now();
  c.kill(*leader);
  auto acked_at_kill = acked.load();
  BOOST_TEST(wait_until([&] { return acked >= acked_at_kill + 200; },
                        milliseconds(20000)));
  stop = true;
  for (auto& th : threads)
    th.join();
  // Writes resumed: the first write started after the kill and acknowledged.
  auto first_ack = clock_type::time_point::max();
  size_t unknown = 0;
  for (auto& r : records) {
    if (r.outcome == kv::outcome::ok && r.start >= killed_at)
      first_ack = std::min(first_ack, r.end);
    if (r.outcome == kv::outcome::unknown)
      ++unknown;
  }
  BOOST_REQUIRE(first_ack != clock_type::time_point::max());
  auto gap = std::chrono::duration_cast<milliseconds>(first_ack - killed_at);
  BOOST_TEST_MESSAGE("failover: first acknowledged write "
                     << gap.count() << " ms after SIGKILL of the leader; "
                     << records.size() << " writes, " << unknown
                     << " with unknown outcome");
  BOOST_TEST(gap.count() < (5 * election_timeout_max).count());
  // No acknowledged write lost: each reads back (keys are unique).
  size_t checked = 0;
  for (auto& r : records) {
    if (r.outcome != kv::outcome::ok)
      continue;
    auto got = lib.client->get(r.key);
    BOOST_TEST_INFO("key " << r.key << ": " << got.message);
    BOOST_TEST((got.outcome == kv::outcome::ok && got.value == r.value));
    ++checked;
  }
  BOOST_TEST(checked >= 400u);
  // The old leader comes back and catches up by log.
  auto new_leader = c.await_leader(leader_timeout);
  BOOST_REQUIRE(new_leader.has_value());
  auto commit = c.status_of(c.ids()[*new_leader]).commit;
  c.start(*leader);
  BOOST_TEST(c.await_applied(commit, milliseconds(15000)));
  // It follows a leader (perhaps a new one: without PreVote a restarted
  // member may force an election before the leader reaches it).
  BOOST_TEST(c.await_leader(leader_timeout).has_value());
}

BOOST_AUTO_TEST_CASE(a_silent_follower_is_detected_and_caught_up) {
  kv_cluster c{kv_cluster::options{}};
  c.start_all();
  auto leader = c.await_leader(leader_timeout);
  BOOST_REQUIRE(leader.has_value());
  auto silent = (*leader + 1) % 3;
  BOOST_REQUIRE(c.cli("put", {"a", "1"}).code == 0);
  c.pause(silent);
  // Its TCP connections stay open; only the heartbeat timeout tells.
  auto leader_id = c.ids()[*leader];
  BOOST_TEST(wait_until(
    [&] {
      auto log = c.log(*leader);
      return log.find(c.ids()[silent] + ": lost the connection")
             != std::string::npos;
    },
    milliseconds(10000)));
  // Meanwhile writes go on with the other two, unhindered by reconnects.
  std::string others;
  for (size_t i = 0; i < 3; ++i)
    if (i != silent)
      others += (others.empty() ? "" : ",") + c.ids()[i];
  auto t0 = clock_type::now();
  for (int i = 0; i < 20; ++i)
    BOOST_REQUIRE(c.cli("put", {"k" + std::to_string(i), "v"}, others).code
                  == 0);
  BOOST_TEST_MESSAGE("20 CLI puts with a silent member took "
                     << std::chrono::duration_cast<milliseconds>(
                          clock_type::now() - t0)
                          .count()
                     << " ms");
  auto commit = c.status_of(leader_id).commit;
  c.resume(silent);
  BOOST_TEST(c.await_applied(commit, milliseconds(15000)));
  BOOST_TEST(c.cli("get", {"k19"}, c.ids()[silent]).out == "v\n");
}
