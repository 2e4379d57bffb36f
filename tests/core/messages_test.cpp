// Serialization round trips through CAF 0.17's binary serializer for every
// message of Figure 2 and every type inside them. Each field gets a distinct
// non-default value, so a field forgotten in inspect() shows up as a
// mismatch. Every strict prefix of an encoding must fail to decode with an
// error (a truncated network frame or record), never crash or succeed.
#define BOOST_TEST_MODULE core_messages_test
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "caf/binary_deserializer.hpp"
#include "caf/binary_serializer.hpp"
#include "caf/error.hpp"
#include "caf/sec.hpp"

#include "raft/messages.hpp"

#include "core_fixtures.hpp"

using namespace raft;
using namespace raft::test;

namespace {

using buffer = std::vector<char>;

// No actor system: the types hold only integers, strings and vectors, which
// CAF serializes without one (execution_unit* nullptr).
template <class T>
buffer serialize(T x) {
  buffer buf;
  caf::binary_serializer sink{nullptr, buf};
  auto err = sink(x);
  BOOST_REQUIRE_MESSAGE(!err, "serialization failed");
  return buf;
}

/// Deserializes the first `size` bytes of `buf` into `x`; on success also
/// requires that every byte was consumed.
template <class T>
caf::error deserialize(const buffer& buf, size_t size, T& x) {
  caf::binary_deserializer source{nullptr, buf.data(), size};
  if (auto err = source(x))
    return err;
  if (source.remaining() != 0)
    return caf::make_error(caf::sec::invalid_argument);
  return caf::none;
}

template <class T>
T round_trip(const T& x) {
  auto buf = serialize(x);
  T y;
  auto err = deserialize(buf, buf.size(), y);
  BOOST_REQUIRE_MESSAGE(!err, "deserialization failed");
  return y;
}

/// Every strict prefix of the encoding of `x` fails to decode.
template <class T>
void check_truncations_fail(const T& x) {
  auto buf = serialize(x);
  BOOST_REQUIRE(!buf.empty());
  for (size_t n = 0; n < buf.size(); ++n) {
    T y;
    auto err = deserialize(buf, n, y);
    BOOST_TEST(static_cast<bool>(err),
               "prefix of " << n << " of " << buf.size() << " bytes decoded");
  }
}

/// A payload with bytes a text protocol would choke on.
payload binary_payload() {
  return payload{std::string("\0\x01\xff\n{}\"", 7)};
}

entry_vector sample_entries() {
  entry_vector xs;
  auto a = make_entry(41, 7);
  a.data = binary_payload();
  xs.push_back(a);
  log_entry noop; // §8: the new leader's empty entry
  noop.index = 42;
  noop.term = 8;
  noop.kind = entry_kind::noop;
  xs.push_back(noop);
  xs.push_back(make_entry(43, 8));
  return xs;
}

} // namespace

// Figure 2 (log[]): an entry carries its term, index, kind and command.
BOOST_AUTO_TEST_CASE(log_entry_round_trip) {
  for (auto& x : sample_entries()) {
    auto y = round_trip(x);
    BOOST_TEST(y.term == x.term);
    BOOST_TEST(y.index == x.index);
    BOOST_TEST(static_cast<int>(y.kind) == static_cast<int>(x.kind));
    BOOST_TEST(y.data.bytes() == x.data.bytes());
    BOOST_CHECK(y == x);
    check_truncations_fail(x);
  }
}

// Commands are opaque bytes: empty, binary and large ones survive intact.
BOOST_AUTO_TEST_CASE(payload_round_trip) {
  for (auto& x : {payload{}, payload{""}, binary_payload(),
                  payload{std::string(100000, 'z')}}) {
    auto y = round_trip(x);
    BOOST_TEST(y.size() == x.size());
    BOOST_TEST(y.bytes() == x.bytes());
  }
  check_truncations_fail(binary_payload());
}

// Figure 2 (persistent state): currentTerm and votedFor.
BOOST_AUTO_TEST_CASE(hard_state_round_trip) {
  hard_state x;
  x.current_term = 12;
  x.voted_for = "10.0.0.2:4000";
  auto y = round_trip(x);
  BOOST_TEST(y.current_term == 12u);
  BOOST_TEST(y.voted_for == "10.0.0.2:4000");
  BOOST_CHECK(y == x);
  hard_state none; // votedFor null
  none.current_term = 3;
  BOOST_CHECK(round_trip(none) == none);
  check_truncations_fail(x);
  check_truncations_fail(none);
}

// §7: last included index and term.
BOOST_AUTO_TEST_CASE(snapshot_meta_round_trip) {
  snapshot_meta x{1000, 9};
  auto y = round_trip(x);
  BOOST_TEST(y.last_index == 1000u);
  BOOST_TEST(y.last_term == 9u);
  check_truncations_fail(x);
}

