#define BOOST_TEST_MODULE file_storage_disk_use
#include <boost/test/unit_test.hpp>

#include "raft/storage/file_storage.hpp"

#include "storage_test_util.hpp"

using namespace raft;
using namespace raft::test;

// 200k appends with a compaction every 10k entries (keeping the last 1000,
// like a snapshot that lags the log) keep the directory at the size of the
// entries after the base plus at most one partial segment.
BOOST_AUTO_TEST_CASE(periodic_compaction_bounds_disk_use) {
  temp_dir tmp;
  file_storage_options opts;
  opts.segment_bytes = 64 * 1024;
  constexpr index_t total = 200000;
  constexpr index_t batch = 100;
  constexpr index_t every = 10000;
  constexpr index_t keep = 1000;
  uint64_t peak = 0;
  size_t peak_segments = 0;
  {
    file_storage fs{tmp.path(), opts};
    BOOST_REQUIRE(fs.load());
    BOOST_REQUIRE(!fs.write(state_batch(1)));
    write_batch b;
    for (index_t next = 1; next <= total; next += batch) {
      b.clear();
      for (index_t i = next; i < next + batch; ++i)
        b.entries.push_back(make_entry(i, 1, 64));
      BOOST_REQUIRE(!fs.write(b));
      auto last = next + batch - 1;
      if (last % every == 0) {
        peak = std::max(peak, dir_bytes(tmp.path()));
        peak_segments = std::max(peak_segments, fs.segment_count());
        BOOST_REQUIRE(!fs.compact(snapshot_meta{last - keep, 1}));
        BOOST_REQUIRE_EQUAL(fs.segment_count(),
                            segment_files(tmp.path()).size());
      }
    }
    BOOST_TEST(fs.last_index() == total);
  }
  // Per entry: 8 bytes of frame, 25 of fields, 64 of data.
  const uint64_t per_entry = 8 + 25 + 64;
  const uint64_t bound = (every + keep) * per_entry + 2 * opts.segment_bytes;
  BOOST_TEST_MESSAGE("peak directory size " << peak << " bytes, "
                                            << peak_segments
                                            << " segments; bound " << bound);
  BOOST_TEST(peak <= bound);
  BOOST_TEST(dir_bytes(tmp.path()) <= keep * per_entry + 2 * opts.segment_bytes);
  file_storage fs{tmp.path(), opts};
  auto rec = fs.load();
  BOOST_REQUIRE_MESSAGE(rec, why(rec));
  BOOST_TEST(rec->snapshot.last_index == total - keep);
  BOOST_REQUIRE_EQUAL(rec->entries.size(), keep);
  BOOST_TEST((rec->entries.front() == make_entry(total - keep + 1, 1, 64)));
  BOOST_TEST((rec->entries.back() == make_entry(total, 1, 64)));
}
