// Snapshots saved in two phases (Vanadium's SaveToSnapshot: "Until
// SaveToSnapshot returns, no commands will be Apply()ed. Closing the response
// channel signals that the snapshot is finished"), on CAF's test scheduler:
// applies go on while the writer runs (the tests hold the writer back), the
// snapshot is published, the log compacted and InstallSnapshot allowed to
// send it only once the writing finished, an error discards it, an empty one
// is fine, and a restart restores it then replays. The C++ form through the
// members of a simulated cluster; the actor form against the snapshot actor.
#define BOOST_TEST_MODULE actors_two_phase_snapshot
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <istream>
#include <map>
#include <ostream>
#include <set>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scheduled_actor.hpp"
#include "caf/scheduler/test_coordinator.hpp"
#include "caf/send.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "raft/errc.hpp"
#include "raft/messages.hpp"
#include "raft/storage/snapshot_store.hpp"

#include "kv_machine.hpp"
#include "sim_cluster.hpp"
#include "temp_dirs.hpp"
#include "snapshot_actor.hpp"

using namespace raft;
using namespace raft::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

/// What the test machines' writers do.
enum class writer_mode { write, fail, empty };

/// kv_machine saving in two phases: begin_snapshot copies the map; the
/// writer writes that copy in kv_machine's format, fails, or writes nothing.
class two_phase_kv : public kv_machine {
public:
  explicit two_phase_kv(std::shared_ptr<writer_mode> mode)
    : mode_(std::move(mode)) {
  }

  caf::expected<snapshot_writer> begin_snapshot() override {
    ++begun;
    begun_at = applied.empty() ? restored_index : applied.back().first;
    auto view = std::make_shared<const std::map<std::string, std::string>>(
      data);
    auto mode = mode_;
    return snapshot_writer{[view, mode](std::ostream& out) -> caf::error {
      if (*mode == writer_mode::fail)
        return make_error(errc::snapshot_failure, "the test's writer failed");
      if (*mode == writer_mode::empty)
        return caf::none;
      out << view->size() << '\n';
      for (auto& kvp : *view)
        out << kvp.first << ' ' << kvp.second << '\n';
      return caf::none;
    }};
  }

  /// Views taken in this lifetime.
  size_t begun = 0;
  /// The last index applied when the last view was taken.
  index_t begun_at = 0;

private:
  std::shared_ptr<writer_mode> mode_;
};

struct two_phase_machines {
  std::vector<std::shared_ptr<two_phase_kv>> machines;
  std::shared_ptr<writer_mode> mode = std::make_shared<writer_mode>();
};

class two_phase_cluster : public two_phase_machines,
                          public testing::sim_cluster {
public:
  two_phase_cluster(size_t n, uint64_t seed, tweak_fn tweak)
    : sim_cluster(n, seed, std::move(tweak), factory(*this)) {
    // nop
  }

private:
  static machine_factory factory(two_phase_machines& self) {
    auto* machines = &self.machines;
    auto mode = self.mode;
    return [machines, mode](size_t i) {
      if (machines->size() <= i)
        machines->resize(i + 1);
      auto m = std::make_shared<two_phase_kv>(mode);
      (*machines)[i] = m;
      return m;
    };
  }
};


testing::sim_cluster::tweak_fn with_snapshots(const temp_dirs& t,
                                              int64_t threshold) {
  return [&t, threshold](size_t i, testing::member_setup& cfg) {
    cfg.snapshot_dir = t.dirs[i];
    cfg.snapshot_threshold = threshold;
  };
}

/// The adapter's writer actors (state_machine_adapter.cpp names them).
bool is_writer(caf::resumable* job) {
  auto* a = dynamic_cast<caf::scheduled_actor*>(job);
  return a != nullptr && std::string{a->name()} == "raft.snapshot_writer";
}

void put_many(testing::sim_cluster& c, size_t via, int from, int to) {
  for (int k = from; k < to; ++k) {
    auto r = c.append(via, put_cmd("k" + std::to_string(k % 13),
                                   std::to_string(k)));
    BOOST_REQUIRE(r->value.has_value());
  }
}

