// A member spawned with a C++ state machine applies and queries it itself,
// without an actor hop (actors/member_apply.cpp), on CAF's test scheduler:
// commands in order with their index on every member, results and errors to
// the proposer, a non-standard exception stops the member without skipping a
// command, no apply and no query while the state machine is saved (one
// phase) or restored off the member's thread, and a long backlog goes in
// batches of config::max_apply_batch with other messages in between.
#define BOOST_TEST_MODULE actors_direct_apply
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <istream>
#include <ostream>
#include <stdexcept>

#include "caf/actor_system.hpp"
#include "caf/scheduled_actor.hpp"
#include "caf/scheduler/test_coordinator.hpp"

#include "raft/errc.hpp"
#include "raft/messages.hpp"

#include "sim_cluster.hpp"
#include "temp_dirs.hpp"

using namespace raft;
using raft::test::temp_dirs;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

/// Answers "done <index>"; "err..." is refused (an apply error);
/// "throw-std" throws a std::exception, "throw-other" an int. Saves and
/// restores the index it applied last; counts queries.
class probe_machine : public state_machine {
public:
  apply_result apply(index_t index, const payload& command) override {
    auto& cmd = command.bytes();
    if (cmd == "throw-other")
      throw 42;
    last = index;
    if (cmd == "throw-std")
      throw std::runtime_error("bad command");
    if (cmd.rfind("err", 0) == 0)
      return apply_result{{}, "refused " + cmd};
    return apply_result{"done " + std::to_string(index), {}};
  }

  apply_result query(const payload& q) override {
    if (q.bytes() == "throw-other")
      throw 42;
    ++queries;
    return apply_result{"last " + std::to_string(last), {}};
  }

  caf::error save_snapshot(std::ostream& out) override {
    saved_at.push_back(last);
    out << last;
    return caf::none;
  }

  caf::error restore_snapshot(index_t index, std::istream& in) override {
    in >> last;
    if (last != index)
      return make_error(errc::snapshot_failure, "wrong snapshot");
    return caf::none;
  }

  /// The index of the last command applied (or restored).
  index_t last = 0;
  size_t queries = 0;
  /// `last` at each save: what the snapshot holds.
  std::vector<index_t> saved_at;
};

struct probe_machines {
  std::vector<std::shared_ptr<probe_machine>> machines;
};

class probe_cluster : public probe_machines, public testing::sim_cluster {
public:
  probe_cluster(size_t n, uint64_t seed, tweak_fn tweak = {})
    : sim_cluster(n, seed, std::move(tweak), factory(*this)) {
    // nop
  }

private:
  static machine_factory factory(probe_machines& self) {
    auto* machines = &self.machines;
    return [machines](size_t i) {
      if (machines->size() <= i)
        machines->resize(i + 1);
      auto m = std::make_shared<probe_machine>();
      (*machines)[i] = m;
      return m;
    };
  }
};

payload cmd(const std::string& x) {
  return payload{x};
}

/// The adapter actors, which save and restore C++ state machines
/// (actors/state_machine_adapter.cpp names them).
bool is_adapter(caf::resumable* job) {
  auto* a = dynamic_cast<caf::scheduled_actor*>(job);
  return a != nullptr && std::string{a->name()} == "raft.state_machine";
}

testing::sim_cluster::tweak_fn with_snapshots(const temp_dirs& t,
                                              int64_t threshold) {
  return [&t, threshold](size_t i, testing::member_setup& cfg) {
    cfg.snapshot_dir = t.dirs[i];
    cfg.snapshot_threshold = threshold;
  };
}

bool has_code(const caf::error& err, errc code) {
  return err.category() == caf::atom("raft")
         && err.code() == static_cast<uint8_t>(code);
}

} // namespace

