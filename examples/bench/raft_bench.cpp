// raft-bench: throughput and latency of a caf-raft cluster under closed-loop
// load, with the disk's fsync latency and the loopback actor round trip
// measured in the same run (see docs/benchmarks.md).
//
//   raft-bench [--members N] [--inproc | --processes] [--clients C]
//              [--size B] [--seconds S] [--warmup S] [--no-fsync]
//              [--port P] [--sample-every S] [--json]
//   raft-bench --recovery [--entries N] [--snapshot-at N] [--layout L]
//              [--reps R] [--cold] [--size B] [--port P] [--json]
//
// --processes (default): one member process per member (this binary re-run
// in its internal --member mode) on 127.0.0.1:P..P+N-1; the load comes from
// this process through raft::client (which coalesces concurrent requests).
// --inproc: members, and the clients, in this process's actor system; the
// clients send to the leader directly.
// Each of the C clients sends a put (8-byte key, B-byte value), waits for
// the reply, repeats. Only replies that arrive during the S measured seconds
// (after the warm-up) count. A helper process (--echo mode, port P+N) answers
// the round-trip probe. Everything binds to 127.0.0.1; child processes die
// with this one (PR_SET_PDEATHSIG) and are stopped by PID; the temporary
// directory is removed at the end.
//
// --sample-every S (soak runs): every S seconds of the measured window, one
// sample of throughput, p50/p99 (of that interval), each member's RSS and
// data-directory disk use; printed as "sample" lines (TSV) and in --json.
//
// --recovery: how long a member that restarts with a big log and a snapshot
// takes until it serves again. One data directory is prepared through the
// storage API (file_storage, snapshot_store: the real on-disk layout) with
// --entries kv puts and a snapshot at --snapshot-at, then copied for the
// other two members. Two members start and elect a leader; then the third is
// started --reps times (stopped in between) and reports, from its own
// process, when it loaded its log, restored the snapshot, knew the leader,
// finished the replay, and had an append it was sent answered (the reply
// comes once the entry is committed and applied by this member). See
// docs/benchmarks.md, "Recovery".

#include "raft_bench.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "caf/actor_cast.hpp"
#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/io/middleman.hpp"
#include "caf/scoped_actor.hpp"

#include "raft/client.hpp"
#include "raft/remote.hpp"

#include "kv_command.hpp"

#include "raft_bench_report.hpp"

using namespace raft_bench;

namespace {

/// The run's temporary directory and child processes, cleaned up on every
/// way out.
struct run_context {
  std::string tmp;
  std::vector<child> children;

