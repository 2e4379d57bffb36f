// log-writer-bench: what the durable log costs, measured on one directory.
//
// 1. The disk itself: 4 KiB pwrite + fdatasync, appending to a file (what a
//    log does) and overwriting a preallocated one, in the same directory.
// 2. file_storage::write() alone (no actors), 256-byte entries, fsync on,
//    batches of 1, 16 and 256 entries: appends/s, MB/s, latency, and heap
//    allocations per write() (counted by a replaced operator new).
// 3. Recovery: load() of a log of 1M entries, from a cold page cache (the
//    segment files are evicted with posix_fadvise) and from a warm one.
//
// Usage: log-writer-bench [--dir DIR] [--seconds S] [--entry-size N]
//                         [--recovery-entries N] [--keep]
// The default run takes well under a minute.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <new>
#include <string>
#include <vector>

#include "raft/storage/crc32c.hpp"
#include "raft/storage/file_storage.hpp"

// -- allocation counter ------------------------------------------------------------

// The replacements below pair malloc with free on purpose; GCC's check cannot
// see that operator new and operator delete are both replaced here.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {

std::atomic<uint64_t> allocations{0};

} // namespace

void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (auto p = std::malloc(n == 0 ? 1 : n))
    return p;
  throw std::bad_alloc{};
}

void* operator new[](std::size_t n) {
  return operator new(n);
}

void operator delete(void* p) noexcept {
  std::free(p);
}

void operator delete[](void* p) noexcept {
  std::free(p);
}

void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

namespace {

using namespace raft;
using clock_type = std::chrono::steady_clock;

struct options {
  std::string dir = "/tmp";
  double seconds = 3;
  size_t entry_size = 256;
  size_t recovery_entries = 1000000;
  bool keep = false;
};

double since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "log-writer-bench: %s\n", what.c_str());
  std::exit(1);
}

std::string error_text(const caf::error& err) {
  return "error code " + std::to_string(err.code());
}

// -- 1. the disk --------------------------------------------------------------------

void raw_disk(const std::string& dir, double seconds) {
  std::vector<char> block(4096, 'x');
  for (bool prealloc : {false, true}) {
    auto path = dir + (prealloc ? "/raw-overwrite" : "/raw-append");
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
      die("open " + path + ": " + std::strerror(errno));
    const size_t slots = 4096;
    if (prealloc) {
      // Written and synced once: later writes change no file size.
      for (size_t i = 0; i < slots; ++i)
        if (::pwrite(fd, block.data(), block.size(),
                     static_cast<off_t>(i * block.size()))
            != static_cast<ssize_t>(block.size()))
          die("pwrite");
      ::fsync(fd);
    }
    std::vector<double> lat;
    size_t n = 0;
    auto t0 = clock_type::now();
    while (since(t0) < seconds) {
      auto t = clock_type::now();
      auto off = static_cast<off_t>((prealloc ? n % slots : n) * block.size());
      if (::pwrite(fd, block.data(), block.size(), off)
          != static_cast<ssize_t>(block.size()))
        die("pwrite");
      if (::fdatasync(fd) != 0)
        die("fdatasync");
      lat.push_back(since(t) * 1e6);
      ++n;
    }
    auto dt = since(t0);
    ::close(fd);
    ::unlink(path.c_str());
    std::printf("  raw 4 KiB pwrite+fdatasync, %-9s %8.0f ops/s   "
                "p50 %6.0f us  p99 %6.0f us  (%zu ops)\n",
                prealloc ? "overwrite" : "append", n / dt,
                percentile(lat, 0.5), percentile(lat, 0.99), n);
  }
}

// -- 2. file_storage::write ------------------------------------------------------------

void appends(const std::string& dir, size_t batch, size_t entry_size,
             double seconds, bool sync) {
  auto sub = dir + "/appends-" + std::to_string(batch)
             + (sync ? "" : "-nosync");
  file_storage_options opts;
  opts.sync = sync;
  file_storage fs{sub, opts};
  if (auto rec = fs.load(); !rec)
    die("load: " + error_text(rec.error()));
  write_batch b;
  b.has_state = true;
  b.state.current_term = 1;
  if (auto err = fs.write(b))
    die("write: " + error_text(err));
  // One payload shared by every entry (as a command is shared between the
  // leader's log and its messages): building a batch costs no copies.
  payload data{std::string(entry_size, 'p')};
  b.clear();
  b.entries.reserve(batch);
  index_t next = 1;
  std::vector<double> lat;
  uint64_t allocs = 0;
  size_t writes = 0;
  auto t0 = clock_type::now();
  while (since(t0) < seconds) {
    b.entries.clear();
    for (size_t i = 0; i < batch; ++i)
      b.entries.push_back(log_entry{1, next++, entry_kind::command, data});
    auto t = clock_type::now();
    auto a0 = allocations.load(std::memory_order_relaxed);
    if (auto err = fs.write(b))
      die("write: " + error_text(err));
    auto a1 = allocations.load(std::memory_order_relaxed);
    lat.push_back(since(t) * 1e6);
    if (writes >= 10) // after warm-up (buffers grown)
      allocs += a1 - a0;
    ++writes;
  }
  auto dt = since(t0);
  uint64_t entries = next - 1;
  uint64_t disk = 0;
  for (auto& ent : std::filesystem::directory_iterator(sub))
    disk += ent.file_size();
  double steady = writes > 10 ? static_cast<double>(writes - 10) : 1;
  std::printf("  batch %4zu%s %9.0f appends/s %7.2f MB/s payload "
              "(%6.2f MB/s on disk)  write() p50 %6.0f us p99 %6.0f us  "
              "%.2f allocs/write()  (%zu writes, %zu segments)\n",
              batch, sync ? "        " : " no-sync", entries / dt,
              entries * entry_size / dt / 1e6, disk / dt / 1e6,
              percentile(lat, 0.5), percentile(lat, 0.99), allocs / steady,
              writes, fs.segment_count());
  std::filesystem::remove_all(sub);
}

