#define BOOST_TEST_MODULE file_storage_corruption
#include <boost/test/unit_test.hpp>

#include "raft/storage/file_storage.hpp"

#include "storage_test_util.hpp"

using namespace raft;
using namespace raft::test;

// What these tests pin down (docs/storage.md, "Recovery"): a single flipped
// bit ANYWHERE in a segment file (header, frame, payload, including the last
// record of the last segment) or in the metadata file makes load() fail with
// corrupt_record, naming the file and a byte offset inside the damaged region
// (the header, or the record holding the flipped bit). Only an incomplete
// frame at the end of the last segment (which a single flipped bit cannot
// produce: a flip in the length field is recognized) is a torn tail.

namespace {

uint32_t le32(const std::vector<char>& b, size_t off) {
  uint32_t x = 0;
  for (int i = 3; i >= 0; --i)
    x = (x << 8) | static_cast<unsigned char>(b[off + i]);
  return x;
}

/// Region boundaries of a segment file: [0, header) then one per record.
std::vector<uint64_t> regions(const std::vector<char>& bytes) {
  std::vector<uint64_t> starts{0};
  uint64_t off = 40 + le32(bytes, 32);
  while (off < bytes.size()) {
    starts.push_back(off);
    off += 8 + le32(bytes, off + 4);
  }
  starts.push_back(bytes.size());
  return starts;
}

file_storage_options small_segments() {
  file_storage_options opts;
  opts.segment_bytes = 300;
  return opts;
}

/// A small log over three segments, its directory image, its entries.
struct fixture {
  temp_dir tmp;
  file_storage_options opts = small_segments();
  entry_vector all;
  dir_image image;

  fixture() {
    file_storage fs{tmp.path(), opts};
    BOOST_REQUIRE(fs.load());
    BOOST_REQUIRE(!fs.write(state_batch(2, "p:1")));
    for (index_t i = 1; i <= 12; i += 2) {
      auto b = append_batch(make_entries(i, i + 1, i < 5 ? 1 : 2, 24));
      BOOST_REQUIRE(!fs.write(b));
      all.insert(all.end(), b.entries.begin(), b.entries.end());
    }
    BOOST_REQUIRE(!fs.compact(snapshot_meta{2, 1}));
    image = snapshot_dir(tmp.path());
  }

  caf::expected<recovered_state> load() {
    file_storage fs{tmp.path(), opts};
    return fs.load();
  }
};

} // namespace

BOOST_AUTO_TEST_CASE(every_bit_of_every_segment_and_the_metadata) {
  fixture f;
  auto segments = segment_files(f.tmp.path());
  BOOST_REQUIRE_GE(segments.size(), 3u);
  std::vector<std::string> files = segments;
  files.push_back("metadata");
  size_t flips = 0;
  for (auto& name : files) {
    auto clean = f.image.at(name);
    auto bounds = name == "metadata"
                    ? std::vector<uint64_t>{0, clean.size()}
                    : regions(clean);
    BOOST_REQUIRE_EQUAL(bounds.back(), clean.size());
    for (size_t byte = 0; byte < clean.size(); ++byte) {
      // The region holding this byte.
      auto hi = std::upper_bound(bounds.begin(), bounds.end(), byte);
      auto region_begin = *(hi - 1);
      auto region_end = *hi;
      for (int bit = 0; bit < 8; ++bit) {
        auto bytes = clean;
        bytes[byte] = static_cast<char>(bytes[byte] ^ (1 << bit));
        write_bytes(f.tmp.file(name), bytes);
        auto res = f.load();
        BOOST_REQUIRE_MESSAGE(!res, name << ": flip of bit " << bit
                                         << " at byte " << byte
                                         << " went unnoticed");
        BOOST_REQUIRE(has_code(res.error(), errc::corrupt_record));
        auto text = context(res.error());
        BOOST_REQUIRE_MESSAGE(text.find(f.tmp.file(name)) != std::string::npos,
                              "byte " << byte << ": " << text);
        auto off = reported_offset(res.error());
        BOOST_REQUIRE_MESSAGE(off >= static_cast<int64_t>(region_begin)
                                && off <= static_cast<int64_t>(region_end),
                              name << " byte " << byte << " in ["
                                   << region_begin << ", " << region_end
                                   << "): " << text);
        // A failed load changes nothing.
        BOOST_REQUIRE(read_bytes(f.tmp.file(name)) == bytes);
        ++flips;
      }
    }
    write_bytes(f.tmp.file(name), clean);
  }
  BOOST_TEST_MESSAGE(flips << " single-bit flips detected");
  auto res = f.load();
  BOOST_REQUIRE(res);
  BOOST_REQUIRE(res->entries == entry_vector(f.all.begin() + 2, f.all.end()));
}

