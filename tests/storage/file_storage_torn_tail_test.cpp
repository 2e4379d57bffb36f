#define BOOST_TEST_MODULE file_storage_torn_tail
#include <boost/test/unit_test.hpp>

#include "raft/storage/file_storage.hpp"

#include "storage_test_util.hpp"

using namespace raft;
using namespace raft::test;

namespace {

/// A log whose last batches we cut at every byte: the batches written and
/// where each one ended in the last segment file.
struct fixture {
  temp_dir tmp;
  file_storage_options opts;
  /// Every entry written, in order.
  entry_vector all;
  /// For each acknowledged batch: (file, size of that file afterwards,
  /// entries acknowledged so far).
  struct ack {
    std::string file;
    uint64_t end;
    size_t entries;
  };
  std::vector<ack> acks;

  explicit fixture(uint64_t segment_bytes) {
    opts.segment_bytes = segment_bytes;
    file_storage fs{tmp.path(), opts};
    BOOST_REQUIRE(fs.load());
    BOOST_REQUIRE(!fs.write(state_batch(3, "peer:7")));
    // Batches of several shapes: single entries, empty payloads, binary.
    std::vector<std::vector<size_t>> shapes = {
      {10, 10}, {5}, {0, 17, 40}, {1}, {30, 30}, {0}, {64, 2, 9}};
    index_t next = 1;
    for (size_t k = 0; k < shapes.size(); ++k) {
      write_batch b;
      for (auto size : shapes[k]) {
        auto e = make_entry(next++, k < 3 ? 2 : 3, size);
        if (size == 30) {
          std::string bin(30, '\0');
          for (size_t i = 0; i < bin.size(); ++i)
            bin[i] = static_cast<char>(i * 37);
          e.data = payload{bin};
        }
        if (size == 0)
          e.kind = entry_kind::noop;
        b.entries.push_back(e);
      }
      BOOST_REQUIRE(!fs.write(b));
      all.insert(all.end(), b.entries.begin(), b.entries.end());
      auto last = segment_files(tmp.path()).back();
      acks.push_back(ack{last, std::filesystem::file_size(tmp.file(last)),
                         all.size()});
    }
  }
};

/// Cuts `file` at every offset in [from, to], loads, and checks that every
/// acknowledged batch survives, no entry is half there, and the repaired log
/// accepts more entries.
void cut_everywhere(fixture& f, const std::string& file, uint64_t from,
                    uint64_t to) {
  auto image = snapshot_dir(f.tmp.path());
  size_t previous_count = 0;
  for (auto cut = from; cut <= to; ++cut) {
    restore_dir(f.tmp.path(), image);
    truncate_file(f.tmp.file(file), cut);
    // Acknowledged entries that lie wholly before the cut.
    size_t must_have = 0;
    for (auto& a : f.acks)
      if (a.file == file ? a.end <= cut : a.file < file)
        must_have = std::max(must_have, a.entries);
    recovered_state rec;
    {
      file_storage fs{f.tmp.path(), f.opts};
      auto res = fs.load();
      BOOST_REQUIRE_MESSAGE(res, "cut at " << cut << ": " << why(res));
      rec = std::move(*res);
      BOOST_REQUIRE_MESSAGE(rec.entries.size() >= must_have,
                            "cut at " << cut << " lost acknowledged entries: "
                                      << rec.entries.size() << " < "
                                      << must_have);
      BOOST_REQUIRE_LE(rec.entries.size(), f.all.size());
      for (size_t i = 0; i < rec.entries.size(); ++i)
        BOOST_REQUIRE_MESSAGE(rec.entries[i] == f.all[i],
                              "cut at " << cut << ": entry " << i + 1
                                        << " differs");
      BOOST_REQUIRE_GE(rec.entries.size(), previous_count);
      previous_count = rec.entries.size();
      BOOST_REQUIRE(rec.state.current_term == 3u);
      BOOST_REQUIRE(rec.state.voted_for == "peer:7");
    }
    {
      // The repaired file ends at a record boundary: a second load finds
      // nothing to cut, and appending continues after the last entry.
      BOOST_REQUIRE_LE(std::filesystem::file_size(f.tmp.file(file)), cut);
      file_storage fs{f.tmp.path(), f.opts};
      auto res = fs.load();
      BOOST_REQUIRE_MESSAGE(res, "reload after cut " << cut << ": "
                                                     << why(res));
      BOOST_REQUIRE(fs.warnings().empty());
      BOOST_REQUIRE(res->entries == rec.entries);
      auto next = rec.entries.size() + 1;
      BOOST_REQUIRE(!fs.write(append_batch(make_entries(next, next, 3))));
    }
    file_storage again{f.tmp.path(), f.opts};
    auto res = again.load();
    BOOST_REQUIRE_MESSAGE(res, "after repair of cut " << cut << ": "
                                                      << why(res));
    BOOST_REQUIRE_EQUAL(res->entries.size(), rec.entries.size() + 1);
    BOOST_REQUIRE(res->entries.back()
                  == make_entry(rec.entries.size() + 1, 3));
  }
}

} // namespace

