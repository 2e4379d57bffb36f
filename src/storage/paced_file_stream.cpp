#include "raft/storage/paced_file_stream.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "raft/errc.hpp"

#include "fs_util.hpp"

namespace raft {

namespace {

constexpr unsigned wait_for_range = SYNC_FILE_RANGE_WAIT_BEFORE
                                    | SYNC_FILE_RANGE_WRITE
                                    | SYNC_FILE_RANGE_WAIT_AFTER;

} // namespace

// -- paced_file_buf ---------------------------------------------------------

paced_file_buf::paced_file_buf(file_io_ptr io, std::string path,
                               size_t slice_bytes)
  : io_(std::move(io)), path_(std::move(path)), slice_bytes_(slice_bytes),
    buf_(buffer_bytes) {
  fd_ = io_->open(path_, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    fail("cannot open", errno);
    return;
  }
  setp(buf_.data(), buf_.data() + buf_.size());
}

paced_file_buf::~paced_file_buf() {
  if (fd_ >= 0)
    io_->close(fd_);
}

bool paced_file_buf::fail(const char* what, int err) {
  if (!failure_)
    failure_ = make_error(errc::snapshot_failure, std::string{what} + " "
                                                    + path_ + ": "
                                                    + detail::errno_text(err));
  // Nothing more goes out: every later write overflows and fails.
  setp(nullptr, nullptr);
  return false;
}

bool paced_file_buf::write_out(const char* data, size_t n) {
  if (n == 0)
    return true;
  if (auto err = detail::write_all(*io_, fd_, data, n, offset_))
    return fail("cannot write", err);
  offset_ += n;
  return true;
}

bool paced_file_buf::start_writeback(uint64_t end) {
  if (!pacing_ || end <= started_)
    return true;
  // Bounded dirty data: the slice before this one must be on its way to
  // the disk (or there) before more is started.
  auto started = [&] {
    if (started_ > in_flight_
        && io_->sync_file_range(fd_, in_flight_, started_ - in_flight_,
                                wait_for_range)
             != 0)
      return false;
    in_flight_ = started_;
    return io_->sync_file_range(fd_, started_, end - started_,
                                SYNC_FILE_RANGE_WRITE)
           == 0;
  }();
  if (started) {
    started_ = end;
    ++slices_started_;
    return true;
  }
  auto err = errno;
  if (err == EIO || err == ENOSPC)
    return fail("cannot write", err);
  // Unsupported here (ESPIPE, EINVAL on some file systems): the final
  // fsync does all the work, as with a plain stream.
  pacing_ = false;
  return true;
}

bool paced_file_buf::drain() {
  if (fd_ < 0 || failure_)
    return false;
  auto n = static_cast<size_t>(pptr() - pbase());
  if (!write_out(pbase(), n))
    return false;
  setp(buf_.data(), buf_.data() + buf_.size());
  if (slice_bytes_ > 0 && offset_ - started_ >= slice_bytes_)
    return start_writeback(offset_ - offset_ % slice_bytes_);
  return true;
}

paced_file_buf::int_type paced_file_buf::overflow(int_type ch) {
  if (!drain())
    return traits_type::eof();
  if (traits_type::eq_int_type(ch, traits_type::eof()))
    return traits_type::not_eof(ch);
  *pptr() = traits_type::to_char_type(ch);
  pbump(1);
  return ch;
}

std::streamsize paced_file_buf::xsputn(const char* s, std::streamsize n) {
  std::streamsize done = 0;
  while (done < n) {
    auto room = epptr() - pptr();
    if (room == 0) {
      if (!drain())
        return done;
      continue;
    }
    auto k = std::min<std::streamsize>(room, n - done);
    std::memcpy(pptr(), s + done, static_cast<size_t>(k));
    // pbump takes an int; k <= buffer_bytes.
    pbump(static_cast<int>(k));
    done += k;
  }
  return done;
}

int paced_file_buf::sync() {
  return drain() ? 0 : -1;
}

caf::error paced_file_buf::close() {
  if (fd_ >= 0 && !failure_ && drain() && slice_bytes_ > 0) {
    // Start the tail, then wait for all of it, so that the file is handed
    // to the snapshot store with nothing dirty left for its fsync.
    if (start_writeback(offset_) && pacing_ && offset_ > in_flight_
        && io_->sync_file_range(fd_, in_flight_, offset_ - in_flight_,
                                wait_for_range)
             != 0) {
      auto err = errno;
      if (err == EIO || err == ENOSPC)
        fail("cannot write", err);
    }
  }
  if (fd_ >= 0) {
    if (io_->close(fd_) != 0 && !failure_)
      fail("cannot close", errno);
    fd_ = -1;
  }
  setp(nullptr, nullptr);
  return failure_;
}

// -- paced_ofstream ---------------------------------------------------------

paced_ofstream::paced_ofstream(file_io_ptr io, std::string path,
                               size_t slice_bytes)
  : std::ostream(nullptr), buf_(std::move(io), std::move(path), slice_bytes) {
  rdbuf(&buf_);
  if (buf_.failure())
    setstate(std::ios::badbit);
}

caf::error paced_ofstream::close() {
  auto err = buf_.close();
  if (err)
    setstate(std::ios::badbit);
  return err;
}

// -- background priority ----------------------------------------------------

void lower_this_thread_priority() {
  auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  // On Linux, nice applies per thread (setpriority(2), BUGS).
  ::setpriority(PRIO_PROCESS, tid, 10);
  // ioprio_set(2) has no glibc wrapper: IOPRIO_WHO_PROCESS = 1 (a thread
  // id), class best effort (2) at level 7 (the lowest), not idle, which
  // may starve under a steady stream of log writes. Honored by the bfq and
  // mq-deadline schedulers for I/O this thread submits (its
  // sync_file_range write-back), not by "none".
  constexpr int ioprio_who_process = 1;
  constexpr int ioprio_class_be = 2;
  constexpr int ioprio_class_shift = 13;
  ::syscall(SYS_ioprio_set, ioprio_who_process, static_cast<int>(tid),
            (ioprio_class_be << ioprio_class_shift) | 7);
}

} // namespace raft
