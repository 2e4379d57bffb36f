// A member's Raft RPCs to a remote peer go through the channel its
// transport gave with the peer's link (actors/peer_channel.hpp), not through
// the link actor; while the session is down nothing is sent; a new session
// (new link, new channel) gets everything after, the old channel nothing.
// Deterministic: CAF's test coordinator, a fake transport, recording
// channels and a recording link.
#define BOOST_TEST_MODULE actors_peer_channel
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <algorithm>
#include <string>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scheduler/test_coordinator.hpp"
#include "caf/send.hpp"

#include "raft/member.hpp"
#include "raft/storage/memory_storage.hpp"

#include "kv_machine.hpp"
#include "peer_channel.hpp"

using namespace raft;
using namespace std::chrono_literals;

namespace {

const member_id self_id = "10.0.0.1:7001";
const member_id peer_id = "10.0.0.2:7002";

/// What a channel was given: the RPCs' names, in order.
class recording_channel : public peer_channel {
public:
  std::vector<std::string> sent;
  void send(const request_vote_request&) override {
    sent.emplace_back("vote_request");
  }
  void send(const request_vote_response&) override {
    sent.emplace_back("vote_response");
  }
  void send(const append_entries_request&) override {
    sent.emplace_back("append_request");
  }
  void send(const append_entries_response&) override {
    sent.emplace_back("append_response");
  }
  void send(const install_snapshot_request&) override {
    sent.emplace_back("snapshot_request");
  }
  void send(const install_snapshot_response&) override {
    sent.emplace_back("snapshot_response");
  }
  void send(const timeout_now_request&) override {
    sent.emplace_back("timeout_now");
  }
};

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  member_actor member;
  /// Messages that reached the (fake) link actors, by link.
  std::shared_ptr<std::vector<int>> link_messages
    = std::make_shared<std::vector<int>>(2, 0);
  caf::actor links[2];
  caf::actor transport;

  fixture() {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.verbosity", caf::atom("quiet"));
    add_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    for (int i = 0; i < 2; ++i) {
      auto counts = link_messages;
      links[i] = sys->spawn([counts, i](caf::event_based_actor* self) {
        self->set_default_handler([counts, i](caf::scheduled_actor*,
                                              caf::message_view&) {
          ++(*counts)[static_cast<size_t>(i)];
          return caf::message{};
        });
        return caf::behavior{[](int) {}};
      });
    }
    transport = sys->spawn([](caf::event_based_actor*) {
      return caf::behavior{[](caf::connect_atom, const member_id&) {}};
    });
    config c;
    c.host_port = self_id;
    c.heartbeat = 10ms;
    c.random_seed = 1;
    c.log.threshold = log_level::off;
    auto m = spawn_member(*sys, c, std::make_shared<test::kv_machine>(),
                          std::make_shared<memory_storage>(),
                          caf::actor_cast<transport_actor>(transport));
    if (!m)
      BOOST_FAIL(sys->render(m.error()));
    member = *m;
    sched->run();
    auto dest = caf::actor_cast<caf::actor>(member);
    caf::anon_send(dest, caf::add_atom::value, peer_id);
    sched->run();
    caf::anon_send(dest, start_atom::value);
    sched->run();
  }

