// Membership from the outside, with real `raft-kv serve` processes on
// 127.0.0.1 (docs/operations.md, "Replace a dead machine"):
// - the operator's steps, exactly as documented, under a steady write load:
//   a member dies for good and its disk is wiped; a replacement starts on
//   a new port with --join, is added as a learner, promoted, and the dead
//   member is removed. No acknowledged put is lost (every key reads back
//   from the new configuration) and writes go on throughout; the puts/s
//   before and during the replacement are printed.
// - a changed --members on restart is ignored, never obeyed (issue 12's
//   split brain: a member restarted with --members naming only itself
//   elected itself alone).
#define BOOST_TEST_MODULE distributed_membership
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <iostream>
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

/// A kv client library instance in this process.
struct library_client {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<kv::client> client;

  explicit library_client(const std::vector<std::string>& cluster) {
    if (auto err = raft::configure_remote(cfg, {}))
      throw std::runtime_error("configure_remote failed");
    sys = std::make_unique<caf::actor_system>(cfg);
    raft::client_options opts;
    opts.cluster = cluster;
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

struct put_record {
  std::string key;
  std::string value;
  clock_type::time_point end;
  kv::outcome outcome;
};

/// Writers putting unique keys until stopped; every outcome is kept.
class load {
public:
  load(kv::client& c, int writers) {
    for (int t = 0; t < writers; ++t)
      threads_.emplace_back([this, &c, t] {
        for (int i = 0; !stop_; ++i) {
          put_record r;
          r.key = "w" + std::to_string(t) + "-" + std::to_string(i);
          r.value = "v" + std::to_string(i);
          r.outcome = c.put(r.key, r.value).outcome;
          r.end = clock_type::now();
          std::lock_guard<std::mutex> guard{mtx_};
          records_.push_back(std::move(r));
        }
      });
  }

  ~load() {
    finish();
  }

  void finish() {
    stop_ = true;
    for (auto& th : threads_)
      if (th.joinable())
        th.join();
  }

  /// Acknowledged puts that ended in [from, to).
  size_t acked(clock_type::time_point from, clock_type::time_point to) {
    std::lock_guard<std::mutex> guard{mtx_};
    size_t n = 0;
    for (auto& r : records_)
      if (r.outcome == kv::outcome::ok && r.end >= from && r.end < to)
        ++n;
    return n;
  }

  std::vector<put_record> records() {
    std::lock_guard<std::mutex> guard{mtx_};
    return records_;
  }

private:
  std::atomic<bool> stop_{false};
  std::mutex mtx_;
  std::vector<put_record> records_;
  std::vector<std::thread> threads_;
};

double per_second(size_t n, clock_type::duration d) {
  auto ms = std::chrono::duration_cast<milliseconds>(d).count();
  return ms > 0 ? 1000.0 * static_cast<double>(n) / static_cast<double>(ms)
                : 0.0;
}

/// "a,b,c" sorted, as `raft-kv status` prints voters.
std::string sorted_list(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  std::string s;
  for (auto& id : ids)
    s += (s.empty() ? "" : ",") + id;
  return s;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_CASE(replace_a_dead_machine_as_documented) {
  kv_cluster::options o;
  // Small snapshots: the replacement gets a snapshot and then the log.
  o.snapshot_threshold = 500;
  kv_cluster c{o};
  c.start_all();
  auto leader = c.await_leader(leader_timeout);
  BOOST_REQUIRE(leader.has_value());
  library_client lib{c.ids()};
  load writers{*lib.client, 4};
  // Puts/s before the replacement: 3 s of steady load.
  BOOST_REQUIRE(wait_until(
    [&] {
      return writers.acked(clock_type::time_point::min(),
                           clock_type::time_point::max())
             >= 600;
    },
    milliseconds(30000)));
  auto before_from = clock_type::now();
  // A fixed measuring window (a figure, not a synchronization).
  std::this_thread::sleep_for(milliseconds(3000));
  auto before_to = clock_type::now();
  // Step 1: a follower's machine dies for good, its disk is lost.
  auto dead = (*leader + 1) % 3;
  auto dead_id = c.ids()[dead];
  std::vector<size_t> survivors;
  for (size_t i = 0; i < 3; ++i)
    if (i != dead)
      survivors.push_back(i);
  auto during_from = clock_type::now();
  c.kill(dead);
  c.wipe(dead);
  // Step 2: the replacement, empty, on a new port, told the survivors.
  auto fresh = c.add_member();
  auto fresh_id = c.ids()[fresh];
  c.start_with(fresh, c.list(survivors), true);
  BOOST_TEST(wait_until(
    [&] { return contains(c.log(fresh), "waiting to be added"); },
    milliseconds(10000)));
  auto cluster = c.list(survivors);
  // Step 3: added as a learner (it gets a snapshot and the log).
  auto added = c.cli("member", {"add", fresh_id, "--learner"}, cluster);
  BOOST_TEST_INFO(added.out << added.err);
  BOOST_REQUIRE_EQUAL(added.code, 0);
  BOOST_TEST(contains(added.out, "learners: " + fresh_id));
  // Step 4: promoted once it caught up (the CLI waits for that).
  auto promoted = c.cli("member", {"promote", fresh_id}, cluster,
                        {}, milliseconds(90000));
  BOOST_TEST_INFO(promoted.out << promoted.err);
  BOOST_REQUIRE_EQUAL(promoted.code, 0);
  BOOST_TEST(contains(promoted.out, fresh_id));
  BOOST_TEST(contains(promoted.out, "learners: -"));
  // Step 5: the dead member leaves the configuration.
  auto new_cluster = cluster + "," + fresh_id;
  auto removed = c.cli("member", {"remove", dead_id}, new_cluster);
  BOOST_TEST_INFO(removed.out << removed.err);
  BOOST_REQUIRE_EQUAL(removed.code, 0);
  BOOST_TEST(!contains(removed.out, dead_id));
  auto during_to = clock_type::now();
  // Step 6: check: three voters, the new one among them, one leader.
  auto listed = c.cli("member", {"list"}, new_cluster);
  BOOST_REQUIRE_EQUAL(listed.code, 0);
  std::vector<std::string> voters{c.ids()[survivors[0]],
                                  c.ids()[survivors[1]], fresh_id};
  std::sort(voters.begin(), voters.end());
  BOOST_TEST(contains(listed.out,
                      "voters: " + voters[0] + "," + voters[1] + ","
                        + voters[2]));
  BOOST_TEST(c.await_leader(leader_timeout).has_value());
  // Writes went on: a second of load after the change, then stop.
  auto after = clock_type::now();
  BOOST_TEST(wait_until(
    [&] { return writers.acked(after, clock_type::time_point::max()) >= 50; },
    milliseconds(20000)));
  writers.finish();
  auto n_before = writers.acked(before_from, before_to);
  auto n_during = writers.acked(during_from, during_to);
  auto rate_before = per_second(n_before, before_to - before_from);
  auto rate_during = per_second(n_during, during_to - during_from);
  auto took = std::chrono::duration_cast<milliseconds>(during_to
                                                       - during_from);
  std::cout << "replacement: " << rate_before << " puts/s before, "
            << rate_during << " puts/s during the replacement (" << n_during
            << " puts in " << took.count()
            << " ms: kill, wipe, join, add learner, promote, remove)"
            << std::endl;
  BOOST_TEST_MESSAGE("puts/s before " << rate_before << ", during "
                                      << rate_during);
  BOOST_TEST(n_during > 0u);
  // No acknowledged put lost: each reads back from the new configuration.
  library_client reader{{voters[0], voters[1], voters[2]}};
  size_t checked = 0;
  for (auto& r : writers.records()) {
    if (r.outcome != kv::outcome::ok)
      continue;
    auto got = reader.client->get(r.key);
    BOOST_TEST_INFO("key " << r.key << ": " << got.message);
    BOOST_TEST((got.outcome == kv::outcome::ok && got.value == r.value));
    ++checked;
  }
  BOOST_TEST(checked >= 650u);
  // The replacement holds the data itself: it applied up to the commit.
  auto leader_now = c.await_leader(leader_timeout);
  BOOST_REQUIRE(leader_now.has_value());
  auto commit = c.status_of(c.ids()[*leader_now]).commit;
  BOOST_TEST(c.await_applied(commit, milliseconds(15000)));
  auto st = c.status_of(fresh_id);
  BOOST_TEST(st.voters == voters[0] + "," + voters[1] + "," + voters[2]);
}

BOOST_AUTO_TEST_CASE(a_changed_members_list_on_restart_is_ignored) {
  kv_cluster c{kv_cluster::options{}};
  c.start_all();
  BOOST_REQUIRE(c.await_leader(leader_timeout).has_value());
  BOOST_REQUIRE_EQUAL(c.cli("put", {"k", "before"}).code, 0);
  for (size_t i = 0; i < 3; ++i)
    BOOST_REQUIRE_EQUAL(c.terminate(i), 0);
  // Issue 12: restarted alone with --members naming only itself, it must
  // not elect itself: its stored configuration still has three voters.
  c.start_with(0, c.ids()[0], false);
  BOOST_TEST(wait_until(
    [&] {
      auto log = c.log(0);
      return contains(log, "warning: --members " + c.ids()[0]
                             + " ignored: the data directory holds the "
                               "configuration {voters: ");
    },
    milliseconds(10000)));
  auto alone = c.ids()[0];
  auto put = c.cli("put", {"--timeout", "3000", "split", "brain"}, alone);
  BOOST_TEST_INFO(put.out << put.err);
  BOOST_TEST(put.code != 0);
  auto st = c.status_of(alone);
  BOOST_TEST(st.role != "leader");
  BOOST_TEST(st.voters == sorted_list(c.ids()));
  // The others come back with their usual command: one cluster, one
  // leader, the same data everywhere.
  c.start(1);
  c.start(2);
  BOOST_REQUIRE(c.await_leader(leader_timeout).has_value());
  BOOST_REQUIRE_EQUAL(c.cli("put", {"k", "after"}).code, 0);
  auto commit = c.status_of(c.ids()[1]).commit;
  BOOST_TEST(c.await_applied(commit, milliseconds(15000)));
  BOOST_TEST(c.cli("get", {"k"}, alone).out == "after\n");
}
