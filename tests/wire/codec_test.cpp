// The wire's codec (docs/wire.md): every frame type round-trips, the decoder
// yields the same frames whatever the chunking, and what a peer announces
// (a frame length, a string length, an element count) never allocates more
// than the bytes that actually arrived.
#define BOOST_TEST_MODULE wire_codec
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>
#include <vector>

#include "raft/errc.hpp"
#include "raft/wire/frame.hpp"
#include "raft/wire/messages.hpp"

namespace raft::wire {

std::ostream& operator<<(std::ostream& os, decode_error x) {
  return os << to_string(x);
}

} // namespace raft::wire

namespace raft {

// For Boost.Test's messages.
std::ostream& operator<<(std::ostream& os, const cluster_configuration& x) {
  return os << to_string(x);
}

} // namespace raft

using namespace raft;
using namespace raft::wire;

namespace {

struct frame {
  frame_type type;
  std::string payload;
};

/// Feeds `bytes` in chunks of `chunk`; the frames, and the final error.
std::pair<std::vector<frame>, decode_error>
decode_all(const std::string& bytes, size_t chunk,
           uint32_t limit = default_max_payload) {
  frame_decoder dec{limit};
  std::vector<frame> out;
  decode_error err = decode_error::none;
  for (size_t i = 0; i < bytes.size() && err == decode_error::none;
       i += chunk) {
    auto n = std::min(chunk, bytes.size() - i);
    err = dec.feed(bytes.data() + i, n, [&](frame_type t, std::string_view p) {
      out.push_back(frame{t, std::string{p}});
      return true;
    });
  }
  return {out, err};
}

std::string header(uint8_t magic, uint8_t version, uint8_t type,
                   uint8_t flags, uint32_t length) {
  std::string h(header_size, '\0');
  h[0] = static_cast<char>(magic);
  h[1] = static_cast<char>(version);
  h[2] = static_cast<char>(type);
  h[3] = static_cast<char>(flags);
  for (int i = 0; i < 4; ++i)
    h[4 + i] = static_cast<char>(length >> (8 * i));
  return h;
}

append_entries_request sample_append() {
  append_entries_request x;
  x.term = 7;
  x.leader_id = "127.0.0.1:4001";
  x.prev_log_index = 41;
  x.prev_log_term = 6;
  x.leader_commit = 40;
  x.read_round = 3;
  for (index_t i = 42; i < 45; ++i)
    x.entries.push_back(log_entry{7, i, entry_kind::command,
                                  payload{"cmd" + std::to_string(i)}});
  x.entries.push_back(log_entry{7, 45, entry_kind::noop, payload{}});
  return x;
}

/// The payload of the only frame in `bytes`.
std::string only_payload(const std::string& bytes, frame_type expected) {
  auto [frames, err] = decode_all(bytes, bytes.size());
  BOOST_REQUIRE(err == decode_error::none);
  BOOST_REQUIRE_EQUAL(frames.size(), 1u);
  BOOST_REQUIRE(frames[0].type == expected);
  return frames[0].payload;
}

} // namespace

