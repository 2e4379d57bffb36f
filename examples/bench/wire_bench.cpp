// wire-bench: what one request/response costs between two processes on the
// wire members and clients speak, beside plain TCP (docs/benchmarks.md,
// "Wire").
//
//   wire-bench --raft-kv PATH [--seconds S] [--port P] [--size B]
//
// It starts a one-member `raft-kv serve` cluster on 127.0.0.1:P (it elects
// itself) and, through raft::client, asks it for its status back to back for
// S seconds: one request and one reply per round trip, no disk and no Raft
// round, so the figure is the wire and the actor runtime on both ends. Then,
// for the same time, a ping-pong of B bytes over a plain TCP socket with a
// forked echo process. For both it prints the round trip p50/p99 and the CPU
// time of both processes per message (user + system of the client and the
// server during the run, divided by 2 messages per round trip). Then the same
// again with 64 requests in flight (throughput, and CPU per message without
// the idle time between round trips). With --json: one JSON object on the
// last line.
#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <functional>
#include <memory>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scoped_actor.hpp"

#include "raft/client.hpp"
#include "raft/remote.hpp"

extern char** environ;

namespace {

using std::chrono::steady_clock;
namespace fs = std::filesystem;

struct options {
  std::string raft_kv;
  double seconds = 5;
  int port = 17800;
  size_t size = 256;
  bool json = false;
};

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "wire-bench: %s\n", why.c_str());
  std::exit(1);
}

double cpu_of(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string s{std::istreambuf_iterator<char>{in},
                std::istreambuf_iterator<char>{}};
  auto r = s.rfind(')');
  if (r == std::string::npos)
    return 0;
  std::istringstream f{s.substr(r + 2)};
  std::string x;
  unsigned long long ut = 0, st = 0;
  // Fields after the command: state(3) ... utime(14) stime(15).
  for (int i = 3; i <= 15; ++i) {
    f >> x;
    if (i == 14)
      ut = std::stoull(x);
    if (i == 15)
      st = std::stoull(x);
  }
  return static_cast<double>(ut + st) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double cpu_self() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec)
         + static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

double percentile(std::vector<double> xs, double p) {
  if (xs.empty())
    return -1;
  std::sort(xs.begin(), xs.end());
  return xs[std::min(xs.size() - 1, static_cast<size_t>(p * static_cast<double>(xs.size())))];
}

struct figures {
  // One request at a time.
  size_t round_trips = 0;
  double p50_us = -1;
  double p99_us = -1;
  double cpu_us_per_msg = -1;
  // `window` requests in flight.
  double pipelined_per_s = -1;
  double pipelined_cpu_us_per_msg = -1;
};

void print(const char* name, const figures& f) {
  std::printf("%-20s one at a time: %7zu round trips, p50 %6.1f us, p99 %7.1f "
              "us, cpu %6.1f us/message;  %zu in flight: %8.0f req/s, cpu %5.1f "
              "us/message\n",
              name, f.round_trips, f.p50_us, f.p99_us, f.cpu_us_per_msg,
              size_t{64}, f.pipelined_per_s, f.pipelined_cpu_us_per_msg);
}

constexpr size_t window = 64;

// -- the wire: raft::client status requests to a one-member raft-kv -----------

