#define BOOST_TEST_MODULE paced_file_stream
#include <boost/test/unit_test.hpp>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <random>
#include <thread>

#include "raft/errc.hpp"
#include "raft/storage/crc32c.hpp"
#include "raft/storage/paced_file_stream.hpp"
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

std::string contents(const std::string& path) {
  auto v = read_bytes(path);
  return std::string(v.begin(), v.end());
}

/// Writes `data` in pieces of varying size (single characters too, so
/// both overflow() and xsputn() are used) and closes the stream.
caf::error write_in_pieces(paced_ofstream& out, const std::string& data,
                           unsigned seed) {
  std::mt19937 gen{seed};
  size_t pos = 0;
  while (pos < data.size()) {
    auto n = std::min<size_t>(data.size() - pos, gen() % 100'000);
    if (n <= 1)
      out.put(data[pos++]);
    else {
      out.write(data.data() + pos, static_cast<std::streamsize>(n));
      pos += n;
    }
  }
  return out.close();
}

} // namespace

BOOST_AUTO_TEST_CASE(writes_exactly_the_bytes_around_the_slice_boundaries) {
  temp_dir tmp;
  constexpr size_t slice = 4096;
  constexpr size_t buffer = paced_file_buf::buffer_bytes;
  for (size_t n : {size_t{0}, size_t{1}, slice - 1, slice, slice + 1,
                   buffer - 1, buffer, buffer + 1, 3 * buffer + 7,
                   16 * buffer}) {
    BOOST_TEST_CONTEXT("size " << n) {
      auto data = random_bytes(n, static_cast<unsigned>(n));
      auto path = tmp.file("f" + std::to_string(n));
      paced_ofstream out{default_file_io(), path, slice};
      auto err = write_in_pieces(out, data, 7);
      BOOST_TEST(!err);
      BOOST_TEST(static_cast<bool>(out));
      BOOST_TEST(out.buf().bytes_written() == n);
      BOOST_TEST(contents(path) == data);
      if (n >= buffer)
        BOOST_TEST(out.buf().slices_started() > 0u);
    }
  }
}

BOOST_AUTO_TEST_CASE(default_slices_and_no_pacing_give_the_same_file) {
  temp_dir tmp;
  constexpr size_t mib = 1024 * 1024;
  for (size_t n : {mib - 1, mib, mib + 1, 3 * mib + 12345}) {
    BOOST_TEST_CONTEXT("size " << n) {
      auto data = random_bytes(n, static_cast<unsigned>(n));
      paced_ofstream paced{default_file_io(), tmp.file("paced")};
      BOOST_TEST(!write_in_pieces(paced, data, 1));
      paced_ofstream plain{default_file_io(), tmp.file("plain"), 0};
      BOOST_TEST(!write_in_pieces(plain, data, 2));
      BOOST_TEST(plain.buf().slices_started() == 0u);
      // Every full slice while writing, the tail at close().
      BOOST_TEST(paced.buf().slices_started() == (n + mib - 1) / mib);
      BOOST_TEST(contents(tmp.file("paced")) == data);
      BOOST_TEST(contents(tmp.file("plain")) == data);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_full_disk_is_reported) {
  temp_dir tmp;
  auto io = std::make_shared<faulty_file_io>();
  io->disk_full_after(200'000);
  paced_ofstream out{io, tmp.file("full"), 4096};
  auto data = random_bytes(1'000'000, 3);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  // The stream notices at the first failed pwrite...
  BOOST_TEST(!out);
  // ...and close() says why, once more.
  auto err = out.close();
  BOOST_REQUIRE(err);
  BOOST_TEST((err == make_error(errc::snapshot_failure)));
  auto text = to_string(err);
  BOOST_TEST(text.find("cannot write") != std::string::npos, text);
  BOOST_TEST(text.find(tmp.file("full")) != std::string::npos, text);
  // Later writes fail at once instead of writing past the hole.
  auto before = io->calls(faulty_file_io::write_op);
  out.clear();
  out.write(data.data(), 100'000);
  out.flush();
  BOOST_TEST(!out);
  BOOST_TEST(io->calls(faulty_file_io::write_op) == before);
}

BOOST_AUTO_TEST_CASE(a_failure_in_the_last_buffer_is_reported_by_close) {
  temp_dir tmp;
  auto io = std::make_shared<faulty_file_io>();
  io->fail(faulty_file_io::write_op, 0, ENOSPC);
  paced_ofstream out{io, tmp.file("small"), 4096};
  out << "fits in the buffer";
  BOOST_TEST(static_cast<bool>(out));
  auto err = out.close();
  BOOST_REQUIRE(err);
  BOOST_TEST((err == make_error(errc::snapshot_failure)));
  BOOST_TEST(!out);
}

BOOST_AUTO_TEST_CASE(an_unopenable_path_is_reported) {
  temp_dir tmp;
  paced_ofstream out{default_file_io(), tmp.file("no/such/dir/file")};
  BOOST_TEST(!out);
  BOOST_TEST((out.buf().failure() == make_error(errc::snapshot_failure)));
  BOOST_TEST((out.close() == make_error(errc::snapshot_failure)));
}

BOOST_AUTO_TEST_CASE(a_paced_snapshot_round_trips_through_the_store) {
  temp_dir tmp;
  snapshot_store store{tmp.path()};
  snapshot_meta meta{100, 2};
  auto path = store.begin(meta);
  BOOST_REQUIRE_MESSAGE(path, why(path));
  auto data = random_bytes(3 * 1024 * 1024 + 99, 5);
  paced_ofstream out{default_file_io(), *path, 256 * 1024};
  BOOST_REQUIRE(!write_in_pieces(out, data, 9));
  auto info = store.commit(meta);
  BOOST_REQUIRE_MESSAGE(info, why(info));
  BOOST_TEST(info->size == data.size());
  BOOST_TEST(info->crc == crc32c(data.data(), data.size()));
  // A restart finds it whole (newest() checks the crc).
  snapshot_store again{tmp.path()};
  auto n = again.newest();
  BOOST_REQUIRE_MESSAGE(n, why(n));
  BOOST_TEST(n->meta.last_index == 100u);
  BOOST_TEST(contents(n->path) == data);
}

BOOST_AUTO_TEST_CASE(lowering_the_priority_affects_only_this_thread) {
  // Run in a thread of its own: the change lasts as long as the thread.
  int mine = 0;
  std::thread t{[&] {
    lower_this_thread_priority();
    errno = 0;
    mine = ::getpriority(PRIO_PROCESS,
                         static_cast<id_t>(::syscall(SYS_gettid)));
  }};
  t.join();
  BOOST_TEST(mine >= 10);
  BOOST_TEST(::getpriority(PRIO_PROCESS, 0) < 10);
}