BOOST_AUTO_TEST_CASE(every_frame_type_round_trips) {
  {
    std::string bytes;
    hello h{"client-a", peer_kind::client, "127.0.0.1:4001", 1234};
    encode(bytes, h);
    hello back;
    BOOST_TEST(decode(only_payload(bytes, frame_type::hello), back));
    BOOST_TEST(back.identity == h.identity);
    BOOST_TEST((back.kind == h.kind));
    BOOST_TEST(back.target == h.target);
    BOOST_TEST(back.max_payload == 1234u);
  }
  {
    std::string bytes;
    encode(bytes, sample_append());
    append_entries_request back;
    BOOST_TEST(
      decode(only_payload(bytes, frame_type::append_entries_request), back));
    auto x = sample_append();
    BOOST_TEST(back.term == x.term);
    BOOST_TEST(back.leader_id == x.leader_id);
    BOOST_TEST(back.prev_log_index == x.prev_log_index);
    BOOST_TEST(back.leader_commit == x.leader_commit);
    BOOST_TEST(back.read_round == x.read_round);
    BOOST_TEST((back.entries == x.entries));
  }
  {
    std::string bytes;
    request_vote_request x{9, "a:1", 12, 8};
    encode(bytes, x);
    request_vote_request back;
    BOOST_TEST(
      decode(only_payload(bytes, frame_type::request_vote_request), back));
    BOOST_TEST(back.candidate_id == "a:1");
    BOOST_TEST(back.last_log_index == 12u);
  }
  {
    std::string bytes;
    install_snapshot_request x;
    x.term = 3;
    x.leader_id = "b:2";
    x.offset = 512;
    x.data = std::string(1000, 'z');
    x.done = true;
    x.size = 1512;
    x.crc = 0xdeadbeef;
    encode(bytes, x);
    install_snapshot_request back;
    BOOST_TEST(
      decode(only_payload(bytes, frame_type::install_snapshot_request), back));
    BOOST_TEST(back.data == x.data);
    BOOST_TEST(back.crc == x.crc);
    BOOST_TEST(back.done);
  }
  {
    std::string bytes;
    client_reply x;
    x.id = 99;
    client_outcome ok;
    ok.reply = append_reply{5, "r", ""};
    client_outcome bad;
    bad.error = make_error(errc::no_leader, "127.0.0.1:4002");
    x.outcomes = {ok, bad};
    encode(bytes, x);
    client_reply back;
    BOOST_TEST(decode(only_payload(bytes, frame_type::client_reply), back));
    BOOST_REQUIRE_EQUAL(back.outcomes.size(), 2u);
    BOOST_TEST(back.outcomes[0].reply.index == 5u);
    BOOST_TEST(!back.outcomes[0].error);
    BOOST_TEST((back.outcomes[1].error == make_error(errc::no_leader)));
  }
  {
    std::string bytes;
    status_reply x;
    x.id = 4;
    x.status.id = "a:1";
    x.status.role = role::leader;
    x.status.members = {"a:1", "b:2"};
    x.status.counters.log_writes = 17;
    encode(bytes, x);
    status_reply back;
    BOOST_TEST(decode(only_payload(bytes, frame_type::status_reply), back));
    BOOST_TEST((back.status.role == role::leader));
    BOOST_TEST(back.status.members.size() == 2u);
    BOOST_TEST(back.status.counters.log_writes == 17u);
  }
}

// Every errc an append can end with crosses the wire as itself, the newest
// included (issue 14's overloaded: back-pressure the client must see).
BOOST_AUTO_TEST_CASE(every_error_code_round_trips) {
  for (auto code : {errc::no_leader, errc::transfer_in_progress,
                    errc::state_machine_failure, errc::entry_too_large,
                    errc::not_member, errc::overloaded}) {
    BOOST_TEST_CONTEXT(to_string(code)) {
      std::string bytes;
      client_reply x;
      x.id = 1;
      client_outcome bad;
      bad.error = make_error(code);
      x.outcomes = {bad};
      encode(bytes, x);
      client_reply back;
      BOOST_TEST(decode(only_payload(bytes, frame_type::client_reply), back));
      BOOST_REQUIRE_EQUAL(back.outcomes.size(), 1u);
      BOOST_TEST((back.outcomes[0].error == make_error(code)));
    }
  }
}