// Every member applies every command once, in log order, with its own index;
// the proposer gets the result or the application's error (an exception
// derived from std::exception is that command's error, as documented).
BOOST_AUTO_TEST_CASE(applies_in_order_with_results_and_errors) {
  probe_cluster c{3, 11};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  auto a = c.append(*l, cmd("a"));
  BOOST_REQUIRE(a->value.has_value());
  BOOST_TEST(a->value->result == "done " + std::to_string(a->value->index));
  BOOST_TEST(a->value->apply_error == "");
  auto e = c.append(*l, cmd("err1"));
  BOOST_REQUIRE(e->value.has_value());
  BOOST_TEST(e->value->apply_error == "refused err1");
  auto t = c.append(*l, cmd("throw-std"));
  BOOST_REQUIRE(t->value.has_value());
  BOOST_TEST(t->value->apply_error == "bad command");
  // Through a follower too (forwarded, answered once applied there).
  auto f = (*l + 1) % 3;
  auto b = c.append(f, cmd("b"));
  BOOST_REQUIRE(b->value.has_value());
  BOOST_TEST(b->value->result == "done " + std::to_string(b->value->index));
  for (int k = 0; k < 20; ++k)
    BOOST_REQUIRE(c.append(*l, cmd("k" + std::to_string(k)))->value);
  BOOST_REQUIRE(c.converge(10s));
  auto& reference = c.recorders[*l]->applied;
  BOOST_REQUIRE(reference.size() == 24u);
  for (size_t i = 0; i < 3; ++i) {
    BOOST_TEST_CONTEXT("member " << i) {
      auto& applied = c.recorders[i]->applied;
      BOOST_TEST((applied == reference));
      for (size_t k = 0; k < applied.size(); ++k) {
        if (k > 0)
          BOOST_TEST(applied[k].first > applied[k - 1].first);
        auto& entry = c.state(i).log.at(applied[k].first);
        BOOST_TEST(entry.data.bytes() == applied[k].second);
      }
      BOOST_TEST(c.state(i).last_applied == c.state(i).commit_index);
    }
  }
  BOOST_TEST(c.violation() == "");
}

// Anything but a std::exception leaves the state machine's state unknown:
// every member stops with state_machine_failure, the commands before it are
// applied and answered, the failing one and those after it are "outcome
// unknown", and last_applied stays before it (nothing committed is skipped:
// a restart replays it).
BOOST_AUTO_TEST_CASE(a_non_standard_exception_stops_the_member) {
  probe_cluster c{3, 12};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  BOOST_REQUIRE(c.append(*l, cmd("a"))->value);
  auto before = c.append_async(*l, cmd("b"));
  auto bad = c.append_async(*l, cmd("throw-other"));
  auto after = c.append_async(*l, cmd("c"));
  BOOST_REQUIRE(c.run_until([&] { return before->done && bad->done && after->done; }));
  BOOST_REQUIRE(before->value.has_value());
  BOOST_TEST(before->value->result == "done " + std::to_string(before->value->index));
  BOOST_REQUIRE(!bad->value);
  BOOST_TEST(has_code(bad->error, errc::state_machine_failure),
             c.sys->render(bad->error));
  BOOST_REQUIRE(!after->value);
  BOOST_TEST(has_code(after->error, errc::state_machine_failure),
             c.sys->render(after->error));
  auto failed_at = before->value->index + 1;
  c.run_until([&] {
    for (size_t i = 0; i < 3; ++i)
      if (c.alive(i))
        return false;
    return true;
  });
  // The leader stops; a follower stops too if it learned of the commit
  // before the leader went silent.
  BOOST_TEST(!c.alive(*l));
  for (size_t i = 0; i < 3; ++i) {
    BOOST_TEST_CONTEXT("member " << i) {
      auto& st = c.state(i);
      if (!c.alive(i)) {
        BOOST_TEST(c.exit_reason(i).find("non-standard exception at index "
                                         + std::to_string(failed_at))
                     != std::string::npos,
                   c.exit_reason(i));
        BOOST_TEST(st.commit_index >= failed_at);
        BOOST_TEST(st.log.last_index() >= failed_at);
        BOOST_TEST(st.last_applied == failed_at - 1);
      }
      BOOST_TEST(st.last_applied <= failed_at - 1);
      BOOST_TEST(c.machines[i]->last == st.last_applied);
    }
  }
  BOOST_TEST(c.violation() == "");
}

