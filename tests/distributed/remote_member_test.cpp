// spawn_remote_member through the library, in this process: the gate
// registered under server_name serves local actors with the member's own
// interface, remote nodes find it with remote_lookup but must open a
// session, and a client's session works.
#define BOOST_TEST_MODULE distributed_remote_member
#include <boost/test/unit_test.hpp>

#include "caf/actor_registry.hpp"
#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/io/middleman.hpp"
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
  // Local actors: the registry gives the gate, which speaks the member's
  // interface to them.
  auto name = caf::atom_from_string("kvgate");
  auto local = a.sys->registry().get<caf::actor>(name);
  BOOST_REQUIRE(local);
  BOOST_TEST((local == m->gate));
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
  // A remote node finds it by name, but may not use it without a session.
  system_with_remote b;
  auto hp = raft::split_host_port(cfg.host_port);
  auto gate = b.sys->middleman().remote_actor(hp->first, hp->second);
  BOOST_REQUIRE(gate);
  auto found = b.sys->middleman().remote_lookup(name, gate->node());
  BOOST_REQUIRE(found);
  BOOST_TEST((caf::actor_cast<caf::actor>(found) == *gate));
  caf::scoped_actor other{*b.sys};
  caf::error refused;
  other
    ->request(caf::actor_cast<caf::actor>(found), seconds(5),
              raft::append_atom::value, kv::put_cmd("k", "sneaky"))
    .receive([](raft::append_reply&) {}, [&](caf::error& e) { refused = e; });
  BOOST_TEST((refused == raft::make_error(raft::errc::access_denied)));
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
