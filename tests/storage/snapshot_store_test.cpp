#define BOOST_TEST_MODULE snapshot_store
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <random>

#include "raft/storage/crc32c.hpp"
#include "raft/storage/file_storage.hpp"
#include "raft/storage/snapshot_store.hpp"

#include "storage_test_util.hpp"

using namespace raft;
using namespace raft::test;

namespace {

std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937 gen{seed};
  std::string s(n, '\0');
  for (auto& c : s)
    c = static_cast<char>(gen());
  return s;
}

/// What the application does for save_atom: write the bytes to the path.
snapshot_info save(snapshot_store& store, snapshot_meta meta,
                   const std::string& bytes) {
  auto path = store.begin(meta);
  BOOST_REQUIRE_MESSAGE(path, why(path));
  std::vector<char> v(bytes.begin(), bytes.end());
  write_bytes(*path, v);
  auto info = store.commit(meta);
  BOOST_REQUIRE_MESSAGE(info, why(info));
  return *info;
}

std::string contents(const std::string& path) {
  auto v = read_bytes(path);
  return std::string(v.begin(), v.end());
}

} // namespace

BOOST_AUTO_TEST_CASE(no_snapshot_yet) {
  temp_dir tmp;
  snapshot_store store{tmp.file("missing")};
  auto n = store.newest();
  BOOST_REQUIRE(n);
  BOOST_TEST(n->none());
  BOOST_TEST(n->meta.last_index == 0u);
}