// Version 2: PreVote (thesis §9.6) and transfer (§3.10) flags on
// RequestVote, pre_vote on its response, and TimeoutNow.
BOOST_AUTO_TEST_CASE(pre_vote_transfer_and_timeout_now_round_trip) {
  for (int flags = 0; flags < 4; ++flags) {
    std::string bytes;
    request_vote_request x{9, "a:1", 12, 8};
    x.pre_vote = (flags & 1) != 0;
    x.transfer = (flags & 2) != 0;
    encode(bytes, x);
    request_vote_request back;
    auto payload = only_payload(bytes, frame_type::request_vote_request);
    BOOST_TEST(decode(payload, back));
    BOOST_TEST(back.pre_vote == x.pre_vote);
    BOOST_TEST(back.transfer == x.transfer);
    // An unknown flag bit is malformed.
    payload.back() = 4;
    BOOST_TEST(!decode(payload, back));
  }
  {
    std::string bytes;
    request_vote_response x{4, "m:1", true};
    x.pre_vote = true;
    encode(bytes, x);
    request_vote_response back;
    BOOST_TEST(
      decode(only_payload(bytes, frame_type::request_vote_response), back));
    BOOST_TEST(back.pre_vote);
    BOOST_TEST(back.vote_granted);
  }
  {
    std::string bytes;
    encode(bytes, timeout_now_request{7, "c:3"});
    timeout_now_request back;
    auto payload = only_payload(bytes, frame_type::timeout_now_request);
    BOOST_TEST(decode(payload, back));
    BOOST_TEST(back.term == 7u);
    BOOST_TEST(back.leader_id == "c:3");
    for (size_t n = 0; n < payload.size(); ++n)
      BOOST_TEST(!decode(std::string_view{payload}.substr(0, n), back));
    BOOST_TEST(!decode(payload + "x", back));
  }
}

BOOST_AUTO_TEST_CASE(chunking_does_not_matter) {
  std::string bytes;
  encode(bytes, hello{"m:1", peer_kind::member, "m:2", 100});
  encode(bytes, sample_append());
  encode_ping(bytes);
  encode(bytes, request_vote_response{4, "m:1", true});
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{8}, size_t{13},
                       bytes.size()}) {
    auto [frames, err] = decode_all(bytes, chunk);
    BOOST_TEST(err == decode_error::none);
    BOOST_REQUIRE_EQUAL(frames.size(), 4u);
    BOOST_TEST((frames[2].type == frame_type::ping));
    append_entries_request x;
    BOOST_TEST(decode(frames[1].payload, x));
    BOOST_TEST((x.entries == sample_append().entries));
  }
}

// docs/wire.md: a frame that announces more than the limit closes the
// connection before any buffer of that size exists.
BOOST_AUTO_TEST_CASE(oversized_frames_are_refused_before_allocation) {
  for (uint64_t announced : {uint64_t{1} << 30, uint64_t{0xffffffff},
                             uint64_t{handshake_max_payload} + 1}) {
    frame_decoder dec{handshake_max_payload};
    auto h = header(frame_magic, frame_version, 0x01, 0,
                    static_cast<uint32_t>(announced));
    h += std::string(100, 'x');
    bool called = false;
    auto err = dec.feed(h.data(), h.size(), [&](frame_type, std::string_view) {
      called = true;
      return true;
    });
    BOOST_TEST(err == decode_error::too_large);
    BOOST_TEST(dec.announced() == announced);
    BOOST_TEST(!called);
    BOOST_TEST(dec.buffered() <= header_size);
    // Failed for good: nothing more is consumed.
    BOOST_TEST(dec.feed(h.data(), h.size(), [](frame_type, std::string_view) {
      return true;
    }) == decode_error::too_large);
  }
}

BOOST_AUTO_TEST_CASE(the_buffer_grows_only_with_received_bytes) {
  frame_decoder dec{default_max_payload};
  auto h = header(frame_magic, frame_version, 0x12, 0, default_max_payload);
  BOOST_TEST(dec.feed(h.data(), h.size(), [](frame_type, std::string_view) {
    return true;
  }) == decode_error::none);
  std::string some(1000, 'y');
  dec.feed(some.data(), some.size(),
           [](frame_type, std::string_view) { return true; });
  BOOST_TEST(dec.buffered() == header_size + 1000);
}

