// raft-bench: what the machine gives, measured beside the load: the
// disk's fdatasync latency, and the run's data directories (temporary
// directory, disk use, page cache).

#include "raft_bench.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace raft_bench {

// -- probes -------------------------------------------------------------------------


/// 4 KiB write + fdatasync in `dir`: p50 in microseconds. `prealloc`: into
/// a file allocated (and synced) beforehand, so fdatasync need not commit
/// a size change (as a log with preallocated segments would).
double fsync_probe(const std::string& dir, int rounds, bool prealloc) {
  auto path = dir + "/fsync-probe.dat";
  int fd = open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
  if (fd < 0)
    return -1;
  if (prealloc
      && (posix_fallocate(fd, 0, static_cast<off_t>(rounds + 1) * 4096) != 0
          || fsync(fd) != 0)) {
    close(fd);
    unlink(path.c_str());
    return -1;
  }
  std::string block(4096, 'x');
  std::vector<double> lat;
  for (int i = 0; i < rounds; ++i) {
    auto t0 = clk::now();
    if (write(fd, block.data(), block.size()) != 4096 || fdatasync(fd) != 0)
      break;
    lat.push_back(
      std::chrono::duration<double, std::micro>(clk::now() - t0).count());
  }
  close(fd);
  unlink(path.c_str());
  std::sort(lat.begin(), lat.end());
  return lat.empty() ? -1 : percentile(lat, 0.5);
}

/// A fresh directory for the run's logs and snapshots (under $TMPDIR), or
/// an empty string after printing why it could not be made.
std::string make_temp_dir() {
  std::string tmpl = (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp")
                     + std::string{"/raft-bench.XXXXXX"};
  if (!mkdtemp(tmpl.data())) {
    perror("raft-bench: mkdtemp");
    return {};
  }
  return tmpl;
}

// -- data directories -------------------------------------------------------------------

/// Disk use of a directory tree (allocated blocks, as du counts them), MiB.
double disk_mib(const std::string& dir) {
  std::error_code ec;
  uint64_t bytes = 0;
  for (std::filesystem::recursive_directory_iterator
         it{dir, std::filesystem::directory_options::skip_permission_denied,
            ec},
       end;
       !ec && it != end; it.increment(ec)) {
    struct stat sb;
    if (lstat(it->path().c_str(), &sb) == 0 && S_ISREG(sb.st_mode))
      bytes += static_cast<uint64_t>(sb.st_blocks) * 512;
  }
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

/// fdatasync every file of `dir` (and the directory); with `evict`, drop
/// their clean pages from the page cache too (posix_fadvise DONTNEED: only
/// these files, nothing else on the machine).
void sync_dir_files(const std::string& dir, bool evict) {
  for (auto& ent : std::filesystem::directory_iterator(dir)) {
    if (!ent.is_regular_file())
      continue;
    int fd = open(ent.path().c_str(), O_RDONLY);
    if (fd < 0)
      continue;
    fdatasync(fd);
    if (evict)
      posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
  }
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

} // namespace raft_bench
