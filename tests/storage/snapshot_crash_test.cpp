#define BOOST_TEST_MODULE snapshot_crash
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>

#include "raft/storage/crc32c.hpp"
#include "raft/storage/file_storage.hpp"
#include "raft/storage/memory_storage.hpp"
#include "raft/storage/recovery.hpp"
#include "raft/storage/snapshot_store.hpp"

#include "crash_file_io.hpp"
#include "storage_test_util.hpp"

using namespace raft;
using namespace raft::test;

// The crash-point matrix of snapshots and compaction (docs/storage.md,
// Recovery), for the file log and for the memory_storage the simulation
// uses (its operations are atomic and durable once they return, as the
// simulation models them; its snapshot files are real files). Each scenario is what a member's actors do to its storage when
// it takes a snapshot, installs one from a leader, or compacts its log. The
// machine stops before each of the scenario's changing system calls in turn
// (write, fsync, rename, unlink, creating open), then either the process
// died (the disk keeps everything) or the power failed (what was not
// fsynced is lost, directory entries included). After each crash point,
// recover() must:
// - succeed (the member can start);
// - keep every acknowledged entry: covered by the snapshot, or in the log
//   with its term; keep every acknowledged snapshot or compaction;
// - start the log right after the snapshot, contiguous (no replay of what
//   the snapshot covers, so nothing is applied twice; nothing skipped);
// - hold a snapshot whose contents are the state at its index;
// - accept the next entry (the member rejoins and replicates).

namespace {

constexpr size_t entry_bytes = 40;

/// The application's state at `index`, as its snapshot bytes.
std::string state_at(index_t index) {
  return "state@" + std::to_string(index) + std::string(300, '.');
}

/// What the scenario got acknowledged before the crash.
struct acks {
  std::map<index_t, term_t> entries;
  index_t snapshot = 0;
  index_t base = 0;
};

enum class log_kind { file, memory };

std::string to_string(log_kind k) {
  return k == log_kind::file ? "file log" : "memory log";
}

/// A memory_storage on the crashing machine: each update is one changing
/// call, and none happens once the machine has stopped.
class memory_on_machine : public storage {
public:
  memory_on_machine(std::shared_ptr<memory_storage> mem,
                    std::shared_ptr<crash_file_io> io)
    : mem_(std::move(mem)), io_(std::move(io)) {
  }
  caf::expected<recovered_state> load() override {
    return mem_->load();
  }
  caf::error write(const write_batch& b) override {
    return io_->survive_change() ? mem_->write(b) : stopped();
  }
  caf::error compact(snapshot_meta meta) override {
    return io_->survive_change() ? mem_->compact(meta) : stopped();
  }
  caf::error reset(snapshot_meta meta) override {
    return io_->survive_change() ? mem_->reset(meta) : stopped();
  }

private:
  static caf::error stopped() {
    return make_error(errc::storage_failure, "the machine stopped");
  }
  std::shared_ptr<memory_storage> mem_;
  std::shared_ptr<crash_file_io> io_;
};

/// What survives a crash: the directory, and the memory log if used.
struct disk {
  std::string dir;
  log_kind kind;
  std::shared_ptr<memory_storage> mem;
};

struct world {
  std::string dir;
  std::shared_ptr<crash_file_io> io;
  std::unique_ptr<storage> log;
  std::unique_ptr<snapshot_store> snaps;
  acks acked;

  world(const disk& d, acks before) : dir(d.dir), acked(std::move(before)) {
    io = std::make_shared<crash_file_io>(std::vector<std::string>{dir});
    if (d.kind == log_kind::memory) {
      log = std::make_unique<memory_on_machine>(d.mem, io);
    } else {
      file_storage_options lo;
      lo.segment_bytes = 400;
      lo.io = io;
      log = std::make_unique<file_storage>(dir, lo);
    }
    snapshot_store_options so;
    so.io = io;
    snaps = std::make_unique<snapshot_store>(dir, so);
    if (auto rec = log->load(); !rec)
      BOOST_FAIL("load before the scenario: " << context(rec.error()));
  }

  caf::error append(index_t first, index_t last, term_t term,
                    std::optional<term_t> new_term = std::nullopt) {
    auto b = append_batch(make_entries(first, last, term, entry_bytes));
    if (new_term) {
      b.has_state = true;
      b.state = hard_state{*new_term, {}};
    }
    auto err = log->write(b);
    if (!err)
      for (auto i = first; i <= last; ++i)
        acked.entries[i] = term;
    return err;
  }