  /// Stops the children, removes the directory, exits with status 1.
  [[noreturn]] void fail(const std::string& why) {
    std::cerr << "\nraft-bench: " << why << '\n';
    stop_children(children);
    std::error_code ec;
    std::filesystem::remove_all(tmp, ec);
    std::fflush(stdout);
    std::_Exit(1);
  }
};

clk::duration secs(double s) {
  return std::chrono::duration_cast<clk::duration>(
    std::chrono::duration<double>(s));
}

/// Members (processes mode) use P..P+N-1, the echo helper P+N.
void check_ports(const options& o) {
  for (int p = o.port; p <= o.port + o.members; ++p)
    if (!port_free(p))
      usage("port " + std::to_string(p)
            + " on 127.0.0.1 is in use: choose another --port (this run "
              "needs "
            + std::to_string(o.members + 1) + " consecutive free ports)");
}

/// Launches the echo helper and (processes mode) one process per member;
/// returns the members' ids.
std::vector<std::string> launch_processes(const options& o, run_context& run) {
  run.children.push_back(
    launch("echo", {"--echo", "--port", std::to_string(o.port + o.members)}));
  std::vector<std::string> ids;
  for (int i = 0; i < o.members; ++i)
    ids.push_back("127.0.0.1:" + std::to_string(o.port + i));
  std::string id_list;
  for (auto& id : ids)
    id_list += (id_list.empty() ? "" : ",") + id;
  if (!o.inproc)
    for (int i = 0; i < o.members; ++i) {
      std::vector<std::string> args{"--member", "--id", ids[static_cast<size_t>(i)],
                                    "--member-list", id_list};
      if (o.fsync) {
        auto dir = run.tmp + "/m" + std::to_string(i);
        std::filesystem::create_directories(dir);
        args.push_back("--data");
        args.push_back(dir);
      }
      if (!o.scheduler.empty()) {
        args.push_back("--scheduler");
        args.push_back(o.scheduler);
      }
      if (o.snapshot_threshold >= 0) {
        args.push_back("--snapshot-threshold");
        args.push_back(std::to_string(o.snapshot_threshold));
      }
      if (o.trace_every > 0) {
        args.push_back("--trace");
        args.push_back(std::to_string(o.trace_every));
      }
      run.children.push_back(launch(ids[static_cast<size_t>(i)], args));
    }
  for (auto& c : run.children)
    if (!wait_ready(c, std::chrono::seconds(15)))
      run.fail(c.name + " did not start (port in use? see its message above)");
  return ids;
}

/// Round trip between two actors in separate processes (request and reply
/// of a --size string over BASP/loopback), before the load: p50 in us.
double echo_rtt_p50(caf::actor_system& sys, caf::scoped_actor& self,
                    const options& o, run_context& run) {
  auto echo = sys.middleman().remote_actor("127.0.0.1",
                                           static_cast<uint16_t>(o.port
                                                                 + o.members));
  if (!echo)
    run.fail("cannot reach the echo helper: " + sys.render(echo.error()));
  std::string msg(o.size, 'r');
  std::vector<double> lat;
  for (int i = 0; i < 500; ++i) {
    auto t0 = clk::now();
    bool ok = false;
    self->request(*echo, std::chrono::seconds(5), msg)
      .receive([&](std::string&) { ok = true; }, [](caf::error&) {});
    if (!ok)
      break;
    if (i >= 50)
      lat.push_back(
        std::chrono::duration<double, std::micro>(clk::now() - t0).count());
  }
  std::sort(lat.begin(), lat.end());
  return lat.empty() ? -1 : percentile(lat, 0.5);
}

/// Where the load goes: the in-process leader, or a raft::client that
/// reaches the member processes (once the cluster committed a first put).
struct load_target {
  caf::actor target;
  std::vector<raft::member_actor> local_members;
  caf::actor client;
  /// --trace --inproc: the members' stamps.
  std::vector<std::shared_ptr<raft::trace_log>> traces;
};

load_target connect_target(caf::actor_system& sys, caf::scoped_actor& self,
                           const options& o,
                           const std::vector<std::string>& ids,
                           run_context& run) {
  load_target t;
  if (o.inproc) {
    t.target = inproc_cluster(sys, o, run.tmp, t.local_members, t.traces);
    if (!t.target)
      run.fail("in-process cluster did not come up");
    return t;
  }
  raft::client_options copts;
  copts.cluster = ids;
  copts.timeout = std::chrono::seconds(10);
  if (o.client_window > 0)
    copts.window = o.client_window;
  auto c = raft::spawn_client(sys, copts);
  if (!c)
    run.fail("cannot spawn the client: " + sys.render(c.error()));
  t.target = caf::actor_cast<caf::actor>(*c);
  t.client = t.target;
  // Wait until the cluster commits a first put.
  auto deadline = clk::now() + std::chrono::seconds(20);
  bool ok = false;
  std::string last_err;
  while (!ok && clk::now() < deadline) {
    self
      ->request(t.target, std::chrono::seconds(5), raft::append_atom::value,
                kv::put_cmd("warmup", "x"))
      .receive([&](raft::append_reply&) { ok = true; },
               [&](caf::error& err) { last_err = sys.render(err); });
    if (!ok)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!ok)
    run.fail("the cluster did not commit a first put within 20 s: "
             + last_err);
  return t;
}

/// Soak samples: one per --sample-every seconds of the measured window,
/// each printed as a "sample" line (TSV) when taken.
class sampler {
public:
  sampler(std::shared_ptr<stats> st, std::vector<pid_t> pids,
          std::vector<std::string> dirs)
    : st_(std::move(st)), pids_(std::move(pids)), dirs_(std::move(dirs)),
      t_(st_->t_start) {
    // nop
  }

