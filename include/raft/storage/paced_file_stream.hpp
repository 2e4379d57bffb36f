// Writing a large file (a snapshot) without disturbing the log's fsyncs.
//
// Buffered writes pile up dirty pages; the final fsync then flushes all of
// them at once (26 MiB for raft-kv's 100,000 values), and on ext4 the log's
// fdatasync may wait for the same journal commit. This stream starts the
// write-back of every slice as soon as it is complete
// (sync_file_range(SYNC_FILE_RANGE_WRITE), RocksDB's bytes_per_sync idea)
// and waits for the slice before it first, so at most two slices are ever
// dirty and the final fsync has little left to do (docs/storage.md,
// "Writing a snapshot").
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <streambuf>
#include <string>
#include <vector>

#include "caf/error.hpp"

#include "raft/storage/file_io.hpp"

namespace raft {

/// A streambuf over a file opened for writing: bytes go out with pwrite in
/// buffer-sized pieces, write-back is started slice by slice. Not
/// thread-safe. The first failure sticks: later writes fail at once and
/// `failure()` says why.
class paced_file_buf : public std::streambuf {
public:
  /// Bytes between two write-back starts (RocksDB's bytes_per_sync: 1 MiB).
  static constexpr size_t default_slice_bytes = 1024 * 1024;

  /// Bytes kept in memory before a pwrite.
  static constexpr size_t buffer_bytes = 64 * 1024;

  /// Creates (or truncates) `path`. With `slice_bytes` = 0, no write-back
  /// is started (a plain buffered file).
  paced_file_buf(file_io_ptr io, std::string path,
                 size_t slice_bytes = default_slice_bytes);

  paced_file_buf(const paced_file_buf&) = delete;
  paced_file_buf& operator=(const paced_file_buf&) = delete;

  /// Closes the file (without the final flush: call close() to learn if it
  /// worked).
  ~paced_file_buf() override;

  /// Writes what is buffered, waits for the write-back started so far and
  /// closes the file. Does not fsync: the snapshot store does that when it
  /// publishes. Returns the first failure, if any.
  caf::error close();

  /// The first failure (none while all went well).
  const caf::error& failure() const {
    return failure_;
  }

  /// Bytes accepted so far.
  uint64_t bytes_written() const {
    return offset_ + static_cast<uint64_t>(pptr() - pbase());
  }

  /// Slices whose write-back was started (for tests).
  size_t slices_started() const {
    return slices_started_;
  }

protected:
  int_type overflow(int_type ch) override;

  std::streamsize xsputn(const char* s, std::streamsize n) override;

  int sync() override;

private:
  /// Writes the buffer at offset_, then starts write-back of each slice it
  /// completed. False on failure (recorded in failure_).
  bool drain();

  /// pwrite all of [data, data + n) at offset_.
  bool write_out(const char* data, size_t n);

  /// Waits for the previous slice, starts the one that ends at `end`.
  bool start_writeback(uint64_t end);

  bool fail(const char* what, int err);

  file_io_ptr io_;
  std::string path_;
  int fd_ = -1;
  size_t slice_bytes_;
  /// Bytes handed to pwrite so far (the file's size).
  uint64_t offset_ = 0;
  /// Write-back was started for [0, started_).
  uint64_t started_ = 0;
  /// Start of the slice whose write-back is running, not yet awaited.
  uint64_t in_flight_ = 0;
  /// False once sync_file_range turned out to be unsupported here.
  bool pacing_ = true;
  size_t slices_started_ = 0;
  std::vector<char> buf_;
  caf::error failure_;
};

/// An ostream writing a paced_file_buf (what a snapshot_writer gets).
class paced_ofstream : public std::ostream {
public:
  paced_ofstream(file_io_ptr io, std::string path,
                 size_t slice_bytes = paced_file_buf::default_slice_bytes);

  /// See paced_file_buf::close(); also sets badbit on failure.
  caf::error close();

  paced_file_buf& buf() {
    return buf_;
  }

private:
  paced_file_buf buf_;
};

/// Lowers the calling thread's CPU priority (nice 10) and its I/O priority
/// (best effort, lowest level) for background work such as a snapshot
/// writer's. Only for threads of their own (detached actors): the change
/// lasts as long as the thread. Best effort: failures are ignored.
void lower_this_thread_priority();

} // namespace raft
