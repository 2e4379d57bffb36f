// An exclusive lock on a data directory: <dir>/LOCK, held with flock(2) for
// as long as the object lives and naming its holder (pid, host, program), so
// that a second member on the same directory is refused with an error that
// says who holds it. The lock goes with the holder's file descriptor: a
// crashed process never leaves it held (the LOCK file itself may stay).
#pragma once

#include <string>

#include "caf/error.hpp"

namespace raft::detail {

class dir_lock {
public:
  dir_lock() = default;
  ~dir_lock();
  dir_lock(const dir_lock&) = delete;
  dir_lock& operator=(const dir_lock&) = delete;

  /// Takes the lock on `dir` (which must exist), or returns an
  /// errc::storage_failure error naming the directory and the holder.
  caf::error acquire(const std::string& dir);

  /// Releases the lock (also done by the destructor).
  void release();

  bool held() const {
    return fd_ >= 0;
  }

private:
  int fd_ = -1;
};

/// The LOCK file's name inside a data directory.
constexpr const char* lock_file_name = "LOCK";

} // namespace raft::detail
