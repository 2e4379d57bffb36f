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
#include "caf/io/middleman.hpp"
#include "caf/scoped_actor.hpp"

#include "raft/client.hpp"
#include "raft/member.hpp"
#include "raft/remote.hpp"
#include "raft/storage/file_storage.hpp"
#include "raft/storage/snapshot_store.hpp"

#include "kv_command.hpp"
#include "kv_state_machine.hpp"

namespace {

using clk = std::chrono::steady_clock;
using go_atom = caf::atom_constant<caf::atom("benchgo")>;

const char* usage_text =
  "usage: raft-bench [--members N] [--inproc | --processes] [--clients C]\n"
  "                  [--size B] [--seconds S] [--warmup S] [--no-fsync]\n"
  "                  [--port P] [--json]\n"
  "  --members N   cluster size (default 3, 1..9)\n"
  "  --inproc      all members and clients in one actor system\n"
  "  --processes   one process per member on 127.0.0.1 (default)\n"
  "  --clients C   closed-loop clients (default 1)\n"
  "  --size B      value bytes per put (default 256; key: 8 bytes)\n"
  "  --seconds S   measured seconds after the warm-up (default 5)\n"
  "  --warmup S    warm-up seconds (default 1)\n"
  "  --no-fsync    in-memory log (default: durable file log, temp dir)\n"
  "  --port P      first TCP port on 127.0.0.1 (default 17400; uses P..P+N)\n"
  "  --json        print one JSON object as the last line\n"
  "  --snapshot-threshold N  entries between snapshots (0: none; default:\n"
  "                the library's; durable runs only)\n"
  "  --scheduler P CAF scheduler policy in every process: stealing (CAF's\n"
  "                default) or sharing\n"
  "  --sample-every S  record throughput, p50/p99, RSS and disk use of\n"
  "                each member every S seconds (\"sample\" lines, --json)\n"
  "recovery mode (--recovery; 3 member processes, durable):\n"
  "  --entries N   entries in the prepared log (default 1000000)\n"
  "  --snapshot-at N  index the prepared snapshot covers (default 90% of\n"
  "                --entries)\n"
  "  --layout L    full: every entry stays in the log files, the metadata's\n"
  "                base is 0 (a crash between snapshot and compaction);\n"
  "                compacted: the log was compacted to the snapshot as a\n"
  "                member does right after taking it (default full)\n"
  "  --reps R      restarts of the measured member (default 3)\n"
  "  --cold        evict its files from the page cache before each restart\n"
  "  --snapshot-threshold N  default here: 2 x (entries - snapshot-at), so\n"
  "                no snapshot is taken during the replay\n";

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "raft-bench: " << why << "\n" << usage_text;
  std::exit(2);
}

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

long long to_int(const std::string& flag, const std::string& v, long long lo,
                 long long hi) {
  char* end = nullptr;
  errno = 0;
  auto n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || n < lo || n > hi)
    usage(flag + " needs a whole number in [" + std::to_string(lo) + ", "
          + std::to_string(hi) + "], not '" + v + "'");
  return n;
}

double to_seconds(const std::string& flag, const std::string& v, double lo,
                  double hi) {
  char* end = nullptr;
  auto d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !(d >= lo && d <= hi))
    usage(flag + " needs a number of seconds in [" + std::to_string(lo)
          + ", " + std::to_string(hi) + "], not '" + v + "'");
  return d;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::cout << usage_text;
      std::exit(0);
    } else if (a == "--members")
      o.members = static_cast<int>(to_int(a, value(), 1, 9));
    else if (a == "--inproc")
      o.inproc = true;
    else if (a == "--processes")
      o.inproc = false;
    else if (a == "--clients")
      o.clients = static_cast<int>(to_int(a, value(), 1, 4096));
    else if (a == "--size")
      o.size = static_cast<size_t>(to_int(a, value(), 0, 1 << 20));
    else if (a == "--seconds")
      o.seconds = to_seconds(a, value(), 0.1, 3600);
    else if (a == "--warmup")
      o.warmup = to_seconds(a, value(), 0, 600);
    else if (a == "--no-fsync")
      o.fsync = false;
    else if (a == "--port")
      o.port = static_cast<int>(to_int(a, value(), 1024, 65000));
    else if (a == "--json")
      o.json = true;
    else if (a == "--scheduler") {
      o.scheduler = value();
      if (o.scheduler != "stealing" && o.scheduler != "sharing")
        usage("--scheduler is 'stealing' or 'sharing', not '" + o.scheduler
              + "'");
    } else if (a == "--snapshot-threshold")
      o.snapshot_threshold = to_int(a, value(), 0, 1LL << 40);
    else if (a == "--sample-every")
      o.sample_every = to_seconds(a, value(), 0.1, 3600);
    else if (a == "--recovery")
      o.recovery = true;
    else if (a == "--entries")
      o.entries = to_int(a, value(), 1, 100000000);
    else if (a == "--snapshot-at")
      o.snapshot_at = to_int(a, value(), 1, 100000000);
    else if (a == "--layout") {
      o.layout = value();
      if (o.layout != "full" && o.layout != "compacted")
        usage("--layout is 'full' or 'compacted', not '" + o.layout + "'");
    } else if (a == "--reps")
      o.reps = static_cast<int>(to_int(a, value(), 1, 100));
    else if (a == "--cold")
      o.cold = true;
    else if (a == "--timing")
      o.timing = true;
    else if (a == "--replay-target")
      o.replay_target = to_int(a, value(), 0, 1LL << 40);
    else if (a == "--member")
      o.member_mode = true;
    else if (a == "--echo")
      o.echo_mode = true;
    else if (a == "--id")
      o.id = value();
    else if (a == "--member-list")
      o.member_list = value();
    else if (a == "--data")
      o.data = value();
    else
      usage("unknown option '" + a + "'");
  }
  return o;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in{s};
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty())
      out.push_back(item);
  return out;
}

void tune(caf::actor_system_config& cfg, const options& o) {
  if (!o.scheduler.empty())
    cfg.set("scheduler.policy", caf::atom_from_string(o.scheduler));
}

