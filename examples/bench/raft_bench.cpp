// raft-bench: throughput and latency of a caf-raft cluster under closed-loop
// load, with the disk's fsync latency and the loopback actor round trip
// measured in the same run (see docs/benchmarks.md).
//
//   raft-bench [--members N] [--inproc | --processes] [--clients C]
//              [--size B] [--seconds S] [--warmup S] [--no-fsync]
//              [--port P] [--json]
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

#include <algorithm>
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
  "                default) or sharing\n";

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
  // internal modes
  bool member_mode = false;
  bool echo_mode = false;
  std::string id;
  std::string member_list;
  std::string data;
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

// -- internal modes: a member process, the echo process -----------------------

int run_member(const options& o) {
  sigset_t set;
  block_signals(set);
  caf::actor_system_config sys_cfg;
  if (auto err = raft::configure_remote(sys_cfg, {})) {
    std::cerr << "raft-bench member: cannot configure CAF\n";
    return 2;
  }
  tune(sys_cfg, o);
  caf::actor_system sys{sys_cfg};
  raft::config cfg;
  cfg.host_port = o.id;
  cfg.log_dir = o.data; // empty: memory log
  if (o.snapshot_threshold >= 0)
    cfg.snapshot_threshold = o.snapshot_threshold;
  raft::remote_options ropts;
  ropts.members = split(o.member_list);
  auto m = raft::spawn_remote_member(sys, cfg, std::make_shared<kv::machine>(),
                                     ropts);
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
  std::cout << "READY" << std::endl;
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

struct stats {
  clk::time_point t_start;
  clk::time_point t_end;
  std::atomic<uint64_t> completed{0}; // all replies, warm-up included
  std::atomic<uint64_t> failed{0};
  std::atomic<int> finished{0};
  std::mutex mtx;
  std::vector<uint32_t> lat_us; // replies inside the window
};

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
          if (t0 >= st->t_start && t1 <= st->t_end)
            lat->push_back(static_cast<uint32_t>(
              std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0)
                .count()));
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

} // namespace

int main(int argc, char** argv) {
  auto o = parse(argc, argv);
  if (o.member_mode)
    return run_member(o);
  if (o.echo_mode)
    return run_echo(o);
  // Ports: members (processes mode) on P..P+N-1, the echo helper on P+N.
  for (int p = o.port; p <= o.port + o.members; ++p)
    if (!port_free(p))
      usage("port " + std::to_string(p)
            + " on 127.0.0.1 is in use: choose another --port (this run "
              "needs "
            + std::to_string(o.members + 1) + " consecutive free ports)");
  std::string tmpl = (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp")
                     + std::string{"/raft-bench.XXXXXX"};
  if (!mkdtemp(tmpl.data())) {
    perror("raft-bench: mkdtemp");
    return 1;
  }
  const std::string tmp = tmpl;
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
  uint64_t last = 0;
  auto last_t = clk::now();
  bool sampled = false;
  while (clk::now() < st->t_end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    auto now = clk::now();
    if (!sampled && now >= st->t_start) {
      sampled = true;
      for (size_t i = 0; i < member_pids.size(); ++i)
        cpu0[i] = cpu_seconds(member_pids[i]);
      self_cpu0 = cpu_seconds(getpid());
    }
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
  std::printf("  entries_per_fsync, messages_per_entry: not measured (the "
              "members expose no counters)\n");
  if (o.json)
    std::printf("{\"mode\":\"%s\",\"members\":%d,\"clients\":%d,\"size\":%zu,"
                "\"fsync\":%s,\"seconds\":%.1f,\"ops\":%zu,\"errors\":%llu,"
                "\"ops_per_sec\":%.0f,\"p50_us\":%u,\"p90_us\":%u,\"p99_us\":%u,"
                "\"p999_us\":%u,\"cpu_percent\":%s,\"client_cpu_percent\":%.1f,"
                "\"rss_mib\":%s,\"fsync_p50_us\":%.0f,"
                "\"fsync_prealloc_p50_us\":%.0f,\"rtt_p50_us\":%.0f,"
                "\"loadavg_before\":%.2f,\"loadavg_after\":%.2f}\n",
                mode.c_str(), o.members, o.clients, o.size,
                o.fsync ? "true" : "false", o.seconds, lat.size(),
                static_cast<unsigned long long>(st->failed.load()), ops, p50,
                p90, p99, p999, json_array(cpu_pct, 1).c_str(), client_cpu,
                json_array(rss, 1).c_str(), fsync_p50, fsync_prealloc_p50, rtt_p50,
                load_before,
                load_after);
  std::fflush(stdout);
  stop_children(children);
  std::error_code ec;
  std::filesystem::remove_all(tmp, ec);
  std::fflush(stderr);
  std::_Exit(rc);
}
