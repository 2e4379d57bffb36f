#define BOOST_TEST_MODULE file_storage_fault
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <functional>

#include "raft/storage/file_storage.hpp"
#include "raft/storage/memory_storage.hpp"

#include "storage_test_util.hpp"

using namespace raft;
using namespace raft::test;

// Fail-stop: whatever system call fails (write, fdatasync, fsync, open,
// rename, unlink, ftruncate; a disk that fills up), the storage answers
// storage_failure with errno's text, refuses every later update even if the
// disk works again, and a restart finds every acknowledged update: the state
// from before the failed operation or, partly or wholly, after it.

namespace {

std::string detail_errno_text(int err) {
  return std::strerror(err);
}

/// One step of the workload.
struct op {
  enum kind_t { write, compact, reset } kind;
  write_batch batch;
  snapshot_meta meta;
};

std::vector<op> workload() {
  std::vector<op> ops;
  auto w = [&](write_batch b) { ops.push_back(op{op::write, std::move(b), {}}); };
  w(state_batch(1, "a:1"));
  w(append_batch(make_entries(1, 3, 1, 40)));
  w(append_batch(make_entries(4, 4, 1, 40)));
  w(append_batch(make_entries(5, 9, 1, 40))); // rotates
  auto b = append_batch(make_entries(10, 12, 2, 40));
  b.has_state = true;
  b.state = hard_state{2, "b:2"};
  w(b);
  b = append_batch(make_entries(11, 13, 3, 40)); // conflict: cut 11, 12
  b.truncate_from = 11;
  b.has_state = true;
  b.state = hard_state{3, ""};
  w(b);
  ops.push_back(op{op::compact, {}, snapshot_meta{5, 1}});
  w(append_batch(make_entries(14, 20, 3, 40)));
  b = append_batch(make_entries(8, 9, 3, 40)); // cut across segments
  b.truncate_from = 8;
  w(b);
  ops.push_back(op{op::reset, {}, snapshot_meta{25, 3}});
  w(append_batch(make_entries(26, 28, 3, 40)));
  w(state_batch(4));
  return ops;
}

caf::error apply(storage& st, const op& x) {
  switch (x.kind) {
    case op::write:
      return st.write(x.batch);
    case op::compact:
      return st.compact(x.meta);
    case op::reset:
      return st.reset(x.meta);
  }
  return caf::none;
}

file_storage_options options(std::shared_ptr<file_io> io) {
  file_storage_options opts;
  opts.segment_bytes = 400;
  opts.io = std::move(io);
  return opts;
}

/// The log as a map from index to entry (ignoring what the base covers).
std::map<index_t, log_entry> by_index(const recovered_state& x) {
  std::map<index_t, log_entry> result;
  for (auto& e : x.entries)
    result.emplace(e.index, e);
  return result;
}

/// True if `got` is an acceptable outcome of an operation that failed
/// between states `before` and `after`.
bool acceptable(const recovered_state& got, const recovered_state& before,
                const recovered_state& after, std::string& why) {
  if (!(got.state == before.state) && !(got.state == after.state)) {
    why = "hard state is neither before nor after";
    return false;
  }
  if (got.snapshot.last_index != before.snapshot.last_index
      && got.snapshot.last_index != after.snapshot.last_index) {
    why = "base is neither before nor after";
    return false;
  }
  // Entries: a gapless run after the base, each one as in `before` or
  // `after`, and at least what both agree on (up to the first difference).
  auto b = by_index(before);
  auto a = by_index(after);
  auto base = got.snapshot.last_index;
  index_t expect = base + 1;
  for (auto& e : got.entries) {
    if (e.index != expect++) {
      why = "gap at " + std::to_string(e.index);
      return false;
    }
    auto in_b = b.count(e.index) && b[e.index] == e;
    auto in_a = a.count(e.index) && a[e.index] == e;
    if (!in_b && !in_a) {
      why = "entry " + std::to_string(e.index) + " is in neither state";
      return false;
    }
  }
  // Everything both states hold after this base must be there.
  for (index_t i = base + 1;; ++i) {
    if (!b.count(i) || !a.count(i) || !(b[i] == a[i]))
      break;
    if (i >= expect) {
      why = "lost entry " + std::to_string(i) + " that both states hold";
      return false;
    }
  }
  return true;
}

struct outcome {
  bool failed = false;
  size_t failed_at = 0;
};

/// Runs the workload with `io` (armed after the initial load) and checks
/// the fail-stop contract. `arm` makes the fault happen.
outcome run(const std::function<void(faulty_file_io&)>& arm,
            const std::string& errno_text, const std::string& label) {
  temp_dir tmp;
  auto io = std::make_shared<faulty_file_io>();
  auto opts = options(io);
  auto ops = workload();
  memory_storage model;
  outcome result;
  auto owner = std::make_unique<file_storage>(tmp.path(), opts);
  auto& fs = *owner;
  BOOST_REQUIRE(fs.load());
  arm(*io);
  recovered_state before;
  recovered_state after;
  for (size_t i = 0; i < ops.size(); ++i) {
    before = model.contents();
    BOOST_REQUIRE(!apply(model, ops[i]));
    after = model.contents();
    auto err = apply(fs, ops[i]);
    if (!err)
      continue;
    result.failed = true;
    result.failed_at = i;
    BOOST_REQUIRE_MESSAGE(has_code(err, errc::storage_failure),
                          label << ": op " << i << ": " << context(err));
    BOOST_REQUIRE_MESSAGE(context(err).find(errno_text) != std::string::npos,
                          label << ": op " << i << ": " << context(err));
    BOOST_REQUIRE(fs.failed());
    // Everything later is refused, even with a healthy disk.
    io->heal();
    for (size_t j = i + 1; j < ops.size(); ++j) {
      auto later = apply(fs, ops[j]);
      BOOST_REQUIRE(has_code(later, errc::storage_failure));
      BOOST_REQUIRE(context(later).find("refused") != std::string::npos);
    }
    BOOST_REQUIRE(has_code(fs.write(state_batch(99)), errc::storage_failure));
    BOOST_REQUIRE(!fs.load());
    break;
  }
  // Restart (the failed storage released first: one storage per directory
  // at a time, its LOCK): everything acknowledged is there.
  owner.reset();
  file_storage again{tmp.path(), options(nullptr)};
  auto rec = again.load();
  BOOST_REQUIRE_MESSAGE(rec, label << ": reload: " << why(rec));
  if (!result.failed) {
    before = after = model.contents();
  }
  std::string why_not;
  BOOST_REQUIRE_MESSAGE(acceptable(*rec, before, after, why_not),
                        label << ", failed op " << result.failed_at << ": "
                              << why_not);
  // And the restarted storage works.
  auto next = again.last_index() + 1;
  auto err = again.write(
    append_batch(make_entries(next, next, rec->state.current_term)));
  BOOST_REQUIRE_MESSAGE(!err, label << ": " << context(err));
  return result;
}

} // namespace

