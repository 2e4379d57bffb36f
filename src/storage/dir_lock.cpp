#include "dir_lock.hpp"

#include <cerrno>
#include <fcntl.h>
#include <fstream>
#include <sys/file.h>
#include <unistd.h>

#include "raft/errc.hpp"

#include "fs_util.hpp"

namespace raft::detail {

namespace {

/// "pid 123 (raft-kv) on host h".
std::string holder_identity() {
  std::string comm;
  std::ifstream in{"/proc/self/comm"};
  std::getline(in, comm);
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  return "pid " + std::to_string(::getpid()) + " (" + comm + ") on host "
         + host;
}

/// What the holder wrote into the LOCK file, bounded (a hostile or damaged
/// file never makes us read or print much).
std::string read_holder(int fd) {
  char buf[256] = {};
  auto n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0)
    return "an unknown holder";
  std::string s{buf, static_cast<size_t>(n)};
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0'))
    s.pop_back();
  return s.empty() ? "an unknown holder" : s;
}

} // namespace

dir_lock::~dir_lock() {
  release();
}

caf::error dir_lock::acquire(const std::string& dir) {
  if (fd_ >= 0)
    return caf::none;
  auto path = join(dir, lock_file_name);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return io_failure("open lock file", path, errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    auto err = errno;
    std::string holder = err == EWOULDBLOCK ? read_holder(fd) : "";
    ::close(fd);
    if (err != EWOULDBLOCK)
      return io_failure("lock", path, err);
    return make_error(errc::storage_failure,
                      "data directory " + dir + " is in use: locked by "
                        + holder + " (" + path + ")");
  }
  // Ours now: say who holds it (informational; the flock is the lock).
  auto id = holder_identity() + "\n";
  if (::ftruncate(fd, 0) == 0) {
    auto n = ::pwrite(fd, id.data(), id.size(), 0);
    static_cast<void>(n);
  }
  fd_ = fd;
  return caf::none;
}

void dir_lock::release() {
  if (fd_ >= 0) {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
    fd_ = -1;
  }
}

} // namespace raft::detail