  /// The application saves its state at `meta` and the store publishes it.
  caf::error take(snapshot_meta meta) {
    auto path = snaps->begin(meta);
    if (!path)
      return path.error();
    {
      std::ofstream out{*path, std::ios::binary | std::ios::trunc};
      out << state_at(meta.last_index);
    }
    auto info = snaps->commit(meta);
    if (!info)
      return info.error();
    acked.snapshot = meta.last_index;
    return caf::none;
  }

  /// The leader's snapshot at `meta` arrives in two chunks.
  caf::error receive(snapshot_meta meta) {
    auto bytes = state_at(meta.last_index);
    if (auto err = snaps->begin_receive(meta))
      return err;
    auto half = bytes.size() / 2;
    if (auto err = snaps->write_chunk(0, bytes.substr(0, half)))
      return err;
    if (auto err = snaps->write_chunk(half, bytes.substr(half)))
      return err;
    auto info = snaps->finish_receive(bytes.size(),
                                      crc32c(bytes.data(), bytes.size()));
    if (!info)
      return info.error();
    acked.snapshot = meta.last_index;
    return caf::none;
  }

  /// What the log writer does with a batch (raft::persist).
  caf::error write(const write_batch& b) {
    auto err = persist(*log, b);
    if (err)
      return err;
    for (auto& e : b.entries)
      acked.entries[e.index] = e.term;
    acked.base = std::max({acked.base, b.reset_to.last_index,
                           b.compact_to.last_index});
    return caf::none;
  }

