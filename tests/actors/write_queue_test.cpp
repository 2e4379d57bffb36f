// The write queue (actors/write_queue.hpp) alone: one case per invariant of
// "nothing is acknowledged before it is durable" (Figure 2: respond to RPCs
// only after updating stable storage), driven without a member or a writer.
#define BOOST_TEST_MODULE actors_write_queue
#include <boost/test/unit_test.hpp>

#include <stdexcept>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scheduler/test_coordinator.hpp"
#include "caf/send.hpp"

#include "write_queue.hpp"

using namespace raft;

namespace {

log_entry entry(index_t index, term_t term = 1) {
  return log_entry{term, index, entry_kind::command, {}};
}

/// Two peers to address messages to (never run: the test scheduler holds
/// their jobs).
struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::actor a;
  caf::actor b;
  write_queue q;

  fixture() {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.verbosity", caf::atom("quiet"));
    sys = std::make_unique<caf::actor_system>(cfg);
    auto idle = []() -> caf::behavior { return {[](int) {}}; };
    a = sys->spawn(idle);
    b = sys->spawn(idle);
  }

  ~fixture() {
    caf::anon_send_exit(a, caf::exit_reason::kill);
    caf::anon_send_exit(b, caf::exit_reason::kill);
    // Let the test scheduler run the exits, or the system never shuts down.
    dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler()).run();
  }

  /// Sends `x` after persist; returns whether it left at once.
  bool send(int x, caf::actor dest = {}) {
    return q.send_after_persist(dest ? dest : a, caf::make_message(x))
      .has_value();
  }

  /// Writes the next batch and confirms it; returns what left, in order.
  std::vector<int> write_and_confirm() {
    auto batch = q.next_write();
    BOOST_REQUIRE(batch.has_value());
    BOOST_TEST(q.violation() == "");
    std::vector<int> out;
    for (auto& m : q.on_durable())
      if (m.content.match_elements<int>())
        out.push_back(m.content.get_as<int>(0));
      else
        out.push_back(-1); // an acknowledgement
    BOOST_TEST(q.violation() == "");
    return out;
  }
};

