// Snapshots (§7) on CAF's test scheduler: taken every snapshot_threshold
// applied entries, restored on restart (Vanadium: RestoreFromSnapshot, then a
// replay), and sent in chunks to followers that need compacted entries
// (InstallSnapshot). Figure 3 is checked after every message throughout.
#define BOOST_TEST_MODULE actors_snapshot
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <istream>
#include <ostream>
#include <set>

#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"

#include "raft/errc.hpp"
#include "raft/messages.hpp"

#include "temp_dirs.hpp"
#include "test_cluster.hpp"

using namespace raft;
using namespace raft::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

test_cluster::tweak_fn with_snapshots(const temp_dirs& t, int64_t threshold,
                                      test_cluster::tweak_fn more = {}) {
  return [&t, threshold, more](size_t i, raft::testing::member_setup& cfg) {
    cfg.snapshot_dir = t.dirs[i];
    cfg.snapshot_threshold = threshold;
    if (more)
      more(i, cfg);
  };
}

void put_many(test_cluster& c, size_t via, int from, int to) {
  for (int k = from; k < to; ++k) {
    auto r = c.append(via, put_cmd("k" + std::to_string(k % 13),
                                   std::to_string(k)));
    BOOST_REQUIRE(r->value.has_value());
  }
}

void require_same_data(test_cluster& c) {
  std::optional<size_t> first;
  for (size_t i = 0; i < c.size(); ++i) {
    if (!c.alive(i))
      continue;
    if (!first)
      first = i;
    else
      BOOST_TEST((c.machines[i]->data == c.machines[*first]->data),
                 "member " << i << " differs from " << *first);
  }
}

} // namespace

// §7: each member snapshots independently and discards the log prefix; after
// a restart it restores the snapshot and replays only what follows.
BOOST_AUTO_TEST_CASE(snapshot_then_restart) {
  temp_dirs t{3};
  test_cluster c{3, 1, with_snapshots(t, 10)};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  put_many(c, *l, 0, 35);
  BOOST_REQUIRE(c.converge(10s));
  for (size_t i = 0; i < 3; ++i) {
    auto& st = c.state(i);
    BOOST_TEST(st.snapshot.last_index >= 30u, "member " << i);
    BOOST_TEST(st.log.first_index() == st.snapshot.last_index + 1);
    // Storage freed the covered entries too.
    BOOST_TEST(c.storages[i]->contents().snapshot.last_index
               == st.snapshot.last_index);
    BOOST_TEST(c.storages[i]->contents().entries.size() <= 12u);
  }
  auto f = (*l + 1) % 3;
  auto snap = c.state(f).snapshot.last_index;
  c.crash(f);
  c.restart(f);
  BOOST_REQUIRE(c.converge(10s));
  BOOST_TEST(c.machines[f]->restored_index == snap);
  // Only entries after the snapshot were replayed.
  for (auto& [index, cmd] : c.machines[f]->applied)
    BOOST_TEST(index > snap);
  require_same_data(c);
  BOOST_TEST(c.violation() == "");
}

// Members take their first snapshot at different indexes (snapshot_stagger,
// member_snapshots.cpp), so that their writers do not all run at once.
BOOST_AUTO_TEST_CASE(members_snapshot_apart) {
  temp_dirs t{3};
  test_cluster c{3, 1, with_snapshots(t, 30)};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  put_many(c, *l, 0, 48);
  BOOST_REQUIRE(c.converge(10s));
  std::set<raft::index_t> taken;
  for (size_t i = 0; i < 3; ++i) {
    auto at = c.state(i).snapshot.last_index;
    BOOST_TEST(at >= 30u, "member " << i);
    taken.insert(at);
  }
  BOOST_TEST(taken.size() == 3u, "snapshots at the same index");
  BOOST_TEST(c.violation() == "");
}

// docs/storage.md, "The log and the snapshot, reconciled": a crash after a
// snapshot was published but before the log caught up with it (its
// compaction, or the entries it covers, not yet durable). The member must
// restart from the snapshot, drop the log that does not continue it, and
// rejoin; before the fix it refused every append ("non-contiguous append")
// for good (simulation seed 9100077).
BOOST_AUTO_TEST_CASE(restart_with_a_snapshot_beyond_the_log) {
  temp_dirs t{3};
  test_cluster c{3, 5, with_snapshots(t, 10)};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  put_many(c, *l, 0, 35);
  BOOST_REQUIRE(c.converge(10s));
  auto f = (*l + 1) % 3;
  auto snap = c.state(f).snapshot.last_index;
  BOOST_REQUIRE(snap >= 30u);
  c.crash(f);
  // The disk as the crash left it: term and vote, but the log neither
  // compacted nor holding the entries up to the snapshot.
  auto lost = c.storages[f]->contents();
  lost.snapshot = snapshot_meta{};
  lost.entries.clear();
  c.storages[f] = std::make_shared<memory_storage>(lost);
  c.restart(f);
  put_many(c, *l, 35, 50);
  BOOST_REQUIRE(c.converge(10s));
  BOOST_REQUIRE(c.alive(f));
  BOOST_TEST(c.machines[f]->restored_index == snap);
  // Each entry after the snapshot applied once, none it covers.
  std::set<index_t> seen;
  for (auto& [index, cmd] : c.machines[f]->applied) {
    BOOST_TEST(index > snap);
    BOOST_TEST(seen.insert(index).second, "index " << index << " applied twice");
  }
  BOOST_TEST(c.storages[f]->contents().snapshot.last_index >= snap);
  require_same_data(c);
  BOOST_TEST(c.violation() == "");
}

