// TLS and the access list, with certificates made by the openssl CLI
// (examples/kv/make-certs.sh) in a temporary directory: what is refused,
// that refusals are logged and change nothing, that an identity cannot be
// borrowed, and that refusals leave the members' own connections alone.
#define BOOST_TEST_MODULE distributed_security
#include <boost/test/unit_test.hpp>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scoped_actor.hpp"

#include "raft/messages.hpp"
#include "raft/remote.hpp"

#include "kv_cluster.hpp"
#include "remote_protocol.hpp"

using namespace raft::dist;
using std::chrono::milliseconds;

namespace {

constexpr auto leader_timeout = milliseconds(15000);

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

struct tls_cluster {
  temp_dir certs_dir;
  temp_dir rogue_dir;
  certs good;
  certs rogue;
  std::unique_ptr<kv_cluster> c;

  tls_cluster() {
    kv_cluster::options o;
    o.tls = certs{certs_dir.path};
    // "client" is the default identity of kv_cluster's own CLI calls.
    o.acl = {"client-a", "client"};
    c = std::make_unique<kv_cluster>(o);
    good = make_certs(certs_dir.path, {"client-a", "client-b"});
    // Another CA, with certificates for the same names.
    rogue = make_certs(rogue_dir.path, {"client-a", c->ids()[0]});
    c->start_all();
  }

  std::vector<std::string> cli(const std::string& cmd) const {
    return {raft_kv_binary(), cmd, "--cluster", c->members(), "--timeout",
            "2000"};
  }

  std::string all_logs() const {
    std::string s;
    for (size_t i = 0; i < c->size(); ++i)
      s += c->log(i);
    return s;
  }
};

/// A TLS handshake with openssl s_client; its output.
std::string s_client(const std::string& id, std::vector<std::string> extra) {
  std::vector<std::string> argv{"/usr/bin/openssl", "s_client", "-connect",
                                id};
  argv.insert(argv.end(), extra.begin(), extra.end());
  // stdin is /dev/null: it handshakes, reads until the server's verdict.
  auto r = run(argv, milliseconds(10000));
  return r.out + r.err;
}

} // namespace

BOOST_AUTO_TEST_CASE(tls_members_refuse_what_they_should) {
  tls_cluster t;
  auto& c = *t.c;
  BOOST_REQUIRE(c.await_leader(leader_timeout).has_value());
  // An identity on the access list reads and writes.
  BOOST_TEST(c.cli("put", {"k", "v"}, {}, "client-a").code == 0);
  BOOST_TEST(c.cli("get", {"k"}, {}, "client-a").out == "v\n");
  auto term_before = c.status_of(c.ids()[0]).term;
  // A valid certificate, not on the access list: refused, logged.
  auto argv = t.cli("put");
  auto b = t.good.options("client-b");
  argv.insert(argv.end(), b.begin(), b.end());
  argv.insert(argv.end(), {"k", "changed"});
  auto r = run(argv);
  BOOST_TEST(r.code == 1);
  BOOST_TEST(contains(r.err, "access_denied"));
  BOOST_TEST(contains(r.err, "not in the access list"));
  BOOST_TEST(wait_until([&] {
    return contains(t.all_logs(), "refused 'client-b'");
  }, milliseconds(5000)));
  // Plain TCP to a TLS member: refused, with a hint.
  argv = t.cli("put");
  argv.insert(argv.end(), {"k", "changed"});
  r = run(argv);
  BOOST_TEST(r.code == 1);
  BOOST_TEST(contains(r.err, "TLS"));
  // A client that trusts another CA refuses the members' certificates.
  argv = t.cli("put");
  auto rg = t.rogue.options("client-a");
  argv.insert(argv.end(), rg.begin(), rg.end());
  argv.insert(argv.end(), {"k", "changed"});
  r = run(argv);
  BOOST_TEST(r.code == 1);
  BOOST_TEST(contains(r.err, "CA did not issue"));
  // The members refuse a certificate from another CA, and no certificate.
  auto out = s_client(c.ids()[0], {"-cert", t.rogue.cert("client-a"), "-key",
                                   t.rogue.key("client-a"), "-CAfile",
                                   t.good.ca(), "-ign_eof"});
  BOOST_TEST_INFO(out);
  BOOST_TEST(contains(out, "unknown ca"));
  out = s_client(c.ids()[0], {"-CAfile", t.good.ca(), "-ign_eof"});
  BOOST_TEST_INFO(out);
  BOOST_TEST(contains(out, "certificate required"));
  // The member logs refusals at the TLS layer too (plain client, another
  // CA, no certificate), with the peer's address.
  BOOST_TEST(wait_until([&] {
    auto log = c.log(0);
    size_t n = 0;
    for (auto at = log.find("TLS handshake failed"); at != std::string::npos;
         at = log.find("TLS handshake failed", at + 1))
      ++n;
    return n >= 2 && contains(log, "wire: refused 127.0.0.1:");
  }, milliseconds(5000)));
  // Nothing changed, and the members' links survived all of it (a failed
  // TLS connection used to take healthy ones down with it).
  BOOST_TEST(c.cli("get", {"k"}, {}, "client-a").out == "v\n");
  BOOST_TEST(c.status_of(c.ids()[0]).term == term_before);
  BOOST_TEST_INFO(t.all_logs());
  BOOST_TEST(!contains(t.all_logs(), "lost the connection"));
  // Over TLS too, a crashed leader is replaced and, restarted, reconnects
  // (through both connection directions) and catches up.
  auto leader = c.await_leader(leader_timeout);
  BOOST_REQUIRE(leader.has_value());
  c.kill(*leader);
  BOOST_TEST(wait_until([&] {
    return c.cli("put", {"after", "crash"}, {}, "client-a",
                 milliseconds(5000)).code == 0;
  }, milliseconds(15000)));
  auto next = c.await_leader(leader_timeout);
  BOOST_REQUIRE(next.has_value());
  auto commit = c.status_of(c.ids()[*next]).commit;
  c.start(*leader);
  BOOST_TEST(c.await_applied(commit, milliseconds(15000)));
}

