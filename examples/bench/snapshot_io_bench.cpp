// snapshot-io-bench: what writing a snapshot file does to the log's
// fdatasyncs (docs/benchmarks.md, "Writing without disturbing the log").
//
//   snapshot-io-bench [--mib M] [--rounds R] [--dir D]
//
// One thread plays the log writer: 4 KiB appended, fdatasync, again, and
// records each fdatasync's latency. Meanwhile another thread writes an
// M MiB file (default 26, raft-kv's 100,000 values of 256 bytes) and
// fdatasyncs it as the snapshot store publishes it, either with a plain
// std::ofstream (how the snapshot writer wrote before) or with
// paced_ofstream on a low-priority thread (how it writes now); idle
// windows in between; and an unlink of such a file (what compaction does
// to log segments) followed by a directory fsync. Prints the log's fdatasync p50/p99/max per window and
// the writer's times.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "raft/storage/paced_file_stream.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

double ms_since(clock_type::time_point t0, clock_type::time_point t) {
  return std::chrono::duration<double, std::milli>(t - t0).count();
}

struct sample {
  clock_type::time_point end;
  double ms;
};

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "snapshot-io-bench: %s\n", why.c_str());
  std::exit(1);
}

double pct(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

} // namespace

int main(int argc, char** argv) {
  size_t mib = 26;
  int rounds = 3;
  std::string dir = "/tmp";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--mib" && i + 1 < argc)
      mib = std::strtoul(argv[++i], nullptr, 10);
    else if (a == "--rounds" && i + 1 < argc)
      rounds = std::atoi(argv[++i]);
    else if (a == "--dir" && i + 1 < argc)
      dir = argv[++i];
    else
      fail("usage: snapshot-io-bench [--mib M] [--rounds R] [--dir D]");
  }
  std::string tmpl = dir + "/snapshot-io-bench.XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr)
    fail("mkdtemp in " + dir);
  auto work = tmpl;
  // -- the log: append 4 KiB, fdatasync, repeat -----------------------------
  std::atomic<bool> stop{false};
  std::mutex mtx;
  std::vector<sample> samples;
  std::thread log{[&] {
    int fd = ::open((work + "/log").c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                    0600);
    if (fd < 0)
      fail("open log");
    std::vector<char> block(4096, 'l');
    uint64_t off = 0;
    while (!stop) {
      auto t0 = clock_type::now();
      if (::pwrite(fd, block.data(), block.size(), static_cast<off_t>(off))
            != static_cast<ssize_t>(block.size())
          || ::fdatasync(fd) != 0)
        fail("log write");
      auto t1 = clock_type::now();
      off += block.size();
      std::lock_guard<std::mutex> guard{mtx};
      samples.push_back({t1, ms_since(t0, t1)});
    }
    ::close(fd);
  }};
  // -- windows ----------------------------------------------------------------
  std::string piece(64 * 1024, '\0');
  for (size_t i = 0; i < piece.size(); ++i)
    piece[i] = static_cast<char>(i * 131 + 7);
  auto snap = work + "/snapshot";
  auto publish = [&] {
    // What snapshot_store::publish does first: fdatasync the data file.
    int fd = ::open(snap.c_str(), O_RDONLY);
    if (fd < 0 || ::fdatasync(fd) != 0)
      fail("fdatasync snapshot");
    ::close(fd);
  };
  struct window {
    std::string name;
    clock_type::time_point from;
    clock_type::time_point to;
    double write_ms = 0;
    double sync_ms = 0;
  };
  std::vector<window> windows;
  auto idle = [&] {
    window w{"idle", clock_type::now(), {}};
    std::this_thread::sleep_for(std::chrono::seconds(1));
    w.to = clock_type::now();
    windows.push_back(w);
  };
  auto run = [&](const std::string& name, bool paced) {
    window w{name, clock_type::now(), {}};
    std::thread t{[&] {
      if (paced) {
        raft::lower_this_thread_priority();
        raft::paced_ofstream out{raft::default_file_io(), snap};
        for (size_t i = 0; i < mib * 16; ++i)
          out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
        if (out.close())
          fail("paced write");
      } else {
        std::ofstream out{snap, std::ios::binary | std::ios::trunc};
        for (size_t i = 0; i < mib * 16; ++i)
          out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
        out.flush();
        if (!out)
          fail("plain write");
      }
      auto t1 = clock_type::now();
      w.write_ms = ms_since(w.from, t1);
      publish();
      w.sync_ms = ms_since(t1, clock_type::now());
    }};
    t.join();
    w.to = clock_type::now();
    windows.push_back(w);
    ::unlink(snap.c_str());
  };
  // Compaction's part: unlinking a durable file of the same size (ext4
  // mounted with discard trims its blocks at the next journal commit).
  auto unlink_window = [&] {
    {
      std::ofstream out{snap, std::ios::binary | std::ios::trunc};
      for (size_t i = 0; i < mib * 16; ++i)
        out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
    }
    publish();
    idle();
    window w{"unlink", clock_type::now(), {}};
    ::unlink(snap.c_str());
    int dfd = ::open(work.c_str(), O_RDONLY | O_DIRECTORY);
    if (dfd < 0 || ::fsync(dfd) != 0)
      fail("fsync directory");
    ::close(dfd);
    w.sync_ms = ms_since(w.from, clock_type::now());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    w.to = clock_type::now();
    windows.push_back(w);
  };
  idle();
  for (int r = 0; r < rounds; ++r) {
    unlink_window();
    idle();
    run("plain", false);
    idle();
    run("paced", true);
    idle();
  }
  stop = true;
  log.join();
  ::unlink((work + "/log").c_str());
  ::rmdir(work.c_str());
  std::printf("%-6s %8s %8s %8s %8s %6s %9s %8s\n", "window", "ms",
              "log p50", "log p99", "log max", "syncs", "write ms",
              "fsync ms");
  for (auto& w : windows) {
    std::vector<double> v;
    for (auto& s : samples)
      if (s.end >= w.from && s.end <= w.to)
        v.push_back(s.ms);
    std::printf("%-6s %8.0f %8.2f %8.2f %8.2f %6zu %9.1f %8.1f\n",
                w.name.c_str(), ms_since(w.from, w.to), pct(v, 0.5),
                pct(v, 0.99), v.empty() ? 0.0 : pct(v, 1.0), v.size(),
                w.write_ms, w.sync_ms);
  }
  return 0;
}