bool all_applied(testing::sim_cluster& c) {
  auto l = c.leader();
  if (!l)
    return false;
  for (size_t i = 0; i < c.size(); ++i)
    if (c.alive(i)
        && c.state(i).last_applied != c.state(*l).commit_index)
      return false;
  return true;
}

/// Snapshots published in a member's directory.
std::vector<snapshot_meta> published(const std::string& dir) {
  if (!fs::exists(dir))
    return {};
  return snapshot_store{dir}.list();
}

size_t temporary_files(const std::string& dir) {
  size_t n = 0;
  if (fs::exists(dir))
    for (auto& e : fs::directory_iterator{dir})
      if (e.path().string().find(".tmp") != std::string::npos)
        ++n;
  return n;
}

} // namespace

// -- the C++ form, through the members -------------------------------------------

// Applies resume once the view exists; the snapshot is published and the log
// compacted only after the writer finished; no second snapshot starts
// meanwhile; a follower that fell behind meanwhile catches up by
// AppendEntries (nothing was compacted), not by the unfinished snapshot.
BOOST_AUTO_TEST_CASE(applies_continue_while_a_slow_writer_runs) {
  temp_dirs t{3};
  two_phase_cluster c{3, 1, with_snapshots(t, 10)};
  c.hold = is_writer;
  size_t installs = 0;
  c.net->drop_if = [&](const member_id&, const member_id&,
                       const caf::message& msg) {
    if (msg.match_elements<install_snapshot_request>())
      ++installs;
    return false;
  };
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  auto f = (*l + 1) % 3;
  put_many(c, *l, 0, 15);
  BOOST_REQUIRE(c.run_until([&] { return all_applied(c); }));
  for (size_t i = 0; i < 3; ++i) {
    BOOST_TEST_CONTEXT("member " << i) {
      BOOST_TEST(c.machines[i]->begun == 1u);
      BOOST_TEST(c.state(i).snapshot_writing);
      BOOST_TEST(c.state(i).snapshot.last_index == 0u);
    }
  }
  c.crash(f);
  put_many(c, *l, 15, 45);
  c.restart(f);
  BOOST_REQUIRE(c.run_until([&] { return all_applied(c); }));
  for (size_t i = 0; i < 3; ++i) {
    if (i == f)
      continue;
    BOOST_TEST_CONTEXT("member " << i) {
      auto& st = c.state(i);
      auto at = c.machines[i]->begun_at;
      // Applied on past the snapshot's view while it was being written...
      BOOST_TEST(st.last_applied >= at + 30);
      BOOST_TEST(c.machines[i]->applied.back().first == st.last_applied);
      // ... but nothing was published or compacted, and no second save began.
      BOOST_TEST(c.machines[i]->begun == 1u);
      BOOST_TEST(st.snapshot_writing);
      BOOST_TEST(st.snapshot.last_index == 0u);
      BOOST_TEST(st.log.first_index() == 1u);
      BOOST_TEST(published(t.dirs[i]).empty());
    }
  }
  BOOST_TEST(installs == 0u);
  BOOST_TEST((c.machines[f]->data == c.machines[*l]->data));
  // The writers finish: each snapshot is published at its view's index.
  c.hold = nullptr;
  BOOST_REQUIRE(c.run_until([&] {
    for (size_t i = 0; i < 3; ++i)
      if (c.state(i).snapshot_writing || c.state(i).snapshot.last_index == 0)
        return false;
    return true;
  }));
  for (size_t i = 0; i < 3; ++i) {
    if (i == f)
      continue;
    BOOST_TEST_CONTEXT("member " << i) {
      auto& st = c.state(i);
      BOOST_TEST(st.snapshot.last_index == c.machines[i]->begun_at);
      BOOST_TEST(st.log.first_index() == st.snapshot.last_index + 1);
      auto files = published(t.dirs[i]);
      BOOST_REQUIRE(files.size() == 1u);
      BOOST_TEST(files[0].last_index == st.snapshot.last_index);
      BOOST_TEST(temporary_files(t.dirs[i]) == 0u);
    }
  }
  // The next one starts on the next apply and works the same way.
  put_many(c, *l, 45, 47);
  BOOST_REQUIRE(c.converge(10s));
  BOOST_TEST(c.state(*l).snapshot.last_index > c.machines[*l]->begun_at - 1);
  BOOST_TEST(c.machines[*l]->begun == 2u);
  BOOST_TEST(c.violation() == "");
}

