#define BOOST_TEST_MODULE file_storage_roundtrip
#include <boost/test/unit_test.hpp>

#include <random>

#include "raft/storage/file_storage.hpp"
#include "raft/storage/memory_storage.hpp"

#include "storage_test_util.hpp"

using namespace raft;
using namespace raft::test;

namespace {

file_storage_options small_segments(uint64_t bytes = 400, bool sync = true) {
  file_storage_options opts;
  opts.segment_bytes = bytes;
  opts.sync = sync;
  return opts;
}

recovered_state load_fresh(const std::string& dir,
                           file_storage_options opts = {}) {
  file_storage fs{dir, opts};
  auto res = fs.load();
  BOOST_REQUIRE_MESSAGE(res, "load failed: " << why(res));
  return std::move(*res);
}

void require_same(const recovered_state& x, const recovered_state& y) {
  BOOST_REQUIRE(x.state == y.state);
  BOOST_REQUIRE_EQUAL(x.snapshot.last_index, y.snapshot.last_index);
  BOOST_REQUIRE_EQUAL(x.snapshot.last_term, y.snapshot.last_term);
  BOOST_REQUIRE_EQUAL(x.entries.size(), y.entries.size());
  for (size_t i = 0; i < x.entries.size(); ++i)
    BOOST_REQUIRE_MESSAGE(x.entries[i] == y.entries[i],
                          "entries differ at position " << i);
}

} // namespace

BOOST_AUTO_TEST_CASE(fresh_directory_is_created_and_empty) {
  temp_dir tmp;
  auto dir = tmp.file("a/b");
  auto rec = load_fresh(dir);
  BOOST_TEST(rec.state.current_term == 0u);
  BOOST_TEST(rec.state.voted_for.empty());
  BOOST_TEST(rec.snapshot.last_index == 0u);
  BOOST_TEST(rec.entries.empty());
  BOOST_TEST(std::filesystem::exists(dir + "/metadata"));
}

BOOST_AUTO_TEST_CASE(hard_state_and_entries_survive_a_restart) {
  temp_dir tmp;
  entry_vector all;
  {
    file_storage fs{tmp.path()};
    BOOST_REQUIRE(fs.load());
    BOOST_REQUIRE(!fs.write(state_batch(1, "10.0.0.1:4000")));
    auto b = append_batch(make_entries(1, 3, 1));
    b.entries[0].kind = entry_kind::noop;
    b.entries[0].data = payload{};
    b.entries[2].data = payload{std::string("\0\x01\xff binary\0", 11)};
    all = b.entries;
    BOOST_REQUIRE(!fs.write(b));
    // State and entries in one batch.
    auto c = append_batch(make_entries(4, 9, 2, 100));
    c.has_state = true;
    c.state.current_term = 2;
    BOOST_REQUIRE(!fs.write(c));
    all.insert(all.end(), c.entries.begin(), c.entries.end());
  }
  auto rec = load_fresh(tmp.path());
  BOOST_TEST(rec.state.current_term == 2u);
  BOOST_TEST(rec.state.voted_for.empty());
  recovered_state want;
  want.state.current_term = 2;
  want.entries = all;
  require_same(rec, want);
  BOOST_TEST((rec.entries[0].kind == entry_kind::noop));
}

BOOST_AUTO_TEST_CASE(rotation_and_read_back_across_segments) {
  temp_dir tmp;
  auto opts = small_segments(400);
  entry_vector all;
  {
    file_storage fs{tmp.path(), opts};
    BOOST_REQUIRE(fs.load());
    BOOST_REQUIRE(!fs.write(state_batch(3)));
    index_t next = 1;
    for (int batch = 0; batch < 20; ++batch) {
      auto n = static_cast<index_t>(1 + batch % 4);
      auto b = append_batch(make_entries(next, next + n - 1, 3, 40));
      BOOST_REQUIRE(!fs.write(b));
      all.insert(all.end(), b.entries.begin(), b.entries.end());
      next += n;
    }
    BOOST_TEST(fs.segment_count() > 5u);
    BOOST_TEST(fs.segment_count() == segment_files(tmp.path()).size());
    // Every segment holding more than one batch stays within the limit.
    for (auto& name : segment_files(tmp.path()))
      BOOST_TEST(std::filesystem::file_size(tmp.file(name)) <= 400u + 4 * 90);
    auto whole = fs.read(1, all.size());
    BOOST_REQUIRE(whole);
    BOOST_REQUIRE(*whole == all);
    for (index_t from = 1; from <= all.size(); from += 3) {
      auto to = std::min<index_t>(all.size(), from + 7);
      auto part = fs.read(from, to);
      BOOST_REQUIRE(part);
      BOOST_REQUIRE(entry_vector(all.begin() + (from - 1), all.begin() + to)
                    == *part);
    }
    BOOST_TEST(has_code(fs.read(0, 2).error(), errc::storage_failure));
    BOOST_TEST(has_code(fs.read(2, all.size() + 1).error(),
                        errc::storage_failure));
    BOOST_TEST(has_code(fs.read(5, 4).error(), errc::storage_failure));
  }
  // A new instance reads the same without load() first, and after it.
  file_storage fs{tmp.path(), opts};
  auto part = fs.read(10, 20);
  BOOST_REQUIRE(part);
  BOOST_REQUIRE(entry_vector(all.begin() + 9, all.begin() + 20) == *part);
  auto rec = fs.load();
  BOOST_REQUIRE(rec);
  BOOST_REQUIRE(rec->entries == all);
}