BOOST_AUTO_TEST_CASE(cut_at_every_byte_of_the_last_batches) {
  fixture f{1 << 20}; // everything in one segment
  BOOST_REQUIRE_EQUAL(segment_files(f.tmp.path()).size(), 1u);
  auto file = f.acks.back().file;
  // From the end of the second batch to the end of the file: five batches,
  // eleven records, every byte.
  cut_everywhere(f, file, f.acks[1].end, f.acks.back().end);
}

BOOST_AUTO_TEST_CASE(cut_at_every_byte_when_the_last_batch_opened_a_segment) {
  fixture f{300}; // small segments: the batches rotate
  auto files = segment_files(f.tmp.path());
  BOOST_REQUIRE_GE(files.size(), 2u);
  auto last = files.back();
  // The header's size: fixed part, prototype length at offset 32, crc.
  auto bytes = read_bytes(f.tmp.file(last));
  BOOST_REQUIRE_GT(bytes.size(), 40u);
  uint64_t header_end = 40 + (static_cast<unsigned char>(bytes[32])
                              | static_cast<unsigned char>(bytes[33]) << 8);
  auto image = snapshot_dir(f.tmp.path());
  for (uint64_t cut = 0; cut < header_end; ++cut) {
    restore_dir(f.tmp.path(), image);
    truncate_file(f.tmp.file(last), cut);
    file_storage fs{f.tmp.path(), f.opts};
    auto res = fs.load();
    // A cut into a header cannot come from a crash (headers are written
    // under a temporary name and renamed once durable): it is damage.
    BOOST_REQUIRE_MESSAGE(!res, "cut at " << cut << " loaded");
    BOOST_REQUIRE(has_code(res.error(), errc::corrupt_record));
    BOOST_REQUIRE(context(res.error()).find(last) != std::string::npos);
  }
  restore_dir(f.tmp.path(), image);
  cut_everywhere(f, last, header_end, f.acks.back().end);
}

BOOST_AUTO_TEST_CASE(a_cut_in_an_earlier_segment_is_corruption) {
  fixture f{300};
  auto files = segment_files(f.tmp.path());
  BOOST_REQUIRE_GE(files.size(), 2u);
  auto victim = files[files.size() - 2];
  auto size = std::filesystem::file_size(f.tmp.file(victim));
  truncate_file(f.tmp.file(victim), size - 3);
  file_storage fs{f.tmp.path(), f.opts};
  auto res = fs.load();
  BOOST_REQUIRE(!res);
  BOOST_TEST(has_code(res.error(), errc::corrupt_record));
  BOOST_TEST(context(res.error()).find(victim) != std::string::npos);
  BOOST_TEST(reported_offset(res.error()) >= 0);
  // Nothing was changed on disk by the failed load.
  BOOST_TEST(std::filesystem::file_size(f.tmp.file(victim)) == size - 3);
}

BOOST_AUTO_TEST_CASE(a_zero_filled_tail_is_cut) {
  fixture f{1 << 20};
  auto file = f.acks.back().file;
  auto image = snapshot_dir(f.tmp.path());
  for (size_t zeros : {1u, 7u, 8u, 9u, 100u, 5000u}) {
    restore_dir(f.tmp.path(), image);
    auto bytes = read_bytes(f.tmp.file(file));
    bytes.resize(bytes.size() + zeros, '\0');
    write_bytes(f.tmp.file(file), bytes);
    file_storage fs{f.tmp.path(), f.opts};
    auto res = fs.load();
    BOOST_REQUIRE_MESSAGE(res, zeros << " zeros: " << why(res));
    BOOST_REQUIRE(res->entries == f.all);
    BOOST_TEST(fs.warnings().size() == 1u);
    BOOST_TEST(std::filesystem::file_size(f.tmp.file(file))
               == f.acks.back().end);
  }
}

BOOST_AUTO_TEST_CASE(leftover_temporary_files_are_ignored_and_removed) {
  fixture f{300};
  // An interrupted metadata update and an interrupted segment creation.
  write_bytes(f.tmp.file("metadata.tmp"), std::vector<char>(13, 'x'));
  write_bytes(f.tmp.file("log-00000000000000000099.tmp"),
              std::vector<char>(5, 'y'));
  file_storage fs{f.tmp.path(), f.opts};
  auto res = fs.load();
  BOOST_REQUIRE_MESSAGE(res, why(res));
  BOOST_REQUIRE(res->entries == f.all);
  BOOST_TEST(res->state.voted_for == "peer:7");
  BOOST_TEST(!std::filesystem::exists(f.tmp.file("metadata.tmp")));
  BOOST_TEST(!std::filesystem::exists(
    f.tmp.file("log-00000000000000000099.tmp")));
}
