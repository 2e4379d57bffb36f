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
#include <sys/time.h>

#include <cerrno>
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
  // A command larger than a frame may carry is refused before it is sent
  // (docs/wire.md, "Limits"); the session stays usable.
  caf::error too_big;
  other->request(*client, seconds(10), raft::append_atom::value,
                 kv::put_cmd("big", std::string(5u << 20, 'x')))
    .receive([](raft::append_reply&) {}, [&](caf::error& e) { too_big = e; });
  BOOST_TEST((too_big == raft::make_error(raft::errc::invalid_config)));
  value.clear();
  other->request(*client, seconds(10), raft::query_atom::value,
                 kv::get_cmd("k"))
    .receive([&](raft::append_reply& r) { value = r.result; },
             [&](caf::error& e) { BOOST_FAIL(b.sys->render(e)); });
  BOOST_TEST(value == "local");
  other->send_exit(*client, caf::exit_reason::user_shutdown);
  self->request(m->member, seconds(5), raft::stop_atom::value)
    .receive([](caf::ok_atom) {}, [](caf::error&) {});
}

namespace {

/// A raw TCP connection to 127.0.0.1:port (blocking, with a receive
/// timeout), or -1.
int raw_connect(uint16_t port, int timeout_ms) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// True if the member closed the connection (EOF) before the timeout.
bool closed_by_peer(int fd) {
  char buf[64];
  for (;;) {
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n == 0)
      return true;
    if (n < 0)
      return errno == ECONNRESET;
  }
}

} // namespace

// docs/wire.md, "Limits": a header announcing more than the limit closes the
// connection at once; connections that never finish the handshake are closed
// at the deadline, and beyond max_unauthenticated the oldest goes first; the
// member keeps serving throughout.
BOOST_AUTO_TEST_CASE(listener_limits) {
  temp_dir dir;
  system_with_remote a;
  raft::config cfg;
  cfg.host_port = "127.0.0.1:" + std::to_string(free_port());
  cfg.log_dir = dir.path + "/log";
  raft::remote_options opts;
  opts.members = {cfg.host_port};
  opts.limits.handshake_timeout = milliseconds(300);
  opts.limits.max_unauthenticated = 4;
  auto m = raft::spawn_remote_member(*a.sys, cfg,
                                     std::make_shared<kv::machine>(), opts);
  BOOST_REQUIRE(m);
  caf::scoped_actor self{*a.sys};
  self->request(m->member, seconds(5), raft::start_atom::value)
    .receive([](caf::ok_atom) {}, [](caf::error&) { BOOST_FAIL("start"); });
  auto port = m->port;
  {
    // 1 GiB announced in a hello header: closed long before any deadline.
    int fd = raw_connect(port, 200);
    BOOST_REQUIRE(fd >= 0);
    unsigned char hdr[8] = {0xCA, 2, 1, 0, 0, 0, 0, 0x40};
    BOOST_REQUIRE(::send(fd, hdr, sizeof(hdr), 0) == 8);
    BOOST_TEST(closed_by_peer(fd));
    ::close(fd);
  }
  {
    // Ten silent connections: at most four stay past the others' arrival,
    // and none outlives the handshake deadline.
    std::vector<int> fds;
    for (int i = 0; i < 10; ++i) {
      auto fd = raw_connect(port, 2000);
      BOOST_REQUIRE(fd >= 0);
      fds.push_back(fd);
    }
    auto t0 = std::chrono::steady_clock::now();
    for (auto fd : fds) {
      BOOST_TEST(closed_by_peer(fd));
      ::close(fd);
    }
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < milliseconds(1500)));
  }
  // And it still serves a client.
  system_with_remote b;
  raft::client_options copts;
  copts.cluster = {cfg.host_port};
  auto client = raft::spawn_client(*b.sys, copts);
  BOOST_REQUIRE(client);
  caf::scoped_actor other{*b.sys};
  bool ok = false;
  other->request(*client, seconds(10), raft::append_atom::value,
                 kv::put_cmd("k", "v"))
    .receive([&](raft::append_reply&) { ok = true; },
             [&](caf::error& e) { BOOST_FAIL(b.sys->render(e)); });
  BOOST_TEST(ok);
  other->send_exit(*client, caf::exit_reason::user_shutdown);
  self->request(m->member, seconds(5), raft::stop_atom::value)
    .receive([](caf::ok_atom) {}, [](caf::error&) {});
}