BOOST_AUTO_TEST_CASE(bad_headers_are_refused) {
  auto first_error = [](const std::string& bytes) {
    return decode_all(bytes, bytes.size()).second;
  };
  BOOST_TEST(first_error(header(0x16, 3, 1, 0, 0)) == decode_error::bad_magic);
  BOOST_TEST(first_error(header(frame_magic, frame_version + 1, 1, 0, 0))
             == decode_error::bad_version);
  // Version 1 (before PreVote's fields) is refused too.
  BOOST_TEST(first_error(header(frame_magic, 1, 1, 0, 0))
             == decode_error::bad_version);
  BOOST_TEST(first_error(header(frame_magic, frame_version, 0x7f, 0, 0))
             == decode_error::unknown_type);
  BOOST_TEST(first_error(header(frame_magic, frame_version, 1, 1, 0))
             == decode_error::bad_flags);
}

// A string length or element count above the bytes left is malformed: no
// reserve(), no allocation sized by the claim.
BOOST_AUTO_TEST_CASE(claimed_sizes_are_bounded_by_the_payload) {
  std::string bytes;
  encode(bytes, sample_append());
  auto payload = only_payload(bytes, frame_type::append_entries_request);
  // The entry count sits after term, leader_id, 4 x u64.
  auto count_at = 8 + 4 + sample_append().leader_id.size() + 4 * 8;
  auto forged = payload;
  forged[count_at + 3] = '\x7f'; // about 2^30 entries
  append_entries_request x;
  BOOST_TEST(!decode(forged, x));
  BOOST_TEST(x.entries.capacity() < 1000u);
  // A string that claims 4 GiB.
  forged = payload;
  for (int i = 0; i < 4; ++i)
    forged[8 + i] = '\xff';
  BOOST_TEST(!decode(forged, x));
  // Every truncation, and a trailing byte, is malformed.
  for (size_t n = 0; n < payload.size(); ++n)
    BOOST_TEST(!decode(std::string_view{payload}.substr(0, n), x));
  BOOST_TEST(!decode(payload + "x", x));
  // A bool other than 0 or 1.
  std::string vote;
  encode(vote, request_vote_response{1, "a", true});
  auto vp = only_payload(vote, frame_type::request_vote_response);
  vp.back() = 2;
  request_vote_response r;
  BOOST_TEST(!decode(vp, r));
}

// docs/wire.md: a ping or pong carries nothing; a header that announces a
// payload is refused before any of it is read.
BOOST_AUTO_TEST_CASE(a_ping_with_a_payload_is_refused_at_its_header) {
  for (uint8_t type : {uint8_t{0x04}, uint8_t{0x05}}) {
    frame_decoder dec{default_max_payload};
    auto h = header(frame_magic, frame_version, type, 0, 1 << 20);
    bool called = false;
    auto err = dec.feed(h.data(), h.size(), [&](frame_type, std::string_view) {
      called = true;
      return true;
    });
    BOOST_TEST(err == decode_error::unexpected_payload);
    BOOST_TEST(!called);
    BOOST_TEST(dec.held() == 0u);
  }
  // An empty one is a frame like any other.
  auto [frames, err] = decode_all(header(frame_magic, frame_version, 0x04, 0, 0), 3);
  BOOST_TEST(err == decode_error::none);
  BOOST_TEST(frames.size() == 1u);
}

namespace {

/// A budget of `limit` bytes shared by decoders.
struct test_budget : buffer_budget {
  size_t limit;
  size_t used = 0;
  explicit test_budget(size_t n) : limit(n) {
  }
  bool take(size_t n) override {
    if (used + n > limit)
      return false;
    used += n;
    return true;
  }
  void give_back(size_t n) override {
    used -= n;
  }
};

} // namespace