figures run_wire(const options& o) {
  auto dir = fs::temp_directory_path() / ("wire-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  auto id = "127.0.0.1:" + std::to_string(o.port);
  std::vector<std::string> argv{o.raft_kv, "serve", "--id", id, "--members",
                                id, "--data", (dir / "data").string()};
  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(a.data());
  args.push_back(nullptr);
  pid_t server = -1;
  if (posix_spawn(&server, argv[0].c_str(), nullptr, nullptr, args.data(),
                  environ) != 0)
    fail("cannot start " + o.raft_kv);
  caf::actor_system_config cfg;
  if (auto err = raft::configure_remote(cfg, raft::tls_options{}))
    fail("configure_remote failed");
  figures f;
  {
    caf::actor_system sys{cfg};
    raft::client_options co;
    co.cluster = {id};
    co.timeout = std::chrono::seconds(2);
    auto client = raft::spawn_client(sys, co);
    if (!client)
      fail("cannot spawn a client: " + sys.render(client.error()));
    caf::scoped_actor self{sys};
    auto ask = [&] {
      bool ok = false;
      self->request(*client, std::chrono::seconds(3), raft::status_atom::value,
                    raft::member_id{id})
        .receive([&](raft::member_status& st) { ok = st.role == raft::role::leader; },
                 [&](caf::error&) {});
      return ok;
    };
    // Until it answers as leader (it elects itself), then a short warm-up.
    auto deadline = steady_clock::now() + std::chrono::seconds(20);
    while (!ask())
      if (steady_clock::now() > deadline)
        fail("the member did not become leader");
    for (int i = 0; i < 200; ++i)
      ask();
    std::vector<double> lat;
    auto c0 = cpu_self() + cpu_of(server);
    auto t0 = steady_clock::now();
    auto end = t0 + std::chrono::duration<double>(o.seconds);
    for (auto now = t0; now < end;) {
      auto a = steady_clock::now();
      if (!ask())
        fail("a status request failed");
      now = steady_clock::now();
      lat.push_back(std::chrono::duration<double, std::micro>(now - a).count());
    }
    auto cpu = cpu_self() + cpu_of(server) - c0;
    f.round_trips = lat.size();
    f.p50_us = percentile(lat, 0.5);
    f.p99_us = percentile(lat, 0.99);
    f.cpu_us_per_msg = cpu * 1e6 / (2.0 * static_cast<double>(lat.size()));
    // `window` requests in flight: an actor that sends the next request for
    // each reply until the time is up.
    auto done = std::make_shared<std::atomic<size_t>>(0);
    auto stop = std::make_shared<std::atomic<bool>>(false);
    auto hdl = *client;
    c0 = cpu_self() + cpu_of(server);
    t0 = steady_clock::now();
    auto pump = sys.spawn([=](caf::event_based_actor* a) {
      auto next = std::make_shared<std::function<void()>>();
      *next = [=] {
        if (*stop)
          return;
        a->request(hdl, std::chrono::seconds(3), raft::status_atom::value,
                   raft::member_id{id})
          .then([=](raft::member_status&) {
            ++*done;
            (*next)();
          });
      };
      for (size_t i = 0; i < window; ++i)
        (*next)();
    });
    std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
    auto n = done->load();
    auto wall = std::chrono::duration<double>(steady_clock::now() - t0).count();
    cpu = cpu_self() + cpu_of(server) - c0;
    *stop = true;
    f.pipelined_per_s = static_cast<double>(n) / wall;
    f.pipelined_cpu_us_per_msg = cpu * 1e6 / (2.0 * static_cast<double>(n));
    caf::anon_send_exit(pump, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(*client, caf::exit_reason::user_shutdown);
  }
  kill(server, SIGKILL);
  waitpid(server, nullptr, 0);
  std::error_code ec;
  fs::remove_all(dir, ec);
  return f;
}

// -- plain TCP: ping-pong of `size` bytes with a forked echo process ----------

bool read_n(int fd, char* p, size_t n) {
  while (n > 0) {
    auto r = ::read(fd, p, n);
    if (r <= 0)
      return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool write_n(int fd, const char* p, size_t n) {
  while (n > 0) {
    auto r = ::write(fd, p, n);
    if (r <= 0)
      return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

figures run_tcp(const options& o) {
  auto lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(o.port + 1));
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0
      || ::listen(lfd, 1) != 0)
    fail("cannot listen on 127.0.0.1:" + std::to_string(o.port + 1));
  auto echo = fork();
  if (echo == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    auto fd = ::accept(lfd, nullptr, nullptr);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::vector<char> buf(o.size);
    while (read_n(fd, buf.data(), buf.size())
           && write_n(fd, buf.data(), buf.size())) {
    }
    _exit(0);
  }
  ::close(lfd);
  auto fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    fail("cannot connect to the echo process");
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  std::vector<char> buf(o.size, 'x');
  for (int i = 0; i < 200; ++i)
    if (!write_n(fd, buf.data(), buf.size()) || !read_n(fd, buf.data(), buf.size()))
      fail("echo failed");
  std::vector<double> lat;
  auto c0 = cpu_self() + cpu_of(echo);
  auto t0 = steady_clock::now();
  auto end = t0 + std::chrono::duration<double>(o.seconds);
  for (auto now = t0; now < end;) {
    auto a = steady_clock::now();
    if (!write_n(fd, buf.data(), buf.size()) || !read_n(fd, buf.data(), buf.size()))
      fail("echo failed");
    now = steady_clock::now();
    lat.push_back(std::chrono::duration<double, std::micro>(now - a).count());
  }
  auto cpu = cpu_self() + cpu_of(echo) - c0;
  figures f;
  // `window` messages in flight.
  c0 = cpu_self() + cpu_of(echo);
  t0 = steady_clock::now();
  end = t0 + std::chrono::duration<double>(o.seconds);
  size_t n = 0;
  std::vector<char> burst(o.size * window, 'y');
  if (!write_n(fd, burst.data(), burst.size()))
    fail("echo failed");
  for (auto now = t0; now < end; now = steady_clock::now()) {
    if (!read_n(fd, buf.data(), buf.size()) || !write_n(fd, buf.data(), buf.size()))
      fail("echo failed");
    ++n;
  }
  auto wall = std::chrono::duration<double>(steady_clock::now() - t0).count();
  f.pipelined_per_s = static_cast<double>(n) / wall;
  f.pipelined_cpu_us_per_msg = (cpu_self() + cpu_of(echo) - c0) * 1e6
                               / (2.0 * static_cast<double>(n));
  ::close(fd);
  kill(echo, SIGKILL);
  waitpid(echo, nullptr, 0);
  f.round_trips = lat.size();
  f.p50_us = percentile(lat, 0.5);
  f.p99_us = percentile(lat, 0.99);
  f.cpu_us_per_msg = cpu * 1e6 / (2.0 * static_cast<double>(lat.size()));
  return f;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        fail(a + " needs a value");
      return argv[++i];
    };
    if (a == "--raft-kv")
      o.raft_kv = value();
    else if (a == "--seconds")
      o.seconds = std::stod(value());
    else if (a == "--port")
      o.port = std::stoi(value());
    else if (a == "--size")
      o.size = std::stoul(value());
    else if (a == "--json")
      o.json = true;
    else
      fail("usage: wire-bench --raft-kv PATH [--seconds S] [--port P] "
           "[--size B] [--json]");
  }
  if (o.raft_kv.empty())
    fail("--raft-kv PATH is required");
  auto tcp = run_tcp(o);
  auto wire = run_wire(o);
  print("plain TCP", tcp);
  print("raft wire (status)", wire);
  std::printf("ratio to plain TCP: p50 %.2fx, cpu/message %.2fx (one at a "
              "time), %.2fx (%zu in flight)\n",
              wire.p50_us / tcp.p50_us, wire.cpu_us_per_msg / tcp.cpu_us_per_msg,
              wire.pipelined_cpu_us_per_msg / tcp.pipelined_cpu_us_per_msg,
              window);
  if (o.json)
    std::printf("{\"tcp_p50_us\":%.1f,\"tcp_cpu_us_per_msg\":%.2f,"
                "\"wire_p50_us\":%.1f,\"wire_p99_us\":%.1f,"
                "\"wire_cpu_us_per_msg\":%.2f,\"round_trips\":%zu,"
                "\"tcp_pipelined_per_s\":%.0f,\"tcp_pipelined_cpu_us\":%.2f,"
                "\"wire_pipelined_per_s\":%.0f,\"wire_pipelined_cpu_us\":%.2f}\n",
                tcp.p50_us, tcp.cpu_us_per_msg, wire.p50_us, wire.p99_us,
                wire.cpu_us_per_msg, wire.round_trips, tcp.pipelined_per_s,
                tcp.pipelined_cpu_us_per_msg, wire.pipelined_per_s,
                wire.pipelined_cpu_us_per_msg);
  return 0;
}