  void print_header() const {
    std::string head = "#sample\tt_s\tops_per_sec\tp50_us\tp99_us\terrors";
    for (size_t i = 0; i < pids_.size(); ++i)
      head += "\trss_mib_" + std::to_string(i);
    for (size_t i = 0; i < dirs_.size(); ++i)
      head += "\tdisk_mib_" + std::to_string(i);
    std::printf("%s\tloadavg\n", head.c_str());
    std::fflush(stdout);
  }

  /// The measured window begins: replies before it do not count in the
  /// first sample.
  void start(clk::time_point now) {
    completed_ = st_->completed;
    failed_ = st_->failed;
    for (size_t b = 0; b < hist_buckets; ++b)
      hist_prev_[b] = st_->hist[b].load(std::memory_order_relaxed);
    t_ = now;
  }

  /// When the last sample was taken (or the window began).
  clk::time_point last() const {
    return t_;
  }

  void take(clk::time_point now) {
    sample x;
    x.t = std::chrono::duration<double>(now - st_->t_start).count();
    double dt = std::chrono::duration<double>(now - t_).count();
    uint64_t c = st_->completed, f = st_->failed;
    x.ops = dt > 0 ? static_cast<double>(c - completed_) / dt : 0;
    x.errors = f - failed_;
    std::array<uint64_t, hist_buckets> h;
    uint64_t total = 0;
    for (size_t b = 0; b < hist_buckets; ++b) {
      auto v = st_->hist[b].load(std::memory_order_relaxed);
      h[b] = v - hist_prev_[b];
      hist_prev_[b] = v;
      total += h[b];
    }
    auto pct = [&](double p) {
      if (total == 0)
        return 0.0;
      auto want = static_cast<uint64_t>(p * static_cast<double>(total - 1)) + 1;
      uint64_t seen = 0;
      for (size_t b = 0; b < hist_buckets; ++b)
        if ((seen += h[b]) >= want)
          return hist_value(b);
      return hist_value(hist_buckets - 1);
    };
    x.p50 = pct(0.5);
    x.p99 = pct(0.99);
    for (auto pid : pids_)
      x.rss.push_back(rss_mib(pid));
    for (auto& d : dirs_)
      x.disk.push_back(disk_mib(d));
    x.load = loadavg1();
    std::ostringstream line;
    line.setf(std::ios::fixed);
    line.precision(1);
    line << "sample\t" << x.t << '\t' << x.ops << '\t' << x.p50 << '\t'
         << x.p99 << '\t' << x.errors;
    for (auto r : x.rss)
      line << '\t' << r;
    for (auto d : x.disk)
      line << '\t' << d;
    line.precision(2);
    line << '\t' << x.load;
    std::printf("%s\n", line.str().c_str());
    std::fflush(stdout);
    samples.push_back(std::move(x));
    completed_ = c;
    failed_ = f;
    t_ = now;
  }

