// spawn_remote_member through the library, in this process: the member
// registered under server_name serves local actors, a remote process that
// skips the wire's handshake is closed without effect (the port does not
// speak BASP), and a client's session works.
#define BOOST_TEST_MODULE distributed_remote_member
#include <boost/test/unit_test.hpp>

#include "caf/actor_registry.hpp"
#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "raft/wire/messages.hpp"
#include "caf/scoped_actor.hpp"

#include "raft/client.hpp"
#include "raft/errc.hpp"
#include "raft/remote.hpp"

#include "kv_cluster.hpp"
#include "kv_command.hpp"
#include "kv_state_machine.hpp"

using namespace raft::dist;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

struct system_with_remote {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  system_with_remote() {
    BOOST_REQUIRE(!raft::configure_remote(cfg, {}));
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

} // namespace

BOOST_AUTO_TEST_CASE(server_name_lookup_and_sessions) {
  temp_dir dir;
  system_with_remote a;
  raft::config cfg;
  cfg.host_port = "127.0.0.1:" + std::to_string(free_port());
  cfg.server_name = "kvgate";
  cfg.log_dir = dir.path + "/log";
  raft::remote_options opts;
  opts.members = {cfg.host_port}; // a cluster of one
  auto m = raft::spawn_remote_member(*a.sys, cfg,
                                     std::make_shared<kv::machine>(), opts);
  BOOST_REQUIRE(m);
  caf::scoped_actor self{*a.sys};
  self->request(m->member, seconds(5), raft::start_atom::value)
    .receive([](caf::ok_atom) {}, [](caf::error&) { BOOST_FAIL("start"); });
  // Local actors: the registry gives the member.
  auto name = caf::atom_from_string("kvgate");
  auto local = a.sys->registry().get<caf::actor>(name);
  BOOST_REQUIRE(local);
  BOOST_TEST((local == caf::actor_cast<caf::actor>(m->member)));
  bool appended = false;
  BOOST_TEST(wait_until(
    [&] {
      self->request(local, seconds(5), raft::append_atom::value,
                    kv::put_cmd("k", "local"))
        .receive([&](raft::append_reply&) { appended = true; },
                 [](caf::error&) {});
      return appended;
    },
    milliseconds(10000), milliseconds(50)));
  // A remote process that sends a client request without the handshake:
  // closed, nothing appended.
  system_with_remote b;
  auto hp = raft::split_host_port(cfg.host_port);
  {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    BOOST_REQUIRE(fd >= 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(hp->second);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BOOST_REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa))
                  == 0);
    std::string frame;
    raft::wire::client_request req;
    req.id = 1;
    req.commands.emplace_back(kv::put_cmd("k", "sneaky"));
    raft::wire::encode(frame, req);
    BOOST_REQUIRE(::send(fd, frame.data(), frame.size(), 0)
                  == static_cast<ssize_t>(frame.size()));
    char buf[256];
    ssize_t n = 0;
    size_t got = 0;
    while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0)
      got += static_cast<size_t>(n);
    ::close(fd);
    // The member answered with a refuse frame at most, and closed.
    BOOST_TEST(got <= sizeof(buf));
  }
  caf::scoped_actor other{*b.sys};
  // With a session (the client library), it works.
  raft::client_options copts;
  copts.cluster = {cfg.host_port};
  auto client = raft::spawn_client(*b.sys, copts);
  BOOST_REQUIRE(client);
  std::string value;
  other->request(*client, seconds(10), raft::query_atom::value,
                 kv::get_cmd("k"))
    .receive([&](raft::append_reply& r) { value = r.result; },
             [&](caf::error& e) { BOOST_FAIL(b.sys->render(e)); });
  BOOST_TEST(value == "local");
  other->send_exit(*client, caf::exit_reason::user_shutdown);
  self->request(m->member, seconds(5), raft::stop_atom::value)
    .receive([](caf::ok_atom) {}, [](caf::error&) {});
}