// Vanadium's raft interface: an error discards the snapshot. No compaction,
// no file; the member keeps applying and the next attempt works.
BOOST_AUTO_TEST_CASE(a_failed_write_discards_the_snapshot) {
  temp_dirs t{3};
  two_phase_cluster c{3, 2, with_snapshots(t, 10)};
  *c.mode = writer_mode::fail;
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  put_many(c, *l, 0, 15);
  BOOST_REQUIRE(c.converge(10s));
  for (size_t i = 0; i < 3; ++i) {
    BOOST_TEST_CONTEXT("member " << i) {
      auto& st = c.state(i);
      BOOST_TEST(c.machines[i]->begun >= 1u);
      BOOST_TEST(!st.snapshot_writing);
      BOOST_TEST(st.snapshot.last_index == 0u);
      BOOST_TEST(st.log.first_index() == 1u);
      BOOST_TEST(published(t.dirs[i]).empty());
      BOOST_TEST(temporary_files(t.dirs[i]) == 0u);
      BOOST_TEST(c.alive(i));
    }
  }
  *c.mode = writer_mode::write;
  put_many(c, *l, 15, 30);
  BOOST_REQUIRE(c.converge(10s));
  for (size_t i = 0; i < 3; ++i) {
    BOOST_TEST_CONTEXT("member " << i) {
      auto& st = c.state(i);
      BOOST_TEST(st.snapshot.last_index > 0u);
      BOOST_TEST(st.snapshot.last_index == c.machines[i]->begun_at);
      BOOST_TEST(st.log.first_index() == st.snapshot.last_index + 1);
      auto files = published(t.dirs[i]);
      BOOST_REQUIRE(!files.empty());
      BOOST_TEST(files[0].last_index == st.snapshot.last_index);
    }
  }
  BOOST_TEST(c.violation() == "");
}

// Writing nothing is allowed (an application keeping its own database): the
// empty snapshot is published, and a restart restores it (from no bytes)
// and replays only what follows.
BOOST_AUTO_TEST_CASE(an_empty_snapshot_is_published_and_restored) {
  temp_dirs t{3};
  two_phase_cluster c{3, 3, with_snapshots(t, 10)};
  *c.mode = writer_mode::empty;
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  put_many(c, *l, 0, 15);
  BOOST_REQUIRE(c.converge(10s));
  auto f = (*l + 1) % 3;
  auto snap = c.state(f).snapshot.last_index;
  BOOST_REQUIRE(snap > 0u);
  auto newest = snapshot_store{t.dirs[f]}.newest();
  BOOST_REQUIRE(static_cast<bool>(newest));
  BOOST_TEST(newest->meta.last_index == snap);
  BOOST_TEST(newest->size == 0u);
  c.crash(f);
  c.restart(f);
  put_many(c, *l, 15, 17);
  BOOST_REQUIRE(c.converge(10s));
  BOOST_TEST(c.machines[f]->restored_index == snap);
  BOOST_REQUIRE(!c.machines[f]->applied.empty());
  BOOST_TEST(c.machines[f]->applied.front().first == snap + 1);
  BOOST_TEST(c.violation() == "");
}