// §7: "the leader must occasionally send snapshots to followers that lag
// behind". A partitioned follower comes back after the leader compacted the
// entries it needs; the snapshot travels in many small chunks, some lost.
BOOST_AUTO_TEST_CASE(lagging_follower_catches_up_by_install_snapshot) {
  temp_dirs t{3};
  test_cluster c{3, 2, with_snapshots(t, 10, [](size_t, config& cfg) {
    cfg.snapshot_chunk_bytes = 8;
  })};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  auto f = (*l + 1) % 3;
  c.net->partition({c.ids[f]}, c.ids);
  put_many(c, *l, 0, 50);
  BOOST_REQUIRE(c.state(*l).log.first_index() > c.state(f).log.last_index() + 1);
  // Lose every third chunk for a while: the transfer resumes.
  size_t chunks = 0;
  c.net->cut.clear();
  c.net->drop_if = [&](const member_id&, const member_id&,
                       const caf::message& msg) {
    return msg.match_elements<install_snapshot_request>() && ++chunks % 3 == 0
           && chunks < 30;
  };
  BOOST_REQUIRE(c.converge(20s));
  BOOST_TEST(chunks > 10u);
  BOOST_TEST(c.machines[f]->restored_index >= 40u);
  require_same_data(c);
  // It survives its own restart afterwards.
  c.crash(f);
  c.restart(f);
  put_many(c, *l, 50, 55);
  BOOST_REQUIRE(c.converge(10s));
  require_same_data(c);
  BOOST_TEST(c.violation() == "");
}

// A follower that lost its disk entirely (log and snapshots) is rebuilt from
// the leader's snapshot.
BOOST_AUTO_TEST_CASE(wiped_follower_catches_up) {
  temp_dirs t{3};
  test_cluster c{3, 3, with_snapshots(t, 10)};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  put_many(c, *l, 0, 40);
  BOOST_REQUIRE(c.converge(10s));
  auto f = (*l + 2) % 3;
  c.crash(f);
  c.storages[f] = std::make_shared<memory_storage>();
  fs::remove_all(t.dirs[f]);
  c.restart(f);
  put_many(c, *l, 40, 45);
  BOOST_REQUIRE(c.converge(10s));
  BOOST_TEST(c.machines[f]->restored_index >= 30u);
  require_same_data(c);
  BOOST_TEST(c.violation() == "");
}

// Snapshots under load: concurrent appends, a tiny threshold, crashes.
BOOST_AUTO_TEST_CASE(snapshots_under_load) {
  temp_dirs t{5};
  test_cluster c{5, 4, with_snapshots(t, 5)};
  c.start_all();
  BOOST_REQUIRE(c.await_leader().has_value());
  std::vector<std::shared_ptr<pending_reply<append_reply>>> rs;
  for (int round = 0; round < 4; ++round) {
    for (int k = 0; k < 40; ++k)
      rs.push_back(c.append_async(k % 5, put_cmd("k" + std::to_string(k % 7),
                                                 std::to_string(round))));
    c.advance(50ms);
    auto victim = static_cast<size_t>(round + 1) % 5;
    c.crash(victim);
    c.advance(300ms);
    c.restart(victim);
  }
  BOOST_REQUIRE(c.run_until([&] {
    for (auto& r : rs)
      if (!r->done)
        return false;
    return true;
  }, 60s));
  BOOST_REQUIRE(c.converge(20s));
  require_same_data(c);
  BOOST_TEST(c.violation() == "");
}