// Figure 2, RequestVote RPC arguments.
BOOST_AUTO_TEST_CASE(request_vote_request_round_trip) {
  auto x = make_vote_request(5, "10.0.0.3:4000", 17, 4);
  auto y = round_trip(x);
  BOOST_TEST(y.term == 5u);
  BOOST_TEST(y.candidate_id == "10.0.0.3:4000");
  BOOST_TEST(y.last_log_index == 17u);
  BOOST_TEST(y.last_log_term == 4u);
  check_truncations_fail(x);
}

// Thesis §9.6 and §3.10: the PreVote and transfer flags, and TimeoutNow.
BOOST_AUTO_TEST_CASE(pre_vote_and_timeout_now_round_trip) {
  auto x = make_vote_request(5, "10.0.0.3:4000", 17, 4);
  x.pre_vote = true;
  x.transfer = true;
  auto y = round_trip(x);
  BOOST_TEST(y.pre_vote);
  BOOST_TEST(y.transfer);
  request_vote_response r;
  r.pre_vote = true;
  BOOST_TEST(round_trip(r).pre_vote);
  timeout_now_request t{8, "10.0.0.5:4000"};
  auto u = round_trip(t);
  BOOST_TEST(u.term == 8u);
  BOOST_TEST(u.leader_id == "10.0.0.5:4000");
  check_truncations_fail(t);
}

// Figure 2, RequestVote RPC results (plus the voter's id).
BOOST_AUTO_TEST_CASE(request_vote_response_round_trip) {
  for (bool granted : {true, false}) {
    request_vote_response x;
    x.term = 6;
    x.from = "10.0.0.4:4000";
    x.vote_granted = granted;
    auto y = round_trip(x);
    BOOST_TEST(y.term == 6u);
    BOOST_TEST(y.from == "10.0.0.4:4000");
    BOOST_TEST(y.vote_granted == granted);
    check_truncations_fail(x);
  }
}

// Figure 2, AppendEntries RPC arguments, with entries and as a heartbeat.
BOOST_AUTO_TEST_CASE(append_entries_request_round_trip) {
  auto x = make_append(8, 40, 7, sample_entries(), 39);
  x.leader_id = "10.0.0.1:4000";
  auto y = round_trip(x);
  BOOST_TEST(y.term == 8u);
  BOOST_TEST(y.leader_id == "10.0.0.1:4000");
  BOOST_TEST(y.prev_log_index == 40u);
  BOOST_TEST(y.prev_log_term == 7u);
  BOOST_TEST(y.leader_commit == 39u);
  BOOST_REQUIRE(y.entries.size() == 3u);
  BOOST_CHECK(y.entries == x.entries);
  check_truncations_fail(x);
  auto heartbeat = make_append(8, 43, 8, {}, 43);
  auto z = round_trip(heartbeat);
  BOOST_TEST(z.entries.empty());
  BOOST_TEST(z.prev_log_index == 43u);
  BOOST_TEST(z.leader_commit == 43u);
  check_truncations_fail(heartbeat);
}

// Figure 2, AppendEntries RPC results, plus match_index, rejected_index and
// the fast-backtracking hint (§5.3).
BOOST_AUTO_TEST_CASE(append_entries_response_round_trip) {
  append_entries_response x;
  x.term = 9;
  x.from = "10.0.0.5:4000";
  x.success = false;
  x.match_index = 11;
  x.rejected_index = 12;
  x.conflict_index = 13;
  x.conflict_term = 14;
  auto y = round_trip(x);
  BOOST_TEST(y.term == 9u);
  BOOST_TEST(y.from == "10.0.0.5:4000");
  BOOST_TEST(!y.success);
  BOOST_TEST(y.match_index == 11u);
  BOOST_TEST(y.rejected_index == 12u);
  BOOST_TEST(y.conflict_index == 13u);
  BOOST_TEST(y.conflict_term == 14u);
  check_truncations_fail(x);
  x.success = true;
  BOOST_TEST(round_trip(x).success);
}

// Decoding into an object that already holds data replaces it entirely
// (a reused receive buffer must not leak old entries into a new message).
BOOST_AUTO_TEST_CASE(decoding_replaces_previous_contents) {
  auto buf = serialize(make_append(2, 0, 0, make_entries(1, {2})));
  auto y = make_append(1, 5, 1, sample_entries(), 4);
  BOOST_REQUIRE(!deserialize(buf, buf.size(), y));
  BOOST_TEST(y.entries.size() == 1u);
  BOOST_TEST(y.prev_log_index == 0u);
}
