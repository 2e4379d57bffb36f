// raft-bench: the cluster under test. A member process (the internal
// --member mode, with its recovery milestones timed), the echo process
// (--echo, the round-trip probe's other end) and the in-process cluster
// (--inproc).

#include "raft_bench.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caf/actor_cast.hpp"
#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scoped_actor.hpp"

#include "raft/client.hpp"
#include "raft/member.hpp"
#include "raft/remote.hpp"
#include "raft/storage/file_storage.hpp"
#include "raft/storage/snapshot_store.hpp"

#include "kv_command.hpp"
#include "kv_state_machine.hpp"
#include "caf/io/middleman.hpp"

namespace raft_bench {

// -- recovery milestones inside a member process ---------------------------------

/// CLOCK_MONOTONIC in ns (steady_clock on Linux): comparable across the
/// processes of one machine, so the parent can subtract its launch time.
int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           clk::now().time_since_epoch())
    .count();
}

/// When the phases of a restart happened (ns, now_ns()); 0: not yet.
struct timeline {
  std::atomic<int64_t> load_begin{0};
  std::atomic<int64_t> load_end{0};
  std::atomic<int64_t> loaded_entries{0};
  std::atomic<int64_t> restore_begin{0};
  std::atomic<int64_t> restore_end{0};
  std::atomic<int64_t> first_apply{0};
  std::atomic<int64_t> first_apply_index{0};
  std::atomic<int64_t> replayed{0};
  std::atomic<int> snapshots_saved{0};
  raft::index_t target = 0; // apply of this index ends the replay
};

/// The member's storage as usual (file_storage on cfg.log_dir, default
/// options), with load() and load_after() timed.
class timed_storage : public raft::storage {
public:
  timed_storage(const std::string& dir, std::shared_ptr<timeline> tl)
    : fs_(dir), tl_(std::move(tl)) {
    // nop
  }

  caf::expected<raft::recovered_state> load() override {
    tl_->load_begin = now_ns();
    auto rec = fs_.load();
    tl_->load_end = now_ns();
    if (rec)
      tl_->loaded_entries = static_cast<int64_t>(rec->entries.size());
    return rec;
  }

  caf::expected<raft::recovered_state>
  load_after(const raft::snapshot_meta& snap) override {
    tl_->load_begin = now_ns();
    auto rec = fs_.load_after(snap);
    tl_->load_end = now_ns();
    if (rec)
      tl_->loaded_entries = static_cast<int64_t>(rec->entries.size());
    return rec;
  }

  caf::error write(const raft::write_batch& batch) override {
    return fs_.write(batch);
  }

  caf::error compact(raft::snapshot_meta meta) override {
    return fs_.compact(meta);
  }

  caf::error reset(raft::snapshot_meta meta) override {
    return fs_.reset(meta);
  }

private:
  raft::file_storage fs_;
  std::shared_ptr<timeline> tl_;
};

/// kv::machine with its restore and the replay timed.
class timed_machine : public raft::state_machine {
public:
  explicit timed_machine(std::shared_ptr<timeline> tl) : tl_(std::move(tl)) {
    // nop
  }

  raft::apply_result apply(raft::index_t index,
                           const raft::payload& command) override {
    if (tl_->first_apply == 0) {
      tl_->first_apply_index = static_cast<int64_t>(index);
      tl_->first_apply = now_ns();
    }
    auto r = m_.apply(index, command);
    if (index >= tl_->target && tl_->replayed == 0)
      tl_->replayed = now_ns();
    return r;
  }

  raft::apply_result query(const raft::payload& q) override {
    return m_.query(q);
  }

  caf::error save_snapshot(std::ostream& out) override {
    ++tl_->snapshots_saved;
    return m_.save_snapshot(out);
  }

  caf::error restore_snapshot(raft::index_t index, std::istream& in) override {
    tl_->restore_begin = now_ns();
    auto err = m_.restore_snapshot(index, in);
    tl_->restore_end = now_ns();
    return err;
  }

private:
  kv::machine m_;
  std::shared_ptr<timeline> tl_;
};