// A restart restores the two-phase snapshot and replays only the entries
// after it.
BOOST_AUTO_TEST_CASE(restart_restores_a_two_phase_snapshot_then_replays) {
  temp_dirs t{3};
  two_phase_cluster c{3, 4, with_snapshots(t, 10)};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  put_many(c, *l, 0, 35);
  BOOST_REQUIRE(c.converge(10s));
  auto f = (*l + 1) % 3;
  auto snap = c.state(f).snapshot.last_index;
  BOOST_REQUIRE(snap >= 30u);
  // Thesis §5.1: the configuration is saved with the two-phase snapshot.
  auto members = c.state(f).configuration();
  BOOST_REQUIRE(!members.empty());
  auto newest = snapshot_store{t.dirs[f]}.newest();
  BOOST_REQUIRE(static_cast<bool>(newest));
  BOOST_TEST(newest->meta.last_index == snap);
  BOOST_TEST((newest->configuration == members));
  c.crash(f);
  c.restart(f);
  put_many(c, *l, 35, 38);
  BOOST_REQUIRE(c.converge(10s));
  BOOST_TEST((c.state(f).configuration() == members));
  BOOST_TEST(c.machines[f]->restored_index == snap);
  for (auto& [index, cmd] : c.machines[f]->applied)
    BOOST_TEST(index > snap);
  BOOST_TEST((c.machines[f]->data == c.machines[*l]->data));
  BOOST_TEST(c.violation() == "");
}

// A member that stops while its writer runs loses nothing: nothing was
// published or compacted, so it restarts from its full log.
BOOST_AUTO_TEST_CASE(a_member_stopping_while_a_write_runs_loses_nothing) {
  temp_dirs t{3};
  two_phase_cluster c{3, 5, with_snapshots(t, 10)};
  c.hold = is_writer;
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  put_many(c, *l, 0, 15);
  BOOST_REQUIRE(c.run_until([&] { return all_applied(c); }));
  auto f = (*l + 1) % 3;
  BOOST_REQUIRE(c.state(f).snapshot_writing);
  c.crash(f);
  c.restart(f);
  put_many(c, *l, 15, 18);
  BOOST_REQUIRE(c.run_until([&] { return all_applied(c); }));
  BOOST_TEST(c.machines[f]->restored_index == 0u);
  // Everything replayed from the log's start (index 1 is the no-op).
  BOOST_TEST(c.machines[f]->applied.front().first == 2u);
  BOOST_TEST((c.machines[f]->data == c.machines[*l]->data));
  c.hold = nullptr;
  put_many(c, *l, 18, 20);
  BOOST_REQUIRE(c.converge(10s));
  for (size_t i = 0; i < 3; ++i)
    BOOST_TEST(c.state(i).snapshot.last_index > 0u, "member " << i);
  // And that snapshot restores.
  auto snap = c.state(f).snapshot.last_index;
  c.crash(f);
  c.restart(f);
  BOOST_REQUIRE(c.converge(10s));
  BOOST_TEST(c.machines[f]->restored_index == snap);
  BOOST_TEST((c.machines[f]->data == c.machines[*l]->data));
  BOOST_TEST(c.violation() == "");
}

// -- the actor form, against the snapshot actor --------------------------------------

