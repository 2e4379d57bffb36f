// The wire's membership frames (docs/wire.md, version 3): requests and
// replies round-trip, status_reply carries the configuration, and what a
// peer sends is bounded and checked: a list count never reserves more
// than the bytes present, an unsorted or overlapping configuration is
// malformed, and each operation carries exactly its own fields.
#define BOOST_TEST_MODULE wire_membership_codec
#include <boost/test/unit_test.hpp>

#include <string>

#include "raft/errc.hpp"
#include "raft/wire/frame.hpp"
#include "raft/wire/messages.hpp"

using namespace raft;
using namespace raft::wire;

namespace {

/// The payload of the single frame in `bytes` (header checked).
std::string payload_of(const std::string& bytes, frame_type expected) {
  frame_decoder dec{default_max_payload};
  std::string out;
  size_t frames = 0;
  auto err = dec.feed(bytes.data(), bytes.size(),
                      [&](frame_type t, std::string_view p) {
                        BOOST_TEST((t == expected));
                        out = std::string{p};
                        ++frames;
                        return true;
                      });
  BOOST_REQUIRE(err == decode_error::none);
  BOOST_REQUIRE_EQUAL(frames, 1u);
  return out;
}

cluster_configuration joint_sample() {
  cluster_configuration x;
  x.voters = {"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:4"};
  x.learners = {"127.0.0.1:5"};
  x.old_voters = {"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"};
  return x;
}

template <class T>
std::string encoded(const T& x, frame_type type) {
  std::string bytes;
  encode(bytes, x);
  return payload_of(bytes, type);
}

} // namespace

BOOST_AUTO_TEST_CASE(membership_requests_round_trip) {
  membership_request add;
  add.id = 7;
  add.op = membership_op::add_learner;
  add.member = "127.0.0.1:5";
  add.promote = true;
  membership_request back;
  BOOST_TEST(decode(encoded(add, frame_type::membership_request), back));
  BOOST_TEST(back.id == 7u);
  BOOST_TEST((back.op == membership_op::add_learner));
  BOOST_TEST(back.member == "127.0.0.1:5");
  BOOST_TEST(back.promote);
  BOOST_TEST(back.target.empty());
  membership_request re;
  re.id = 8;
  re.op = membership_op::reconfigure;
  re.target.voters = {"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:4"};
  BOOST_TEST(decode(encoded(re, frame_type::membership_request), back));
  BOOST_TEST((back.op == membership_op::reconfigure));
  BOOST_TEST((back.target == re.target));
  for (auto op : {membership_op::promote, membership_op::remove,
                  membership_op::transfer}) {
    membership_request x;
    x.id = 9;
    x.op = op;
    x.member = "127.0.0.1:3";
    BOOST_TEST(decode(encoded(x, frame_type::membership_request), back));
    BOOST_TEST((back.op == op));
    BOOST_TEST(!back.promote);
  }
  membership_request list;
  list.op = membership_op::members;
  BOOST_TEST(decode(encoded(list, frame_type::membership_request), back));
  BOOST_TEST(!changes_cluster(back.op));
  BOOST_TEST(changes_cluster(membership_op::transfer));
}

BOOST_AUTO_TEST_CASE(membership_replies_round_trip) {
  membership_reply ok{3, joint_sample(), {}};
  membership_reply back;
  BOOST_TEST(decode(encoded(ok, frame_type::membership_reply), back));
  BOOST_TEST(back.id == 3u);
  BOOST_TEST(!back.error);
  BOOST_TEST((back.configuration == joint_sample()));
  BOOST_TEST(back.configuration.joint());
  // Errors added with membership (the last errc values) travel too: a
  // client must learn not_caught_up, not a malformed reply.
  for (auto code : {errc::change_in_progress, errc::not_caught_up,
                    errc::not_member, errc::entry_too_large}) {
    membership_reply bad{4, {}, make_error(code, "ctx")};
    membership_reply b;
    BOOST_TEST(decode(encoded(bad, frame_type::membership_reply), b));
    BOOST_TEST((b.error == make_error(code)));
  }
  membership_reply redirect{5, {}, make_error(errc::not_leader, "127.0.0.1:2")};
  BOOST_TEST(decode(encoded(redirect, frame_type::membership_reply), back));
  BOOST_TEST(back.error.context().get_as<std::string>(0) == "127.0.0.1:2");
}