BOOST_AUTO_TEST_CASE(bad_tls_configurations_are_refused) {
  temp_dir dir;
  auto good = make_certs(dir.path, {"127.0.0.1:1", "127.0.0.1:2"});
  auto serve = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv{raft_kv_binary(), "serve",   "--id",
                                  "127.0.0.1:1",    "--members", "127.0.0.1:1,127.0.0.1:2",
                                  "--data",         dir.path + "/data"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run(argv, milliseconds(10000));
  };
  // Half-configured TLS.
  auto r = serve({"--tls-cert", good.cert("127.0.0.1:1")});
  BOOST_TEST(r.code == 2);
  BOOST_TEST(contains(r.err, "all three"));
  // An access list without TLS.
  r = serve({"--acl", "someone"});
  BOOST_TEST(r.code == 2);
  // A certificate that names another member.
  r = serve({"--tls-cert", good.cert("127.0.0.1:2"), "--tls-key",
             good.key("127.0.0.1:2"), "--tls-ca", good.ca()});
  BOOST_TEST(r.code == 2);
  BOOST_TEST(contains(r.err, "names '127.0.0.1:2'"));
  // A key that does not belong to the certificate.
  r = serve({"--tls-cert", good.cert("127.0.0.1:1"), "--tls-key",
             good.key("127.0.0.1:2"), "--tls-ca", good.ca()});
  BOOST_TEST(r.code == 2);
  BOOST_TEST(contains(r.err, "does not belong"));
}

// Identity binding: a session proves one identity, and messages inside it
// may not claim another; a client's session may not carry Raft RPCs at all.
BOOST_AUTO_TEST_CASE(a_session_cannot_claim_another_identity) {
  tls_cluster t;
  auto& c = *t.c;
  BOOST_REQUIRE(c.await_leader(leader_timeout).has_value());
  auto target = c.ids()[1];
  auto term_before = c.status_of(target).term;
  // Speak to member 1 with a valid identity over the wire.
  auto open_session = [&](const std::string& as, raft::wire::peer_kind kind,
                          caf::actor_system& sys,
                          caf::scoped_actor& self) -> caf::actor {
    raft::tls_options tls;
    tls.certificate = t.good.cert(as);
    tls.key = t.good.key(as);
    tls.ca_file = t.good.ca();
    auto eng = raft::wire::engine::make(as, tls);
    BOOST_REQUIRE(eng);
    auto link = raft::remote::spawn_link(sys, self, *eng, target, kind,
                                         milliseconds(5000));
    bool ready = false;
    self->receive([&](raft::remote::ready_atom, const std::string&) {
      ready = true;
    }, caf::after(std::chrono::seconds(10)) >> [] {});
    BOOST_REQUIRE(ready);
    return link;
  };
  {
    // As member 0 (its real certificate), claiming to be member 2.
    caf::actor_system_config cfg;
    raft::tls_options tls{t.good.cert(c.ids()[0]), t.good.key(c.ids()[0]),
                          t.good.ca()};
    BOOST_REQUIRE(!raft::configure_remote(cfg, tls));
    caf::actor_system sys{cfg};
    caf::scoped_actor self{sys};
    auto link = open_session(c.ids()[0], raft::wire::peer_kind::member, sys,
                             self);
    raft::request_vote_request forged;
    forged.term = term_before + 1000;
    forged.candidate_id = c.ids()[2];
    forged.last_log_index = 1u << 30;
    forged.last_log_term = term_before + 1000;
    self->send(link, forged);
    BOOST_TEST(wait_until([&] {
      return contains(c.log(1), "claims to come from '" + c.ids()[2] + "'");
    }, milliseconds(5000)));
    self->send_exit(link, caf::exit_reason::user_shutdown);
  }
  {
    // As a client on the access list: no Raft RPCs at all.
    caf::actor_system_config cfg;
    raft::tls_options tls{t.good.cert("client-a"), t.good.key("client-a"),
                          t.good.ca()};
    BOOST_REQUIRE(!raft::configure_remote(cfg, tls));
    caf::actor_system sys{cfg};
    caf::scoped_actor self{sys};
    auto link = open_session("client-a", raft::wire::peer_kind::client, sys,
                             self);
    raft::append_entries_request forged;
    forged.term = term_before + 1000;
    forged.leader_id = c.ids()[0];
    self->send(link, forged);
    BOOST_TEST(wait_until([&] {
      return contains(c.log(1), "Raft RPCs are for members only");
    }, milliseconds(5000)));
    self->send_exit(link, caf::exit_reason::user_shutdown);
  }
  // Neither changed the term (a forged vote request would have).
  BOOST_TEST(c.status_of(target).term == term_before);
}