BOOST_AUTO_TEST_CASE(a_record_with_a_valid_checksum_in_the_wrong_place) {
  fixture f;
  auto name = segment_files(f.tmp.path())[1];
  auto bytes = f.image.at(name);
  auto r = regions(bytes);
  BOOST_REQUIRE_GE(r.size(), 4u);
  // Swap the first two records (same size): checksums hold, indexes do not.
  BOOST_REQUIRE_EQUAL(r[2] - r[1], r[3] - r[2]);
  std::vector<char> first(bytes.begin() + r[1], bytes.begin() + r[2]);
  std::copy(bytes.begin() + r[2], bytes.begin() + r[3], bytes.begin() + r[1]);
  std::copy(first.begin(), first.end(), bytes.begin() + r[2]);
  write_bytes(f.tmp.file(name), bytes);
  auto res = f.load();
  BOOST_REQUIRE(!res);
  BOOST_TEST(has_code(res.error(), errc::corrupt_record));
  BOOST_TEST(context(res.error()).find("holds index") != std::string::npos);
  BOOST_TEST(reported_offset(res.error()) == static_cast<int64_t>(r[1]));
}

BOOST_AUTO_TEST_CASE(missing_and_overlapping_segments) {
  fixture f;
  auto segments = segment_files(f.tmp.path());
  // A missing segment in the middle.
  std::filesystem::remove(f.tmp.file(segments[1]));
  auto res = f.load();
  BOOST_REQUIRE(!res);
  BOOST_TEST(has_code(res.error(), errc::corrupt_record));
  BOOST_TEST(context(res.error()).find("gap") != std::string::npos);
  BOOST_TEST(context(res.error()).find(segments[2]) != std::string::npos);
  restore_dir(f.tmp.path(), f.image);
  // The same log cut into segments elsewhere; one of those dropped in here
  // overlaps its neighbours.
  temp_dir other;
  {
    file_storage_options opts;
    opts.segment_bytes = 200;
    file_storage fs{other.path(), opts};
    BOOST_REQUIRE(fs.load());
    BOOST_REQUIRE(!fs.write(state_batch(2, "p:1")));
    for (index_t i = 1; i <= 12; i += 2)
      BOOST_REQUIRE(
        !fs.write(append_batch(make_entries(i, i + 1, i < 5 ? 1 : 2, 24))));
  }
  std::string intruder;
  for (auto& name : segment_files(other.path()))
    if (std::find(segments.begin(), segments.end(), name) == segments.end())
      intruder = name;
  BOOST_REQUIRE(!intruder.empty());
  std::filesystem::copy_file(other.file(intruder), f.tmp.file(intruder));
  res = f.load();
  BOOST_REQUIRE(!res);
  BOOST_TEST(has_code(res.error(), errc::corrupt_record));
  BOOST_TEST_MESSAGE(context(res.error()));
  BOOST_TEST((context(res.error()).find("overlap") != std::string::npos
              || context(res.error()).find("gap") != std::string::npos));
  // A segment renamed: its header disagrees with its name.
  restore_dir(f.tmp.path(), f.image);
  std::filesystem::rename(f.tmp.file(segments[2]),
                          f.tmp.file("log-00000000000000000077"));
  res = f.load();
  BOOST_REQUIRE(!res);
  BOOST_TEST(has_code(res.error(), errc::corrupt_record));
  BOOST_TEST(reported_offset(res.error()) == 16);
}

BOOST_AUTO_TEST_CASE(unknown_versions_and_bad_magic) {
  fixture f;
  auto name = segment_files(f.tmp.path())[0];
  auto bytes = f.image.at(name);
  bytes[8] = 2; // format version 2
  write_bytes(f.tmp.file(name), bytes);
  auto res = f.load();
  BOOST_REQUIRE(!res);
  BOOST_TEST(has_code(res.error(), errc::corrupt_record));
  BOOST_TEST(context(res.error()).find("unsupported segment format version 2")
             != std::string::npos);
  BOOST_TEST(reported_offset(res.error()) == 8);
  restore_dir(f.tmp.path(), f.image);
  bytes = f.image.at(name);
  bytes[0] = 'X';
  write_bytes(f.tmp.file(name), bytes);
  res = f.load();
  BOOST_REQUIRE(!res);
  BOOST_TEST(context(res.error()).find("bad magic") != std::string::npos);
  BOOST_TEST(reported_offset(res.error()) == 0);
  restore_dir(f.tmp.path(), f.image);
  bytes = f.image.at("metadata");
  bytes[8] = 9;
  write_bytes(f.tmp.file("metadata"), bytes);
  res = f.load();
  BOOST_REQUIRE(!res);
  BOOST_TEST(context(res.error()).find("unsupported metadata format version 9")
             != std::string::npos);
}