namespace {

/// A two-phase state machine actor whose writing the test finishes by hand:
/// (ok, path, true, bytes) writes `bytes` and answers the done request;
/// (ok, path, false, "") fails it.
using manual_sm_actor = two_phase_state_machine_actor::extend<
  caf::reacts_to<caf::ok_atom, std::string, bool, std::string>>;

struct manual_sm_control {
  /// Paths of the saves begun, in order.
  std::vector<std::string> begun;
  /// One-phase saves.
  size_t one_phase = 0;
};

struct manual_sm_state {
  std::map<std::string, caf::response_promise> waiting;
  std::map<std::string, caf::error> finished;
};

manual_sm_actor::behavior_type
manual_sm(manual_sm_actor::stateful_pointer<manual_sm_state> self,
          std::shared_ptr<manual_sm_control> ctl) {
  return {
    [=](apply_atom, const entry_vector& xs) {
      return std::vector<apply_result>(xs.size());
    },
    [=](query_atom, const payload&) { return apply_result{}; },
    [=](save_atom, const std::string& path) {
      ++ctl->one_phase;
      std::ofstream{path} << "one phase";
      return caf::ok_atom::value;
    },
    [=](save_atom, begin_atom, const std::string& path) {
      ctl->begun.push_back(path);
      return caf::ok_atom::value;
    },
    [=](save_atom, done_atom,
        const std::string& path) -> caf::result<caf::ok_atom> {
      auto i = self->state.finished.find(path);
      if (i != self->state.finished.end()) {
        auto err = std::move(i->second);
        self->state.finished.erase(i);
        if (err)
          return err;
        return caf::ok_atom::value;
      }
      auto rp = self->make_response_promise();
      self->state.waiting[path] = rp;
      return rp;
    },
    [=](restore_atom, index_t, const std::string&) {
      return caf::ok_atom::value;
    },
    [=](caf::ok_atom, const std::string& path, bool ok,
        const std::string& bytes) {
      caf::error err;
      if (ok)
        std::ofstream{path, std::ios::binary | std::ios::trunc} << bytes;
      else
        err = make_error(errc::snapshot_failure, "the test's writer failed");
      auto i = self->state.waiting.find(path);
      if (i == self->state.waiting.end()) {
        self->state.finished[path] = std::move(err);
        return;
      }
      if (err)
        i->second.deliver(std::move(err));
      else
        i->second.deliver(caf::ok_atom::value);
      self->state.waiting.erase(i);
    },
  };
}

template <class T>
struct outcome {
  bool done = false;
  std::optional<T> value;
  caf::error error;
};

struct actor_fixture {
  actor_fixture() {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.verbosity", caf::atom("quiet"));
    add_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    char tmpl[] = "/tmp/caf-raft-2phase-XXXXXX";
    dir = mkdtemp(tmpl);
    store = std::make_shared<snapshot_store>(dir);
  }

  ~actor_fixture() {
    sched->run();
    fs::remove_all(dir);
  }

  /// Sends a request from a new actor; the outcome fills in as jobs run.
  template <class T, class Handle, class... Ts>
  std::shared_ptr<outcome<T>> ask(Handle dest, Ts... xs) {
    auto out = std::make_shared<outcome<T>>();
    sys->spawn([=](caf::event_based_actor* self) {
      self->request(caf::actor_cast<caf::actor>(dest), caf::infinite, xs...)
        .then(
          [=](T& x) {
            out->done = true;
            out->value = std::move(x);
          },
          [=](caf::error& err) {
            out->done = true;
            out->error = std::move(err);
          });
    });
    sched->run();
    return out;
  }

  /// The meta of the snapshot that chunks are read from (none: zero).
  snapshot_meta serving(const snapshot_actor& a) {
    auto c = ask<snapshot_chunk>(a, chunk_atom::value, uint64_t{0},
                                 uint64_t{1024});
    return c->value ? c->value->meta : snapshot_meta{};
  }