BOOST_AUTO_TEST_CASE(truncation_within_at_start_of_and_across_segments) {
  temp_dir tmp;
  auto opts = small_segments(300);
  memory_storage model;
  auto fs = std::make_unique<file_storage>(tmp.path(), opts);
  BOOST_REQUIRE(fs->load());
  auto both = [&](const write_batch& b) {
    BOOST_REQUIRE(!model.write(b));
    BOOST_REQUIRE(!fs->write(b));
    // One storage per directory at a time (its LOCK): release it, check
    // what a fresh one finds, then carry on with another.
    fs.reset();
    auto rec = load_fresh(tmp.path(), opts);
    require_same(rec, model.contents());
    fs = std::make_unique<file_storage>(tmp.path(), opts);
    BOOST_REQUIRE(fs->load());
  };
  both(state_batch(5));
  for (index_t i = 1; i <= 40; i += 4)
    both(append_batch(make_entries(i, i + 3, 1, 30)));
  auto segments_before = fs->segment_count();
  // Within the last segment.
  auto b = append_batch(make_entries(39, 41, 2, 30));
  b.truncate_from = 39;
  both(b);
  // Across several segments, with a new term.
  b = append_batch(make_entries(12, 13, 3, 30));
  b.truncate_from = 12;
  both(b);
  BOOST_TEST(fs->segment_count() < segments_before);
  // At the exact start of a segment: find one and cut there.
  auto files = segment_files(tmp.path());
  BOOST_REQUIRE(files.size() >= 2u);
  index_t seg_start = std::stoull(files[1].substr(4));
  b = append_batch(make_entries(seg_start, seg_start, 4, 30));
  b.truncate_from = seg_start;
  both(b);
  // Truncation alone, and beyond the end (nothing to do).
  write_batch t;
  t.truncate_from = seg_start;
  both(t);
  t.truncate_from = 1000;
  both(t);
  // Everything.
  b = append_batch(make_entries(1, 2, 5, 30));
  b.truncate_from = 1;
  both(b);
  BOOST_TEST(fs->segment_count() == 1u);
  auto all = fs->read(1, 2);
  BOOST_REQUIRE(all);
  BOOST_REQUIRE(*all == model.contents().entries);
}

BOOST_AUTO_TEST_CASE(compaction_removes_covered_segments_durably) {
  temp_dir tmp;
  auto opts = small_segments(300);
  entry_vector all;
  {
    file_storage fs{tmp.path(), opts};
    BOOST_REQUIRE(fs.load());
    BOOST_REQUIRE(!fs.write(state_batch(2)));
    for (index_t i = 1; i <= 60; i += 3) {
      auto b = append_batch(make_entries(i, i + 2, i < 30 ? 1 : 2, 30));
      BOOST_REQUIRE(!fs.write(b));
      all.insert(all.end(), b.entries.begin(), b.entries.end());
    }
    auto before = fs.segment_count();
    // A term that contradicts the log is refused (nothing changes).
    BOOST_TEST(has_code(fs.compact(snapshot_meta{25, 2}),
                        errc::storage_failure));
    BOOST_TEST(!fs.failed());
    BOOST_REQUIRE(!fs.compact(snapshot_meta{25, 1}));
    BOOST_TEST(fs.segment_count() < before);
    BOOST_TEST(fs.first_index() == 26u);
    BOOST_TEST(has_code(fs.read(25, 30).error(), errc::storage_failure));
    auto part = fs.read(26, 60);
    BOOST_REQUIRE(part);
    BOOST_REQUIRE(entry_vector(all.begin() + 25, all.end()) == *part);
    // An older base changes nothing.
    BOOST_REQUIRE(!fs.compact(snapshot_meta{10, 1}));
    BOOST_TEST(fs.first_index() == 26u);
  }
  auto rec = load_fresh(tmp.path(), opts);
  BOOST_TEST(rec.snapshot.last_index == 25u);
  BOOST_TEST(rec.snapshot.last_term == 1u);
  BOOST_REQUIRE(rec.entries == entry_vector(all.begin() + 25, all.end()));
  {
    // Compaction beyond the last entry leaves an empty log after the base.
    file_storage fs{tmp.path(), opts};
    BOOST_REQUIRE(fs.load());
    BOOST_REQUIRE(!fs.compact(snapshot_meta{70, 2}));
    BOOST_TEST(fs.segment_count() == 0u);
    BOOST_TEST(fs.last_index() == 70u);
    BOOST_TEST(has_code(fs.write(append_batch(make_entries(70, 70, 2))),
                        errc::storage_failure));
    BOOST_REQUIRE(!fs.write(append_batch(make_entries(71, 72, 2))));
  }
  rec = load_fresh(tmp.path(), opts);
  BOOST_TEST(rec.snapshot.last_index == 70u);
  BOOST_REQUIRE(rec.entries == make_entries(71, 72, 2));
}

