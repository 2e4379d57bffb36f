#include "raft/storage/file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

namespace raft {

// -- file_io: the operating system --------------------------------------------

file_io::~file_io() {
  // nop
}

int file_io::open(const std::string& path, int flags, mode_t mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

int file_io::close(int fd) {
  return ::close(fd);
}

ssize_t file_io::pwrite(int fd, const void* buf, size_t n, uint64_t offset) {
  ssize_t res;
  do {
    res = ::pwrite(fd, buf, n, static_cast<off_t>(offset));
  } while (res < 0 && errno == EINTR);
  return res;
}

ssize_t file_io::pread(int fd, void* buf, size_t n, uint64_t offset) {
  ssize_t res;
  do {
    res = ::pread(fd, buf, n, static_cast<off_t>(offset));
  } while (res < 0 && errno == EINTR);
  return res;
}

int file_io::fdatasync(int fd) {
  return ::fdatasync(fd);
}

int file_io::fsync(int fd) {
  return ::fsync(fd);
}

int file_io::sync_file_range(int fd, uint64_t offset, uint64_t n,
                             unsigned flags) {
  int res;
  do {
    res = ::sync_file_range(fd, static_cast<off64_t>(offset),
                            static_cast<off64_t>(n), flags);
  } while (res < 0 && errno == EINTR);
  return res;
}

int file_io::ftruncate(int fd, uint64_t size) {
  int res;
  do {
    res = ::ftruncate(fd, static_cast<off_t>(size));
  } while (res < 0 && errno == EINTR);
  return res;
}

int file_io::rename(const std::string& from, const std::string& to) {
  return ::rename(from.c_str(), to.c_str());
}

int file_io::unlink(const std::string& path) {
  return ::unlink(path.c_str());
}

int64_t file_io::file_size(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0)
    return -1;
  return static_cast<int64_t>(st.st_size);
}

file_io_ptr default_file_io() {
  static auto instance = std::make_shared<file_io>();
  return instance;
}

// -- faulty_file_io -----------------------------------------------------------------

void faulty_file_io::fail(op x, size_t successes, int err, bool sticky) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& r = rules_[x];
  r.armed = true;
  r.countdown = successes;
  r.err = err;
  r.sticky = sticky;
  r.tripped = false;
}

void faulty_file_io::disk_full_after(uint64_t bytes) {
  std::lock_guard<std::mutex> guard{mtx_};
  full_armed_ = true;
  full_budget_ = bytes;
}

void faulty_file_io::heal() {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& r : rules_)
    r = rule{};
  full_armed_ = false;
}

size_t faulty_file_io::calls(op x) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return calls_[x];
}

uint64_t faulty_file_io::bytes_written() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return written_;
}

int faulty_file_io::check(op x) {
  std::lock_guard<std::mutex> guard{mtx_};
  ++calls_[x];
  auto& r = rules_[x];
  if (!r.armed)
    return 0;
  if (r.tripped)
    return r.sticky ? r.err : 0;
  if (r.countdown > 0) {
    --r.countdown;
    return 0;
  }
  r.tripped = true;
  return r.err;
}

int faulty_file_io::open(const std::string& path, int flags, mode_t mode) {
  if (auto err = check(open_op)) {
    errno = err;
    return -1;
  }
  return file_io::open(path, flags, mode);
}

ssize_t faulty_file_io::pwrite(int fd, const void* buf, size_t n,
                               uint64_t offset) {
  if (auto err = check(write_op)) {
    errno = err;
    return -1;
  }
  size_t allowed = n;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (full_armed_) {
      if (full_budget_ == 0 && n > 0) {
        errno = ENOSPC;
        return -1;
      }
      if (allowed > full_budget_)
        allowed = static_cast<size_t>(full_budget_);
    }
  }
  auto res = file_io::pwrite(fd, buf, allowed, offset);
  if (res > 0) {
    std::lock_guard<std::mutex> guard{mtx_};
    written_ += static_cast<uint64_t>(res);
    if (full_armed_)
      full_budget_ -= static_cast<uint64_t>(res);
  }
  return res;
}

ssize_t faulty_file_io::pread(int fd, void* buf, size_t n, uint64_t offset) {
  if (auto err = check(read_op)) {
    errno = err;
    return -1;
  }
  return file_io::pread(fd, buf, n, offset);
}

int faulty_file_io::fdatasync(int fd) {
  if (auto err = check(sync_op)) {
    errno = err;
    return -1;
  }
  return file_io::fdatasync(fd);
}

int faulty_file_io::fsync(int fd) {
  if (auto err = check(sync_op)) {
    errno = err;
    return -1;
  }
  return file_io::fsync(fd);
}

int faulty_file_io::ftruncate(int fd, uint64_t size) {
  if (auto err = check(truncate_op)) {
    errno = err;
    return -1;
  }
  return file_io::ftruncate(fd, size);
}

int faulty_file_io::rename(const std::string& from, const std::string& to) {
  if (auto err = check(rename_op)) {
    errno = err;
    return -1;
  }
  return file_io::rename(from, to);
}

int faulty_file_io::unlink(const std::string& path) {
  if (auto err = check(unlink_op)) {
    errno = err;
    return -1;
  }
  return file_io::unlink(path);
}

} // namespace raft