BOOST_AUTO_TEST_CASE(status_reply_carries_the_configuration) {
  status_reply x;
  x.id = 4;
  x.status.id = "127.0.0.1:1";
  x.status.role = role::leader;
  x.status.members = {"127.0.0.1:1", "127.0.0.1:2"};
  x.status.configuration = joint_sample();
  status_reply back;
  BOOST_TEST(decode(encoded(x, frame_type::status_reply), back));
  BOOST_TEST((back.status.configuration == joint_sample()));
  // A member waiting to join has no configuration at all.
  x.status.configuration = {};
  BOOST_TEST(decode(encoded(x, frame_type::status_reply), back));
  BOOST_TEST(back.status.configuration.empty());
}

// What no correct peer sends is malformed (the session closes).
BOOST_AUTO_TEST_CASE(malformed_membership_frames_are_refused) {
  membership_request back;
  auto with = [](membership_op op, std::string member, bool promote,
                 cluster_configuration target) {
    membership_request x;
    x.op = op;
    x.member = std::move(member);
    x.promote = promote;
    x.target = std::move(target);
    return encoded(x, frame_type::membership_request);
  };
  cluster_configuration one;
  one.voters = {"a:1"};
  // Each operation with its own fields only.
  BOOST_TEST(!decode(with(membership_op::remove, "", false, {}), back));
  BOOST_TEST(!decode(with(membership_op::promote, "a:1", true, {}), back));
  BOOST_TEST(!decode(with(membership_op::members, "a:1", false, {}), back));
  BOOST_TEST(!decode(with(membership_op::reconfigure, "", false, {}), back));
  BOOST_TEST(!decode(with(membership_op::remove, "a:1", false, one), back));
  // An unsorted list, a member twice, a learner that votes.
  cluster_configuration bad;
  bad.voters = {"b:1", "a:1"};
  BOOST_TEST(!decode(with(membership_op::reconfigure, "", false, bad), back));
  bad.voters = {"a:1", "a:1"};
  BOOST_TEST(!decode(with(membership_op::reconfigure, "", false, bad), back));
  bad.voters = {"a:1"};
  bad.learners = {"a:1"};
  BOOST_TEST(!decode(with(membership_op::reconfigure, "", false, bad), back));
  // An unknown operation.
  auto p = with(membership_op::remove, "a:1", false, {});
  p[8] = 7;
  BOOST_TEST(!decode(p, back));
  // Every truncation, and a trailing byte.
  p = with(membership_op::reconfigure, "", false, joint_sample());
  for (size_t n = 0; n < p.size(); ++n)
    BOOST_TEST(!decode(std::string_view{p}.substr(0, n), back));
  BOOST_TEST(!decode(p + "x", back));
}

// A list count claiming 2^30 members reserves nothing beyond the frame.
BOOST_AUTO_TEST_CASE(claimed_list_counts_are_bounded_by_the_payload) {
  membership_reply x{1, joint_sample(), {}};
  auto p = encoded(x, frame_type::membership_reply);
  // The voters' count follows the id (u64) and the ok byte.
  auto forged = p;
  forged[9 + 3] = '\x40';
  membership_reply back;
  BOOST_TEST(!decode(forged, back));
  BOOST_TEST(back.configuration.voters.capacity() < 1000u);
  // A member id that claims 4 GiB.
  forged = p;
  for (int i = 0; i < 4; ++i)
    forged[13 + i] = '\xff';
  BOOST_TEST(!decode(forged, back));
}

BOOST_AUTO_TEST_CASE(version_2_frames_are_refused) {
  // Version 3 added the membership frames and status_reply's
  // configuration: a version 2 peer would misread them.
  BOOST_TEST(frame_version == 3);
  std::string h(header_size, '\0');
  h[0] = static_cast<char>(frame_magic);
  h[1] = 2;
  h[2] = static_cast<char>(frame_type::ping);
  frame_decoder dec{default_max_payload};
  auto err = dec.feed(h.data(), h.size(),
                      [](frame_type, std::string_view) { return true; });
  BOOST_TEST((err == decode_error::bad_version));
}