BOOST_AUTO_TEST_CASE(commit_then_newest) {
  temp_dir tmp;
  snapshot_store store{tmp.path()};
  auto data = random_bytes(5000, 1);
  auto info = save(store, snapshot_meta{42, 3}, data);
  BOOST_TEST(info.meta.last_index == 42u);
  BOOST_TEST(info.meta.last_term == 3u);
  BOOST_TEST(info.size == 5000u);
  BOOST_TEST(info.crc == crc32c(data.data(), data.size()));
  BOOST_TEST(info.path == store.data_path(snapshot_meta{42, 3}));
  // A new store (a restart) finds it.
  snapshot_store again{tmp.path()};
  auto n = again.newest();
  BOOST_REQUIRE_MESSAGE(n, why(n));
  BOOST_TEST(n->meta.last_index == 42u);
  BOOST_TEST(n->meta.last_term == 3u);
  BOOST_TEST(n->crc == info.crc);
  BOOST_TEST(contents(n->path) == data);
  // No temporary files remain.
  for (auto& ent : std::filesystem::directory_iterator(tmp.path()))
    BOOST_TEST(ent.path().string().find(".tmp") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_empty_snapshot_is_valid) {
  temp_dir tmp;
  snapshot_store store{tmp.path()};
  auto info = save(store, snapshot_meta{7, 1}, "");
  BOOST_TEST(info.size == 0u);
  BOOST_TEST(info.crc == 0u);
  auto n = store.newest();
  BOOST_REQUIRE_MESSAGE(n, why(n));
  BOOST_TEST(!n->none());
  BOOST_TEST(n->size == 0u);
  auto chunk = store.read_chunk(snapshot_meta{7, 1}, 0, 100);
  BOOST_REQUIRE(chunk);
  BOOST_TEST(chunk->empty());
  // Received empty, too.
  temp_dir other;
  snapshot_store receiver{other.path()};
  BOOST_REQUIRE(!receiver.begin_receive(snapshot_meta{7, 1}));
  auto got = receiver.finish_receive(0, 0);
  BOOST_REQUIRE_MESSAGE(got, why(got));
  BOOST_TEST(got->size == 0u);
  BOOST_TEST(receiver.newest()->meta.last_index == 7u);
}

BOOST_AUTO_TEST_CASE(keeps_the_newest_two) {
  temp_dir tmp;
  snapshot_store store{tmp.path()};
  for (index_t i = 1; i <= 6; ++i)
    save(store, snapshot_meta{i * 10, i}, random_bytes(100 * i, i));
  auto all = store.list();
  BOOST_REQUIRE_EQUAL(all.size(), 2u);
  BOOST_TEST(all[0].last_index == 60u);
  BOOST_TEST(all[1].last_index == 50u);
  size_t files = 0;
  for (auto& ent : std::filesystem::directory_iterator(tmp.path())) {
    (void) ent;
    ++files;
  }
  BOOST_TEST(files == 4u); // two .data, two .meta
  // keep = 1
  snapshot_store_options opts;
  opts.keep = 1;
  snapshot_store one{tmp.path(), opts};
  save(one, snapshot_meta{70, 7}, "x");
  BOOST_REQUIRE_EQUAL(one.list().size(), 1u);
}

BOOST_AUTO_TEST_CASE(an_interrupted_commit_is_ignored_then_removed) {
  temp_dir tmp;
  snapshot_store store{tmp.path()};
  save(store, snapshot_meta{10, 1}, "ten");
  // A newer snapshot whose sidecar never made it, and abandoned temporaries.
  write_bytes(store.data_path(snapshot_meta{20, 2}), {'a', 'b'});
  write_bytes(tmp.file("snapshot-00000000000000000015-00000000000000000002."
                       "data.tmp"),
              {'c'});
  write_bytes(tmp.file("snapshot-00000000000000000010-00000000000000000001."
                       "meta.tmp"),
              {'d'});
  auto n = store.newest();
  BOOST_REQUIRE_MESSAGE(n, why(n));
  BOOST_TEST(n->meta.last_index == 10u);
  save(store, snapshot_meta{30, 3}, "thirty");
  BOOST_TEST(!std::filesystem::exists(store.data_path(snapshot_meta{20, 2})));
  size_t files = 0;
  for (auto& ent : std::filesystem::directory_iterator(tmp.path())) {
    BOOST_TEST(ent.path().string().find(".tmp") == std::string::npos);
    ++files;
  }
  BOOST_TEST(files == 4u);
}

BOOST_AUTO_TEST_CASE(every_bit_of_sidecar_and_data_is_checked) {
  temp_dir tmp;
  snapshot_store store{tmp.path()};
  snapshot_meta meta{99, 4};
  auto data = random_bytes(300, 9);
  auto info = save(store, meta, data);
  auto side_path = tmp.file("snapshot-00000000000000000099-00000000000000000004"
                            ".meta");
  auto side = read_bytes(side_path);
  BOOST_REQUIRE_EQUAL(side.size(), 52u); // version 2, no configuration
  size_t flips = 0;
  for (size_t byte = 0; byte < side.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      auto bad = side;
      bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
      write_bytes(side_path, bad);
      auto n = store.newest();
      BOOST_REQUIRE_MESSAGE(!n, "sidecar byte " << byte << " bit " << bit);
      BOOST_REQUIRE(has_code(n.error(), errc::corrupt_record));
      BOOST_REQUIRE(context(n.error()).find(side_path) != std::string::npos);
      auto off = reported_offset(n.error());
      BOOST_REQUIRE(off >= 0 && off <= 52);
      ++flips;
    }
  }
  write_bytes(side_path, side);
  std::vector<char> clean(data.begin(), data.end());
  for (size_t byte = 0; byte < clean.size(); ++byte) {
    auto bad = clean;
    bad[byte] = static_cast<char>(bad[byte] ^ (1 << (byte % 8)));
    write_bytes(info.path, bad);
    auto n = store.newest();
    BOOST_REQUIRE_MESSAGE(!n, "data byte " << byte);
    BOOST_REQUIRE(has_code(n.error(), errc::corrupt_record));
    BOOST_REQUIRE(context(n.error()).find(info.path) != std::string::npos);
    ++flips;
  }
  BOOST_TEST_MESSAGE(flips << " flips detected");
  // Truncated data: the size says where.
  auto cut = clean;
  cut.resize(200);
  write_bytes(info.path, cut);
  auto n = store.newest();
  BOOST_REQUIRE(!n);
  BOOST_TEST(reported_offset(n.error()) == 200);
  // Missing data next to its sidecar.
  std::filesystem::remove(info.path);
  n = store.newest();
  BOOST_REQUIRE(!n);
  BOOST_TEST(has_code(n.error(), errc::corrupt_record));
  BOOST_TEST(context(n.error()).find(info.path) != std::string::npos);
  write_bytes(info.path, clean);
  BOOST_TEST(static_cast<bool>(store.newest()));
}