  /// The configuration each save carries (thesis §5.1).
  cluster_configuration conf{{"a:1", "b:2", "c:3"}, {}, {}};

  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::string dir;
  std::shared_ptr<snapshot_store> store;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(actor_form, actor_fixture)

// The begin reply comes when the view exists; the snapshot is published (and
// served for InstallSnapshot) only after the done reply; an error discards
// it and the next attempt works; an empty snapshot is fine.
BOOST_AUTO_TEST_CASE(two_phase_actor_saves_publish_only_when_written) {
  auto ctl = std::make_shared<manual_sm_control>();
  auto sm = sys->spawn(manual_sm, ctl);
  two_phase_state_machine_actor two_phase = sm;
  auto snaps = spawn_snapshot_actor(*sys, store, snapshot_info{}, two_phase,
                                    two_phase);
  snapshot_meta m1{10, 1};
  auto begun = ask<caf::ok_atom>(snaps, save_atom::value, begin_atom::value,
                                 m1);
  BOOST_REQUIRE(begun->done);
  BOOST_REQUIRE(!begun->error);
  BOOST_REQUIRE(ctl->begun.size() == 1u);
  auto saved = ask<snapshot_info>(snaps, save_atom::value, m1,
                          conf);
  // Still being written: not answered, not published, not served.
  BOOST_TEST(!saved->done);
  BOOST_TEST(store->list().empty());
  BOOST_TEST(serving(snaps).last_index == 0u);
  // A second begin is refused while one runs.
  auto again = ask<caf::ok_atom>(snaps, save_atom::value, begin_atom::value,
                                 snapshot_meta{11, 1});
  BOOST_TEST(static_cast<bool>(again->error));
  caf::anon_send(sm, caf::ok_atom::value, ctl->begun[0], true,
                 std::string{"state"});
  sched->run();
  BOOST_REQUIRE(saved->done);
  BOOST_REQUIRE(saved->value.has_value());
  BOOST_TEST(saved->value->size == 5u);
  BOOST_TEST(store->list().size() == 1u);
  BOOST_TEST(serving(snaps).last_index == 10u);
  // An error discards it: nothing published, the older one still served.
  snapshot_meta m2{20, 1};
  BOOST_REQUIRE(!ask<caf::ok_atom>(snaps, save_atom::value, begin_atom::value,
                                   m2)
                   ->error);
  saved = ask<snapshot_info>(snaps, save_atom::value, m2,
                          conf);
  BOOST_TEST(!saved->done);
  caf::anon_send(sm, caf::ok_atom::value, ctl->begun[1], false, std::string{});
  sched->run();
  BOOST_REQUIRE(saved->done);
  BOOST_TEST(static_cast<bool>(saved->error));
  BOOST_TEST(store->list().size() == 1u);
  BOOST_TEST(serving(snaps).last_index == 10u);
  BOOST_TEST(temporary_files(dir) == 0u);
  // The next attempt works; this one finished before it was awaited, and
  // wrote nothing (an empty snapshot).
  snapshot_meta m3{30, 2};
  BOOST_REQUIRE(!ask<caf::ok_atom>(snaps, save_atom::value, begin_atom::value,
                                   m3)
                   ->error);
  caf::anon_send(sm, caf::ok_atom::value, ctl->begun[2], true, std::string{});
  sched->run();
  saved = ask<snapshot_info>(snaps, save_atom::value, m3,
                          conf);
  BOOST_REQUIRE(saved->done);
  BOOST_REQUIRE(saved->value.has_value());
  BOOST_TEST(saved->value->size == 0u);
  BOOST_TEST(serving(snaps).last_index == 30u);
  auto newest = store->newest();
  BOOST_REQUIRE(static_cast<bool>(newest));
  BOOST_TEST(newest->meta.last_index == 30u);
  // The configuration at its last index is saved with it (sidecar v2).
  BOOST_TEST((newest->configuration == conf));
  BOOST_TEST(ctl->one_phase == 0u);
  caf::anon_send_exit(sm, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(snaps, caf::exit_reason::user_shutdown);
}

// A one-phase state machine actor still works through both requests (it
// writes everything before answering the begin) and through the single one.
BOOST_AUTO_TEST_CASE(one_phase_actor_saves_still_work) {
  auto ctl = std::make_shared<manual_sm_control>();
  auto sm = sys->spawn(manual_sm, ctl);
  state_machine_actor one_phase = sm;
  auto snaps = spawn_snapshot_actor(*sys, store, snapshot_info{}, one_phase);
  snapshot_meta m1{10, 1};
  BOOST_REQUIRE(!ask<caf::ok_atom>(snaps, save_atom::value, begin_atom::value,
                                   m1)
                   ->error);
  BOOST_TEST(ctl->one_phase == 1u);
  auto saved = ask<snapshot_info>(snaps, save_atom::value, m1,
                          conf);
  BOOST_REQUIRE(saved->value.has_value());
  BOOST_TEST(saved->value->size == 9u);
  BOOST_TEST((saved->value->configuration == conf));
  saved = ask<snapshot_info>(snaps, save_atom::value, snapshot_meta{20, 1},
                          conf);
  BOOST_REQUIRE(saved->value.has_value());
  BOOST_TEST(ctl->one_phase == 2u);
  BOOST_TEST(serving(snaps).last_index == 20u);
  BOOST_TEST(ctl->begun.empty());
  caf::anon_send_exit(sm, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(snaps, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_SUITE_END()
