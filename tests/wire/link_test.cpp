// The wire's sessions in one process (actors/wire_*.cpp, docs/wire.md): a
// real listener and a real dialed connection on the loopback, driven from
// scoped actors. Time passes for real here (the io thread's sweep runs
// every 50 ms), so the limits are shortened and the tests wait for events
// with deadlines instead of sleeping.
#define BOOST_TEST_MODULE wire_link
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scoped_actor.hpp"

#include "raft/messages.hpp"
#include "raft/remote.hpp"

#include "wire_engine.hpp"

using namespace std::chrono_literals;
using raft::wire::peer_kind;
using raft::wire::wire_down_atom;
using raft::wire::wire_up_atom;

namespace {

/// A port nobody listens on right now.
uint16_t free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a{io, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  return a.local_endpoint().port();
}

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;

  fixture() {
    BOOST_REQUIRE(!raft::configure_remote(cfg, raft::tls_options{}));
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

} // namespace

// a26497b: a dialed link pinged only after 200 ms without *sending*. The
// other side answers nothing but pongs on a dialed connection (its own RPCs
// travel on the connection it dialed), so a link that sends all the time
// (heartbeats, acknowledgements) never pinged, heard nothing back and was
// closed as silent after silence_timeout, then redialed, about once a second
// on an idle cluster. Links now ping on a schedule whatever they send.
// Here a link sends an AppendEntries, waits until the listener delivered
// it, and sends the next, for 10 x silence_timeout: it must stay up.
BOOST_FIXTURE_TEST_CASE(a_link_that_always_sends_is_not_closed_as_silent, fixture) {
  raft::wire::limits lim;
  lim.ping_interval = 20ms;
  lim.silence_timeout = 100ms;
  auto port = free_port();
  auto listener_id = "127.0.0.1:" + std::to_string(port);
  std::string dialer_id = "127.0.0.1:1";
  caf::scoped_actor member{*sys};
  caf::scoped_actor owner{*sys};
  auto listening = raft::wire::engine::make(listener_id, {}, lim);
  BOOST_REQUIRE(listening);
  raft::wire::listener_policy policy;
  policy.self_id = listener_id;
  policy.members = {listener_id, dialer_id};
  policy.member = caf::actor{member};
  policy.bridge = caf::actor{member};
  auto bound = (*listening)->listen("127.0.0.1", port, policy);
  BOOST_REQUIRE(bound);
  auto dialing = raft::wire::engine::make(dialer_id, {}, lim);
  BOOST_REQUIRE(dialing);
  auto conn = (*dialing)->dial(listener_id, peer_kind::member, caf::actor{owner});
  bool up = false;
  owner->receive([&](wire_up_atom, uint64_t) { up = true; },
                 caf::after(5s) >> [] {});
  BOOST_REQUIRE(up);
  size_t sent = 0, delivered = 0;
  auto until = std::chrono::steady_clock::now() + 10 * lim.silence_timeout;
  while (std::chrono::steady_clock::now() < until) {
    raft::append_entries_request ae;
    ae.term = 1;
    ae.leader_id = dialer_id;
    ae.leader_commit = sent;
    std::string frame;
    raft::wire::encode(frame, ae);
    conn->send(std::move(frame));
    ++sent;
    bool got = false;
    member->receive([&](raft::append_entries_request&) { got = true; },
                    caf::after(2s) >> [] {});
    if (!got)
      break;
    ++delivered;
  }
  BOOST_TEST_MESSAGE(sent << " sent, " << delivered << " delivered");
  BOOST_TEST(delivered == sent, "every AppendEntries arrived");
  BOOST_TEST(delivered > 10u);
  std::string down;
  owner->receive(
    [&](wire_down_atom, uint64_t, std::string& why, bool) { down = why; },
    caf::after(0ms) >> [] {});
  BOOST_TEST(down.empty(), "the link went down: " << down);
  conn->close();
  (*dialing)->shutdown();
  (*listening)->shutdown();
}