// A query that throws anything but a std::exception stops the leader (as
// the adapter's crash did) with state_machine_failure, without crashing it;
// the other queries of its round get an answer too.
BOOST_AUTO_TEST_CASE(a_non_standard_exception_in_a_query_stops_the_member) {
  probe_cluster c{3, 16};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  BOOST_REQUIRE(c.append(*l, cmd("a"))->value);
  std::optional<caf::expected<append_reply>> bad;
  std::optional<caf::expected<append_reply>> next;
  c.request_async(*l, caf::make_message(query_atom::value, cmd("throw-other")),
                  10s, [&](caf::expected<append_reply> r) { bad = std::move(r); });
  c.request_async(*l, caf::make_message(query_atom::value, cmd("q")), 10s,
                  [&](caf::expected<append_reply> r) { next = std::move(r); });
  BOOST_REQUIRE(c.run_until([&] { return bad && next; }));
  BOOST_REQUIRE(!bad->engaged());
  BOOST_TEST(has_code(bad->error(), errc::state_machine_failure),
             c.sys->render(bad->error()));
  BOOST_TEST(!next->engaged());
  BOOST_TEST(!c.alive(*l));
  BOOST_TEST(c.exit_reason(*l).find("query threw") != std::string::npos,
             c.exit_reason(*l));
  BOOST_TEST(c.violation() == "");
}

// Vanadium's raft interface: "Until SaveToSnapshot returns, no commands will
// be Apply()ed". The save runs at the adapter, off the member's thread; the
// test holds it back: meanwhile the leader commits more, but applies nothing
// and answers no query; the snapshot holds exactly its index.
BOOST_AUTO_TEST_CASE(no_apply_and_no_query_while_a_one_phase_save_runs) {
  temp_dirs t{3};
  probe_cluster c{3, 13, with_snapshots(t, 5)};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  c.hold = is_adapter;
  auto& st = c.state(*l);
  for (int k = 0; k < 5 && !st.snapshotting; ++k)
    BOOST_REQUIRE(c.append(*l, cmd("k" + std::to_string(k)))->value);
  BOOST_REQUIRE(st.snapshotting);
  auto at = st.last_applied;
  BOOST_REQUIRE(c.machines[*l]->last == at);
  auto late = c.append_async(*l, cmd("late"));
  std::optional<caf::expected<append_reply>> read;
  c.request_async(*l, caf::make_message(query_atom::value, cmd("q")), 10s,
                  [&](caf::expected<append_reply> r) { read = std::move(r); });
  c.advance(200ms);
  BOOST_TEST(st.snapshotting);
  BOOST_TEST(st.commit_index > at);
  BOOST_TEST(st.last_applied == at);
  BOOST_TEST(c.machines[*l]->last == at);
  BOOST_TEST(c.machines[*l]->queries == 0u);
  BOOST_TEST(!late->done);
  BOOST_TEST(!read.has_value());
  c.hold = nullptr;
  BOOST_REQUIRE(c.run_until([&] { return late->done && read.has_value(); }));
  BOOST_REQUIRE(late->value.has_value());
  BOOST_REQUIRE(read->engaged());
  BOOST_TEST(c.machines[*l]->queries == 1u);
  BOOST_REQUIRE(!c.machines[*l]->saved_at.empty());
  BOOST_TEST(c.machines[*l]->saved_at.front() == at);
  BOOST_REQUIRE(c.converge(10s));
  BOOST_TEST(c.state(*l).snapshot.last_index == at);
  BOOST_TEST(c.violation() == "");
}