BOOST_AUTO_TEST_CASE(reset_drops_everything_and_restarts_after_the_snapshot) {
  temp_dir tmp;
  auto opts = small_segments(300);
  dir_image before_reset;
  {
    file_storage fs{tmp.path(), opts};
    BOOST_REQUIRE(fs.load());
    BOOST_REQUIRE(!fs.write(state_batch(4, "x:1")));
    for (index_t i = 1; i <= 30; i += 3)
      BOOST_REQUIRE(!fs.write(append_batch(make_entries(i, i + 2, 1, 30))));
    before_reset = snapshot_dir(tmp.path());
    BOOST_REQUIRE(!fs.reset(snapshot_meta{100, 3}));
    BOOST_TEST(fs.segment_count() == 0u);
    BOOST_TEST(segment_files(tmp.path()).empty());
    BOOST_TEST(fs.first_index() == 101u);
    BOOST_REQUIRE(!fs.write(append_batch(make_entries(101, 105, 4, 30))));
  }
  auto rec = load_fresh(tmp.path(), opts);
  BOOST_TEST(rec.state.current_term == 4u);
  BOOST_TEST(rec.state.voted_for == "x:1");
  BOOST_TEST(rec.snapshot.last_index == 100u);
  BOOST_TEST(rec.snapshot.last_term == 3u);
  BOOST_REQUIRE(rec.entries == make_entries(101, 105, 4, 30));
  // A crash right after reset's metadata update, before the old segments
  // were unlinked: they come back, but belong to the old generation.
  for (auto& [name, bytes] : before_reset)
    if (name.rfind("log-", 0) == 0)
      write_bytes(tmp.file(name), bytes);
  {
    file_storage fs{tmp.path(), opts};
    auto again = fs.load();
    BOOST_REQUIRE_MESSAGE(again, why(again));
    BOOST_REQUIRE(again->entries == make_entries(101, 105, 4, 30));
    BOOST_TEST(!fs.warnings().empty());
  }
  BOOST_TEST(segment_files(tmp.path()).size() == 1u);
}

BOOST_AUTO_TEST_CASE(invalid_batches_are_refused_without_writing) {
  temp_dir tmp;
  auto fs = std::make_unique<file_storage>(tmp.path());
  BOOST_REQUIRE(fs->load());
  BOOST_REQUIRE(!fs->write(state_batch(2)));
  BOOST_REQUIRE(!fs->write(append_batch(make_entries(1, 3, 2))));
  // Gap.
  BOOST_TEST(has_code(fs->write(append_batch(make_entries(5, 6, 2))),
                      errc::storage_failure));
  // Term newer than the current term.
  BOOST_TEST(has_code(fs->write(append_batch(make_entries(4, 4, 3))),
                      errc::storage_failure));
  // Term going down along the log.
  BOOST_TEST(has_code(fs->write(append_batch(make_entries(4, 4, 1))),
                      errc::storage_failure));
  // Current term going back.
  BOOST_TEST(has_code(fs->write(state_batch(1)), errc::storage_failure));
  BOOST_TEST(!fs->failed());
  BOOST_REQUIRE(!fs->write(append_batch(make_entries(4, 4, 2))));
  fs.reset(); // one storage per directory at a time (its LOCK)
  auto rec = load_fresh(tmp.path());
  BOOST_REQUIRE(rec.entries == make_entries(1, 4, 2));
  BOOST_TEST(rec.state.current_term == 2u);
}