namespace {

/// Vanadium's raft interface: "A client that wishes to may return empty snapshots ... and worry
/// about reliably storing its database itself. It that case it must
/// remember the highest index it has seen if it wishes to avoid replays."
class own_database : public state_machine {
public:
  explicit own_database(std::shared_ptr<std::map<index_t, std::string>> db)
    : db_(std::move(db)) {
  }
  apply_result apply(index_t index, const payload& cmd) override {
    ++applies;
    if (index <= highest())
      ++replays_skipped; // already in our database
    else
      (*db_)[index] = cmd.bytes();
    return {"ok", {}};
  }
  caf::error save_snapshot(std::ostream&) override {
    return caf::none; // empty snapshot
  }
  caf::error restore_snapshot(index_t index, std::istream& in) override {
    restored_at = index;
    empty_stream = in.peek() == std::char_traits<char>::eof();
    return caf::none;
  }
  index_t highest() const {
    return db_->empty() ? 0 : db_->rbegin()->first;
  }
  std::shared_ptr<std::map<index_t, std::string>> db_;
  size_t applies = 0;
  size_t replays_skipped = 0;
  index_t restored_at = 0;
  bool empty_stream = false;
};

} // namespace

namespace {

/// A lone member's config: it elects itself and snapshots into `dir`.
config solo_config(const std::string& dir, int64_t threshold) {
  config mc;
  mc.host_port = "127.0.0.1:7001";
  mc.snapshot_dir = dir;
  mc.snapshot_threshold = threshold;
  mc.heartbeat = 10ms;
  mc.random_seed = 1;
  return mc;
}

/// Starts a lone member and lets it elect itself.
void start_alone(caf::scheduler::test_coordinator& sched,
                 const member_actor& m) {
  caf::anon_send(m, start_atom::value);
  sched.run();
  sched.advance_time(1s);
  sched.run();
}

/// Appends `n` commands one at a time; returns how many were answered.
int append_each(caf::actor_system& sys,
                caf::scheduler::test_coordinator& sched, const member_actor& m,
                int n, const std::function<payload(int)>& cmd) {
  auto done = std::make_shared<int>(0);
  for (int k = 0; k < n; ++k) {
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(m, caf::infinite, append_atom::value, cmd(k))
        .then([=](append_reply&) { ++*done; });
    });
    sched.run();
  }
  return *done;
}

} // namespace

// Empty snapshots are allowed: restore gets the index and an empty stream,
// and the application skips what its own database already holds.
BOOST_AUTO_TEST_CASE(empty_snapshot_mode) {
  caf::actor_system_config cfg;
  cfg.set("scheduler.policy", caf::atom("testing"));
  add_message_types(cfg);
  caf::actor_system sys{cfg};
  auto& sched = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  temp_dirs t{1};
  auto store = std::make_shared<memory_storage>();
  auto db = std::make_shared<std::map<index_t, std::string>>();
  auto mc = solo_config(t.dirs[0], 4);
  auto run_member = [&](int appends) {
    auto sm = std::make_shared<own_database>(db);
    auto m = spawn_member(sys, mc, sm, store);
    BOOST_REQUIRE(m);
    start_alone(sched, *m);
    auto answered = append_each(sys, sched, *m, appends, [](int k) {
      return payload{"cmd" + std::to_string(k)};
    });
    BOOST_TEST(answered == appends);
    caf::anon_send_exit(*m, caf::exit_reason::kill);
    sched.run();
    return sm;
  };
  auto first = run_member(10);
  BOOST_TEST(first->applies == 10u);
  BOOST_TEST(db->size() == 10u);
  auto second = run_member(3);
  BOOST_TEST(second->restored_at >= 8u);
  BOOST_TEST(second->empty_stream);
  // Entries after the snapshot are replayed; those the database has are
  // recognized by their index.
  BOOST_TEST(second->replays_skipped == 11u - second->restored_at);
  BOOST_TEST(db->size() == 13u);
}

namespace {

class failing_saver : public kv_machine {
public:
  caf::error save_snapshot(std::ostream&) override {
    ++attempts;
    return make_error(errc::snapshot_failure, "disk of the application full");
  }
  size_t attempts = 0;
};

} // namespace

// Vanadium's raft interface: "the library will discard the snapshot if any error is returned":
// the log keeps everything and applying goes on.
BOOST_AUTO_TEST_CASE(a_failed_save_discards_the_snapshot) {
  caf::actor_system_config cfg;
  cfg.set("scheduler.policy", caf::atom("testing"));
  add_message_types(cfg);
  caf::actor_system sys{cfg};
  auto& sched = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  temp_dirs t{1};
  auto store = std::make_shared<memory_storage>();
  auto sm = std::make_shared<failing_saver>();
  auto m = spawn_member(sys, solo_config(t.dirs[0], 3), sm, store);
  BOOST_REQUIRE(m);
  start_alone(sched, *m);
  auto answered = append_each(sys, sched, *m, 12, [](int k) {
    return put_cmd("k", std::to_string(k));
  });
  BOOST_TEST(answered == 12);
  BOOST_TEST(sm->attempts >= 2u);
  BOOST_TEST(store->contents().snapshot.last_index == 0u);
  BOOST_TEST(store->contents().entries.size() == 13u); // no-op + 12
  BOOST_TEST(fs::is_empty(t.dirs[0]));
  caf::anon_send_exit(*m, caf::exit_reason::kill);
  sched.run();
}