append_entries_response ack(term_t term, index_t match, uint64_t round = 0) {
  append_entries_response r;
  r.term = term;
  r.success = true;
  r.match_index = match;
  r.read_round = round;
  return r;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(write_queue_tests, fixture)

// I1: one batch at the writer at a time; what arrives meanwhile waits for
// the next one (group commit).
BOOST_AUTO_TEST_CASE(one_batch_at_the_writer_at_a_time) {
  q.append(entry(1));
  auto first = q.next_write();
  BOOST_REQUIRE(first.has_value());
  BOOST_TEST(first->entries.size() == 1u);
  BOOST_TEST(q.writing());
  q.append(entry(2));
  q.append(entry(3));
  BOOST_TEST(!q.next_write().has_value()); // the first is still at the writer
  BOOST_TEST(q.violation() == "");
  q.on_durable();
  BOOST_TEST(!q.writing());
  auto second = q.next_write();
  BOOST_REQUIRE(second.has_value());
  BOOST_TEST(second->entries.size() == 2u);
  q.on_durable();
  BOOST_TEST(!q.next_write().has_value()); // nothing pending
  BOOST_CHECK_THROW(q.on_durable(), std::logic_error); // never issued
}

// I2: a message leaves only once every write issued before it is durable,
// and held messages leave in the order they were sent, even one that had
// nothing to wait for itself.
BOOST_AUTO_TEST_CASE(nothing_leaves_before_its_write_is_durable) {
  BOOST_TEST(send(1)); // nothing pending: leaves now
  q.save_state(hard_state{2, "x"});
  BOOST_TEST(!send(2)); // the vote must be durable first
  BOOST_TEST(q.held() == 1u);
  auto batch = q.next_write();
  BOOST_REQUIRE(batch.has_value());
  BOOST_TEST(batch->has_state);
  q.append(entry(1, 2));
  BOOST_TEST(!send(3)); // waits for the second write
  BOOST_TEST(q.violation() == "");
  auto out = q.on_durable();
  BOOST_REQUIRE_EQUAL(out.size(), 1u);
  BOOST_TEST(out[0].content.get_as<int>(0) == 2);
  BOOST_TEST((write_and_confirm() == std::vector<int>{3}));
  BOOST_TEST(q.held() == 0u);
}

BOOST_AUTO_TEST_CASE(held_messages_leave_in_order) {
  q.append(entry(1));
  BOOST_REQUIRE(q.next_write().has_value());
  BOOST_TEST(!send(1)); // waits for write 1
  q.append(entry(2));
  BOOST_TEST(!send(2)); // waits for write 2
  BOOST_TEST(!send(3)); // and so does this one, behind 2
  auto out = q.on_durable();
  BOOST_REQUIRE_EQUAL(out.size(), 1u);
  BOOST_TEST(out[0].content.get_as<int>(0) == 1);
  BOOST_TEST((write_and_confirm() == std::vector<int>{2, 3}));
}

// I3: a follower's acknowledgement waits for the write of what it
// acknowledges; those that arrive meanwhile merge into one per batch.
BOOST_AUTO_TEST_CASE(one_acknowledgement_per_durable_batch) {
  BOOST_TEST(q.acknowledge(a, ack(1, 0)).has_value()); // nothing to wait for
  q.append(entry(1));
  BOOST_TEST(!q.acknowledge(a, ack(1, 1, 7)).has_value());
  q.append(entry(2));
  BOOST_TEST(!q.acknowledge(a, ack(1, 2, 5)).has_value());
  BOOST_TEST(q.held() == 1u);
  auto batch = q.next_write();
  BOOST_REQUIRE(batch.has_value());
  auto out = q.on_durable();
  BOOST_REQUIRE_EQUAL(out.size(), 1u);
  BOOST_TEST((out[0].dest == a));
  auto& r = out[0].content.get_as<append_entries_response>(0);
  BOOST_TEST(r.match_index == 2u);
  BOOST_TEST(r.read_round == 7u); // the highest round echoed so far
  // Another leader or term: the newer acknowledgement replaces it unmerged.
  q.append(entry(3));
  BOOST_TEST(!q.acknowledge(a, ack(1, 3)).has_value());
  BOOST_TEST(!q.acknowledge(b, ack(2, 1)).has_value());
  q.next_write();
  out = q.on_durable();
  BOOST_REQUIRE_EQUAL(out.size(), 1u);
  BOOST_TEST((out[0].dest == b));
  BOOST_TEST(out[0].content.get_as<append_entries_response>(0).match_index
             == 1u);
  BOOST_TEST(q.violation() == "");
}

// I4 and durable_index: entries count as durable only once their write is
// confirmed; pending entries stay contiguous and above what is durable.
BOOST_AUTO_TEST_CASE(durable_index_moves_only_when_a_write_is_durable) {
  q = write_queue{4};
  BOOST_TEST(q.durable_index() == 4u);
  q.append(entry(5));
  q.append(entry(6));
  BOOST_CHECK_THROW(q.append(entry(8)), std::logic_error); // a gap
  BOOST_TEST(q.durable_index() == 4u);
  q.next_write();
  q.append(entry(7));
  BOOST_TEST(q.durable_index() == 4u); // at the writer, not durable yet
  q.on_durable();
  BOOST_TEST(q.durable_index() == 6u);
  q.next_write();
  q.on_durable();
  BOOST_TEST(q.durable_index() == 7u);
  BOOST_TEST(q.violation() == "");
}

// I4 under truncation (§5.3): a conflict drops pending entries from the
// index on, lowers durable_index below it, and a batch at the writer no
// longer counts above it once confirmed.
BOOST_AUTO_TEST_CASE(truncation_lowers_what_counts_as_durable) {
  for (index_t i = 1; i <= 3; ++i)
    q.append(entry(i));
  q.next_write();
  q.append(entry(4));
  q.append(entry(5));
  q.truncate(2); // entries 2.. conflict: 2-3 are at the writer, 4-5 pending
  BOOST_TEST(q.violation() == "");
  BOOST_TEST(q.durable_index() == 0u);
  q.on_durable();
  BOOST_TEST(q.durable_index() == 1u); // not 3: 2-3 were truncated
  q.append(entry(2, 2));
  auto batch = q.next_write();
  BOOST_REQUIRE(batch.has_value());
  BOOST_TEST(batch->truncate_from == 2u);
  BOOST_REQUIRE_EQUAL(batch->entries.size(), 1u);
  BOOST_TEST(batch->entries[0].term == 2u);
  q.on_durable();
  BOOST_TEST(q.durable_index() == 2u);
  BOOST_TEST(q.violation() == "");
}

// I5 and reset (Figure 13, receiver 7): InstallSnapshot discards the whole
// log; what was pending or at the writer no longer counts, the snapshot does.
BOOST_AUTO_TEST_CASE(reset_after_snapshot_replaces_everything_pending) {
  q.append(entry(1));
  q.append(entry(2));
  q.next_write();
  q.append(entry(3));
  BOOST_TEST(!send(1));
  q.reset(snapshot_meta{10, 3}, hard_state{3, "l"});
  BOOST_TEST(q.durable_index() == 10u);
  BOOST_TEST(q.violation() == "");
  BOOST_TEST(q.on_durable().empty()); // 1 waits for the reset's write
  BOOST_TEST(q.durable_index() == 10u); // the old batch's 1-2 do not count
  auto batch = q.next_write();
  BOOST_REQUIRE(batch.has_value());
  BOOST_TEST(batch->reset_to.last_index == 10u);
  BOOST_TEST(batch->has_state);
  BOOST_TEST(batch->entries.empty());
  BOOST_TEST(q.on_durable().size() == 1u);
  q.append(entry(11, 3));
  BOOST_TEST(q.violation() == "");
}

BOOST_AUTO_TEST_SUITE_END()