BOOST_AUTO_TEST_CASE(bad_options_are_invalid_config) {
  temp_dir tmp;
  file_storage_options opts;
  opts.segment_bytes = 10;
  file_storage fs{tmp.path(), opts};
  BOOST_TEST(has_code(fs.load().error(), errc::invalid_config));
  BOOST_TEST(has_code(fs.write(state_batch(1)), errc::invalid_config));
  file_storage nameless{""};
  BOOST_TEST(has_code(nameless.load().error(), errc::invalid_config));
}

// A random walk of appends, conflicting truncations, votes, compactions,
// resets and restarts, checked against memory_storage after every step.
BOOST_AUTO_TEST_CASE(random_operations_match_memory_storage) {
  temp_dir tmp;
  auto opts = small_segments(700, false);
  std::mt19937_64 gen{7};
  memory_storage model;
  auto fs = std::make_unique<file_storage>(tmp.path(), opts);
  BOOST_REQUIRE(fs->load());
  term_t term = 1;
  size_t truncations = 0, compactions = 0, resets = 0, restarts = 0;
  BOOST_REQUIRE(!model.write(state_batch(term)));
  BOOST_REQUIRE(!fs->write(state_batch(term)));
  for (int step = 0; step < 1500; ++step) {
    auto c = model.contents();
    auto base = c.snapshot.last_index;
    auto last = base + c.entries.size();
    auto pick = gen() % 100;
    if (pick < 60) {
      write_batch b;
      if (gen() % 4 == 0) {
        ++term;
        b.has_state = true;
        b.state.current_term = term;
        b.state.voted_for = gen() % 2 ? "peer:1" : "";
      }
      index_t next = last + 1;
      if (last > base && gen() % 5 == 0) {
        // Conflict: cut a few uncommitted entries (higher term follows).
        next = last - gen() % std::min<index_t>(last - base, 6);
        b.truncate_from = next;
        ++truncations;
        if (!b.has_state) {
          ++term;
          b.has_state = true;
          b.state.current_term = term;
        }
      }
      auto n = gen() % 8;
      for (index_t i = 0; i < n; ++i)
        b.entries.push_back(make_entry(next + i, term, gen() % 120));
      BOOST_REQUIRE(!model.write(b));
      BOOST_REQUIRE_MESSAGE(!fs->write(b), "step " << step);
    } else if (pick < 75 && last > base) {
      auto at = base + 1 + gen() % (last - base);
      snapshot_meta meta{at, c.entries[at - base - 1].term};
      BOOST_REQUIRE(!model.compact(meta));
      BOOST_REQUIRE_MESSAGE(!fs->compact(meta), "step " << step);
      ++compactions;
    } else if (pick < 78) {
      snapshot_meta meta{last + gen() % 10, term};
      BOOST_REQUIRE(!model.reset(meta));
      BOOST_REQUIRE(!fs->reset(meta));
      ++resets;
    } else if (pick < 90) {
      fs.reset(); // one storage per directory at a time (its LOCK)
      fs = std::make_unique<file_storage>(tmp.path(), opts);
      ++restarts;
      auto rec = fs->load();
      BOOST_REQUIRE_MESSAGE(rec, "step " << step << ": "
                                         << why(rec));
      require_same(*rec, model.contents());
    } else if (last > base) {
      auto from = base + 1 + gen() % (last - base);
      auto to = from + gen() % (last - from + 1);
      auto got = fs->read(from, to);
      auto want = model.read(from, to);
      BOOST_REQUIRE(got && want);
      BOOST_REQUIRE(*got == *want);
    }
  }
  auto last_index = fs->last_index();
  fs.reset(); // one storage per directory at a time (its LOCK)
  auto rec = load_fresh(tmp.path(), opts);
  require_same(rec, model.contents());
  BOOST_TEST_MESSAGE(truncations << " truncations, " << compactions
                                 << " compactions, " << resets << " resets, "
                                 << restarts << " restarts; last index "
                                 << last_index);
  BOOST_TEST(truncations > 50u);
  BOOST_TEST(compactions > 50u);
  BOOST_TEST(resets > 10u);
}

