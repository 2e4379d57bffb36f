// The leader's limit on commands it holds uncommitted (etcd's
// MaxUncommittedEntriesSize): back-pressure to proposers when a majority (or
// the disk) falls behind, instead of a log that grows without bound.
#pragma once

#include <cstddef>

namespace raft {

/// Payload bytes of the commands a leader appended in its term and has not
/// yet seen committed.
///
/// Invariant: held() is the sum of the bytes proposed minus those committed,
/// never below 0 (commands of earlier terms were never counted, so their
/// commit may release more than was proposed: clamped).
class uncommitted_budget {
public:
  size_t held() const {
    return held_;
  }

  /// Whether a command of `bytes` may be appended under `limit` (0: no
  /// limit). When nothing is held, any command is admitted, so one as large
  /// as the limit (or larger) is never refused forever (as in etcd).
  bool admits(size_t bytes, size_t limit) const {
    return limit == 0 || held_ == 0 || held_ + bytes <= limit;
  }

  /// A command of `bytes` was appended to the log.
  void on_proposed(size_t bytes) {
    held_ += bytes;
  }

  /// Commands of `bytes` in all were committed.
  void on_committed(size_t bytes) {
    held_ = bytes >= held_ ? 0 : held_ - bytes;
  }

private:
  size_t held_ = 0;
};

} // namespace raft