BOOST_AUTO_TEST_CASE(every_failing_call_of_every_kind) {
  // Count the calls of a healthy run.
  std::array<size_t, faulty_file_io::num_ops> totals{};
  {
    temp_dir tmp;
    auto io = std::make_shared<faulty_file_io>();
    file_storage fs{tmp.path(), options(io)};
    BOOST_REQUIRE(fs.load());
    std::array<size_t, faulty_file_io::num_ops> at_start{};
    for (size_t k = 0; k < faulty_file_io::num_ops; ++k)
      at_start[k] = io->calls(static_cast<faulty_file_io::op>(k));
    for (auto& x : workload())
      BOOST_REQUIRE(!apply(fs, x));
    for (size_t k = 0; k < faulty_file_io::num_ops; ++k)
      totals[k] = io->calls(static_cast<faulty_file_io::op>(k)) - at_start[k];
  }
  const char* names[] = {"open",     "write",  "read",  "sync",
                         "truncate", "rename", "unlink"};
  size_t runs = 0;
  for (size_t k = 0; k < faulty_file_io::num_ops; ++k) {
    auto kind = static_cast<faulty_file_io::op>(k);
    BOOST_TEST_MESSAGE(names[k] << ": " << totals[k] << " calls");
    if (kind == faulty_file_io::read_op)
      continue; // the workload writes only
    BOOST_TEST(totals[k] > 0u);
    for (size_t n = 0; n < totals[k]; ++n) {
      // EIO once (a transient error), and EIO for good.
      for (bool sticky : {false, true}) {
        auto label = std::string{names[k]} + " #" + std::to_string(n)
                     + (sticky ? " (sticky)" : " (once)");
        auto res = run([&](faulty_file_io& io) { io.fail(kind, n, EIO, sticky); },
                       detail_errno_text(EIO), label);
        BOOST_REQUIRE_MESSAGE(res.failed, label << " did not fail");
        ++runs;
      }
    }
  }
  BOOST_TEST_MESSAGE(runs << " runs");
}

BOOST_AUTO_TEST_CASE(disk_full_after_every_amount_of_bytes) {
  uint64_t total = 0;
  {
    temp_dir tmp;
    auto io = std::make_shared<faulty_file_io>();
    file_storage fs{tmp.path(), options(io)};
    BOOST_REQUIRE(fs.load());
    auto start = io->bytes_written();
    for (auto& x : workload())
      BOOST_REQUIRE(!apply(fs, x));
    total = io->bytes_written() - start;
  }
  BOOST_TEST_MESSAGE(total << " bytes written by the workload");
  size_t runs = 0;
  for (uint64_t budget = 0; budget < total; budget += 1 + budget % 23) {
    auto label = "disk full after " + std::to_string(budget) + " bytes";
    auto res = run([&](faulty_file_io& io) { io.disk_full_after(budget); },
                   detail_errno_text(ENOSPC), label);
    BOOST_REQUIRE_MESSAGE(res.failed, label << " did not fail");
    ++runs;
  }
  BOOST_TEST_MESSAGE(runs << " runs");
  // With room for everything, nothing fails.
  auto res = run([&](faulty_file_io& io) { io.disk_full_after(total); },
                 "", "disk full exactly at the end");
  BOOST_TEST(!res.failed);
}

BOOST_AUTO_TEST_CASE(reads_of_acknowledged_entries_work_after_a_failure) {
  temp_dir tmp;
  auto io = std::make_shared<faulty_file_io>();
  file_storage fs{tmp.path(), options(io)};
  BOOST_REQUIRE(fs.load());
  BOOST_REQUIRE(!fs.write(state_batch(1)));
  BOOST_REQUIRE(!fs.write(append_batch(make_entries(1, 5, 1))));
  io->fail(faulty_file_io::sync_op, 0, EIO, false);
  BOOST_TEST(has_code(fs.write(append_batch(make_entries(6, 7, 1))),
                      errc::storage_failure));
  auto got = fs.read(1, 5);
  BOOST_REQUIRE(got);
  BOOST_TEST((*got == make_entries(1, 5, 1)));
  BOOST_TEST(has_code(fs.read(6, 7).error(), errc::storage_failure));
}
