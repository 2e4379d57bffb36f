// Membership changes are administrative (docs/operations.md, docs/wire.md):
// with `serve --admins`, an identity outside the admin list gets
// access_denied (exit 1, nothing changed) and may still read the
// configuration; an admin's request reaches the member.
#define BOOST_TEST_MODULE distributed_admin
#include <boost/test/unit_test.hpp>

#include "kv_cluster.hpp"

using namespace raft::dist;
using std::chrono::milliseconds;

BOOST_AUTO_TEST_CASE(only_admins_change_the_members) {
  temp_dir certs_dir;
  kv_cluster::options o;
  o.tls = certs{certs_dir.path};
  o.serve_args = {"--admins", "admin"};
  kv_cluster c{o};
  make_certs(certs_dir.path, {"admin"});
  c.start_all();
  BOOST_REQUIRE(c.await_leader(milliseconds(15000)).has_value());
  auto denied = c.cli("member", {"remove", c.ids()[2]}, {}, "client");
  BOOST_TEST_INFO(denied.out << denied.err);
  BOOST_TEST(denied.code == 1);
  BOOST_TEST(denied.err.find("access_denied") != std::string::npos);
  auto listed = c.cli("member", {"list"}, {}, "client");
  BOOST_TEST_INFO(listed.out << listed.err);
  BOOST_TEST(listed.code == 0);
  BOOST_TEST(listed.out.find(c.ids()[2]) != std::string::npos);
  // The admin passes the listener: whatever the member answers, it is not
  // the admin list's refusal.
  auto admin = c.cli("member", {"--timeout", "2000", "remove", "127.0.0.1:1"},
                     {}, "admin");
  BOOST_TEST_INFO(admin.out << admin.err);
  BOOST_TEST(admin.err.find("admin list") == std::string::npos);
  bool logged = false;
  for (size_t i = 0; i < c.size(); ++i)
    logged = logged
             || c.log(i).find("may not change the cluster") != std::string::npos;
  BOOST_TEST(logged);
}