  caf::error compact(snapshot_meta meta) {
    write_batch b;
    b.compact_to = meta;
    return write(b);
  }
};

/// Entries first..last of `term`; then compaction to `compact_to`.
write_batch entries_then_compact(index_t first, index_t last, term_t term,
                                 snapshot_meta compact_to) {
  auto b = append_batch(make_entries(first, last, term, entry_bytes));
  b.compact_to = compact_to;
  return b;
}

using scenario = std::function<caf::error(world&)>;

/// Runs the steps until the first one fails (the machine stopped).
caf::error run(world& w, const std::vector<scenario>& steps) {
  for (auto& step : steps)
    if (auto err = step(w))
      return err;
  return caf::none;
}

/// The state every scenario starts from: term 2; entries 1-10 of term 1 and
/// 11-35 of term 2, all acknowledged; a snapshot at 5, the log compacted to
/// it; a second snapshot at 30 (published, the log not compacted yet).
acks prepare(const disk& d) {
  world w{d, {}};
  BOOST_REQUIRE(!w.log->write(state_batch(2)));
  BOOST_REQUIRE(!w.append(1, 10, 1));
  BOOST_REQUIRE(!w.append(11, 20, 2));
  BOOST_REQUIRE(!w.take({5, 1}));
  BOOST_REQUIRE(!w.compact({5, 1}));
  BOOST_REQUIRE(!w.append(21, 35, 2));
  BOOST_REQUIRE(!w.take({30, 2}));
  return w.acked;
}

/// The storage a restarted member would open on `d`.
std::unique_ptr<storage> reopen(const disk& d) {
  if (d.kind == log_kind::memory)
    return std::make_unique<memory_on_machine>(
      d.mem, std::make_shared<crash_file_io>(std::vector<std::string>{d.dir}));
  return std::make_unique<file_storage>(d.dir);
}

void check_recovery(const disk& d, const acks& acked,
                    const std::string& where) {
  BOOST_TEST_CONTEXT(where) {
    auto log = reopen(d);
    snapshot_store snaps{d.dir};
    auto rec = recover(*log, &snaps);
    BOOST_REQUIRE_MESSAGE(rec, "recover: " << why(rec));
    auto& snap = rec->snapshot.meta;
    auto& entries = rec->log.entries;
    BOOST_TEST(rec->log.snapshot.last_index == snap.last_index);
    BOOST_TEST(snap.last_index >= acked.snapshot);
    BOOST_TEST(snap.last_index >= acked.base);
    // The snapshot holds the state at its index.
    if (!rec->snapshot.none()) {
      auto bytes = read_bytes(rec->snapshot.path);
      BOOST_TEST(std::string(bytes.begin(), bytes.end())
                 == state_at(snap.last_index));
    }
    // Contiguous right after the snapshot.
    for (size_t i = 0; i < entries.size(); ++i)
      BOOST_TEST_REQUIRE(entries[i].index == snap.last_index + 1 + i);
    // Every acknowledged entry is covered or kept with its term.
    for (auto& [index, term] : acked.entries) {
      if (index <= snap.last_index)
        continue;
      auto pos = index - snap.last_index - 1;
      BOOST_TEST_REQUIRE(pos < entries.size(), "entry " << index << " lost");
      BOOST_TEST(entries[pos].term == term);
    }
    // The member continues: the next entry is accepted and reads back.
    auto next = snap.last_index + entries.size() + 1;
    auto term = std::max(rec->log.state.current_term, term_t{3});
    auto b = append_batch(make_entries(next, next, term, entry_bytes));
    b.has_state = true;
    b.state = hard_state{term, {}};
    BOOST_TEST(!log->write(b));
    log.reset();
    auto again = reopen(d);
    snapshot_store snaps2{d.dir};
    auto rec2 = recover(*again, &snaps2);
    BOOST_REQUIRE_MESSAGE(rec2, "second recover: " << why(rec2));
    BOOST_TEST(rec2->log.entries.size() == entries.size() + 1);
  }
}

/// Crashes `steps` before each of their changing calls in turn, with and
/// without losing what was not durable, and checks each recovery; for the
/// file log and the memory log. Returns the number of crash points.
size_t crash_everywhere(const std::string& name,
                        const std::vector<scenario>& steps) {
  size_t total = 0;
  for (auto kind : {log_kind::file, log_kind::memory}) {
    temp_dir tmp;
    disk proto{tmp.file("template"), kind, std::make_shared<memory_storage>()};
    auto acked = prepare(proto);
    auto image = snapshot_dir(proto.dir);
    auto mem_image = proto.mem->contents();
    disk d{tmp.file("run"), kind, nullptr};
    std::filesystem::create_directories(d.dir);
    auto fresh = [&] {
      restore_dir(d.dir, image);
      d.mem = std::make_shared<memory_storage>(mem_image);
    };
    auto label = name + " (" + to_string(kind) + ")";
    // A clean run counts the crash points.
    fresh();
    size_t points;
    acks clean;
    {
      world w{d, acked};
      auto err = run(w, steps);
      BOOST_REQUIRE_MESSAGE(!err, "clean run: " << context(err));
      points = w.io->changes();
      clean = w.acked;
    }
    // Checked once the run's storage is gone: one storage per directory at
    // a time (its LOCK), as after a restart.
    check_recovery(d, clean, label + ", no crash");
    for (size_t n = 0; n <= points; ++n)
      for (bool power_loss : {false, true}) {
        fresh();
        acks after;
        {
          world w{d, acked};
          w.io->crash_after(n);
          auto err = run(w, steps);
          BOOST_TEST((n == points ? !err : w.io->crashed()));
          if (power_loss)
            w.io->lose_unsynced();
          after = w.acked;
        }
        check_recovery(d, after,
                       label + ", crash before changing call "
                         + std::to_string(n)
                         + (power_loss ? ", power loss" : ", process crash"));
      }
    BOOST_TEST_MESSAGE(label << ": " << points << " crash points");
    total += points;
  }
  return total;
}

} // namespace

// A member takes a snapshot at 32 (the snapshot actor publishes it), then
// its log writer writes the next entries and compacts.
BOOST_AUTO_TEST_CASE(taking_a_snapshot) {
  auto n = crash_everywhere(
    "take", {[](world& w) { return w.take({32, 2}); },
             [](world& w) {
               return w.write(entries_then_compact(36, 38, 2, {32, 2}));
             },
             [](world& w) { return w.append(39, 40, 2); }});
  BOOST_TEST(n >= 10u);
}

// A follower installs a leader's snapshot far ahead of its log (Figure 13,
// receiver 7: the log is discarded), in the batch the member then writes:
// the leader's term, the reset, the entries after the snapshot.
BOOST_AUTO_TEST_CASE(installing_a_snapshot_beyond_the_log) {
  auto n = crash_everywhere(
    "install beyond", {[](world& w) { return w.receive({50, 3}); },
                       [](world& w) {
                         auto b = append_batch(
                           make_entries(51, 53, 3, entry_bytes));
                         b.reset_to = snapshot_meta{50, 3};
                         b.has_state = true;
                         b.state = hard_state{3, {}};
                         return w.write(b);
                       },
                       [](world& w) { return w.append(54, 55, 3); }});
  BOOST_TEST(n >= 10u);
}

