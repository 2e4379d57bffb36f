// raft-bench's parts, one file per concern (the program's description is at
// the top of raft_bench.cpp):
//   raft_bench.cpp             main: the closed-loop run, step by step
//   raft_bench_cli.cpp         the command line
//   raft_bench_cluster.cpp     the cluster under test: member and echo
//                              processes, the in-process cluster
//   raft_bench_processes.cpp   child processes and /proc
//   raft_bench_probes.cpp      fsync probe, data directories
//   raft_bench_load.cpp        the clients, latency histogram, soak samples,
//                              batching counters
//   raft_bench_report.cpp      the report (text and JSON)
//   raft_bench_recovery.cpp    --recovery mode
//   raft_bench_trace.cpp       --trace: stage stamps fetched and joined
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <sys/types.h>

#include "caf/actor.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/fwd.hpp"
#include "caf/scoped_actor.hpp"

#include "raft/member.hpp"

namespace raft_bench {

using clk = std::chrono::steady_clock;

// -- the command line (raft_bench_cli.cpp) ---------------------------------------

struct options {
  int members = 3;
  bool inproc = false;
  int clients = 1;
  size_t size = 256;
  double seconds = 5;
  double warmup = 1;
  bool fsync = true;
  int port = 17400;
  bool json = false;
  long long snapshot_threshold = -1; // -1: the library's default
  std::string scheduler;              // empty: CAF's default (stealing)
  double sample_every = 0;            // 0: no samples
  uint32_t trace_every = 0;           // --trace N: 0 off
  size_t client_window = 0;           // 0: raft::client's default
  // --recovery
  bool recovery = false;
  long long entries = 1000000;
  long long snapshot_at = -1; // -1: 90% of entries
  std::string layout = "full";
  int reps = 3;
  bool cold = false;
  // internal modes
  bool member_mode = false;
  bool echo_mode = false;
  std::string id;
  std::string member_list;
  std::string data;
  bool timing = false;        // member mode: report recovery milestones
  long long replay_target = 0; // member mode: last index of the prepared log
};

/// Prints why and the usage, exits with status 2.
[[noreturn]] void usage(const std::string& why);
options parse(int argc, char** argv);
std::vector<std::string> split(const std::string& s);
/// The CAF scheduler options of --scheduler.
void tune(caf::actor_system_config& cfg, const options& o);
void block_signals(sigset_t& set);

// -- the cluster under test (raft_bench_cluster.cpp) ------------------------------

/// CLOCK_MONOTONIC in ns: comparable across the processes of one machine.
int64_t now_ns();
/// The internal --member mode: one member process.
int run_member(const options& o);
/// The internal --echo mode: the other end of the round-trip probe.
int run_echo(const options& o);
std::string render(caf::actor_system& sys, const caf::error& err);
/// Spawns, connects and starts N members; returns the leader's handle.
/// With --trace, each member stamps into its own log in `traces`.
caf::actor inproc_cluster(caf::actor_system& sys, const options& o,
                          const std::string& tmp,
                          std::vector<raft::member_actor>& members,
                          std::vector<std::shared_ptr<raft::trace_log>>& traces);

// -- child processes and /proc (raft_bench_processes.cpp) ---------------------------

struct child {
  std::string name;
  pid_t pid = -1;
  int out = -1; // its stdout
};

/// The children's PIDs, for the signal handler.
extern std::vector<pid_t> g_children;
/// SIGINT, SIGTERM: kill the children, exit.
void on_signal(int sig);
child launch(const std::string& name, const std::vector<std::string>& args);
bool wait_ready(child& c, std::chrono::milliseconds timeout);
void stop_children(std::vector<child>& cs);
bool port_free(int port);
double cpu_seconds(pid_t pid);
double rss_mib(pid_t pid);
double loadavg1();

// -- probes and data directories (raft_bench_probes.cpp) ----------------------------

/// The p-quantile of sorted `v` (nearest rank).
template <class T>
T percentile(std::vector<T>& v, double p) {
  if (v.empty())
    return T{};
  auto i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

double fsync_probe(const std::string& dir, int rounds, bool prealloc);
std::string make_temp_dir();
double disk_mib(const std::string& dir);
void sync_dir_files(const std::string& dir, bool evict);

// -- the load (raft_bench_load.cpp) ---------------------------------------------------

/// Latencies in log-linear buckets: 16 per power of two (at most 1/16 =
/// 6.25% wide), lock-free, for per-interval percentiles of long runs.
constexpr size_t hist_buckets = 29 * 16;

/// The client's own stamps of a traced put (raft/trace.hpp: client_send and
/// reply_received), ns on CLOCK_MONOTONIC; the index comes with the reply.
struct client_trace {
  raft::index_t index = 0;
  int64_t send_ns = 0;
  int64_t reply_ns = 0;
};

struct stats {
  bool sampling = false;
  uint32_t trace_every = 0;          // --trace
  std::vector<client_trace> traced; // replies inside the window (mtx)
  std::array<std::atomic<uint64_t>, hist_buckets> hist{};
  clk::time_point t_start;
  clk::time_point t_end;
  std::atomic<uint64_t> completed{0}; // all replies, warm-up included
  std::atomic<uint64_t> failed{0};
  std::atomic<int> finished{0};
  std::mutex mtx;
  std::vector<uint32_t> lat_us; // replies inside the window
};

/// One soak sample: an interval of the measured window.
struct sample {
  double t = 0;   // seconds since the window started (end of the interval)
  double ops = 0; // replies per second in the interval
  uint64_t errors = 0;
  double p50 = 0; // us, from the histogram
  double p99 = 0;
  std::vector<double> rss;  // MiB per member process
  std::vector<double> disk; // MiB per member data directory
  double load = 0;
};

/// Drift over a soak: least-squares slope of ops/s against time, as % of
/// the mean per minute, and the means of the first and last thirds.
struct drift {
  double slope_pct_per_min = 0;
  double first_third = 0;
  double last_third = 0;
};

/// The members' counters (raft::member_counters) summed, and the highest
/// commit index: read at both ends of the measured window.
struct counter_snapshot {
  bool ok = true;
  uint64_t log_writes = 0;
  uint64_t entries_written = 0;
  uint64_t messages_sent = 0;
  uint64_t commit = 0;
};

size_t hist_bucket(uint32_t us);
double hist_value(size_t b);
std::string samples_json(const std::vector<sample>& v);
drift ops_drift(const std::vector<sample>& v);
/// One closed-loop client: a put, its reply, the next put.
caf::behavior bench_client(caf::event_based_actor* self, caf::actor target,
                           std::shared_ptr<stats> st, int id, size_t size);
counter_snapshot read_counters(caf::scoped_actor& self,
                               const std::vector<raft::member_actor>& local,
                               const caf::actor& client,
                               const std::vector<std::string>& ids);

// -- --trace (raft_bench_trace.cpp) --------------------------------------------------

/// One stage of the path: the time since the stage it waits for (`after`;
/// commit waits for the later of the leader's write and the first
/// acknowledgement) and since the client sent the put, over the traced puts.
struct stage_figures {
  raft::trace_stage stage = raft::trace_stage::client_send;
  std::string after;
  double p50_us = 0;
  double p99_us = 0;
  double since_send_p50_us = 0;
  double since_send_p99_us = 0;
};

struct trace_figures {
  uint32_t every = 0;
  /// Puts the clients traced inside the window; those with every stage.
  size_t traced = 0;
  size_t complete = 0;
  std::vector<stage_figures> stages;
  /// Share of the complete puts whose commit waited for the leader's own
  /// write rather than for the first follower's acknowledgement.
  double leader_write_last_pct = 0;
  /// Stamps fetched from the members.
  size_t member_stamps = 0;
};

/// Member mode, on SIGUSR1: prints the member's stamps on stdout ("TRACE n",
/// n lines "index stage ns", "TRACE-END").
void print_member_trace(const raft::trace_log& log);
/// Asks a member process for its stamps (SIGUSR1) and reads them; empty on
/// timeout.
std::vector<raft::trace_stamp> fetch_member_trace(child& c,
                                                  std::chrono::milliseconds
                                                    timeout);
/// Joins the clients' stamps with the members' by index.
trace_figures
join_traces(const std::vector<client_trace>& clients,
            const std::vector<std::vector<raft::trace_stamp>>& members,
            uint32_t every);
void print_trace_text(const trace_figures& t);
std::string trace_json(const trace_figures& t);

// -- the report (raft_bench_report.cpp) -----------------------------------------------

std::string json_array(const std::vector<double>& v, int prec);

// -- --recovery (raft_bench_recovery.cpp) --------------------------------------------

int run_recovery(options o);

} // namespace raft_bench