// A restart restores at the adapter, off the member's thread; held back, the
// member learns of later commits but applies nothing until it returns, then
// replays only what follows the snapshot.
BOOST_AUTO_TEST_CASE(no_apply_while_a_restore_runs) {
  temp_dirs t{3};
  probe_cluster c{3, 14, with_snapshots(t, 5)};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  // Indexes 1 (no-op) to 9: a snapshot at 5 on every member, 6 to 9 in
  // every log (no second snapshot: that would compact the leader's log and
  // send InstallSnapshot instead of the commit index).
  for (int k = 0; k < 8; ++k)
    BOOST_REQUIRE(c.append(*l, cmd("k" + std::to_string(k)))->value);
  BOOST_REQUIRE(c.converge(10s));
  auto f = (*l + 1) % 3;
  auto snap = c.state(f).snapshot.last_index;
  BOOST_REQUIRE(snap > 0u);
  BOOST_REQUIRE(c.state(f).log.last_index() > snap);
  c.crash(f);
  c.hold = is_adapter;
  c.restart(f);
  c.advance(200ms);
  BOOST_REQUIRE(c.alive(f));
  BOOST_TEST(c.state(f).restoring);
  BOOST_TEST(c.state(f).commit_index > snap);
  BOOST_TEST(c.state(f).last_applied == snap);
  BOOST_TEST(c.recorders[f]->applied.empty());
  BOOST_TEST(c.machines[f]->last == 0u);
  c.hold = nullptr;
  BOOST_REQUIRE(c.converge(10s));
  BOOST_TEST(c.recorders[f]->restored_index == snap);
  BOOST_REQUIRE(!c.recorders[f]->applied.empty());
  BOOST_TEST(c.recorders[f]->applied.front().first == snap + 1);
  BOOST_TEST(c.machines[f]->last == c.machines[*l]->last);
  BOOST_TEST(c.violation() == "");
}

// A restarted member learns that 40 entries of its log are committed: it
// applies them max_apply_batch at a time, one batch per message, and a
// request arriving meanwhile is answered between two batches.
BOOST_AUTO_TEST_CASE(a_long_backlog_is_applied_in_batches) {
  constexpr size_t batch = 4;
  probe_cluster c{3, 15, [](size_t, testing::member_setup& cfg) {
                    cfg.max_apply_batch = batch;
                  }};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  for (int k = 0; k < 40; ++k)
    BOOST_REQUIRE(c.append(*l, cmd("k" + std::to_string(k)))->value);
  BOOST_REQUIRE(c.converge(10s));
  auto f = (*l + 1) % 3;
  auto total = c.state(f).last_applied;
  BOOST_REQUIRE(total >= 10 * batch);
  c.crash(f);
  c.restart(f);
  index_t seen = 0;
  index_t largest_step = 0;
  size_t steps = 0;
  bool asked = false;
  size_t held_for = 0;
  std::optional<caf::expected<member_status>> status;
  c.after_message = [&] {
    if (c.hold && ++held_for > 20)
      c.hold = nullptr; // The client has run by now.
    if (!c.alive(f))
      return;
    auto& st = c.state(f);
    if (st.last_applied == seen)
      return;
    largest_step = std::max(largest_step, st.last_applied - seen);
    seen = st.last_applied;
    ++steps;
    if (!asked && seen < st.commit_index) {
      // Between two batches: a status request. The member waits (held)
      // while the client runs, so that the request is in its mailbox behind
      // the next batch's message.
      asked = true;
      c.call_async<member_status>(
        f, caf::make_message(status_atom::value), 10s,
        [&](caf::expected<member_status> s) { status = std::move(s); });
      c.hold = [&, addr = caf::actor_addr{c.members[f].address()}](
                 caf::resumable* job) {
        auto* a = dynamic_cast<caf::scheduled_actor*>(job);
        return a != nullptr && a->address() == addr;
      };
      held_for = 0;
      return;
    }
  };
  BOOST_REQUIRE(c.run_until([&] {
    return status.has_value() && c.alive(f)
           && c.state(f).last_applied >= total;
  }));
  c.after_message = nullptr;
  BOOST_TEST(asked);
  BOOST_TEST(largest_step <= batch);
  BOOST_TEST(steps >= 10u);
  BOOST_REQUIRE(status->engaged());
  // Answered while the backlog was still being applied.
  BOOST_TEST((*status)->last_applied < total);
  BOOST_TEST((*status)->last_applied > 0u);
  auto& applied = c.recorders[f]->applied;
  BOOST_REQUIRE(!applied.empty());
  for (size_t k = 1; k < applied.size(); ++k)
    BOOST_TEST(applied[k].first == applied[k - 1].first + 1);
  BOOST_TEST(c.violation() == "");
}
