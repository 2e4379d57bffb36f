// file_storage::load_after(snapshot): a restart with a snapshot reads only
// what the snapshot does not cover, and reconciles the log with it as
// raft::reconcile() does (§7, Figure 13 receiver 6-7; docs/storage.md, "The
// log and the snapshot, reconciled"): compaction if the log holds the
// snapshot's last entry with its term, a reset otherwise, a term raised to
// the snapshot's (§5.1). The proof that segments before the snapshot are not
// read: a damaged record in one of them fails load() but not load_after().
#define BOOST_TEST_MODULE file_storage_load_after_test
#include <boost/test/included/unit_test.hpp>

#include "raft/storage/file_storage.hpp"
#include "raft/storage/recovery.hpp"

#include "storage_test_util.hpp"

using namespace raft;
using namespace raft::test;

namespace {

file_storage_options small_segments() {
  file_storage_options opts;
  opts.sync = false;
  opts.segment_bytes = 400; // a handful of 16-byte entries per segment
  return opts;
}

/// Entries 1..n in term `term`, written in batches of 4.
void fill(const std::string& dir, index_t n, term_t term) {
  file_storage fs{dir, small_segments()};
  BOOST_REQUIRE(fs.load());
  BOOST_REQUIRE(!fs.write(state_batch(term)));
  for (index_t i = 1; i <= n; i += 4)
    BOOST_REQUIRE(!fs.write(append_batch(make_entries(i, std::min(n, i + 3),
                                                      term))));
}

/// Flips one bit in the middle of the first segment file.
void damage_first_segment(const std::string& dir) {
  auto files = segment_files(dir);
  BOOST_REQUIRE(files.size() > 2);
  auto path = dir + "/" + files.front();
  auto bytes = read_bytes(path);
  bytes[bytes.size() - 10] ^= 0x10;
  write_bytes(path, bytes);
}

} // namespace

BOOST_AUTO_TEST_CASE(segments_before_the_snapshot_are_not_read) {
  temp_dir dir;
  fill(dir.path(), 200, 1);
  auto before = segment_files(dir.path()).size();
  BOOST_REQUIRE(before > 5);
  damage_first_segment(dir.path());
  {
    file_storage fs{dir.path(), small_segments()};
    BOOST_CHECK(has_code(fs.load().error(), errc::corrupt_record));
  }
  {
    file_storage fs{dir.path(), small_segments()};
    auto rec = fs.load_after(snapshot_meta{150, 1});
    BOOST_REQUIRE_MESSAGE(rec, why(rec));
    BOOST_CHECK_EQUAL(rec->snapshot.last_index, 150u);
    BOOST_REQUIRE_EQUAL(rec->entries.size(), 50u);
    BOOST_CHECK_EQUAL(rec->entries.front().index, 151u);
    BOOST_CHECK_EQUAL(rec->entries.back().index, 200u);
    BOOST_CHECK_EQUAL(fs.first_index(), 151u);
    BOOST_CHECK_EQUAL(fs.last_index(), 200u);
    BOOST_CHECK(segment_files(dir.path()).size() < before);
  }
  // The compaction is durable: a plain load sees the new base and no damage.
  file_storage again{dir.path(), small_segments()};
  auto rec2 = again.load();
  BOOST_REQUIRE_MESSAGE(rec2, why(rec2));
  BOOST_CHECK_EQUAL(rec2->snapshot.last_index, 150u);
  BOOST_CHECK_EQUAL(rec2->entries.size(), 50u);
}

BOOST_AUTO_TEST_CASE(the_log_continues_after_the_compaction) {
  temp_dir dir;
  fill(dir.path(), 100, 2);
  {
    file_storage fs{dir.path(), small_segments()};
    auto rec = fs.load_after(snapshot_meta{60, 2});
    BOOST_REQUIRE_MESSAGE(rec, why(rec));
    BOOST_REQUIRE(!fs.write(append_batch(make_entries(101, 110, 2))));
    auto read = fs.read(61, 110);
    BOOST_REQUIRE(read);
    BOOST_CHECK_EQUAL(read->size(), 50u);
  }
  file_storage fs{dir.path(), small_segments()};
  auto rec = fs.load();
  BOOST_REQUIRE_MESSAGE(rec, why(rec));
  BOOST_CHECK_EQUAL(rec->entries.front().index, 61u);
  BOOST_CHECK_EQUAL(rec->entries.back().index, 110u);
  BOOST_CHECK(rec->entries[49].data == make_entry(110, 2).data);
}