  std::vector<sample> samples;

private:
  std::shared_ptr<stats> st_;
  std::vector<pid_t> pids_;
  std::vector<std::string> dirs_;
  std::array<uint64_t, hist_buckets> hist_prev_{};
  uint64_t completed_ = 0;
  uint64_t failed_ = 0;
  clk::time_point t_;
};

/// One progress line on stderr (once a second).
void print_progress(const options& o, const stats& st,
                    const std::vector<pid_t>& pids, uint64_t completed,
                    double elapsed, double rate, clk::time_point now) {
  std::string rss_now;
  for (auto pid : pids)
    rss_now += (rss_now.empty() ? "" : "/")
               + std::to_string(static_cast<int>(rss_mib(pid)));
  std::fprintf(stderr,
               "%s[%5.1f/%4.1f s] %s %10llu ops, %9.0f ops/s, %llu errors, "
               "rss %s MiB",
               isatty(2) ? "\r" : "", elapsed, o.warmup + o.seconds,
               now < st.t_start ? "warm-up " : "measured",
               static_cast<unsigned long long>(completed), rate,
               static_cast<unsigned long long>(st.failed.load()),
               rss_now.c_str());
  if (!isatty(2))
    std::fprintf(stderr, "\n");
}

/// The closed-loop load: warm-up, then the measured window, with CPU,
/// RSS and batching counters read at both ends of it.
load_figures run_load(caf::actor_system& sys, caf::scoped_actor& self,
                      const options& o, const load_target& t,
                      const std::vector<std::string>& ids,
                      run_context& run) {
  load_figures r;
  auto st = std::make_shared<stats>();
  auto t0 = clk::now();
  st->t_start = t0 + secs(o.warmup);
  st->t_end = st->t_start + secs(o.seconds);
  st->sampling = o.sample_every > 0;
  st->trace_every = o.trace_every;
  for (int i = 0; i < o.clients; ++i)
    sys.spawn(bench_client, t.target, st, i, o.size);
  std::vector<pid_t> member_pids;
  if (o.inproc)
    member_pids.push_back(getpid());
  else
    for (auto& c : run.children)
      if (c.name != "echo")
        member_pids.push_back(c.pid);
  std::vector<double> cpu0(member_pids.size());
  auto cpu_t0 = clk::now();
  double self_cpu0 = 0;
  counter_snapshot counters0;
  uint64_t last = 0;
  auto last_t = clk::now();
  bool sampled = false;
  std::vector<std::string> data_dirs;
  if (o.fsync)
    for (int i = 0; i < o.members; ++i)
      data_dirs.push_back(run.tmp + "/m" + std::to_string(i));
  sampler samples{st, member_pids, data_dirs};
  if (o.sample_every > 0)
    samples.print_header();
  while (clk::now() < st->t_end) {
    auto nap = std::chrono::milliseconds(250);
    if (!sampled) // read CPU and counters when the window begins
      nap = std::max(std::chrono::milliseconds(1),
                     std::min(nap, std::chrono::duration_cast<
                                     std::chrono::milliseconds>(
                                     st->t_start - clk::now())));
    if (o.sample_every > 0 && sampled) {
      auto due = samples.last() + secs(o.sample_every) - clk::now();
      nap = std::max(std::chrono::milliseconds(1),
                     std::min(nap, std::chrono::duration_cast<
                                     std::chrono::milliseconds>(due)));
    }
    std::this_thread::sleep_for(nap);
    auto now = clk::now();
    if (!sampled && now >= st->t_start) {
      sampled = true;
      cpu_t0 = now;
      for (size_t i = 0; i < member_pids.size(); ++i)
        cpu0[i] = cpu_seconds(member_pids[i]);
      self_cpu0 = cpu_seconds(getpid());
      counters0 = read_counters(self, t.local_members, t.client, ids);
      samples.start(now);
    }
    if (o.sample_every > 0 && sampled && now < st->t_end
        && now - samples.last()
             >= secs(o.sample_every) - std::chrono::milliseconds(1))
      samples.take(now);
    if (now - last_t >= std::chrono::seconds(1)) {
      uint64_t c = st->completed;
      double rate = static_cast<double>(c - last)
                    / std::chrono::duration<double>(now - last_t).count();
      double elapsed = std::chrono::duration<double>(now - t0).count();
      print_progress(o, *st, member_pids, c, elapsed, rate, now);
      last = c;
      last_t = now;
    }
  }
  if (o.sample_every > 0 && sampled
      && clk::now() - samples.last() >= secs(o.sample_every / 2))
    samples.take(clk::now()); // the last, partial interval
  // Batching, from the members' own counters over the window (a few ms
  // late at both ends): entries per log write (one fdatasync each when
  // durable) over all members, and messages between members per entry
  // committed.
  auto counters1 = read_counters(self, t.local_members, t.client, ids);
  if (counters0.ok && counters1.ok) {
    auto writes = counters1.log_writes - counters0.log_writes;
    auto committed = counters1.commit - counters0.commit;
    if (writes > 0)
      r.entries_per_fsync
        = static_cast<double>(counters1.entries_written
                              - counters0.entries_written)
          / static_cast<double>(writes);
    if (committed > 0)
      r.messages_per_entry
        = static_cast<double>(counters1.messages_sent
                              - counters0.messages_sent)
          / static_cast<double>(committed);
  }
  double wall = o.seconds;
  // CPU per committed put: user + system time of every process (members
  // and this load process) between the two counter readings, over the
  // entries committed in between.
  double cpu_sum = 0;
  for (size_t i = 0; i < member_pids.size(); ++i) {
    auto used = cpu_seconds(member_pids[i]) - cpu0[i];
    r.cpu_pct.push_back(100.0 * used / wall);
    r.rss.push_back(rss_mib(member_pids[i]));
    cpu_sum += used;
  }
  auto self_used = cpu_seconds(getpid()) - self_cpu0;
  r.client_cpu = 100.0 * self_used / wall;
  if (!o.inproc) // in-process, member_pids is this process already
    cpu_sum += self_used;
  if (counters0.ok && counters1.ok && counters1.commit > counters0.commit) {
    r.cpu_us_per_put = 1e6 * cpu_sum
                       / static_cast<double>(counters1.commit
                                             - counters0.commit);
    r.cpu_window_s = std::chrono::duration<double>(clk::now() - cpu_t0)
                       .count();
  }
  std::fprintf(stderr, "\n");
  // Wait for the clients' last replies (bounded by the request timeout).
  auto wait_until = clk::now() + std::chrono::seconds(12);
  while (st->finished < o.clients && clk::now() < wait_until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  {
    std::lock_guard<std::mutex> guard{st->mtx};
    r.lat = st->lat_us;
  }
  std::sort(r.lat.begin(), r.lat.end());
  r.failed = st->failed.load();
  r.samples = std::move(samples.samples);
  if (o.trace_every > 0) {
    std::vector<client_trace> traced;
    {
      std::lock_guard<std::mutex> guard{st->mtx};
      traced = st->traced;
    }
    std::vector<std::vector<raft::trace_stamp>> stamps;
    if (o.inproc)
      for (auto& log : t.traces)
        stamps.push_back(log->stamps());
    else
      for (auto& c : run.children)
        if (c.name != "echo")
          stamps.push_back(
            fetch_member_trace(c, std::chrono::seconds(10)));
    r.trace = join_traces(traced, stamps, o.trace_every);
  }
  return r;
}

/// The closed-loop run: probes, processes, cluster, load, report.
int run_bench(const options& o) {
  check_ports(o);
  run_context run;
  run.tmp = make_temp_dir();
  if (run.tmp.empty())
    return 1;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  probe_figures probes;
  probes.load_before = loadavg1();
  // 1. The disk, before any load: 4 KiB write + fdatasync where logs live.
  probes.fsync_p50 = fsync_probe(run.tmp, 300, false);
  probes.fsync_prealloc_p50 = fsync_probe(run.tmp, 300, true);
  // 2. Helper and member processes.
  auto ids = launch_processes(o, run);
  caf::actor_system_config sys_cfg;
  if (auto err = raft::configure_remote(sys_cfg, {}))
    run.fail("cannot configure CAF");
  sys_cfg.load<caf::io::middleman>(); // for the BASP echo round trip below
  tune(sys_cfg, o);
  caf::actor_system sys{sys_cfg};
  caf::scoped_actor self{sys};
  // 3. Round trip between two processes, before the load.
  probes.rtt_p50 = echo_rtt_p50(sys, self, o, run);
  // 4. The cluster and the target of the load.
  auto target = connect_target(sys, self, o, ids, run);
  // 5. The load.
  auto figures = run_load(sys, self, o, target, ids, run);
  probes.load_after = loadavg1();
  // 6. The report.
  print_report(o, run.tmp, ids, probes, figures);
  stop_children(run.children);
  std::error_code ec;
  std::filesystem::remove_all(run.tmp, ec);
  std::fflush(stderr);
  std::_Exit(0);
}

} // namespace

int main(int argc, char** argv) {
  auto o = parse(argc, argv);
  if (o.member_mode)
    return run_member(o);
  if (o.echo_mode)
    return run_echo(o);
  if (o.recovery)
    return run_recovery(o);
  return run_bench(o);
}