// A follower installs a snapshot whose last entry its log holds (receiver
// 6: the entries after it stay).
BOOST_AUTO_TEST_CASE(installing_a_snapshot_the_log_continues) {
  auto n = crash_everywhere(
    "install within",
    {[](world& w) { return w.receive({33, 2}); },
     [](world& w) { return w.write(entries_then_compact(36, 37, 2, {33, 2})); },
     [](world& w) { return w.append(38, 39, 2); }});
  BOOST_TEST(n >= 10u);
}

// The log is compacted to a snapshot that is already durable.
BOOST_AUTO_TEST_CASE(compacting_the_log) {
  auto n = crash_everywhere(
    "compact",
    {[](world& w) { return w.write(entries_then_compact(36, 40, 2, {30, 2})); },
     [](world& w) { return w.append(41, 42, 2); }});
  BOOST_TEST(n >= 4u);
}

// -- reconcile() on its own, for both storages --------------------------------

namespace {

recovered_state log_of(index_t base, term_t base_term, index_t last,
                       term_t term, term_t current_term) {
  recovered_state r;
  r.state = hard_state{current_term, {}};
  r.snapshot = snapshot_meta{base, base_term};
  r.entries = make_entries(base + 1, last, term);
  return r;
}

template <class Store>
void check_reconcile(Store& store, recovered_state rec, snapshot_meta snap,
                     index_t expected_first, size_t expected_entries,
                     term_t expected_term) {
  BOOST_REQUIRE(!reconcile(store, rec, snap));
  BOOST_TEST(rec.snapshot.last_index == snap.last_index);
  BOOST_TEST(rec.entries.size() == expected_entries);
  if (!rec.entries.empty())
    BOOST_TEST(rec.entries.front().index == expected_first);
  BOOST_TEST(rec.state.current_term == expected_term);
  // What the storage now holds agrees, and the next entry continues it.
  auto again = store.load();
  BOOST_REQUIRE(again);
  BOOST_TEST(again->snapshot.last_index == snap.last_index);
  BOOST_TEST(again->entries.size() == expected_entries);
  BOOST_TEST(again->state.current_term == expected_term);
  auto next = snap.last_index + expected_entries + 1;
  BOOST_TEST(!store.write(append_batch(make_entries(next, next, expected_term))));
}

} // namespace

// The case the simulation found (seed 9100077): the snapshot at 24 is
// durable, the log ends at 20. The next entry is 25.
BOOST_AUTO_TEST_CASE(reconcile_a_log_that_ends_before_the_snapshot) {
  memory_storage mem{log_of(0, 0, 20, 5, 5)};
  check_reconcile(mem, log_of(0, 0, 20, 5, 5), {24, 5}, 0, 0, 5);
  temp_dir tmp;
  file_storage files{tmp.path()};
  BOOST_REQUIRE(files.load());
  BOOST_REQUIRE(!files.write(state_batch(5)));
  BOOST_REQUIRE(!files.write(append_batch(make_entries(1, 20, 5))));
  check_reconcile(files, *files.load(), {24, 5}, 0, 0, 5);
}

BOOST_AUTO_TEST_CASE(reconcile_keeps_the_entries_after_a_matching_snapshot) {
  memory_storage mem{log_of(0, 0, 30, 5, 5)};
  check_reconcile(mem, log_of(0, 0, 30, 5, 5), {24, 5}, 25, 6, 5);
}

// Figure 13, receiver 7: the log's entry at the snapshot's index has another
// term, so everything after it is not the committed log either.
BOOST_AUTO_TEST_CASE(reconcile_drops_a_log_that_conflicts_with_the_snapshot) {
  memory_storage mem{log_of(0, 0, 30, 4, 5)};
  check_reconcile(mem, log_of(0, 0, 30, 4, 5), {24, 5}, 0, 0, 5);
}

// §5.1: a crash lost the term under which the snapshot was accepted.
BOOST_AUTO_TEST_CASE(reconcile_raises_the_term_to_the_snapshots) {
  memory_storage mem{log_of(0, 0, 10, 2, 2)};
  check_reconcile(mem, log_of(0, 0, 10, 2, 2), {40, 7}, 0, 0, 7);
}

BOOST_AUTO_TEST_CASE(reconcile_ignores_an_older_snapshot) {
  memory_storage mem{log_of(30, 5, 40, 5, 5)};
  auto rec = log_of(30, 5, 40, 5, 5);
  BOOST_REQUIRE(!reconcile(mem, rec, {24, 5}));
  BOOST_TEST(rec.snapshot.last_index == 30u);
  BOOST_TEST(rec.entries.size() == 10u);
}