// docs/wire.md, "Limits": every growth of an incomplete frame's buffer is
// charged to the member's budget before it is allocated, given back when the
// frame completes or the decoder goes; a decoder the budget refuses fails
// with over_budget.
BOOST_AUTO_TEST_CASE(incomplete_frames_are_charged_to_a_shared_budget) {
  test_budget budget{300 * 1024};
  std::string body(200 * 1024, 'b');
  auto frame = header(frame_magic, frame_version, 0x20, 0,
                      static_cast<uint32_t>(body.size()))
               + body;
  auto feed_part = [](frame_decoder& d, const std::string& bytes, size_t from,
                      size_t to, size_t* frames) {
    decode_error err = decode_error::none;
    for (size_t i = from; i < to && err == decode_error::none; i += 16 * 1024) {
      auto n = std::min<size_t>(16 * 1024, to - i);
      err = d.feed(bytes.data() + i, n, [&](frame_type, std::string_view p) {
        BOOST_TEST(p.size() == 200u * 1024);
        ++*frames;
        return true;
      });
    }
    return err;
  };
  size_t frames = 0;
  {
    frame_decoder a{default_max_payload};
    frame_decoder b{default_max_payload};
    a.set_budget(&budget);
    b.set_budget(&budget);
    // a holds all but the last byte: its buffer (256 KiB) is charged.
    BOOST_TEST(feed_part(a, frame, 0, frame.size() - 1, &frames) == decode_error::none);
    BOOST_TEST(budget.used == a.held());
    BOOST_TEST(a.held() >= body.size() - 1);
    BOOST_TEST(a.held() <= 256u * 1024);
    // b cannot grow beyond what is left.
    BOOST_TEST(feed_part(b, frame, 0, frame.size(), &frames) == decode_error::over_budget);
    BOOST_TEST(budget.used == a.held() + b.held());
    BOOST_TEST(budget.used <= budget.limit);
    // a completes: its buffer is freed and given back.
    BOOST_TEST(feed_part(a, frame, frame.size() - 1, frame.size(), &frames) == decode_error::none);
    BOOST_TEST(frames == 1u);
    BOOST_TEST(a.held() == 0u);
  }
  // Gone decoders give back what they held.
  BOOST_TEST(budget.used == 0u);
}

// -- membership (issue 12): configurations in snapshots and in the log -------

namespace {

cluster_configuration joint_configuration() {
  cluster_configuration c;
  c.voters = {"a:1", "b:2", "d:4"};
  c.learners = {"e:5"};
  c.old_voters = {"a:1", "b:2", "c:3"};
  return c;
}

install_snapshot_request sample_install() {
  install_snapshot_request x;
  x.term = 5;
  x.leader_id = "a:1";
  x.last_included_index = 1000;
  x.last_included_term = 4;
  x.offset = 65536;
  x.data = "chunk bytes";
  x.done = true;
  x.size = 65547;
  x.crc = 0xDEADBEEF;
  x.configuration = joint_configuration();
  return x;
}

/// The bytes of install_snapshot_request before its configuration.
size_t install_fixed_part(const install_snapshot_request& x) {
  return 8 + 4 + x.leader_id.size() + 8 + 8 + 8 + 4 + x.data.size() + 1 + 8
         + 4;
}

} // namespace

BOOST_AUTO_TEST_CASE(install_snapshot_request_carries_the_configuration) {
  for (auto conf : {joint_configuration(), cluster_configuration{}}) {
    auto x = sample_install();
    x.configuration = conf;
    std::string bytes;
    encode(bytes, x);
    auto payload = only_payload(bytes, frame_type::install_snapshot_request);
    install_snapshot_request back;
    BOOST_REQUIRE(decode(payload, back));
    BOOST_TEST(back.configuration == conf);
    BOOST_TEST(back.crc == x.crc);
    BOOST_TEST(back.data == x.data);
    BOOST_TEST(back.done);
    // Every truncation, and a trailing byte, is malformed.
    for (size_t n = 0; n < payload.size(); ++n)
      BOOST_TEST(!decode(std::string_view{payload}.substr(0, n), back));
    BOOST_TEST(!decode(payload + "x", back));
  }
}

