// A removed member among the addresses a client is given (issue 12): it
// answers every request with not_member, and the client library must then
// go on to the next member instead of failing. With real `raft-kv serve`
// processes: the first member of --cluster (the one a new CLI process asks
// first) is removed, and `member add --learner`, `put`, `member promote`
// and `member list` through the same --cluster still succeed. Before the
// fix `member add` failed at once with not_member (exit 1), as the chaos
// test's membership nemesis first showed.
#define BOOST_TEST_MODULE distributed_removed_member
#include <boost/test/unit_test.hpp>

#include "kv_cluster.hpp"

using namespace raft::dist;
using std::chrono::milliseconds;

BOOST_AUTO_TEST_CASE(clients_pass_over_a_removed_member) {
  kv_cluster c{kv_cluster::options{}};
  c.start_all();
  BOOST_REQUIRE(c.await_leader(milliseconds(15000)).has_value());
  auto first = c.ids()[0];
  auto removed = c.cli("member", {"remove", first});
  BOOST_TEST_INFO(removed.out << removed.err);
  BOOST_REQUIRE(removed.code == 0);
  // The removed member refuses (not_member): certainly not applied.
  auto put_direct = c.cli("put", {"--timeout", "2000", "k", "direct"}, first);
  BOOST_TEST_MESSAGE("put to the removed member alone: exit " << put_direct.code
                     << ": " << put_direct.err);
  BOOST_TEST(put_direct.code == 1, "refused: certainly not applied");
  // Through the whole list (removed member first), everything passes.
  auto put = c.cli("put", {"--timeout", "5000", "k", "v"});
  BOOST_TEST_INFO(put.out << put.err);
  BOOST_TEST(put.code == 0);
  auto added = c.cli("member", {"--timeout", "10000", "add", first, "--learner"});
  BOOST_TEST_INFO(added.out << added.err);
  BOOST_TEST(added.code == 0);
  auto promoted = c.cli("member", {"--timeout", "10000", "promote", first});
  BOOST_TEST_INFO(promoted.out << promoted.err);
  BOOST_TEST(promoted.code == 0);
  auto listed = c.cli("member", {"list"});
  BOOST_TEST_INFO(listed.out << listed.err);
  auto voters = listed.out.substr(0, listed.out.find('\n'));
  for (auto& id : c.ids())
    BOOST_TEST(voters.find(id) != std::string::npos, id << " votes");
  BOOST_TEST(listed.out.find("learners: -") != std::string::npos);
}
