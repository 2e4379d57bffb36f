// The system calls of the durable storage, behind a small seam so that tests
// can make any of them fail (a dead disk, a full disk, a failed fsync) and
// check that the storage stops instead of acknowledging lost data.
#pragma once

#include <sys/types.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace raft {

/// The file operations used by file_storage and snapshot_store. Each one
/// behaves like the POSIX call of the same name: on failure it returns -1 and
/// sets errno. The base class forwards to the operating system.
class file_io {
public:
  virtual ~file_io();

  virtual int open(const std::string& path, int flags, mode_t mode = 0600);

  virtual int close(int fd);

  /// One pwrite(2); may write fewer than `n` bytes (callers loop).
  virtual ssize_t pwrite(int fd, const void* buf, size_t n, uint64_t offset);

  /// One pread(2); may read fewer than `n` bytes (callers loop).
  virtual ssize_t pread(int fd, void* buf, size_t n, uint64_t offset);

  virtual int fdatasync(int fd);

  virtual int fsync(int fd);

  virtual int ftruncate(int fd, uint64_t size);

  virtual int rename(const std::string& from, const std::string& to);

  virtual int unlink(const std::string& path);

  /// The size of an open file (fstat), or -1.
  virtual int64_t file_size(int fd);

  /// sync_file_range(2): starts or awaits write-back of [offset, offset + n)
  /// (paced_file_stream.hpp). Not a durability point: no metadata, no
  /// flush of the disk's cache.
  virtual int sync_file_range(int fd, uint64_t offset, uint64_t n,
                              unsigned flags);
};

using file_io_ptr = std::shared_ptr<file_io>;

/// The operating system's file_io (shared, stateless).
file_io_ptr default_file_io();

/// A file_io for tests: forwards to the operating system until told to fail.
/// Thread-safe.
class faulty_file_io : public file_io {
public:
  /// Kinds of calls that can be made to fail.
  enum op : size_t {
    /// open(2), including directories opened for fsync.
    open_op,
    /// pwrite(2).
    write_op,
    /// pread(2).
    read_op,
    /// fsync(2) and fdatasync(2), of files and directories.
    sync_op,
    /// ftruncate(2).
    truncate_op,
    /// rename(2).
    rename_op,
    /// unlink(2).
    unlink_op,
    num_ops,
  };

  /// After `successes` more successful calls of kind `x`, the next call fails
  /// with `err`; with `sticky`, every call after it fails too (a dead disk),
  /// otherwise only that one (a transient error the storage must not trust).
  void fail(op x, size_t successes, int err = EIO, bool sticky = true);

  /// The disk is full once `bytes` more bytes have been written: the write
  /// that crosses the limit is cut short, every later one fails with ENOSPC.
  void disk_full_after(uint64_t bytes);

  /// Back to a healthy disk (counters are kept).
  void heal();

  /// Calls of kind `x` so far (failed ones included).
  size_t calls(op x) const;

  /// Bytes written successfully so far.
  uint64_t bytes_written() const;

  int open(const std::string& path, int flags, mode_t mode) override;
  ssize_t pwrite(int fd, const void* buf, size_t n, uint64_t offset) override;
  ssize_t pread(int fd, void* buf, size_t n, uint64_t offset) override;
  int fdatasync(int fd) override;
  int fsync(int fd) override;
  int ftruncate(int fd, uint64_t size) override;
  int rename(const std::string& from, const std::string& to) override;
  int unlink(const std::string& path) override;

private:
  struct rule {
    bool armed = false;
    size_t countdown = 0;
    int err = EIO;
    bool sticky = true;
    bool tripped = false;
  };

  /// Counts a call of kind `x`; returns the errno to fail it with, or 0.
  int check(op x);

  mutable std::mutex mtx_;
  std::array<rule, num_ops> rules_;
  std::array<size_t, num_ops> calls_{};
  bool full_armed_ = false;
  uint64_t full_budget_ = 0;
  uint64_t written_ = 0;
};

} // namespace raft