// The cost of a batch in system calls: entries take ONE pwrite and ONE
// fdatasync whatever their number; a hard state change adds the metadata
// replacement; a new segment adds its creation.
BOOST_AUTO_TEST_CASE(one_write_and_one_sync_per_batch) {
  temp_dir tmp;
  auto io = std::make_shared<faulty_file_io>();
  file_storage_options opts;
  opts.io = io;
  opts.segment_bytes = 64 * 1024;
  file_storage fs{tmp.path(), opts};
  BOOST_REQUIRE(fs.load());
  BOOST_REQUIRE(!fs.write(state_batch(1)));
  BOOST_REQUIRE(!fs.write(append_batch(make_entries(1, 1, 1)))); // opens a segment
  struct counts {
    size_t writes, syncs, renames, opens;
  };
  auto now = [&] {
    return counts{io->calls(faulty_file_io::write_op),
                  io->calls(faulty_file_io::sync_op),
                  io->calls(faulty_file_io::rename_op),
                  io->calls(faulty_file_io::open_op)};
  };
  auto c0 = now();
  BOOST_REQUIRE(!fs.write(append_batch(make_entries(2, 201, 1, 100))));
  auto c1 = now();
  BOOST_TEST(c1.writes - c0.writes == 1u);
  BOOST_TEST(c1.syncs - c0.syncs == 1u);
  BOOST_TEST(c1.renames - c0.renames == 0u);
  BOOST_TEST(c1.opens - c0.opens == 0u);
  // Hard state and entries: metadata.tmp written and fsynced, renamed, the
  // directory fsynced (opened for that), then the entries.
  auto b = append_batch(make_entries(202, 205, 2));
  b.has_state = true;
  b.state.current_term = 2;
  BOOST_REQUIRE(!fs.write(b));
  auto c2 = now();
  BOOST_TEST(c2.writes - c1.writes == 2u);
  BOOST_TEST(c2.syncs - c1.syncs == 3u);
  BOOST_TEST(c2.renames - c1.renames == 1u);
  // A batch that overflows the segment: a new one (header written, synced,
  // renamed, directory synced), then the batch.
  BOOST_REQUIRE(!fs.write(append_batch(make_entries(206, 1000, 2, 100))));
  auto c3 = now();
  BOOST_TEST(fs.segment_count() == 2u);
  BOOST_TEST(c3.writes - c2.writes == 2u);
  BOOST_TEST(c3.syncs - c2.syncs == 3u);
  BOOST_TEST(c3.renames - c2.renames == 1u);
}

// load() reserves the entries vector from the first segment's mean record
// size: the result must not depend on whether that estimate is low (large
// entries later), high (small entries later) or skewed by entries the base
// covers.
BOOST_AUTO_TEST_CASE(load_is_exact_whatever_the_record_sizes) {
  struct shape {
    size_t first_size;
    size_t later_size;
  };
  for (auto sh : {shape{8, 600}, shape{600, 8}, shape{100, 100}}) {
    BOOST_TEST_CONTEXT("entry sizes " << sh.first_size << " then "
                                      << sh.later_size) {
      temp_dir dir;
      entry_vector all;
      {
        file_storage fs{dir.path(), small_segments(4096, false)};
        BOOST_REQUIRE(!fs.write(state_batch(1)));
        auto first = make_entries(1, 200, 1, sh.first_size);
        auto later = make_entries(201, 1200, 1, sh.later_size);
        for (auto* part : {&first, &later})
          for (size_t i = 0; i < part->size(); i += 50) {
            entry_vector batch(part->begin() + static_cast<long>(i),
                               part->begin()
                                 + static_cast<long>(
                                   std::min(part->size(), i + 50)));
            BOOST_REQUIRE(!fs.write(append_batch(batch)));
          }
        all = first;
        all.insert(all.end(), later.begin(), later.end());
        BOOST_REQUIRE_GT(fs.segment_count(), 3u);
      }
      auto rec = load_fresh(dir.path());
      BOOST_REQUIRE_EQUAL(rec.entries.size(), all.size());
      for (size_t i = 0; i < all.size(); ++i)
        BOOST_REQUIRE_MESSAGE(rec.entries[i] == all[i],
                              "entries differ at position " << i);
      BOOST_CHECK_LE(rec.entries.capacity(), 2 * rec.entries.size() + 1024);
      // With a base inside the first segments, only the entries after it.
      {
        file_storage fs{dir.path()};
        BOOST_REQUIRE(!fs.compact(snapshot_meta{150, 1}));
      }
      auto rest = load_fresh(dir.path());
      BOOST_REQUIRE_EQUAL(rest.entries.size(), all.size() - 150);
      BOOST_CHECK(rest.entries.front() == all[150]);
      BOOST_CHECK(rest.entries.back() == all.back());
    }
  }
}
