// Memory bounds of a leader (issue 14): the bytes in flight to one follower
// (etcd's MaxInflightBytes, in raft::progress) and the bytes of commands it
// holds uncommitted (etcd's MaxUncommittedEntriesSize, uncommitted_budget).
// Pure: no actors, clocks or files.
#define BOOST_TEST_MODULE core_flow_control_test
#include <boost/test/unit_test.hpp>

#include <random>

#include "raft/config.hpp"
#include "raft/core/progress.hpp"
#include "raft/core/uncommitted_budget.hpp"

using namespace raft;

// == bytes in flight per follower =============================================

BOOST_AUTO_TEST_SUITE(bytes_in_flight)

namespace {

/// A follower in pipeline mode at match 10.
progress pipelining() {
  progress p{11};
  p.on_sent(10);
  p.on_success(10);
  BOOST_REQUIRE(!p.probing());
  return p;
}

} // namespace

// Thesis §10.2.2 pipelining, bounded by bytes too: the leader stops sending
// once the payload of the unacknowledged appends reaches the limit, even
// though the message count would allow more.
BOOST_AUTO_TEST_CASE(sending_stops_at_the_byte_limit) {
  auto p = pipelining();
  BOOST_TEST(p.can_send(8, 1000));
  p.on_sent(12, 400);
  BOOST_TEST(p.bytes_in_flight() == 400u);
  BOOST_TEST(p.can_send(8, 1000));
  p.on_sent(14, 400);
  BOOST_TEST(p.can_send(8, 1000)); // 800 < 1000: one more may go
  p.on_sent(16, 400);              // and may pass the limit (1200)
  BOOST_TEST(p.bytes_in_flight() == 1200u);
  BOOST_TEST(!p.can_send(8, 1000));
  BOOST_TEST(p.in_flight() == 3u);
  BOOST_TEST(p.can_send(8)); // without a byte limit the count alone decides
}

// An acknowledgement releases the bytes of every append it covers.
BOOST_AUTO_TEST_CASE(an_acknowledgement_releases_the_bytes_it_covers) {
  auto p = pipelining();
  p.on_sent(12, 400);
  p.on_sent(14, 400);
  p.on_sent(16, 400);
  BOOST_TEST(p.on_success(14));
  BOOST_TEST(p.bytes_in_flight() == 400u);
  BOOST_TEST(p.can_send(8, 1000));
  BOOST_TEST(p.on_success(16));
  BOOST_TEST(p.bytes_in_flight() == 0u);
}

// A rejection or silence drops what was in flight (Figure 2: retry from the
// new nextIndex), and with it the bytes counted for it.
BOOST_AUTO_TEST_CASE(rejection_and_silence_drop_the_bytes) {
  auto p = pipelining();
  p.on_sent(12, 700);
  p.on_sent(14, 700);
  BOOST_TEST(!p.can_send(8, 1000));
  p.on_silence();
  BOOST_TEST(p.bytes_in_flight() == 0u);
  BOOST_TEST(p.can_send(8, 1000)); // one probe
  p.on_sent(12, 700);
  BOOST_TEST(p.on_reject(12, 11));
  BOOST_TEST(p.bytes_in_flight() == 0u);
}

// A follower that never answers: however often the leader tries, it never
// has more than the limit plus one message's bytes in flight to it.
BOOST_AUTO_TEST_CASE(a_silent_follower_holds_at_most_the_limit) {
  auto p = pipelining();
  const size_t limit = 8 * 1024;
  const size_t message = 3000;
  index_t last = 10;
  size_t sent = 0;
  for (int round = 0; round < 100; ++round) {
    while (p.can_send(1000, limit)) {
      last += 4;
      p.on_sent(last, message);
      ++sent;
    }
    BOOST_TEST(p.bytes_in_flight() < limit + message);
  }
  BOOST_TEST(sent == 3u); // 0, 3000, 6000 < 8192; 9000 stops it
}

// After a heartbeat period of silence, a follower gets empty probes only
// (no entries) until it answers: a stopped follower costs the leader a
// heartbeat's bytes per period, not a message of entries each time.
BOOST_AUTO_TEST_CASE(a_silent_follower_gets_empty_probes_until_it_answers) {
  auto p = pipelining();
  BOOST_TEST(p.sends_entries());
  p.on_sent(12, 700);
  p.on_silence();
  BOOST_TEST(!p.sends_entries());
  BOOST_TEST(p.probing());
  BOOST_TEST(p.next_index() == 11u); // the empty probe's anchor: match 10
  p.on_silence(); // still nothing: still empty probes
  BOOST_TEST(!p.sends_entries());
  // Its answer to an empty probe at the match index resumes pipelining.
  BOOST_TEST(!p.on_success(10));
  BOOST_TEST(p.sends_entries());
  BOOST_TEST(!p.probing());
  // A rejection (it lost entries) also resumes sending, from its hint.
  p.on_sent(12, 700);
  p.on_silence();
  BOOST_TEST(p.on_reject(10, 5));
  BOOST_TEST(p.sends_entries());
}