/// After start: waits until the member knows a leader, then until an append
/// sent to it is answered (committed and applied here, i.e. the replay is
/// done), then until a committed read is answered; prints "T <milestone>
/// <ns>" lines and "SERVING".
void report_serving(caf::actor_system& sys, raft::member_actor m,
                    const timeline& tl, int64_t t_main, int64_t t_sys,
                    int64_t t_spawned, int64_t t_started) {
  caf::scoped_actor self{sys};
  int64_t t_status = 0, t_append = 0, t_query = 0;
  std::string role;
  auto deadline = clk::now() + std::chrono::seconds(120);
  while (t_status == 0 && clk::now() < deadline) {
    self->request(m, std::chrono::seconds(2), raft::status_atom::value)
      .receive(
        [&](raft::member_status& s) {
          if ((s.role == raft::role::follower || s.role == raft::role::leader)
              && !s.leader.empty()) {
            t_status = now_ns();
            role = raft::to_string(s.role);
          }
        },
        [](caf::error&) {});
    if (t_status == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  int attempts = 0;
  while (t_append == 0 && clk::now() < deadline) {
    ++attempts;
    self
      ->request(m, std::chrono::seconds(30), raft::append_atom::value,
                kv::put_cmd("recovery", "probe"))
      .receive([&](raft::append_reply&) { t_append = now_ns(); },
               [&](caf::error& err) {
                 std::cerr << "raft-bench member: append: " << sys.render(err)
                           << '\n';
                 std::this_thread::sleep_for(std::chrono::milliseconds(5));
               });
  }
  while (t_query == 0 && clk::now() < deadline) {
    self
      ->request(m, std::chrono::seconds(10), raft::query_atom::value,
                kv::get_cmd("recovery"))
      .receive([&](raft::append_reply&) { t_query = now_ns(); },
               [&](caf::error&) {
                 std::this_thread::sleep_for(std::chrono::milliseconds(5));
               });
  }
  auto line = [](const char* key, int64_t v) {
    std::cout << "T " << key << ' ' << v << '\n';
  };
  line("main", t_main);
  line("sys", t_sys);
  line("load_begin", tl.load_begin);
  line("load_end", tl.load_end);
  line("spawned", t_spawned);
  line("restore_begin", tl.restore_begin);
  line("restore_end", tl.restore_end);
  line("started", t_started);
  line("status", t_status);
  line("first_apply", tl.first_apply);
  line("replayed", tl.replayed);
  line("append", t_append);
  line("query", t_query);
  std::cout << "N loaded_entries " << tl.loaded_entries << '\n'
            << "N first_apply_index " << tl.first_apply_index << '\n'
            << "N snapshots_saved " << tl.snapshots_saved << '\n'
            << "N append_attempts " << attempts << '\n'
            << "S role " << role << '\n'
            << "SERVING" << std::endl;
}

// -- internal modes: a member process, the echo process -----------------------

int run_member(const options& o) {
  const int64_t t_main = now_ns();
  sigset_t set;
  block_signals(set);
  caf::actor_system_config sys_cfg;
  if (auto err = raft::configure_remote(sys_cfg, {})) {
    std::cerr << "raft-bench member: cannot configure CAF\n";
    return 2;
  }
  tune(sys_cfg, o);
  caf::actor_system sys{sys_cfg};
  const int64_t t_sys = now_ns();
  raft::config cfg;
  cfg.host_port = o.id;
  cfg.log_dir = o.data; // empty: memory log
  if (o.snapshot_threshold >= 0)
    cfg.snapshot_threshold = o.snapshot_threshold;
  if (o.trace_every > 0)
    cfg.trace = std::make_shared<raft::trace_log>(o.trace_every);
  raft::remote_options ropts;
  ropts.members = split(o.member_list);
  auto tl = std::make_shared<timeline>();
  tl->target = static_cast<raft::index_t>(o.replay_target);
  std::shared_ptr<raft::state_machine> machine;
  raft::storage_ptr store;
  if (o.timing && !o.data.empty()) {
    machine = std::make_shared<timed_machine>(tl);
    store = std::make_shared<timed_storage>(o.data, tl);
  } else {
    machine = std::make_shared<kv::machine>();
  }
  auto m = raft::spawn_remote_member(sys, cfg, machine, ropts, store);
  const int64_t t_spawned = now_ns();
  if (!m) {
    std::cerr << "raft-bench member " << o.id << ": " << sys.render(m.error())
              << '\n';
    std::_Exit(3);
  }
  caf::scoped_actor self{sys};
  bool ok = false;
  self->request(m->member, std::chrono::seconds(10), raft::start_atom::value)
    .receive([&](caf::ok_atom) { ok = true; },
             [&](caf::error& err) {
               std::cerr << "raft-bench member " << o.id << ": "
                         << sys.render(err) << '\n';
             });
  if (!ok)
    std::_Exit(3);
  const int64_t t_started = now_ns();
  std::cout << "READY" << std::endl;
  if (o.timing)
    report_serving(sys, m->member, *tl, t_main, t_sys, t_spawned, t_started);
  int sig = 0;
  // SIGUSR1: the parent asks for the trace (--trace); anything else ends.
  while (sigwait(&set, &sig) == 0 && sig == SIGUSR1)
    if (cfg.trace)
      print_member_trace(*cfg.trace);
  std::_Exit(0); // the log is a throw-away temp dir
}

int run_echo(const options& o) {
  sigset_t set;
  block_signals(set);
  caf::actor_system_config sys_cfg;
  if (auto err = raft::configure_remote(sys_cfg, {}))
    return 2;
  // The echo helper measures CAF's own BASP (the old wire), for comparison.
  sys_cfg.load<caf::io::middleman>();
  caf::actor_system sys{sys_cfg};
  auto echo = sys.spawn([]() -> caf::behavior {
    return {[](std::string& s) { return std::move(s); }};
  });
  auto port = sys.middleman().publish(echo, static_cast<uint16_t>(o.port),
                                      "127.0.0.1", true);
  if (!port) {
    std::cerr << "raft-bench echo: cannot listen on 127.0.0.1:" << o.port
              << ": " << sys.render(port.error()) << '\n';
    std::_Exit(3);
  }
  std::cout << "READY" << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  std::_Exit(0);
}

// -- in-process cluster ----------------------------------------------------------------

std::string render(caf::actor_system& sys, const caf::error& err) {
  return sys.render(err);
}

/// Spawns, connects and starts N members; returns the leader's handle.
caf::actor inproc_cluster(caf::actor_system& sys, const options& o,
                          const std::string& tmp,
                          std::vector<raft::member_actor>& members,
                          std::vector<std::shared_ptr<raft::trace_log>>& traces) {
  caf::scoped_actor self{sys};
  std::vector<std::string> ids;
  for (int i = 0; i < o.members; ++i) {
    raft::config cfg;
    cfg.host_port = "127.0.0.1:" + std::to_string(o.port + i);
    if (o.fsync) {
      cfg.log_dir = tmp + "/m" + std::to_string(i);
      std::filesystem::create_directories(cfg.log_dir);
    }
    if (o.snapshot_threshold >= 0)
      cfg.snapshot_threshold = o.snapshot_threshold;
    if (o.trace_every > 0) {
      cfg.trace = std::make_shared<raft::trace_log>(o.trace_every);
      traces.push_back(cfg.trace);
    }
    auto m = raft::spawn_member(sys, cfg, std::make_shared<kv::machine>());
    if (!m) {
      std::cerr << "raft-bench: cannot spawn member: " << render(sys, m.error())
                << '\n';
      return {};
    }
    members.push_back(*m);
    ids.push_back(cfg.host_port);
  }
  for (size_t i = 0; i < members.size(); ++i)
    for (size_t j = 0; j < members.size(); ++j)
      if (i != j)
        self
          ->request(members[i], std::chrono::seconds(5), caf::add_atom::value,
                    ids[j], caf::actor_cast<caf::actor>(members[j]))
          .receive([](caf::ok_atom) {},
                   [&](caf::error& err) {
                     std::cerr << "raft-bench: add: " << render(sys, err)
                               << '\n';
                   });
  for (auto& m : members)
    self->request(m, std::chrono::seconds(5), raft::start_atom::value)
      .receive([](caf::ok_atom) {}, [](caf::error&) {});
  auto deadline = clk::now() + std::chrono::seconds(15);
  while (clk::now() < deadline) {
    for (auto& m : members) {
      bool leader = false;
      self->request(m, std::chrono::seconds(2), raft::status_atom::value)
        .receive(
          [&](raft::member_status& s) { leader = s.role == raft::role::leader; },
          [](caf::error&) {});
      if (leader)
        return caf::actor_cast<caf::actor>(m);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::cerr << "raft-bench: no leader within 15 s\n";
  return {};
}

} // namespace raft_bench