  ~fixture() {
    caf::anon_send_exit(caf::actor_cast<caf::actor>(member),
                        caf::exit_reason::user_shutdown);
    for (auto& l : links)
      caf::anon_send_exit(l, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(transport, caf::exit_reason::user_shutdown);
    sched->run();
  }

  /// What the transport sends when a session stands (remote_transport.cpp).
  void session_up(int link, std::shared_ptr<recording_channel> ch) {
    caf::anon_send(caf::actor_cast<caf::actor>(member), peer_atom::value,
                   peer_id, caf::actor_cast<peer_actor>(links[link]),
                   peer_channel_ptr{std::move(ch)});
    sched->run();
  }

  /// ... and when it is gone.
  void session_down() {
    caf::anon_send(caf::actor_cast<caf::actor>(member), peer_atom::value,
                   peer_id, peer_actor{});
    sched->run();
  }

  /// Starts an election now (no PreVote): a RequestVote for the peer.
  void elect() {
    caf::anon_send(caf::actor_cast<caf::actor>(member), election_atom::value);
    sched->run();
  }

  /// The peer's vote, as its session would deliver it.
  void vote_from_peer(term_t term) {
    caf::anon_send(caf::actor_cast<caf::actor>(member),
                   request_vote_response{term, peer_id, true, false});
    sched->run();
  }

  /// The member's status (term, role).
  member_status status() {
    std::optional<member_status> out;
    auto dest = caf::actor_cast<caf::actor>(member);
    auto* slot = &out;
    sys->spawn([=](caf::event_based_actor* self) {
      self->request(dest, caf::infinite, status_atom::value)
        .then([=](member_status& s) { *slot = std::move(s); });
    });
    sched->run();
    BOOST_REQUIRE(out);
    return *out;
  }
};

size_t count(const std::vector<std::string>& xs, const std::string& x) {
  return static_cast<size_t>(std::count(xs.begin(), xs.end(), x));
}

} // namespace

BOOST_FIXTURE_TEST_CASE(rpcs_go_through_the_channel_not_the_link, fixture) {
  auto ch = std::make_shared<recording_channel>();
  session_up(0, ch);
  elect();
  BOOST_TEST(count(ch->sent, "vote_request") == 1u);
  BOOST_TEST((*link_messages)[0] == 0);
  // Elected with the peer's vote: AppendEntries (the leader's no-op and
  // heartbeats) take the same way.
  vote_from_peer(status().term);
  BOOST_TEST((status().role == role::leader));
  BOOST_TEST(count(ch->sent, "append_request") >= 1u);
  BOOST_TEST((*link_messages)[0] == 0);
  // The counters still count them (messages_sent, per peer in metrics).
  BOOST_TEST(status().counters.messages_sent == ch->sent.size());
}

BOOST_FIXTURE_TEST_CASE(nothing_while_down_and_nothing_on_a_stale_session,
                        fixture) {
  auto first = std::make_shared<recording_channel>();
  session_up(0, first);
  elect();
  BOOST_TEST(first->sent.size() == 1u);
  // The session drops: the next election's RequestVote goes nowhere (Raft
  // tolerates the loss), neither to the old channel nor to a link.
  session_down();
  elect();
  BOOST_TEST(first->sent.size() == 1u);
  BOOST_TEST((*link_messages)[0] == 0);
  // A new session: everything goes to its channel, none to the old one.
  auto second = std::make_shared<recording_channel>();
  session_up(1, second);
  elect();
  BOOST_TEST(count(second->sent, "vote_request") == 1u);
  vote_from_peer(status().term);
  BOOST_TEST((status().role == role::leader));
  BOOST_TEST(count(second->sent, "append_request") >= 1u);
  BOOST_TEST(first->sent.size() == 1u);
  BOOST_TEST((*link_messages)[0] == 0);
  BOOST_TEST((*link_messages)[1] == 0);
}

BOOST_FIXTURE_TEST_CASE(a_handle_without_a_channel_gets_plain_sends,
                        fixture) {
  // First a remote session, then the transport reports a handle without a
  // channel (as an in-process peer is reached): the plain CAF send to that
  // handle, and the old channel gets nothing more.
  auto ch = std::make_shared<recording_channel>();
  session_up(0, ch);
  elect();
  BOOST_TEST(ch->sent.size() == 1u);
  caf::anon_send(caf::actor_cast<caf::actor>(member), peer_atom::value,
                 peer_id, caf::actor_cast<peer_actor>(links[1]));
  sched->run();
  elect();
  BOOST_TEST(ch->sent.size() == 1u);
  BOOST_TEST((*link_messages)[1] == 1);
}