BOOST_AUTO_TEST_CASE(metadata_inconsistent_with_the_log) {
  fixture f;
  // Missing metadata next to segments.
  std::filesystem::remove(f.tmp.file("metadata"));
  auto res = f.load();
  BOOST_REQUIRE(!res);
  BOOST_TEST(has_code(res.error(), errc::corrupt_record));
  BOOST_TEST(context(res.error()).find("metadata: missing") != std::string::npos);
  restore_dir(f.tmp.path(), f.image);
  // An older metadata file (current term 1) under a log with term-2 entries.
  temp_dir old;
  {
    file_storage fs{old.path()};
    BOOST_REQUIRE(fs.load());
    BOOST_REQUIRE(!fs.write(state_batch(1)));
  }
  std::filesystem::copy_file(old.file("metadata"), f.tmp.file("metadata"),
                             std::filesystem::copy_options::overwrite_existing);
  res = f.load();
  BOOST_REQUIRE(!res);
  BOOST_TEST(has_code(res.error(), errc::corrupt_record));
  BOOST_TEST(context(res.error()).find("newer than the metadata's current term")
             != std::string::npos);
  restore_dir(f.tmp.path(), f.image);
  // A base whose term contradicts the entry the log holds at its index (in
  // a segment that is not wholly covered: covered ones are not read).
  temp_dir other;
  {
    file_storage fs{other.path()};
    BOOST_REQUIRE(fs.load());
    BOOST_REQUIRE(!fs.write(state_batch(2, "p:1")));
    BOOST_REQUIRE(!fs.write(append_batch(make_entries(1, 8, 2))));
    BOOST_REQUIRE(!fs.compact(snapshot_meta{3, 2}));
  }
  std::filesystem::copy_file(other.file("metadata"), f.tmp.file("metadata"),
                             std::filesystem::copy_options::overwrite_existing);
  res = f.load();
  BOOST_REQUIRE(!res);
  BOOST_TEST(has_code(res.error(), errc::corrupt_record));
  BOOST_TEST(context(res.error()).find("base says") != std::string::npos);
  restore_dir(f.tmp.path(), f.image);
  // The log compacted further than a restored old metadata file knows:
  // the entries between its base and the first segment are missing.
  {
    file_storage fs{f.tmp.path(), f.opts};
    BOOST_REQUIRE(fs.load());
    BOOST_REQUIRE(!fs.compact(snapshot_meta{9, 2}));
  }
  write_bytes(f.tmp.file("metadata"), f.image.at("metadata"));
  res = f.load();
  BOOST_REQUIRE(!res);
  BOOST_TEST(has_code(res.error(), errc::corrupt_record));
  BOOST_TEST(context(res.error()).find("missing") != std::string::npos);
  // A segment from a newer generation than the metadata (a reset undone).
  restore_dir(f.tmp.path(), f.image);
  {
    file_storage fs{f.tmp.path(), f.opts};
    BOOST_REQUIRE(fs.load());
    BOOST_REQUIRE(!fs.reset(snapshot_meta{20, 2}));
    BOOST_REQUIRE(!fs.write(append_batch(make_entries(21, 22, 2))));
  }
  write_bytes(f.tmp.file("metadata"), f.image.at("metadata"));
  res = f.load();
  BOOST_REQUIRE(!res);
  BOOST_TEST(has_code(res.error(), errc::corrupt_record));
  BOOST_TEST(context(res.error()).find("generation") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bit_rot_after_load_is_caught_by_read) {
  fixture f;
  file_storage fs{f.tmp.path(), f.opts};
  BOOST_REQUIRE(fs.load());
  auto name = segment_files(f.tmp.path())[1];
  auto bytes = f.image.at(name);
  auto r = regions(bytes);
  bytes[r[1] + 12] ^= 0x10;
  write_bytes(f.tmp.file(name), bytes);
  auto first_in_segment = std::stoull(name.substr(4));
  auto res = fs.read(first_in_segment, first_in_segment + 1);
  BOOST_REQUIRE(!res);
  BOOST_TEST(has_code(res.error(), errc::corrupt_record));
  BOOST_TEST(reported_offset(res.error()) == static_cast<int64_t>(r[1]));
}
