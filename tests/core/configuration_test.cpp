// The cluster configuration (thesis chapter 4) as data: its invariants, and
// the configuration entry's codec, which reads bytes that came from the log
// or from the network and so must refuse anything malformed without trusting
// its counts.
#define BOOST_TEST_MODULE core_configuration_test
#include <boost/test/unit_test.hpp>

#include <string>

#include "raft/core/configuration.hpp"
#include "raft/errc.hpp"

using namespace raft;

namespace {

cluster_configuration make(std::vector<member_id> voters,
                           std::vector<member_id> learners = {},
                           std::vector<member_id> old_voters = {}) {
  cluster_configuration x;
  x.voters = std::move(voters);
  x.learners = std::move(learners);
  x.old_voters = std::move(old_voters);
  return x;
}

std::string le32(uint32_t x) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i)
    out[i] = static_cast<char>((x >> (8 * i)) & 0xff);
  return out;
}

std::string code_of(const caf::error& err) {
  return err ? to_string(static_cast<errc>(err.code())) : "none";
}

} // namespace

BOOST_AUTO_TEST_CASE(joint_configuration_counts_voters_of_both) {
  // Thesis §4.3: while joint, C_old's and C_new's voters both vote.
  auto x = make({"b:1", "c:1", "d:1"}, {"e:1"}, {"a:1", "b:1", "c:1"});
  BOOST_TEST(x.joint());
  BOOST_TEST(x.is_voter("a:1"));
  BOOST_TEST(x.is_voter("d:1"));
  BOOST_TEST(!x.is_voter("e:1"));
  BOOST_TEST(x.is_learner("e:1"));
  BOOST_TEST(!x.contains("f:1"));
  auto all = x.members();
  BOOST_TEST(all == (std::vector<member_id>{"a:1", "b:1", "c:1", "d:1", "e:1"}));
}

BOOST_AUTO_TEST_CASE(check_refuses_broken_invariants) {
  BOOST_TEST(!check(make({"a:1", "b:1"})));
  BOOST_TEST(!check(cluster_configuration{}));
  // Unsorted or duplicated lists, a learner that votes, no voter at all.
  BOOST_TEST(code_of(check(make({"b:1", "a:1"}))) == "invalid_config");
  BOOST_TEST(code_of(check(make({"a:1", "a:1"}))) == "invalid_config");
  BOOST_TEST(code_of(check(make({"a:1"}, {"a:1"}))) == "invalid_config");
  BOOST_TEST(code_of(check(make({"a:1"}, {"b:1"}, {"b:1"})))
             == "invalid_config");
  BOOST_TEST(code_of(check(make({}, {"b:1"}))) == "invalid_config");
  BOOST_TEST(code_of(check(make({""}))) == "invalid_config");
  auto x = make({"b:1", "a:1", "b:1"});
  x.normalize();
  BOOST_TEST(!check(x));
}

BOOST_AUTO_TEST_CASE(codec_round_trips) {
  for (auto& x : {make({"a:1"}), make({"a:1", "b:2", "c:3"}, {"d:4"}),
                  make({"b:2", "c:3"}, {}, {"a:1", "b:2"}),
                  cluster_configuration{}}) {
    auto decoded = decode_configuration(encode_configuration(x));
    BOOST_REQUIRE(decoded);
    BOOST_TEST((*decoded == x));
  }
}

BOOST_AUTO_TEST_CASE(codec_refuses_malformed_payloads) {
  auto good = encode_configuration(make({"a:1", "b:2"}, {"c:3"})).bytes();
  // Every strict prefix is malformed, and so is a trailing byte.
  for (size_t n = 0; n < good.size(); ++n) {
    auto r = decode_configuration(payload{good.substr(0, n)});
    BOOST_TEST(!r, "prefix of " << n << " bytes accepted");
  }
  BOOST_TEST(!decode_configuration(payload{good + "x"}));
  // A count of 2^32 - 1 members in a few bytes: refused before any
  // allocation sized by it (the test would run out of memory otherwise).
  auto hostile = le32(0xffffffffu) + le32(0) + le32(0);
  auto r = decode_configuration(payload{hostile});
  BOOST_REQUIRE(!r);
  BOOST_TEST(code_of(r.error()) == "corrupt_record");
  // A member whose length runs past the end.
  BOOST_TEST(!decode_configuration(
    payload{le32(1) + le32(1000) + "a:1" + le32(0) + le32(0)}));
  // Well formed but invalid: a learner that is also a voter.
  auto invalid = le32(1) + le32(3) + "a:1" + le32(1) + le32(3) + "a:1"
                 + le32(0);
  auto v = decode_configuration(payload{invalid});
  BOOST_REQUIRE(!v);
  BOOST_TEST(code_of(v.error()) == "corrupt_record");
}
