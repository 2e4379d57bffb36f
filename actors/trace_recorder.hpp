// Where a member stamps the stages of sampled entries (raft/trace.hpp). Each
// stamp in the member's code is one call here; with no trace_log configured
// (the default) a call costs one branch.
#pragma once

#include <array>
#include <chrono>
#include <memory>

#include "caf/actor_clock.hpp"

#include "raft/trace.hpp"

namespace raft {

class trace_recorder {
public:
  /// Starts stamping into `log` (null: off) with `clock`.
  void configure(std::shared_ptr<trace_log> log, caf::actor_clock& clock) {
    log_ = std::move(log);
    clock_ = &clock;
  }

  /// Entry `index` reached `stage` now (if it is sampled).
  void stamp(trace_stage stage, index_t index) {
    if (log_ != nullptr && log_->sampled(index))
      log_->record(index, stage, now());
  }

  /// Every sampled entry up to `upto` that has not reached `stage` before
  /// reached it now: the stages that move as a range (durable, acknowledged,
  /// committed, applied). The first time counts, as for an entry that a
  /// truncation removed and a newer leader's entry replaced.
  void stamp_upto(trace_stage stage, index_t upto) {
    if (log_ != nullptr)
      record_upto(stage, upto);
  }

private:
  int64_t now() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
             clock_->now().time_since_epoch())
      .count();
  }

  void record_upto(trace_stage stage, index_t upto) {
    auto& done = done_[static_cast<size_t>(stage)];
    auto every = static_cast<index_t>(log_->every());
    if (upto <= done || every == 0)
      return;
    // A member that starts with a long log (or catches up) would stamp the
    // whole range at once: only the last ring's worth matters.
    index_t span = every * 4096;
    index_t from = upto - done > span ? upto - span : done;
    done = upto;
    auto first = (from / every + 1) * every;
    if (first > upto)
      return; // no sampled entry in the range: no clock read
    auto t = now();
    for (auto i = first; i <= upto; i += every)
      log_->record(i, stage, t);
  }

  std::shared_ptr<trace_log> log_;
  caf::actor_clock* clock_ = nullptr;
  /// Per stage: the highest index stamped as a range so far.
  std::array<index_t, trace_stage_count> done_{};
};

} // namespace raft