// -- 3. recovery --------------------------------------------------------------------

void recovery(const std::string& dir, size_t count, size_t entry_size) {
  auto sub = dir + "/recovery";
  {
    file_storage_options opts;
    opts.sync = false; // filled quickly; synced below before eviction
    file_storage fs{sub, opts};
    if (auto rec = fs.load(); !rec)
      die("load: " + error_text(rec.error()));
    write_batch b;
    b.has_state = true;
    b.state.current_term = 1;
    std::string bytes(entry_size, '\0');
    index_t next = 1;
    auto t0 = clock_type::now();
    while (next <= count) {
      b.entries.clear();
      for (size_t i = 0; i < 1024 && next <= count; ++i, ++next) {
        std::memcpy(bytes.data(), &next, sizeof(next));
        b.entries.push_back(
          log_entry{1, next, entry_kind::command, payload{bytes}});
      }
      if (auto err = fs.write(b))
        die("write: " + error_text(err));
      b.has_state = false;
    }
    std::printf("  filled %zu entries in %.2f s (no fsync)\n", count,
                since(t0));
  }
  uint64_t disk = 0;
  size_t files = 0;
  for (auto& ent : std::filesystem::directory_iterator(sub)) {
    // Sync, then drop the clean pages: the next read comes from the disk.
    int fd = ::open(ent.path().c_str(), O_RDONLY);
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
    disk += ent.file_size();
    ++files;
  }
  for (const char* cache : {"cold", "warm"}) {
    file_storage fs{sub};
    auto t0 = clock_type::now();
    auto rec = fs.load();
    auto dt = since(t0);
    if (!rec)
      die("load: " + error_text(rec.error()));
    if (rec->entries.size() != count)
      die("load found " + std::to_string(rec->entries.size()) + " entries");
    std::printf("  load() of %zu entries (%.0f MB, %zu files), %s cache: "
                "%.2f s = %.2f M entries/s, %.0f MB/s\n",
                count, disk / 1e6, files, cache, dt, count / dt / 1e6,
                disk / dt / 1e6);
  }
  std::filesystem::remove_all(sub);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        die("missing value for " + a);
      return argv[++i];
    };
    if (a == "--dir")
      o.dir = value();
    else if (a == "--seconds")
      o.seconds = std::stod(value());
    else if (a == "--entry-size")
      o.entry_size = std::stoul(value());
    else if (a == "--recovery-entries")
      o.recovery_entries = std::stoul(value());
    else if (a == "--keep")
      o.keep = true;
    else {
      std::printf("usage: log-writer-bench [--dir DIR] [--seconds S per "
                  "phase] [--entry-size N] [--recovery-entries N] [--keep]\n");
      std::exit(a == "--help" ? 0 : 1);
    }
  }
  return o;
}

} // namespace

int main(int argc, char** argv) {
  auto opts = parse(argc, argv);
  auto tmpl = opts.dir + "/log-writer-bench-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr)
    die("mkdtemp in " + opts.dir + ": " + std::strerror(errno));
  std::string dir = buf.data();
  std::printf("log-writer-bench in %s: %zu-byte entries, %.1f s per phase, "
              "crc32c %s\n",
              dir.c_str(), opts.entry_size, opts.seconds,
              crc32c_hardware() ? "SSE4.2" : "tables");
  std::printf("disk:\n");
  raw_disk(dir, opts.seconds);
  std::printf("file_storage::write(), fsync on:\n");
  for (size_t batch : {1, 16, 256})
    appends(dir, batch, opts.entry_size, opts.seconds, true);
  std::printf("file_storage::write(), fsync off (UNSAFE; CPU cost only):\n");
  appends(dir, 256, opts.entry_size, std::min(opts.seconds, 1.0), false);
  std::printf("recovery:\n");
  if (opts.recovery_entries > 0)
    recovery(dir, opts.recovery_entries, opts.entry_size);
  if (!opts.keep)
    std::filesystem::remove_all(dir);
  return 0;
}
