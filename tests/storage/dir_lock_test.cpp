#define BOOST_TEST_MODULE dir_lock
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "raft/storage/file_storage.hpp"
#include "raft/storage/snapshot_store.hpp"

#include "storage_test_util.hpp"

using namespace raft;
using namespace raft::test;

// One member per data directory: a LOCK file held with flock names its
// holder; a second file_storage on the same directory is refused with an
// error naming the directory and the holder, and gets the directory once
// the first is gone.

namespace {

mode_t mode_of(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return 0;
  return st.st_mode & 0777;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_second_storage_on_the_same_directory_is_refused) {
  temp_dir dir;
  auto first = std::make_unique<file_storage>(dir.path());
  BOOST_REQUIRE(first->load());
  BOOST_REQUIRE(!first->write(state_batch(1, "a:1")));
  BOOST_REQUIRE(!first->write(append_batch(make_entries(1, 3, 1))));
  file_storage second{dir.path()};
  auto loaded = second.load();
  BOOST_REQUIRE(!loaded);
  BOOST_TEST(has_code(loaded.error(), errc::storage_failure));
  auto text = context(loaded.error());
  BOOST_TEST_MESSAGE(text);
  BOOST_TEST(text.find(dir.path()) != std::string::npos);
  BOOST_TEST(text.find("pid " + std::to_string(::getpid()))
             != std::string::npos);
  // Writes are refused as well (they open the directory first).
  BOOST_TEST(has_code(second.write(append_batch(make_entries(4, 4, 1))),
                      errc::storage_failure));
  // Released with its holder: a new storage gets the directory and the log.
  first.reset();
  file_storage third{dir.path()};
  auto again = third.load();
  BOOST_REQUIRE_MESSAGE(again, why(again));
  BOOST_TEST(again->entries.size() == 3u);
}

BOOST_AUTO_TEST_CASE(data_is_private_to_its_owner) {
  temp_dir tmp;
  auto dir = tmp.file("data/member");
  {
    file_storage store{dir};
    BOOST_REQUIRE(store.load());
    BOOST_REQUIRE(!store.write(state_batch(2, "a:1")));
    BOOST_REQUIRE(!store.write(append_batch(make_entries(1, 3, 2))));
    snapshot_store snaps{dir};
    snapshot_meta meta;
    meta.last_index = 3;
    meta.last_term = 2;
    auto path = snaps.begin(meta);
    BOOST_REQUIRE(path);
    BOOST_TEST(mode_of(*path) == 0600u);
  }
  BOOST_TEST(mode_of(tmp.file("data")) == 0700u);
  BOOST_TEST(mode_of(dir) == 0700u);
  size_t files = 0;
  for (auto& ent : std::filesystem::directory_iterator(dir)) {
    ++files;
    BOOST_TEST_CONTEXT(ent.path().string()) {
      BOOST_TEST(mode_of(ent.path().string()) == 0600u);
    }
  }
  BOOST_TEST(files >= 3u); // LOCK, metadata, a segment
}