BOOST_AUTO_TEST_CASE(a_snapshot_whose_term_differs_resets_the_log) {
  // Figure 13, receiver 7: the log's entry 150 has term 1, the snapshot says
  // 3 (a leader of term 3 installed it): the whole log goes.
  temp_dir dir;
  fill(dir.path(), 200, 1);
  {
    file_storage fs{dir.path(), small_segments()};
    auto rec = fs.load_after(snapshot_meta{150, 3});
    BOOST_REQUIRE_MESSAGE(rec, why(rec));
    BOOST_CHECK(rec->entries.empty());
    BOOST_CHECK_EQUAL(rec->snapshot.last_index, 150u);
    // §5.1: the snapshot's term was this member's once; it is the term now.
    BOOST_CHECK_EQUAL(rec->state.current_term, 3u);
    BOOST_CHECK(segment_files(dir.path()).empty());
    BOOST_CHECK_EQUAL(fs.last_index(), 150u);
    BOOST_REQUIRE(!fs.write(append_batch(make_entries(151, 152, 3))));
  }
  file_storage again{dir.path(), small_segments()};
  auto rec2 = again.load();
  BOOST_REQUIRE_MESSAGE(rec2, why(rec2));
  BOOST_CHECK_EQUAL(rec2->state.current_term, 3u);
  BOOST_CHECK_EQUAL(rec2->entries.size(), 2u);
}

BOOST_AUTO_TEST_CASE(a_log_that_ends_before_the_snapshot_is_reset) {
  temp_dir dir;
  fill(dir.path(), 40, 1);
  file_storage fs{dir.path(), small_segments()};
  auto rec = fs.load_after(snapshot_meta{90, 1});
  BOOST_REQUIRE_MESSAGE(rec, why(rec));
  BOOST_CHECK(rec->entries.empty());
  BOOST_CHECK_EQUAL(rec->snapshot.last_index, 90u);
  BOOST_CHECK_EQUAL(fs.first_index(), 91u);
}

BOOST_AUTO_TEST_CASE(a_snapshot_at_or_before_the_base_changes_nothing) {
  temp_dir dir;
  fill(dir.path(), 100, 1);
  {
    file_storage fs{dir.path(), small_segments()};
    BOOST_REQUIRE(fs.load());
    BOOST_REQUIRE(!fs.compact(snapshot_meta{80, 1}));
  }
  file_storage fs{dir.path(), small_segments()};
  auto rec = fs.load_after(snapshot_meta{50, 1});
  BOOST_REQUIRE_MESSAGE(rec, why(rec));
  BOOST_CHECK_EQUAL(rec->snapshot.last_index, 80u);
  BOOST_CHECK_EQUAL(rec->entries.front().index, 81u);
}

BOOST_AUTO_TEST_CASE(load_after_agrees_with_load_and_reconcile) {
  // The generic path (storage::load_after's default: load, then reconcile)
  // and the file log's own must leave the same log behind.
  for (index_t at : {1, 3, 4, 5, 37, 99, 100, 101, 150}) {
    for (term_t term : {1, 2}) {
      temp_dir a;
      temp_dir b;
      fill(a.path(), 100, 1);
      fill(b.path(), 100, 1);
      snapshot_meta snap{at, term};
      {
        file_storage fa{a.path(), small_segments()};
        auto ra = fa.load_after(snap);
        file_storage fb{b.path(), small_segments()};
        auto rb = fb.load();
        BOOST_REQUIRE(ra && rb);
        BOOST_REQUIRE(!reconcile(fb, *rb, snap));
        BOOST_CHECK_EQUAL(ra->snapshot.last_index, rb->snapshot.last_index);
        BOOST_CHECK_EQUAL(ra->state.current_term, rb->state.current_term);
        BOOST_CHECK_EQUAL(ra->entries.size(), rb->entries.size());
        BOOST_CHECK_EQUAL(fa.first_index(), fb.first_index());
        BOOST_CHECK_EQUAL(fa.last_index(), fb.last_index());
      }
      file_storage la{a.path(), small_segments()};
      file_storage lb{b.path(), small_segments()};
      auto xa = la.load();
      auto xb = lb.load();
      BOOST_REQUIRE(xa && xb);
      BOOST_CHECK_EQUAL(xa->entries.size(), xb->entries.size());
      BOOST_CHECK_EQUAL(xa->snapshot.last_index, xb->snapshot.last_index);
    }
  }
}
