// Three `raft-kv serve` processes on 127.0.0.1: the CLI's commands and exit
// codes through every member, a graceful stop, and a member that was down
// catching up by log (and by snapshot, once snapshots land).
#define BOOST_TEST_MODULE distributed_basic
#include <boost/test/unit_test.hpp>

#include <set>

#include "kv_cluster.hpp"

using namespace raft::dist;
using std::chrono::milliseconds;

namespace {

constexpr auto leader_timeout = milliseconds(15000);

kv_cluster::options three() {
  kv_cluster::options o;
  return o;
}

} // namespace

BOOST_AUTO_TEST_CASE(commands_and_exit_codes_through_every_member) {
  kv_cluster c{three()};
  c.start_all();
  auto leader = c.await_leader(leader_timeout);
  BOOST_REQUIRE(leader.has_value());
  // Writes and reads through each member alone: followers forward.
  for (size_t i = 0; i < c.size(); ++i) {
    auto id = c.ids()[i];
    auto key = "key" + std::to_string(i);
    auto put = c.cli("put", {key, "value " + std::to_string(i)}, id);
    BOOST_TEST_INFO("put through " << id << ": " << put.err);
    BOOST_TEST(put.code == 0);
  }
  for (size_t i = 0; i < c.size(); ++i)
    for (size_t j = 0; j < c.size(); ++j) {
      auto get = c.cli("get", {"key" + std::to_string(j)}, c.ids()[i]);
      BOOST_TEST_INFO("get key" << j << " through " << c.ids()[i] << ": "
                                << get.err);
      BOOST_TEST(get.code == 0);
      // `get` prints the value alone.
      BOOST_TEST(get.out == "value " + std::to_string(j) + "\n");
    }
  // Definite negative answers: exit 3, nothing changed.
  BOOST_TEST(c.cli("get", {"missing"}).code == 3);
  BOOST_TEST(c.cli("delete", {"missing"}).code == 3);
  BOOST_TEST(c.cli("cas", {"key0", "wrong", "x"}).code == 3);
  BOOST_TEST(c.cli("get", {"key0"}).out == "value 0\n");
  BOOST_TEST(c.cli("cas", {"missing", "a", "b"}).code == 3);
  // And positive ones: exit 0.
  BOOST_TEST(c.cli("cas", {"key0", "value 0", "new"}).code == 0);
  BOOST_TEST(c.cli("get", {"key0"}).out == "new\n");
  BOOST_TEST(c.cli("delete", {"key0"}).code == 0);
  BOOST_TEST(c.cli("get", {"key0"}).code == 3);
  // Usage and configuration errors: exit 2 with a message.
  auto bad = run({raft_kv_binary(), "put", "--cluster", c.members(), "k"});
  BOOST_TEST(bad.code == 2);
  BOOST_TEST(!bad.err.empty());
  BOOST_TEST(run({raft_kv_binary(), "frobnicate"}).code == 2);
  BOOST_TEST(run({raft_kv_binary(), "get", "--cluster", "nohost", "k"}).code
             == 2);
  BOOST_TEST(run({raft_kv_binary(), "serve", "--id", "127.0.0.1:1"}).code
             == 2);
  // Status: one line per member, all agreeing on the leader and term.
  std::map<std::string, member_line> st;
  BOOST_TEST(wait_until([&] {
    st = c.status();
    return st.size() == 3u;
  }, milliseconds(15000)));
  std::set<std::string> leaders;
  std::set<uint64_t> terms;
  for (auto& kvp : st) {
    leaders.insert(kvp.second.leader);
    terms.insert(kvp.second.term);
  }
  BOOST_TEST(leaders.size() == 1u);
  BOOST_TEST(terms.size() == 1u);
  // A graceful stop (SIGTERM) exits 0.
  BOOST_TEST(c.terminate((*leader + 1) % 3) == 0);
}

BOOST_AUTO_TEST_CASE(a_member_that_was_down_catches_up_by_log) {
  kv_cluster c{three()};
  c.start_all();
  auto leader = c.await_leader(leader_timeout);
  BOOST_REQUIRE(leader.has_value());
  auto down = (*leader + 1) % 3;
  BOOST_REQUIRE(c.cli("put", {"before", "1"}).code == 0);
  c.kill(down);
  for (int i = 0; i < 30; ++i)
    BOOST_REQUIRE(c.cli("put", {"k" + std::to_string(i), std::to_string(i)})
                    .code
                  == 0);
  auto commit = c.status_of(c.ids()[*leader]).commit;
  c.start(down);
  // It reconnects (the others retry with backoff) and applies everything.
  BOOST_TEST(c.await_applied(commit, milliseconds(15000)));
  // It follows the cluster's leader. (Not necessarily the old one: without
  // PreVote, a member whose election timer fires before the leader reaches
  // it starts an election and forces a new term.)
  auto now_leader = c.await_leader(leader_timeout);
  BOOST_REQUIRE(now_leader.has_value());
  BOOST_TEST(c.status_of(c.ids()[down]).leader == c.ids()[*now_leader]);
  // Reads through it see every write.
  BOOST_TEST(c.cli("get", {"k29"}, c.ids()[down]).out == "29\n");
}

// With a tiny threshold the leader compacts its log while a follower is
// down, so the follower can only catch up by snapshot (InstallSnapshot,
// §7, through the gate); then it and another member restart from their
// own snapshots and logs.
BOOST_AUTO_TEST_CASE(a_member_that_was_down_catches_up_by_snapshot) {
  auto opts = three();
  opts.snapshot_threshold = 20;
  kv_cluster c{opts};
  c.start_all();
  auto leader = c.await_leader(leader_timeout);
  BOOST_REQUIRE(leader.has_value());
  auto down = (*leader + 1) % 3;
  c.kill(down);
  for (int i = 0; i < 120; ++i)
    BOOST_REQUIRE(c.cli("put", {"k" + std::to_string(i), std::to_string(i)})
                    .code
                  == 0);
  auto commit = c.status_of(c.ids()[*leader]).commit;
  c.start(down);
  BOOST_TEST(c.await_applied(commit, milliseconds(20000)));
  // Kill the others: the caught-up member and one more must still hold
  // everything (the restarted one recovers from its snapshot and log).
  auto other = (down + 1) % 3;
  c.kill(3 - down - other);
  c.kill(other);
  c.start(other);
  BOOST_REQUIRE(c.await_leader(leader_timeout).has_value());
  for (int i = 0; i < 120; i += 17)
    BOOST_TEST(c.cli("get", {"k" + std::to_string(i)}, c.ids()[down]).out
               == std::to_string(i) + "\n");
}
