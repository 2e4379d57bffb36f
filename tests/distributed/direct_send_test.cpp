// Three remote members in this process (each in its own actor system, real
// sockets on 127.0.0.1) whose Raft RPCs leave through their sessions'
// channels (actors/peer_channel.hpp), not the link actors: they elect,
// replicate, count what they send per peer, and survive a follower's
// sessions dropping (its actor system ends: puts commit without it, what the
// leader would send it is dropped) and coming back (a new session, a new
// channel: the follower catches up and applies new puts).
#define BOOST_TEST_MODULE distributed_direct_send
#include <boost/test/unit_test.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scoped_actor.hpp"

#include "raft/errc.hpp"
#include "raft/metrics.hpp"
#include "raft/remote.hpp"

#include "kv_cluster.hpp"
#include "kv_command.hpp"
#include "kv_state_machine.hpp"

using namespace raft::dist;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

/// One member with its own actor system (ended to drop its sessions).
struct node {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  raft::member_actor member;

  node(const std::string& id, const std::string& dir,
       const std::vector<std::string>& ids) {
    BOOST_REQUIRE(!raft::configure_remote(cfg, {}));
    sys = std::make_unique<caf::actor_system>(cfg);
    raft::config c;
    c.host_port = id;
    c.log_dir = dir;
    c.heartbeat = milliseconds(20);
    raft::remote_options opts;
    opts.members = ids;
    auto m = raft::spawn_remote_member(*sys, c,
                                       std::make_shared<kv::machine>(), opts);
    if (!m)
      BOOST_FAIL(sys->render(m.error()));
    member = m->member;
    caf::scoped_actor self{*sys};
    self->request(member, seconds(5), raft::start_atom::value)
      .receive([](caf::ok_atom) {},
               [&](caf::error& e) { BOOST_FAIL(sys->render(e)); });
  }

  ~node() {
    // Stopped first: a remote member then quits, its transport, links and
    // listener with it (its sessions drop).
    {
      caf::scoped_actor self{*sys};
      self->request(member, seconds(5), raft::stop_atom::value)
        .receive([](caf::ok_atom) {}, [](caf::error&) {});
    }
    member = nullptr;
    sys.reset();
  }

  std::optional<raft::member_status> status() {
    std::optional<raft::member_status> out;
    caf::scoped_actor self{*sys};
    self->request(member, seconds(5), raft::status_atom::value)
      .receive([&](raft::member_status& s) { out = std::move(s); },
               [](caf::error&) {});
    return out;
  }

  std::optional<raft::member_metrics> metrics() {
    std::optional<raft::member_metrics> out;
    caf::scoped_actor self{*sys};
    self->request(member, seconds(5), raft::metrics_atom::value)
      .receive([&](raft::member_metrics& m) { out = std::move(m); },
               [](caf::error&) {});
    return out;
  }

  /// A put through this member (forwarded to the leader): true if applied.
  bool put(const std::string& key, const std::string& value) {
    bool ok = false;
    caf::scoped_actor self{*sys};
    self->request(member, seconds(10), raft::append_atom::value,
                  kv::put_cmd(key, value))
      .receive([&](raft::append_reply&) { ok = true; },
               [](caf::error&) {});
    return ok;
  }
};

/// The leader's index among `nodes` (all of which must see it), or -1.
int leader_of(std::vector<std::unique_ptr<node>>& nodes) {
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!nodes[i])
      continue;
    auto s = nodes[i]->status();
    if (s && s->role == raft::role::leader)
      return static_cast<int>(i);
  }
  return -1;
}

} // namespace

BOOST_AUTO_TEST_CASE(elects_replicates_and_survives_a_dropped_session) {
  temp_dir dir;
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back("127.0.0.1:" + std::to_string(free_port()));
  std::vector<std::unique_ptr<node>> nodes;
  for (int i = 0; i < 3; ++i)
    nodes.push_back(std::make_unique<node>(
      ids[static_cast<size_t>(i)], dir.path + "/m" + std::to_string(i), ids));
  // Elects.
  int lead = -1;
  BOOST_REQUIRE(wait_until([&] { return (lead = leader_of(nodes)) >= 0; },
                           milliseconds(20000), milliseconds(50)));
  // Replicates: every member applies every put.
  auto put_all = [&](node& via, int from, int to) {
    for (int k = from; k < to; ++k)
      if (!via.put("k" + std::to_string(k), "v" + std::to_string(k)))
        return false;
    return true;
  };
  auto& leader = *nodes[static_cast<size_t>(lead)];
  BOOST_REQUIRE(wait_until([&] { return put_all(leader, 0, 20); },
                           milliseconds(20000), milliseconds(50)));
  auto commit = leader.status()->commit_index;
  auto all_applied = [&](raft::index_t index) {
    for (auto& n : nodes) {
      auto s = n ? n->status() : std::nullopt;
      if (!s || s->last_applied < index)
        return false;
    }
    return true;
  };
  BOOST_REQUIRE(wait_until([&] { return all_applied(commit); },
                           milliseconds(10000)));
  // The counters stay right: the leader sent each follower messages and
  // the entries' bytes, and each follower received them.
  auto lm = leader.metrics();
  BOOST_REQUIRE(lm);
  BOOST_TEST(lm->peers.size() == 2u);
  for (auto& p : lm->peers) {
    BOOST_TEST(p.messages_sent > 0u);
    BOOST_TEST(p.bytes_sent >= 20u * 2u); // 20 puts of ("kN", "vN")
  }
  // A follower's sessions drop: its actor system ends.
  auto gone = static_cast<size_t>((lead + 1) % 3);
  auto other = static_cast<size_t>((lead + 2) % 3);
  nodes[gone].reset();
  // The two others still commit (a majority); the leader's messages for the
  // missing member are dropped while it is down.
  BOOST_REQUIRE(put_all(leader, 20, 40));
  commit = leader.status()->commit_index;
  BOOST_REQUIRE(wait_until(
    [&] {
      auto s = nodes[other]->status();
      return s && s->last_applied >= commit;
    },
    milliseconds(10000)));
  // It comes back on the same port and log: new sessions, new channels. It
  // catches up, and later puts reach it too (none went to a stale session).
  nodes[gone] = std::make_unique<node>(ids[gone],
                                       dir.path + "/m" + std::to_string(gone),
                                       ids);
  BOOST_REQUIRE(wait_until(
    [&] {
      auto s = nodes[gone]->status();
      return s && s->last_applied >= commit;
    },
    milliseconds(20000), milliseconds(50)));
  lead = leader_of(nodes);
  BOOST_REQUIRE(lead >= 0);
  auto& now_leading = *nodes[static_cast<size_t>(lead)];
  BOOST_REQUIRE(wait_until([&] { return put_all(now_leading, 40, 45); },
                           milliseconds(20000), milliseconds(50)));
  commit = now_leading.status()->commit_index;
  BOOST_REQUIRE(wait_until([&] { return all_applied(commit); },
                           milliseconds(10000)));
  auto back = nodes[gone]->metrics();
  BOOST_REQUIRE(back);
  uint64_t received = 0;
  for (auto& p : back->peers)
    received += p.messages_received;
  BOOST_TEST(received > 0u);
}
