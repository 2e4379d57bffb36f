// raft-bench: what a closed-loop run measured, and its report.
#pragma once

#include <string>
#include <vector>

#include "raft_bench.hpp"

namespace raft_bench {

/// Measured before and around the load.
struct probe_figures {
  double load_before = 0;
  double load_after = 0;
  /// 4 KiB append + fdatasync, p50 us (into a new file, a preallocated one).
  double fsync_p50 = 0;
  double fsync_prealloc_p50 = 0;
  /// Actor round trip between two processes, p50 us (-1: none).
  double rtt_p50 = -1;
};

/// Measured during the load's window.
struct load_figures {
  /// Latencies (us) of the replies inside the window, sorted.
  std::vector<uint32_t> lat;
  uint64_t failed = 0;
  /// Per member process (or this process, in-process).
  std::vector<double> cpu_pct;
  std::vector<double> rss;
  double client_cpu = 0;
  /// CPU (user + system) of all processes, members and load, per entry
  /// committed in the window, us; -1 if the counters were not read. The
  /// window it covers, s.
  double cpu_us_per_put = -1;
  double cpu_window_s = 0;
  /// --trace: the stage breakdown.
  trace_figures trace;
  double entries_per_fsync = -1;
  double messages_per_entry = -1;
  std::vector<sample> samples;
};

/// Prints the report (text, and with --json one JSON object as the last line).
void print_report(const options& o, const std::string& tmp,
                  const std::vector<std::string>& ids,
                  const probe_figures& probes, load_figures& f);

} // namespace raft_bench