BOOST_AUTO_TEST_CASE(a_damaged_newest_is_reported_even_with_an_intact_older) {
  temp_dir tmp;
  snapshot_store store{tmp.path()};
  auto older = save(store, snapshot_meta{10, 1}, "older");
  auto newest = save(store, snapshot_meta{20, 2}, "newest");
  write_bytes(newest.path, {'N', 'E', 'W', 'E', 'S', 'x'});
  auto n = store.newest();
  BOOST_REQUIRE(!n);
  BOOST_TEST(has_code(n.error(), errc::corrupt_record));
  auto text = context(n.error());
  BOOST_TEST(text.find(newest.path) != std::string::npos);
  BOOST_TEST(text.find(older.path) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(chunks_travel_with_bounded_memory) {
  temp_dir tmp;
  temp_dir other;
  snapshot_store leader{tmp.path()};
  snapshot_meta meta{1000, 5};
  auto data = random_bytes(100 * 1000 + 17, 3);
  auto info = save(leader, meta, data);
  for (size_t max : {size_t{1000}, size_t{4096}, size_t{65536},
                     size_t{1} << 20}) {
    snapshot_store follower{other.path()};
    BOOST_REQUIRE(!follower.begin_receive(meta));
    std::string whole;
    uint64_t offset = 0;
    for (;;) {
      auto chunk = leader.read_chunk(meta, offset, max);
      BOOST_REQUIRE_MESSAGE(chunk, why(chunk));
      BOOST_REQUIRE_LE(chunk->size(), max);
      if (chunk->empty())
        break;
      BOOST_REQUIRE(!follower.write_chunk(offset, *chunk));
      offset += chunk->size();
      BOOST_REQUIRE_EQUAL(follower.received(), offset);
      whole += *chunk;
    }
    BOOST_REQUIRE(whole == data);
    auto got = follower.finish_receive(info.size, info.crc);
    BOOST_REQUIRE_MESSAGE(got, why(got));
    BOOST_TEST(!follower.receiving());
    auto n = follower.newest();
    BOOST_REQUIRE_MESSAGE(n, why(n));
    BOOST_TEST(n->meta.last_index == 1000u);
    BOOST_TEST(n->crc == info.crc);
    BOOST_TEST(contents(n->path) == data);
  }
  // Beyond the end, and a snapshot that is not there.
  BOOST_TEST(has_code(leader.read_chunk(meta, data.size() + 1, 10).error(),
                      errc::snapshot_failure));
  BOOST_TEST(has_code(leader.read_chunk(snapshot_meta{5, 1}, 0, 10).error(),
                      errc::snapshot_failure));
}

BOOST_AUTO_TEST_CASE(out_of_order_chunks_are_refused_cleanly) {
  temp_dir tmp;
  snapshot_store store{tmp.path()};
  snapshot_meta meta{50, 2};
  BOOST_TEST(has_code(store.write_chunk(0, "abc"), errc::snapshot_failure));
  BOOST_TEST(has_code(store.finish_receive().error(), errc::snapshot_failure));
  BOOST_REQUIRE(!store.begin_receive(meta));
  BOOST_REQUIRE(!store.write_chunk(0, "hello "));
  // A gap, a duplicate, an overlap: refused, nothing changes.
  BOOST_TEST(has_code(store.write_chunk(10, "x"), errc::snapshot_failure));
  BOOST_TEST(has_code(store.write_chunk(0, "hello "), errc::snapshot_failure));
  BOOST_TEST(has_code(store.write_chunk(3, "lo world"), errc::snapshot_failure));
  BOOST_TEST(store.received() == 6u);
  BOOST_TEST(store.receiving());
  BOOST_REQUIRE(!store.write_chunk(6, "world"));
  auto info = store.finish_receive();
  BOOST_REQUIRE_MESSAGE(info, why(info));
  BOOST_TEST(contents(info->path) == "hello world");
  BOOST_TEST(info->crc == crc32c("hello world", 11));
}

BOOST_AUTO_TEST_CASE(a_mismatch_at_the_end_drops_the_transfer) {
  temp_dir tmp;
  snapshot_store store{tmp.path()};
  snapshot_meta meta{60, 2};
  // Wrong checksum.
  BOOST_REQUIRE(!store.begin_receive(meta));
  BOOST_REQUIRE(!store.write_chunk(0, "payload"));
  auto res = store.finish_receive(7, crc32c("pAyload", 7));
  BOOST_REQUIRE(!res);
  BOOST_TEST(has_code(res.error(), errc::corrupt_record));
  BOOST_TEST(context(res.error()).find(".recv.tmp") != std::string::npos);
  BOOST_TEST(!store.receiving());
  // Wrong size.
  BOOST_REQUIRE(!store.begin_receive(meta));
  BOOST_REQUIRE(!store.write_chunk(0, "payload"));
  res = store.finish_receive(8, crc32c("payload", 7));
  BOOST_REQUIRE(!res);
  BOOST_TEST(has_code(res.error(), errc::corrupt_record));
  // Aborted.
  BOOST_REQUIRE(!store.begin_receive(meta));
  BOOST_REQUIRE(!store.write_chunk(0, "payload"));
  store.abort_receive();
  BOOST_TEST(!store.receiving());
  BOOST_TEST(store.newest()->none());
  size_t files = 0;
  for (auto& ent : std::filesystem::directory_iterator(tmp.path())) {
    (void) ent;
    ++files;
  }
  BOOST_TEST(files == 0u);
  // A new transfer replaces one in progress.
  BOOST_REQUIRE(!store.begin_receive(meta));
  BOOST_REQUIRE(!store.write_chunk(0, "first"));
  BOOST_REQUIRE(!store.begin_receive(snapshot_meta{61, 2}));
  BOOST_TEST(store.received() == 0u);
  BOOST_REQUIRE(!store.write_chunk(0, "second"));
  auto info = store.finish_receive(6, crc32c("second", 6));
  BOOST_REQUIRE_MESSAGE(info, why(info));
  BOOST_TEST(info->meta.last_index == 61u);
}

BOOST_AUTO_TEST_CASE(failures_while_publishing_keep_the_previous_snapshot) {
  temp_dir tmp;
  auto io = std::make_shared<faulty_file_io>();
  snapshot_store_options opts;
  opts.io = io;
  snapshot_store store{tmp.path(), opts};
  save(store, snapshot_meta{10, 1}, "ten");
  for (auto kind : {faulty_file_io::sync_op, faulty_file_io::rename_op,
                    faulty_file_io::write_op}) {
    auto path = store.begin(snapshot_meta{20, 2});
    BOOST_REQUIRE(path);
    write_bytes(*path, {'2', '0'});
    io->fail(kind, 0, ENOSPC, false);
    auto res = store.commit(snapshot_meta{20, 2});
    io->heal();
    BOOST_REQUIRE(!res);
    BOOST_TEST(has_code(res.error(), errc::storage_failure));
    BOOST_TEST(context(res.error()).find(std::strerror(ENOSPC))
               != std::string::npos);
    auto n = store.newest();
    BOOST_REQUIRE_MESSAGE(n, why(n));
    // The data may have been renamed into place before the sidecar failed;
    // without its sidecar it does not count.
    BOOST_TEST(n->meta.last_index == 10u);
    store.abort(snapshot_meta{20, 2});
  }
  // A full disk while receiving drops the transfer.
  BOOST_REQUIRE(!store.begin_receive(snapshot_meta{30, 3}));
  io->disk_full_after(3);
  auto err = store.write_chunk(0, "abcdef");
  io->heal();
  BOOST_TEST(has_code(err, errc::storage_failure));
  BOOST_TEST(!store.receiving());
  BOOST_TEST(store.newest()->meta.last_index == 10u);
}

BOOST_AUTO_TEST_CASE(shares_the_directory_with_the_log) {
  temp_dir tmp;
  snapshot_store store{tmp.path()};
  {
    file_storage fs{tmp.path()};
    BOOST_REQUIRE(fs.load());
    BOOST_REQUIRE(!fs.write(state_batch(1)));
    BOOST_REQUIRE(!fs.write(append_batch(make_entries(1, 10, 1))));
    save(store, snapshot_meta{5, 1}, "five");
    BOOST_REQUIRE(!fs.compact(snapshot_meta{5, 1}));
  }
  file_storage fs{tmp.path()};
  auto rec = fs.load();
  BOOST_REQUIRE_MESSAGE(rec, why(rec));
  BOOST_TEST(rec->snapshot.last_index == 5u);
  BOOST_TEST(rec->entries.size() == 5u);
  auto n = store.newest();
  BOOST_REQUIRE(n);
  BOOST_TEST(n->meta.last_index == 5u);
  BOOST_TEST(contents(n->path) == "five");
}
