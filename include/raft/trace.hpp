// Where a put's time goes: stage stamps of sampled log entries along the
// path of a client's append (issue 14; docs/benchmarks.md, "Where the time
// goes"). Off unless an application gives a member a trace_log
// (config::trace); then the member stamps every `every`-th log index at each
// stage it sees, with its actor clock. With CAF's real clock that is
// std::chrono::steady_clock, which on Linux is CLOCK_MONOTONIC: one clock
// for all processes of a machine, so stamps of the leader, the followers and
// the client (which learns the index from the reply) can be joined by index
// and subtracted. Under CAF's test coordinator it is the simulated clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "raft/core/types.hpp"

namespace raft {

/// The stages of a put, in the order of the path. The leader writes its own
/// log while it replicates (thesis §10.2.1), so leader_durable runs in
/// parallel with follower_receive .. ack_received; commit waits for both.
enum class trace_stage : uint8_t {
  /// The client sent the append (stamped by the client).
  client_send,
  /// The leader's member actor handled the append and gave it its index.
  leader_receive,
  /// The leader's log writer confirmed the entry durable.
  leader_durable,
  /// A follower's member actor accepted the AppendEntries holding it.
  follower_receive,
  /// The follower's log writer confirmed it durable (its ack leaves now).
  follower_durable,
  /// The leader handled the first follower acknowledgement covering it.
  ack_received,
  /// The leader's commit index reached it (§5.3).
  commit,
  /// The member learned that its state machine applied it (the leader's
  /// reply leaves now).
  applied,
  /// The client received the reply (stamped by the client).
  reply_received,
};

constexpr size_t trace_stage_count =
  static_cast<size_t>(trace_stage::reply_received) + 1;

/// The stage's name ("leader_durable", ...).
inline const char* to_string(trace_stage x) {
  static constexpr const char* names[] = {
    "client_send", "leader_receive",   "leader_durable",
    "follower_receive", "follower_durable", "ack_received",
    "commit",      "applied",          "reply_received"};
  auto i = static_cast<size_t>(x);
  return i < trace_stage_count ? names[i] : "unknown";
}

/// One stamp: entry `index` reached `stage` at `ns` (clock time since the
/// clock's epoch, in nanoseconds).
struct trace_stamp {
  index_t index = 0;
  trace_stage stage = trace_stage::client_send;
  int64_t ns = 0;
};

/// A bounded ring of stamps for one member: the newest `capacity` stamps are
/// kept. The member writes it; anyone may read it at any time (a mutex).
class trace_log {
public:
  /// Samples every `every`-th log index (0: none); keeps `capacity` stamps.
  explicit trace_log(uint32_t every, size_t capacity = 65536)
    : every_(every), capacity_(capacity > 0 ? capacity : 1) {
    ring_.reserve(capacity_);
  }

  uint32_t every() const {
    return every_;
  }

  /// Whether `index` is sampled.
  bool sampled(index_t index) const {
    return every_ != 0 && index % every_ == 0;
  }

  void record(index_t index, trace_stage stage, int64_t ns) {
    std::lock_guard<std::mutex> guard{mtx_};
    trace_stamp s{index, stage, ns};
    if (ring_.size() < capacity_)
      ring_.push_back(s);
    else
      ring_[total_ % capacity_] = s;
    ++total_;
  }

  /// The stamps kept, oldest first.
  std::vector<trace_stamp> stamps() const {
    std::lock_guard<std::mutex> guard{mtx_};
    if (ring_.size() < capacity_)
      return ring_;
    std::vector<trace_stamp> out;
    out.reserve(capacity_);
    auto start = static_cast<size_t>(total_ % capacity_);
    out.insert(out.end(), ring_.begin() + static_cast<ptrdiff_t>(start),
               ring_.end());
    out.insert(out.end(), ring_.begin(),
               ring_.begin() + static_cast<ptrdiff_t>(start));
    return out;
  }

  /// Stamps recorded since construction (the ring keeps the newest ones).
  uint64_t recorded() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return total_;
  }

private:
  const uint32_t every_;
  const size_t capacity_;
  mutable std::mutex mtx_;
  std::vector<trace_stamp> ring_;
  uint64_t total_ = 0;
};

} // namespace raft