BOOST_AUTO_TEST_CASE(a_hostile_member_count_is_refused_without_allocating) {
  auto x = sample_install();
  x.configuration = cluster_configuration{};
  std::string bytes;
  encode(bytes, x);
  auto payload = only_payload(bytes, frame_type::install_snapshot_request);
  auto at = install_fixed_part(x);
  BOOST_REQUIRE_EQUAL(payload.size(), at + 12);
  // 2^32 - 1 voters claimed in 20 bytes.
  auto forged = payload.substr(0, at) + std::string(4, '\xff')
                + std::string(16, 'a');
  install_snapshot_request back;
  BOOST_TEST(!decode(forged, back));
  BOOST_TEST(back.configuration.voters.capacity() < 100u);
  // The same for learners and old voters.
  for (size_t list = 1; list < 3; ++list) {
    forged = payload.substr(0, at) + std::string(4 * list, '\0')
             + std::string(4, '\xff') + std::string(16, 'a');
    BOOST_TEST(!decode(forged, back));
    BOOST_TEST(back.configuration.learners.capacity() < 100u);
    BOOST_TEST(back.configuration.old_voters.capacity() < 100u);
  }
  // A member id that claims 4 GiB.
  forged = payload.substr(0, at) + std::string{"\x01\0\0\0", 4}
           + std::string(4, '\xff') + "a:1" + std::string(8, '\0');
  BOOST_TEST(!decode(forged, back));
}

BOOST_AUTO_TEST_CASE(an_invalid_configuration_is_refused_at_the_wire) {
  std::vector<cluster_configuration> bad(4, joint_configuration());
  bad[0].voters = {"d:4", "a:1"};       // not sorted
  bad[1].learners = {"a:1"};            // a learner that votes
  bad[2].voters = {"a:1", "a:1"};       // a duplicate
  bad[3].voters.clear();                // learners but no voter
  for (auto& conf : bad) {
    auto x = sample_install();
    x.configuration = conf;
    std::string bytes;
    encode(bytes, x);
    install_snapshot_request back;
    BOOST_TEST(!decode(
      only_payload(bytes, frame_type::install_snapshot_request), back));
    // The same configuration as a log entry.
    auto ae = sample_append();
    ae.entries.push_back(log_entry{7, 46, entry_kind::configuration,
                                   encode_configuration(conf)});
    bytes.clear();
    encode(bytes, ae);
    append_entries_request aback;
    BOOST_TEST(!decode(
      only_payload(bytes, frame_type::append_entries_request), aback));
  }
}

BOOST_AUTO_TEST_CASE(configuration_entries_pass_the_codec) {
  auto x = sample_append();
  x.entries.push_back(log_entry{7, 46, entry_kind::configuration,
                                encode_configuration(joint_configuration())});
  std::string bytes;
  encode(bytes, x);
  auto payload = only_payload(bytes, frame_type::append_entries_request);
  append_entries_request back;
  BOOST_REQUIRE(decode(payload, back));
  BOOST_REQUIRE_EQUAL(back.entries.size(), x.entries.size());
  BOOST_TEST((back.entries == x.entries));
  BOOST_TEST((back.entries.back().kind == entry_kind::configuration));
  // A configuration entry whose payload is no configuration is malformed
  // (the session refuses it: docs/wire.md).
  auto garbage = sample_append();
  garbage.entries.push_back(
    log_entry{7, 46, entry_kind::configuration, raft::payload{"not a config"}});
  bytes.clear();
  encode(bytes, garbage);
  BOOST_TEST(!decode(only_payload(bytes, frame_type::append_entries_request),
                     back));
  // Kind 3 is unknown.
  auto kind_at = payload.size() - (encode_configuration(joint_configuration())
                                     .size()
                                   + 4 + 1);
  BOOST_REQUIRE_EQUAL(static_cast<int>(payload[kind_at]), 2);
  auto forged = payload;
  forged[kind_at] = 3;
  BOOST_TEST(!decode(forged, back));
}