void block_signals(sigset_t& set) {
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

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

  caf::expected<raft::entry_vector> read(raft::index_t from,
                                         raft::index_t to) override {
    return fs_.read(from, to);
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
  sigwait(&set, &sig);
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

// -- child processes --------------------------------------------------------------

struct child {
  std::string name;
  pid_t pid = -1;
  int out = -1; // its stdout
};

std::vector<pid_t> g_children; // for the signal handler

void on_signal(int sig) {
  for (auto pid : g_children)
    if (pid > 0)
      kill(pid, SIGKILL);
  _exit(128 + sig);
}

child launch(const std::string& name, const std::vector<std::string>& args) {
  int fds[2];
  if (pipe(fds) != 0) {
    perror("pipe");
    std::exit(1);
  }
  auto parent = getpid();
  auto pid = fork();
  if (pid < 0) {
    perror("fork");
    std::exit(1);
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(1);
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    static std::string self = "raft-bench";
    argv.push_back(self.data());
    for (auto& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  close(fds[1]);
  g_children.push_back(pid);
  return child{name, pid, fds[0]};
}

/// Waits for "READY" on the child's stdout; false on EOF or timeout.
bool wait_ready(child& c, std::chrono::milliseconds timeout) {
  std::string buf;
  auto deadline = clk::now() + timeout;
  while (clk::now() < deadline) {
    pollfd p{c.out, POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - clk::now());
    if (poll(&p, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0)
      continue;
    char tmp[256];
    auto n = read(c.out, tmp, sizeof(tmp));
    if (n <= 0)
      return false;
    buf.append(tmp, static_cast<size_t>(n));
    if (buf.find("READY") != std::string::npos)
      return true;
  }
  return false;
}

void stop_children(std::vector<child>& cs) {
  for (auto& c : cs)
    if (c.pid > 0)
      kill(c.pid, SIGTERM);
  auto deadline = clk::now() + std::chrono::seconds(3);
  for (auto& c : cs) {
    if (c.pid <= 0)
      continue;
    int status = 0;
    while (waitpid(c.pid, &status, WNOHANG) == 0) {
      if (clk::now() > deadline) {
        kill(c.pid, SIGKILL);
        waitpid(c.pid, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (c.out >= 0)
      close(c.out);
    c.pid = -1;
  }
}

bool port_free(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return false;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

// -- /proc ------------------------------------------------------------------------

double cpu_seconds(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string s((std::istreambuf_iterator<char>(in)),
                std::istreambuf_iterator<char>());
  auto r = s.rfind(')');
  if (r == std::string::npos)
    return 0;
  std::istringstream rest{s.substr(r + 2)};
  std::string f;
  double ut = 0, st = 0;
  for (int i = 0; i < 13 && rest >> f; ++i) {
    if (i == 11)
      ut = std::stod(f);
    if (i == 12)
      st = std::stod(f);
  }
  return (ut + st) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double rss_mib(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

double loadavg1() {
  std::ifstream in{"/proc/loadavg"};
  double l = 0;
  in >> l;
  return l;
}

// -- probes -------------------------------------------------------------------------

template <class T>
T percentile(std::vector<T>& v, double p) {
  if (v.empty())
    return T{};
  auto i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

/// 4 KiB write + fdatasync in `dir`: p50 in microseconds. `prealloc`: into
/// a file allocated (and synced) beforehand, so fdatasync need not commit
/// a size change (as a log with preallocated segments would).
double fsync_probe(const std::string& dir, int rounds, bool prealloc) {
  auto path = dir + "/fsync-probe.dat";
  int fd = open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
  if (fd < 0)
    return -1;
  if (prealloc
      && (posix_fallocate(fd, 0, static_cast<off_t>(rounds + 1) * 4096) != 0
          || fsync(fd) != 0)) {
    close(fd);
    unlink(path.c_str());
    return -1;
  }
  std::string block(4096, 'x');
  std::vector<double> lat;
  for (int i = 0; i < rounds; ++i) {
    auto t0 = clk::now();
    if (write(fd, block.data(), block.size()) != 4096 || fdatasync(fd) != 0)
      break;
    lat.push_back(
      std::chrono::duration<double, std::micro>(clk::now() - t0).count());
  }
  close(fd);
  unlink(path.c_str());
  std::sort(lat.begin(), lat.end());
  return lat.empty() ? -1 : percentile(lat, 0.5);
}

// -- load ---------------------------------------------------------------------------------

/// Latencies in log-linear buckets: 16 per power of two (at most 1/16 =
/// 6.25% wide), lock-free, for per-interval percentiles of long runs.
constexpr size_t hist_buckets = 29 * 16;

size_t hist_bucket(uint32_t us) {
  if (us < 32)
    return us;
  auto msb = 31 - __builtin_clz(us);
  return std::min<size_t>(hist_buckets - 1,
                          static_cast<size_t>((msb - 3) * 16)
                            + ((us >> (msb - 4)) & 15));
}

/// Middle of a bucket, in microseconds.
double hist_value(size_t b) {
  if (b < 32)
    return static_cast<double>(b);
  auto msb = b / 16 + 3;
  auto sub = b % 16;
  auto width = static_cast<double>(1u << (msb - 4));
  return static_cast<double>((16 + sub) << (msb - 4)) + width / 2;
}

struct stats {
  bool sampling = false;
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

std::string samples_json(const std::vector<sample>& v) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(1);
  out << '[';
  for (size_t i = 0; i < v.size(); ++i) {
    auto& x = v[i];
    out << (i ? "," : "") << "{\"t\":" << x.t << ",\"ops_per_sec\":" << x.ops
        << ",\"p50_us\":" << x.p50 << ",\"p99_us\":" << x.p99
        << ",\"errors\":" << x.errors << ",\"rss_mib\":[";
    for (size_t k = 0; k < x.rss.size(); ++k)
      out << (k ? "," : "") << x.rss[k];
    out << "],\"disk_mib\":[";
    for (size_t k = 0; k < x.disk.size(); ++k)
      out << (k ? "," : "") << x.disk[k];
    out << "],\"loadavg\":" << x.load << '}';
  }
  out << ']';
  return out.str();
}

/// Drift over a soak: least-squares slope of ops/s against time, as % of
/// the mean per minute, and the means of the first and last thirds.
struct drift {
  double slope_pct_per_min = 0;
  double first_third = 0;
  double last_third = 0;
};

drift ops_drift(const std::vector<sample>& v) {
  drift d;
  if (v.size() < 3)
    return d;
  double n = static_cast<double>(v.size()), st = 0, so = 0, stt = 0, sto = 0;
  for (auto& x : v) {
    st += x.t;
    so += x.ops;
    stt += x.t * x.t;
    sto += x.t * x.ops;
  }
  double den = n * stt - st * st;
  double mean = so / n;
  if (den > 0 && mean > 0)
    d.slope_pct_per_min = (n * sto - st * so) / den * 60 / mean * 100;
  auto third = v.size() / 3;
  for (size_t i = 0; i < third; ++i) {
    d.first_third += v[i].ops / static_cast<double>(third);
    d.last_third += v[v.size() - 1 - i].ops / static_cast<double>(third);
  }
  return d;
}

caf::behavior bench_client(caf::event_based_actor* self, caf::actor target,
                           std::shared_ptr<stats> st, int id, size_t size) {
  auto value = std::make_shared<std::string>(size, 'v');
  auto n = std::make_shared<uint64_t>(static_cast<uint64_t>(id) * 7919);
  auto lat = std::make_shared<std::vector<uint32_t>>();
  auto next = std::make_shared<std::function<void()>>();
  *next = [=] {
    if (clk::now() >= st->t_end) {
      {
        std::lock_guard<std::mutex> guard{st->mtx};
        st->lat_us.insert(st->lat_us.end(), lat->begin(), lat->end());
      }
      ++st->finished;
      self->quit();
      return;
    }
    char key[16];
    std::snprintf(key, sizeof(key), "%08u",
                  static_cast<unsigned>((*n)++ % 100000));
    auto t0 = clk::now();
    self
      ->request(target, std::chrono::seconds(10), raft::append_atom::value,
                kv::put_cmd(key, *value))
      .then(
        [=](raft::append_reply&) {
          auto t1 = clk::now();
          ++st->completed;
          auto us = static_cast<uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0)
              .count());
          if (t0 >= st->t_start && t1 <= st->t_end)
            lat->push_back(us);
          if (st->sampling)
            st->hist[hist_bucket(us)].fetch_add(1, std::memory_order_relaxed);
          (*next)();
        },
        [=](caf::error&) {
          ++st->failed;
          // No busy loop while there is no leader.
          self->delayed_send(self, std::chrono::milliseconds(5),
                             go_atom::value);
        });
  };
  self->send(self, go_atom::value);
  return {[=](go_atom) { (*next)(); }};
}

/// A fresh directory for the run's logs and snapshots (under $TMPDIR), or
/// an empty string after printing why it could not be made.
std::string make_temp_dir() {
  std::string tmpl = (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp")
                     + std::string{"/raft-bench.XXXXXX"};
  if (!mkdtemp(tmpl.data())) {
    perror("raft-bench: mkdtemp");
    return {};
  }
  return tmpl;
}

// -- batching counters ------------------------------------------------------------------

/// The members' counters (raft::member_counters) summed, and the highest
/// commit index: read at both ends of the measured window.
struct counter_snapshot {
  bool ok = true;
  uint64_t log_writes = 0;
  uint64_t entries_written = 0;
  uint64_t messages_sent = 0;
  uint64_t commit = 0;
};

/// Asks every member for its status: in-process members directly, remote
/// ones through the client (`status_atom, id`).
counter_snapshot read_counters(caf::scoped_actor& self,
                               const std::vector<raft::member_actor>& local,
                               const caf::actor& client,
                               const std::vector<std::string>& ids) {
  counter_snapshot out;
  auto add = [&](raft::member_status& s) {
    out.log_writes += s.counters.log_writes;
    out.entries_written += s.counters.entries_written;
    out.messages_sent += s.counters.messages_sent;
    out.commit = std::max<uint64_t>(out.commit, s.commit_index);
  };
  auto failed = [&](caf::error&) { out.ok = false; };
  if (!local.empty()) {
    for (auto& m : local)
      self->request(m, std::chrono::seconds(5), raft::status_atom::value)
        .receive(add, failed);
  } else {
    for (auto& id : ids)
      self
        ->request(client, std::chrono::seconds(5), raft::status_atom::value, id)
        .receive(add, failed);
  }
  return out;
}

// -- in-process cluster ----------------------------------------------------------------

std::string render(caf::actor_system& sys, const caf::error& err) {
  return sys.render(err);
}

/// Spawns, connects and starts N members; returns the leader's handle.
caf::actor inproc_cluster(caf::actor_system& sys, const options& o,
                          const std::string& tmp,
                          std::vector<raft::member_actor>& members) {
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

std::string json_array(const std::vector<double>& v, int prec) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(prec);
  out << '[';
  for (size_t i = 0; i < v.size(); ++i)
    out << (i ? "," : "") << v[i];
  out << ']';
  return out.str();
}

// -- data directories -------------------------------------------------------------------

/// Disk use of a directory tree (allocated blocks, as du counts them), MiB.
double disk_mib(const std::string& dir) {
  std::error_code ec;
  uint64_t bytes = 0;
  for (std::filesystem::recursive_directory_iterator
         it{dir, std::filesystem::directory_options::skip_permission_denied,
            ec},
       end;
       !ec && it != end; it.increment(ec)) {
    struct stat sb;
    if (lstat(it->path().c_str(), &sb) == 0 && S_ISREG(sb.st_mode))
      bytes += static_cast<uint64_t>(sb.st_blocks) * 512;
  }
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

/// fdatasync every file of `dir` (and the directory); with `evict`, drop
/// their clean pages from the page cache too (posix_fadvise DONTNEED: only
/// these files, nothing else on the machine).
void sync_dir_files(const std::string& dir, bool evict) {
  for (auto& ent : std::filesystem::directory_iterator(dir)) {
    if (!ent.is_regular_file())
      continue;
    int fd = open(ent.path().c_str(), O_RDONLY);
    if (fd < 0)
      continue;
    fdatasync(fd);
    if (evict)
      posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
  }
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

// -- recovery mode ---------------------------------------------------------------------

/// What a restart of the measured member reported: milestones in ms since
/// the parent forked it.
struct restart_sample {
  std::map<std::string, double> ms;    // "T" lines
  std::map<std::string, int64_t> num;  // "N" lines
  std::string role;
  double rss = 0;
  bool ok = false;
};

/// Writes the data directory a member would have after logging `entries` kv
/// puts (the same keys and values as the load clients: 8-byte key over
/// 100,000 keys, --size value bytes) in term 1, with a snapshot of the state
/// after entry `snap_at`, through the storage API: file_storage (default
/// segment size, batches of 1,024 entries, fsync off while filling, every
/// file synced at the end) and snapshot_store (the kv snapshot the member's
/// state machine would write). --layout compacted also compacts the log to
/// the snapshot, as the member does once a snapshot is durable.
void prepare_recovery_dir(const std::string& dir, const options& o,
                          raft::index_t snap_at) {
  raft::file_storage_options fopts;
  fopts.sync = false;
  raft::file_storage fs{dir, fopts};
  auto die = [&](const std::string& what, const caf::error& err) {
    std::cerr << "raft-bench: prepare: " << what << ": "
              << caf::to_string(err) << '\n';
    std::exit(1);
  };
  if (auto rec = fs.load(); !rec)
    die("load", rec.error());
  kv::machine m;
  raft::write_batch b;
  b.has_state = true;
  b.state.current_term = 1;
  std::string value(o.size, 'v');
  auto n = static_cast<raft::index_t>(o.entries);
  for (raft::index_t i = 1; i <= n;) {
    b.entries.clear();
    for (size_t k = 0; k < 1024 && i <= n; ++k, ++i) {
      char key[16];
      std::snprintf(key, sizeof(key), "%08u",
                    static_cast<unsigned>(i % 100000));
      auto cmd = kv::put_cmd(key, value);
      if (i <= snap_at)
        m.apply(i, cmd);
      b.entries.push_back(
        raft::log_entry{1, i, raft::entry_kind::command, std::move(cmd)});
    }
    if (auto err = fs.write(b))
      die("write", err);
    b.has_state = false;
  }
  raft::snapshot_meta meta{snap_at, 1};
  raft::snapshot_store_options sopts;
  sopts.sync = false;
  raft::snapshot_store snaps{dir, sopts};
  auto path = snaps.begin(meta);
  if (!path)
    die("snapshot begin", path.error());
  {
    std::ofstream out{*path, std::ios::binary | std::ios::trunc};
    if (auto err = m.save_snapshot(out))
      die("snapshot save", err);
  }
  if (auto info = snaps.commit(meta); !info)
    die("snapshot commit", info.error());
  if (o.layout == "compacted")
    if (auto err = fs.compact(meta))
      die("compact", err);
  sync_dir_files(dir, false);
}

/// Reads the child's "T/N/S" lines until "SERVING" (or EOF, or timeout).
restart_sample read_restart(child& c, int64_t t_launch,
                            std::chrono::seconds timeout) {
  restart_sample out;
  std::string buf;
  auto deadline = clk::now() + timeout;
  while (clk::now() < deadline) {
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      auto line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      std::istringstream in{line};
      std::string tag, key;
      in >> tag >> key;
      if (tag == "SERVING") {
        out.ok = true;
        return out;
      }
      if (tag == "T") {
        int64_t ns = 0;
        in >> ns;
        out.ms[key] = ns == 0 ? -1 : static_cast<double>(ns - t_launch) / 1e6;
      } else if (tag == "N") {
        int64_t v = 0;
        in >> v;
        out.num[key] = v;
      } else if (tag == "S") {
        in >> out.role;
      }
    }
    pollfd p{c.out, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0)
      continue;
    char tmp[4096];
    auto n = read(c.out, tmp, sizeof(tmp));
    if (n <= 0)
      break;
    buf.append(tmp, static_cast<size_t>(n));
  }
  return out;
}

double median(std::vector<double> v) {
  if (v.empty())
    return -1;
  std::sort(v.begin(), v.end());
  auto k = v.size() / 2;
  return v.size() % 2 ? v[k] : (v[k - 1] + v[k]) / 2;
}

int run_recovery(options o) {
  if (o.members != 3)
    usage("--recovery runs 3 members");
  auto n = static_cast<raft::index_t>(o.entries);
  auto snap_at = static_cast<raft::index_t>(
    o.snapshot_at > 0 ? o.snapshot_at : o.entries / 10 * 9);
  if (snap_at < 1 || snap_at > n)
    usage("--snapshot-at must lie within [1, --entries]");
  if (o.snapshot_threshold < 0)
    o.snapshot_threshold = static_cast<long long>(2 * (n - snap_at));
  for (int p = o.port; p < o.port + o.members; ++p)
    if (!port_free(p))
      usage("port " + std::to_string(p) + " on 127.0.0.1 is in use: choose "
            "another --port");
  const std::string tmp = make_temp_dir();
  if (tmp.empty())
    return 1;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::vector<child> cluster;
  auto cleanup = [&] {
    stop_children(cluster);
    std::error_code ec;
    std::filesystem::remove_all(tmp, ec);
  };
  auto fail = [&](const std::string& why) {
    std::cerr << "\nraft-bench: " << why << '\n';
    cleanup();
    std::_Exit(1);
  };
  const double load_before = loadavg1();
  // 1. The data directory of the measured member (m0), copied for m1, m2.
  std::vector<std::string> dirs;
  for (int i = 0; i < 3; ++i)
    dirs.push_back(tmp + "/m" + std::to_string(i));
  auto t_prep = clk::now();
  prepare_recovery_dir(dirs[0], o, snap_at);
  double prepare_s = std::chrono::duration<double>(clk::now() - t_prep).count();
  size_t files = 0;
  for (auto& ent : std::filesystem::directory_iterator(dirs[0])) {
    (void) ent;
    ++files;
  }
  double data_mib = disk_mib(dirs[0]);
  for (int i = 1; i < 3; ++i)
    std::filesystem::copy(dirs[0], dirs[static_cast<size_t>(i)],
                          std::filesystem::copy_options::recursive);
  std::fprintf(stderr,
               "raft-bench: prepared %llu entries, snapshot at %llu, layout "
               "%s: %.0f MiB in %zu files, %.1f s\n",
               static_cast<unsigned long long>(n),
               static_cast<unsigned long long>(snap_at), o.layout.c_str(),
               data_mib, files, prepare_s);
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back("127.0.0.1:" + std::to_string(o.port + i));
  std::string id_list = ids[0] + "," + ids[1] + "," + ids[2];
  auto member_args = [&](int i) {
    std::vector<std::string> args{"--member", "--id", ids[static_cast<size_t>(i)],
                                  "--member-list", id_list, "--data",
                                  dirs[static_cast<size_t>(i)],
                                  "--snapshot-threshold",
                                  std::to_string(o.snapshot_threshold)};
    if (!o.scheduler.empty()) {
      args.push_back("--scheduler");
      args.push_back(o.scheduler);
    }
    return args;
  };
  // 2. The other two members; they elect a leader and commit a put.
  for (int i = 1; i < 3; ++i)
    cluster.push_back(launch(ids[static_cast<size_t>(i)], member_args(i)));
  for (auto& c : cluster)
    if (!wait_ready(c, std::chrono::seconds(120)))
      fail(c.name + " did not start");
  {
    caf::actor_system_config sys_cfg;
    if (auto err = raft::configure_remote(sys_cfg, {}))
      fail("cannot configure CAF");
    caf::actor_system sys{sys_cfg};
    caf::scoped_actor self{sys};
    raft::client_options copts;
    copts.cluster = {ids[1], ids[2]};
    copts.timeout = std::chrono::seconds(10);
    auto c = raft::spawn_client(sys, copts);
    if (!c)
      fail("cannot spawn the client: " + sys.render(c.error()));
    auto target = caf::actor_cast<caf::actor>(*c);
    auto deadline = clk::now() + std::chrono::seconds(60);
    bool ok = false;
    std::string last_err;
    while (!ok && clk::now() < deadline) {
      self
        ->request(target, std::chrono::seconds(15), raft::append_atom::value,
                  kv::put_cmd("warmup", "x"))
        .receive([&](raft::append_reply&) { ok = true; },
                 [&](caf::error& err) {
                   last_err = sys.render(err);
                   std::this_thread::sleep_for(std::chrono::milliseconds(100));
                 });
      if (!ok) {
        // Say where the two members are (for a stuck start).
        for (int i = 1; i < 3; ++i)
          self
            ->request(target, std::chrono::seconds(5), raft::status_atom::value,
                      ids[static_cast<size_t>(i)])
            .receive(
              [&](raft::member_status& s) {
                std::fprintf(stderr,
                             "raft-bench: no commit yet (%s); %s: %s term %llu "
                             "leader '%s' commit %llu applied %llu last %llu\n",
                             last_err.c_str(), s.id.c_str(),
                             raft::to_string(s.role).c_str(),
                             static_cast<unsigned long long>(s.term),
                             s.leader.c_str(),
                             static_cast<unsigned long long>(s.commit_index),
                             static_cast<unsigned long long>(s.last_applied),
                             static_cast<unsigned long long>(s.last_log_index));
              },
              [&](caf::error& err) {
                std::fprintf(stderr, "raft-bench: status of %s: %s\n",
                             ids[static_cast<size_t>(i)].c_str(),
                             sys.render(err).c_str());
              });
      }
    }
    if (!ok)
      fail("the two other members committed no put within 60 s: " + last_err);
    caf::anon_send_exit(target, caf::exit_reason::user_shutdown);
  }
  // Let the followers finish their own replay before the first restart.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  // 3. Restarts of m0, each from its data directory as the previous run (or
  // the preparation) left it.
  std::vector<restart_sample> runs;
  for (int r = 0; r < o.reps; ++r) {
    if (o.cold)
      sync_dir_files(dirs[0], true);
    auto args = member_args(0);
    args.push_back("--timing");
    args.push_back("--replay-target");
    args.push_back(std::to_string(n));
    auto t_launch = now_ns();
    std::vector<child> one{launch(ids[0], args)};
    const pid_t pid = one[0].pid;
    auto s = read_restart(one[0], t_launch, std::chrono::seconds(180));
    s.rss = rss_mib(one[0].pid);
    stop_children(one);
    std::replace(g_children.begin(), g_children.end(), pid, pid_t{-1});
    if (!s.ok)
      fail("restart " + std::to_string(r + 1) + " did not report serving");
    auto ms = [&](const char* k) { return s.ms.count(k) ? s.ms[k] : -1; };
    std::fprintf(stderr,
                 "restart %d: serving (append answered) after %.0f ms: exec "
                 "%.0f, log load %.0f (%lld entries), spawn %.0f,"
                 " restore %.0f, %s known at %.0f, replay %.0f (%.0f..%.0f), "
                 "read at %.0f ms\n",
                 r + 1, ms("append"), ms("main"),
                 ms("load_end") - ms("load_begin"),
                 static_cast<long long>(s.num["loaded_entries"]),
                 ms("spawned") - ms("load_end"),
                 ms("restore_end") - ms("restore_begin"), s.role.c_str(),
                 ms("status"), ms("replayed") - ms("first_apply"),
                 ms("first_apply"), ms("replayed"), ms("query"));
    runs.push_back(std::move(s));
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  const double load_after = loadavg1();
  // 4. Medians.
  auto col = [&](std::function<double(restart_sample&)> f) {
    std::vector<double> v;
    for (auto& s : runs)
      v.push_back(f(s));
    return v;
  };
  auto at = [](restart_sample& s, const char* k) {
    return s.ms.count(k) ? s.ms[k] : -1.0;
  };
  auto recovery = col([&](restart_sample& s) { return at(s, "append"); });
  auto exec = col([&](restart_sample& s) { return at(s, "main"); });
  auto log_load = col([&](restart_sample& s) {
    return at(s, "load_end") - at(s, "load_begin");
  });
  auto spawn = col([&](restart_sample& s) {
    return at(s, "spawned") - at(s, "load_end");
  });
  auto restore = col([&](restart_sample& s) {
    return at(s, "restore_end") - at(s, "restore_begin");
  });
  auto status = col([&](restart_sample& s) { return at(s, "status"); });
  auto replay = col([&](restart_sample& s) {
    return at(s, "replayed") - at(s, "first_apply");
  });
  auto replay_start = col([&](restart_sample& s) { return at(s, "first_apply"); });
  auto replayed = col([&](restart_sample& s) { return at(s, "replayed"); });
  auto query = col([&](restart_sample& s) { return at(s, "query"); });
  auto rss = col([](restart_sample& s) { return s.rss; });
  auto replay_entries = static_cast<long long>(n - snap_at);
  std::printf("raft-bench --recovery: %llu entries (%zu-byte values), snapshot "
              "at %llu, layout %s, %s page cache, snapshot_threshold %lld; "
              "%d restarts of one member of 3 (processes); medians:\n",
              static_cast<unsigned long long>(n), o.size,
              static_cast<unsigned long long>(snap_at), o.layout.c_str(),
              o.cold ? "cold" : "warm", o.snapshot_threshold, o.reps);
  std::printf("  data dir        %.0f MiB, %zu files (prepared in %.1f s)\n",
              data_mib, files, prepare_s);
  std::printf("  process start   %.0f ms (fork/exec to main)\n", median(exec));
  std::printf("  log load        %.0f ms (file_storage::load_after: the entries "
              "after the snapshot)\n",
              median(log_load));
  std::printf("  spawn           %.0f ms (spawn, publish; the snapshot's "
              "checksum runs before the log load)\n",
              median(spawn));
  std::printf("  snapshot restore %.0f ms (kv restore_snapshot)\n",
              median(restore));
  std::printf("  leader known    at %.0f ms\n", median(status));
  std::printf("  replay          %.0f ms for %lld entries (from %.0f to %.0f "
              "ms)\n",
              median(replay), replay_entries, median(replay_start),
              median(replayed));
  std::printf("  serving         at %.0f ms (first append sent to it "
              "answered); committed read at %.0f ms\n",
              median(recovery), median(query));
  std::printf("  rss             %.0f MiB when serving\n", median(rss));
  std::printf("  runs (ms to serving): %s\n", json_array(recovery, 0).c_str());
  std::printf("  load average %.2f before, %.2f after\n", load_before,
              load_after);
  if (o.json)
    std::printf(
      "{\"mode\":\"recovery\",\"entries\":%llu,\"snapshot_at\":%llu,"
      "\"layout\":\"%s\",\"cache\":\"%s\",\"size\":%zu,"
      "\"snapshot_threshold\":%lld,\"reps\":%d,\"data_mib\":%.1f,"
      "\"files\":%zu,\"prepare_s\":%.2f,\"recovery_ms\":%.1f,"
      "\"exec_ms\":%.1f,\"log_load_ms\":%.1f,\"snapshot_check_ms\":%.1f,"
      "\"snapshot_restore_ms\":%.1f,\"status_ms\":%.1f,\"replay_ms\":%.1f,"
      "\"replay_entries\":%lld,\"replay_done_ms\":%.1f,"
      "\"first_append_ms\":%.1f,\"query_ms\":%.1f,\"rss_mib\":%.1f,"
      "\"runs_recovery_ms\":%s,\"runs_log_load_ms\":%s,"
      "\"runs_replay_ms\":%s,\"loadavg_before\":%.2f,"
      "\"loadavg_after\":%.2f}\n",
      static_cast<unsigned long long>(n),
      static_cast<unsigned long long>(snap_at), o.layout.c_str(),
      o.cold ? "cold" : "warm", o.size, o.snapshot_threshold, o.reps, data_mib,
      files, prepare_s, median(recovery), median(exec), median(log_load),
      median(spawn), median(restore), median(status), median(replay),
      replay_entries, median(replayed), median(recovery), median(query),
      median(rss), json_array(recovery, 1).c_str(),
      json_array(log_load, 1).c_str(), json_array(replay, 1).c_str(),
      load_before, load_after);
  std::fflush(stdout);
  cleanup();
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
  // Ports: members (processes mode) on P..P+N-1, the echo helper on P+N.
  for (int p = o.port; p <= o.port + o.members; ++p)
    if (!port_free(p))
      usage("port " + std::to_string(p)
            + " on 127.0.0.1 is in use: choose another --port (this run "
              "needs "
            + std::to_string(o.members + 1) + " consecutive free ports)");
  const std::string tmp = make_temp_dir();
  if (tmp.empty())
    return 1;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::vector<child> children;
  int rc = 0;
  auto fail = [&](const std::string& why) {
    std::cerr << "\nraft-bench: " << why << '\n';
    stop_children(children);
    std::error_code ec;
    std::filesystem::remove_all(tmp, ec);
    std::fflush(stdout);
    std::_Exit(1);
  };
  const double load_before = loadavg1();
  // 1. The disk, before any load: 4 KiB write + fdatasync where logs live.
  double fsync_p50 = fsync_probe(tmp, 300, false);
  double fsync_prealloc_p50 = fsync_probe(tmp, 300, true);
  // 2. Helper and member processes.
  children.push_back(
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
        auto dir = tmp + "/m" + std::to_string(i);
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
      children.push_back(launch(ids[static_cast<size_t>(i)], args));
    }
  for (auto& c : children)
    if (!wait_ready(c, std::chrono::seconds(15)))
      fail(c.name + " did not start (port in use? see its message above)");
  caf::actor_system_config sys_cfg;
  if (auto err = raft::configure_remote(sys_cfg, {}))
    fail("cannot configure CAF");
  sys_cfg.load<caf::io::middleman>(); // for the BASP echo round trip below
  tune(sys_cfg, o);
  caf::actor_system sys{sys_cfg};
  caf::scoped_actor self{sys};
  // 3. Round trip between two actors in separate processes (request and
  // reply of a --size string over BASP/loopback), before the load.
  double rtt_p50 = -1;
  {
    auto echo = sys.middleman().remote_actor("127.0.0.1",
                                             static_cast<uint16_t>(o.port
                                                                   + o.members));
    if (!echo)
      fail("cannot reach the echo helper: " + sys.render(echo.error()));
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
    rtt_p50 = lat.empty() ? -1 : percentile(lat, 0.5);
  }
  // 4. The cluster and the target of the load.
  caf::actor target;
  std::vector<raft::member_actor> local_members;
  caf::actor client_hdl;
  if (o.inproc) {
    target = inproc_cluster(sys, o, tmp, local_members);
    if (!target)
      fail("in-process cluster did not come up");
  } else {
    raft::client_options copts;
    copts.cluster = ids;
    copts.timeout = std::chrono::seconds(10);
    auto c = raft::spawn_client(sys, copts);
    if (!c)
      fail("cannot spawn the client: " + sys.render(c.error()));
    target = caf::actor_cast<caf::actor>(*c);
    client_hdl = target;
    // Wait until the cluster commits a first put.
    auto deadline = clk::now() + std::chrono::seconds(20);
    bool ok = false;
    std::string last_err;
    while (!ok && clk::now() < deadline) {
      self
        ->request(target, std::chrono::seconds(5), raft::append_atom::value,
                  kv::put_cmd("warmup", "x"))
        .receive([&](raft::append_reply&) { ok = true; },
                 [&](caf::error& err) { last_err = sys.render(err); });
      if (!ok)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!ok)
      fail("the cluster did not commit a first put within 20 s: " + last_err);
  }
  // 5. The load.
  auto st = std::make_shared<stats>();
  auto secs = [](double s) {
    return std::chrono::duration_cast<clk::duration>(
      std::chrono::duration<double>(s));
  };
  auto t0 = clk::now();
  st->t_start = t0 + secs(o.warmup);
  st->t_end = st->t_start + secs(o.seconds);
  st->sampling = o.sample_every > 0;
  for (int i = 0; i < o.clients; ++i)
    sys.spawn(bench_client, target, st, i, o.size);
  std::vector<pid_t> member_pids;
  if (o.inproc)
    member_pids.push_back(getpid());
  else
    for (auto& c : children)
      if (c.name != "echo")
        member_pids.push_back(c.pid);
  std::vector<double> cpu0(member_pids.size());
  double self_cpu0 = 0;
  counter_snapshot counters0;
  uint64_t last = 0;
  auto last_t = clk::now();
  bool sampled = false;
  // Soak samples: one per --sample-every seconds of the measured window.
  std::vector<std::string> data_dirs;
  if (o.fsync)
    for (int i = 0; i < o.members; ++i)
      data_dirs.push_back(tmp + "/m" + std::to_string(i));
  std::vector<sample> samples;
  std::array<uint64_t, hist_buckets> hist_prev{};
  uint64_t sample_completed = 0, sample_failed = 0;
  auto sample_t = st->t_start;
  auto take_sample = [&](clk::time_point now) {
    sample x;
    x.t = std::chrono::duration<double>(now - st->t_start).count();
    double dt = std::chrono::duration<double>(now - sample_t).count();
    uint64_t c = st->completed, f = st->failed;
    x.ops = dt > 0 ? static_cast<double>(c - sample_completed) / dt : 0;
    x.errors = f - sample_failed;
    std::array<uint64_t, hist_buckets> h;
    uint64_t total = 0;
    for (size_t b = 0; b < hist_buckets; ++b) {
      auto v = st->hist[b].load(std::memory_order_relaxed);
      h[b] = v - hist_prev[b];
      hist_prev[b] = v;
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
    for (auto pid : member_pids)
      x.rss.push_back(rss_mib(pid));
    for (auto& d : data_dirs)
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
    sample_completed = c;
    sample_failed = f;
    sample_t = now;
  };
  if (o.sample_every > 0) {
    std::string head = "#sample\tt_s\tops_per_sec\tp50_us\tp99_us\terrors";
    for (size_t i = 0; i < member_pids.size(); ++i)
      head += "\trss_mib_" + std::to_string(i);
    for (size_t i = 0; i < data_dirs.size(); ++i)
      head += "\tdisk_mib_" + std::to_string(i);
    std::printf("%s\tloadavg\n", head.c_str());
    std::fflush(stdout);
  }
  while (clk::now() < st->t_end) {
    auto nap = std::chrono::milliseconds(250);
    if (o.sample_every > 0 && sampled) {
      auto due = sample_t + secs(o.sample_every) - clk::now();
      nap = std::max(std::chrono::milliseconds(1),
                     std::min(nap, std::chrono::duration_cast<
                                     std::chrono::milliseconds>(due)));
    }
    std::this_thread::sleep_for(nap);
    auto now = clk::now();
    if (!sampled && now >= st->t_start) {
      sampled = true;
      for (size_t i = 0; i < member_pids.size(); ++i)
        cpu0[i] = cpu_seconds(member_pids[i]);
      self_cpu0 = cpu_seconds(getpid());
      counters0 = read_counters(self, local_members, client_hdl, ids);
      // Replies before the window do not count in the first sample.
      sample_completed = st->completed;
      sample_failed = st->failed;
      for (size_t b = 0; b < hist_buckets; ++b)
        hist_prev[b] = st->hist[b].load(std::memory_order_relaxed);
      sample_t = now;
    }
    if (o.sample_every > 0 && sampled && now < st->t_end
        && now - sample_t >= secs(o.sample_every) - std::chrono::milliseconds(1))
      take_sample(now);
    if (now - last_t >= std::chrono::seconds(1)) {
      uint64_t c = st->completed;
      double rate = static_cast<double>(c - last)
                    / std::chrono::duration<double>(now - last_t).count();
      double elapsed = std::chrono::duration<double>(now - t0).count();
      std::string rss_now;
      for (auto pid : member_pids)
        rss_now += (rss_now.empty() ? "" : "/")
                   + std::to_string(static_cast<int>(rss_mib(pid)));
      std::fprintf(stderr,
                   "%s[%5.1f/%4.1f s] %s %10llu ops, %9.0f ops/s, %llu errors, "
                   "rss %s MiB",
                   isatty(2) ? "\r" : "", elapsed, o.warmup + o.seconds,
                   now < st->t_start ? "warm-up " : "measured",
                   static_cast<unsigned long long>(c), rate,
                   static_cast<unsigned long long>(st->failed.load()),
                   rss_now.c_str());
      if (!isatty(2))
        std::fprintf(stderr, "\n");
      last = c;
      last_t = now;
    }
  }
  if (o.sample_every > 0 && sampled
      && clk::now() - sample_t >= secs(o.sample_every / 2))
    take_sample(clk::now()); // the last, partial interval
  // Batching, from the members' own counters over the window (a few ms
  // late at both ends): entries per log write (one fdatasync each when
  // durable) over all members, and messages between members per entry
  // committed.
  auto counters1 = read_counters(self, local_members, client_hdl, ids);
  double entries_per_fsync = -1;
  double messages_per_entry = -1;
  if (counters0.ok && counters1.ok) {
    auto writes = counters1.log_writes - counters0.log_writes;
    auto committed = counters1.commit - counters0.commit;
    if (writes > 0)
      entries_per_fsync
        = static_cast<double>(counters1.entries_written
                              - counters0.entries_written)
          / static_cast<double>(writes);
    if (committed > 0)
      messages_per_entry
        = static_cast<double>(counters1.messages_sent
                              - counters0.messages_sent)
          / static_cast<double>(committed);
  }
  std::vector<double> cpu_pct, rss;
  double wall = o.seconds;
  for (size_t i = 0; i < member_pids.size(); ++i) {
    cpu_pct.push_back(100.0 * (cpu_seconds(member_pids[i]) - cpu0[i]) / wall);
    rss.push_back(rss_mib(member_pids[i]));
  }
  double client_cpu = 100.0 * (cpu_seconds(getpid()) - self_cpu0) / wall;
  std::fprintf(stderr, "\n");
  // Wait for the clients' last replies (bounded by the request timeout).
  auto wait_until = clk::now() + std::chrono::seconds(12);
  while (st->finished < o.clients && clk::now() < wait_until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::vector<uint32_t> lat;
  {
    std::lock_guard<std::mutex> guard{st->mtx};
    lat = st->lat_us;
  }
  std::sort(lat.begin(), lat.end());
  double ops = static_cast<double>(lat.size()) / o.seconds;
  auto p50 = percentile(lat, 0.5), p90 = percentile(lat, 0.9),
       p99 = percentile(lat, 0.99), p999 = percentile(lat, 0.999);
  const double load_after = loadavg1();
  std::string mode = o.inproc ? "inproc" : "processes";
  std::printf("raft-bench: %d members (%s), %d clients, %zu-byte values, %s, "
              "%.1f s measured after %.1f s warm-up\n",
              o.members, mode.c_str(), o.clients, o.size,
              o.fsync ? "durable file log (fdatasync)" : "memory log (no fsync)",
              o.seconds, o.warmup);
  std::printf("  throughput  %.0f ops/s (%zu ops, %llu errors)\n", ops,
              lat.size(), static_cast<unsigned long long>(st->failed.load()));
  std::printf("  latency     p50 %u us, p90 %u us, p99 %u us, p99.9 %u us\n",
              p50, p90, p99, p999);
  std::printf("  probes      fsync p50 %.0f us (4 KiB append + fdatasync in "
              "%s; %.0f us into a preallocated file), actor rtt p50 %.0f us "
              "(two processes, loopback)\n",
              fsync_p50, tmp.c_str(), fsync_prealloc_p50, rtt_p50);
  for (size_t i = 0; i < member_pids.size(); ++i)
    std::printf("  %-16s cpu %5.1f %%  rss %6.1f MiB\n",
                o.inproc ? "this process" : ids[i].c_str(), cpu_pct[i], rss[i]);
  std::printf("  %-16s cpu %5.1f %%\n", "load process", client_cpu);
  std::printf("  load average %.2f before, %.2f after (2 cores: above ~1 "
              "means other work competed)\n",
              load_before, load_after);
  std::printf("  batching    %.1f entries per log write%s, %.2f messages "
              "between members per entry committed\n",
              entries_per_fsync, o.fsync ? " (fdatasync)" : " (memory log)",
              messages_per_entry);
  auto dr = ops_drift(samples);
  if (samples.size() >= 3) {
    std::printf("  samples     %zu every %.1f s: ops/s first third %.0f, last "
                "third %.0f (%+.1f%%), trend %+.2f%% of the mean per minute\n",
                samples.size(), o.sample_every, dr.first_third, dr.last_third,
                dr.first_third > 0
                  ? 100 * (dr.last_third / dr.first_third - 1)
                  : 0.0,
                dr.slope_pct_per_min);
    auto range = [&](bool rss_col, size_t k) {
      double lo = 1e18, hi = 0;
      for (auto& x : samples) {
        auto& col = rss_col ? x.rss : x.disk;
        if (k < col.size()) {
          lo = std::min(lo, col[k]);
          hi = std::max(hi, col[k]);
        }
      }
      auto& first = rss_col ? samples.front().rss : samples.front().disk;
      auto& lst = rss_col ? samples.back().rss : samples.back().disk;
      std::printf(" [%.0f first, %.0f..%.0f, %.0f last]", first[k], lo, hi,
                  lst[k]);
    };
    std::printf("  rss MiB    ");
    for (size_t k = 0; k < samples.front().rss.size(); ++k)
      range(true, k);
    std::printf("\n  disk MiB   ");
    for (size_t k = 0; k < samples.front().disk.size(); ++k)
      range(false, k);
    std::printf("\n");
  }
  if (o.json)
    std::printf("{\"mode\":\"%s\",\"members\":%d,\"clients\":%d,\"size\":%zu,"
                "\"fsync\":%s,\"seconds\":%.1f,\"ops\":%zu,\"errors\":%llu,"
                "\"ops_per_sec\":%.0f,\"p50_us\":%u,\"p90_us\":%u,\"p99_us\":%u,"
                "\"p999_us\":%u,\"cpu_percent\":%s,\"client_cpu_percent\":%.1f,"
                "\"rss_mib\":%s,\"fsync_p50_us\":%.0f,"
                "\"fsync_prealloc_p50_us\":%.0f,\"rtt_p50_us\":%.0f,"
                "\"entries_per_fsync\":%.2f,\"messages_per_entry\":%.3f,"
                "\"loadavg_before\":%.2f,\"loadavg_after\":%.2f",
                mode.c_str(), o.members, o.clients, o.size,
                o.fsync ? "true" : "false", o.seconds, lat.size(),
                static_cast<unsigned long long>(st->failed.load()), ops, p50,
                p90, p99, p999, json_array(cpu_pct, 1).c_str(), client_cpu,
                json_array(rss, 1).c_str(), fsync_p50, fsync_prealloc_p50, rtt_p50,
                entries_per_fsync, messages_per_entry, load_before,
                load_after);
  if (o.json && o.sample_every > 0)
    std::printf(",\"sample_every\":%.1f,\"ops_first_third\":%.0f,"
                "\"ops_last_third\":%.0f,\"ops_trend_pct_per_min\":%.2f,"
                "\"samples\":%s",
                o.sample_every, dr.first_third, dr.last_third,
                dr.slope_pct_per_min, samples_json(samples).c_str());
  if (o.json)
    std::printf("}\n");
  std::fflush(stdout);
  stop_children(children);
  std::error_code ec;
  std::filesystem::remove_all(tmp, ec);
  std::fflush(stderr);
  std::_Exit(rc);
}