// Invariant: bytes_in_flight is the sum over the appends still in flight,
// whatever the events.
BOOST_AUTO_TEST_CASE(the_byte_count_matches_the_appends_in_flight) {
  std::mt19937 rng{14};
  for (int run = 0; run < 200; ++run) {
    progress p{1};
    std::vector<std::pair<index_t, size_t>> model; // (last index, bytes)
    index_t last = 0;
    for (int step = 0; step < 60; ++step) {
      switch (rng() % 4) {
        case 0:
        case 1:
          if (p.can_send(4, 5000)) {
            auto bytes = size_t{rng() % 3000};
            last = p.next_index() + rng() % 3;
            p.on_sent(last, bytes);
            if (!model.empty() && model.back().first > last)
              last = model.back().first;
            model.emplace_back(last, bytes);
          }
          break;
        case 2: {
          if (model.empty())
            break;
          auto match = model[rng() % model.size()].first;
          p.on_success(match);
          while (!model.empty() && model.front().first <= match)
            model.erase(model.begin());
          break;
        }
        default:
          p.on_silence();
          model.clear();
      }
      size_t sum = 0;
      for (auto& m : model)
        sum += m.second;
      BOOST_TEST_REQUIRE(p.bytes_in_flight() == sum);
      BOOST_TEST_REQUIRE(p.in_flight() == model.size());
    }
  }
}

// The default: max_in_flight x max_bytes_per_message, so with small entries
// the byte limit changes nothing, and large entries (a message always
// carries one, up to max_entry_size) cannot put 8 x 4 MiB in flight.
BOOST_AUTO_TEST_CASE(the_default_limit_is_derived_from_the_message_limits) {
  config cfg;
  cfg.host_port = "127.0.0.1:4000";
  BOOST_REQUIRE(!validate(cfg));
  BOOST_TEST(cfg.max_inflight_bytes
             == cfg.max_in_flight * cfg.max_bytes_per_message);
  config set;
  set.host_port = "127.0.0.1:4000";
  set.max_inflight_bytes = 12345;
  BOOST_REQUIRE(!validate(set));
  BOOST_TEST(set.max_inflight_bytes == 12345u);
}

BOOST_AUTO_TEST_SUITE_END()

// == uncommitted bytes at the leader ==========================================

BOOST_AUTO_TEST_SUITE(uncommitted_bytes)

BOOST_AUTO_TEST_CASE(appends_are_refused_past_the_limit) {
  uncommitted_budget b;
  BOOST_TEST(b.admits(600, 1000));
  b.on_proposed(600);
  BOOST_TEST(b.admits(400, 1000));  // exactly at the limit
  BOOST_TEST(!b.admits(401, 1000)); // past it: refused
  b.on_committed(600);
  BOOST_TEST(b.held() == 0u);
  BOOST_TEST(b.admits(1000, 1000));
}

// Nothing held: any command is admitted, or a command larger than the
// limit could never be appended.
BOOST_AUTO_TEST_CASE(an_idle_leader_admits_any_command) {
  uncommitted_budget b;
  BOOST_TEST(b.admits(5000, 1000));
  b.on_proposed(5000);
  BOOST_TEST(!b.admits(1, 1000));
}

BOOST_AUTO_TEST_CASE(zero_means_no_limit) {
  uncommitted_budget b;
  b.on_proposed(size_t{1} << 40);
  BOOST_TEST(b.admits(size_t{1} << 40, 0));
}

// A new leader never counted the commands of earlier terms; their commit
// cannot take the count below zero.
BOOST_AUTO_TEST_CASE(commits_of_uncounted_commands_clamp_at_zero) {
  uncommitted_budget b;
  b.on_proposed(100);
  b.on_committed(250);
  BOOST_TEST(b.held() == 0u);
}

BOOST_AUTO_TEST_CASE(the_default_limit_is_set) {
  config cfg;
  BOOST_TEST(cfg.max_uncommitted_bytes == 32u * 1024 * 1024);
  BOOST_TEST(cfg.max_uncommitted_bytes >= cfg.max_entry_size);
}

BOOST_AUTO_TEST_SUITE_END()
