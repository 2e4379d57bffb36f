// wire-rtt: request/response latency and CPU per message between two
// processes on this machine, for three transports (docs/architecture.md,
// "The wire"):
//   tcp   plain blocking TCP ping-pong (the floor),
//   wire  caf-raft's wire: an actor asks a link (remote_protocol.hpp), the
//         frame crosses to the other process's listener, its bridge answers
//         (what a client's append costs without the member),
//   basp  CAF 0.17's BASP: an actor asks a remote echo actor (the old path).
// Usage: wire-rtt [--port P] [--n N] [--size BYTES]
// It starts its own server process (--serve P) and reports, per transport,
// p50 / p99 round trip in µs and CPU µs per message (both processes, user +
// system, divided by 2 N: a request and a reply are two messages).

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/io/middleman.hpp"
#include "caf/scoped_actor.hpp"

#include "raft/remote.hpp"

#include "remote_protocol.hpp"

using clk = std::chrono::steady_clock;

namespace {

struct options {
  int port = 17990;
  int n = 5000;
  size_t size = 256;
  bool serve = false;
};

// -- the server process --------------------------------------------------------------

void tcp_echo(int port, size_t size) {
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0
      || ::listen(lfd, 4) != 0) {
    perror("wire-rtt: tcp echo");
    std::_Exit(3);
  }
  for (;;) {
    int fd = ::accept(lfd, nullptr, nullptr);
    if (fd < 0)
      continue;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::vector<char> buf(size);
    for (;;) {
      size_t got = 0;
      while (got < size) {
        auto n = ::recv(fd, buf.data() + got, size - got, 0);
        if (n <= 0)
          break;
        got += static_cast<size_t>(n);
      }
      if (got < size || ::send(fd, buf.data(), size, 0) != (ssize_t) size)
        break;
    }
    ::close(fd);
  }
}

caf::behavior echo_bridge(caf::event_based_actor*, raft::wire::engine_ptr eng) {
  return {
    [=](raft::wire::wire_req_atom, uint64_t session, uint64_t id, uint8_t,
        raft::remote::payload_vector& cmds) {
      raft::wire::client_reply r;
      r.id = id;
      for (auto& c : cmds) {
        raft::wire::client_outcome o;
        o.reply.index = 1;
        o.reply.result = c.bytes();
        r.outcomes.push_back(std::move(o));
      }
      std::string frame;
      raft::wire::encode(frame, r);
      eng->reply(session, std::move(frame));
    },
  };
}

int serve(const options& o) {
  caf::actor_system_config cfg;
  if (raft::configure_remote(cfg, {}))
    return 2;
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  std::thread{tcp_echo, o.port + 1, o.size}.detach();
  auto id = "127.0.0.1:" + std::to_string(o.port);
  auto eng = raft::wire::engine::make(id, {});
  if (!eng)
    return 3;
  auto echo = sys.spawn([]() -> caf::behavior {
    return {[](std::string& s) { return std::move(s); }};
  });
  raft::wire::listener_policy policy;
  policy.self_id = id;
  policy.members = {id};
  policy.member = echo;
  policy.bridge = sys.spawn(echo_bridge, *eng);
  if (!(*eng)->listen("127.0.0.1", static_cast<uint16_t>(o.port), policy))
    return 3;
  if (!sys.middleman().publish(echo, static_cast<uint16_t>(o.port + 2),
                               "127.0.0.1", true))
    return 3;
  std::cout << "READY" << std::endl;
  pause();
  return 0;
}

// -- the client ---------------------------------------------------------------------------

/// CPU seconds (user + system) of process `pid`.
double cpu_of(pid_t pid) {
  std::ifstream f{"/proc/" + std::to_string(pid) + "/stat"};
  std::string line;
  std::getline(f, line);
  auto rp = line.rfind(')');
  std::istringstream in{line.substr(rp + 2)};
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && in >> field; ++i)
    if (i == 14 || i == 15)
      ticks += std::stod(field);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double self_cpu() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec
         + ru.ru_stime.tv_usec / 1e6;
}

struct result {
  double p50 = 0;
  double p99 = 0;
  double cpu_us_per_msg = 0;
};

template <class F>
result measure(pid_t server, int n, F round_trip) {
  for (int i = 0; i < n / 10; ++i)
    round_trip(); // warm-up
  std::vector<double> lat;
  lat.reserve(n);
  auto c0 = self_cpu() + cpu_of(server);
  for (int i = 0; i < n; ++i) {
    auto t0 = clk::now();
    round_trip();
    lat.push_back(
      std::chrono::duration<double, std::micro>(clk::now() - t0).count());
  }
  auto c1 = self_cpu() + cpu_of(server);
  std::sort(lat.begin(), lat.end());
  return {lat[lat.size() / 2], lat[lat.size() * 99 / 100],
          (c1 - c0) * 1e6 / (2.0 * n)};
}

int client(const options& o, const char* self_path) {
  int out[2];
  if (pipe(out) != 0)
    return 2;
  auto pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    auto port = std::to_string(o.port);
    auto size = std::to_string(o.size);
    execl(self_path, self_path, "--serve", "--port", port.c_str(), "--size",
          size.c_str(), static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  close(out[1]);
  char buf[16] = {};
  if (read(out[0], buf, 6) < 5) {
    std::cerr << "wire-rtt: the server did not start\n";
    return 3;
  }
  auto stop = [&] {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  };
  std::string msg(o.size, 'r');
  // tcp
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(o.port + 1));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    stop();
    return 3;
  }
  std::vector<char> rbuf(o.size);
  auto tcp = measure(pid, o.n, [&] {
    ::send(fd, msg.data(), msg.size(), 0);
    size_t got = 0;
    while (got < o.size) {
      auto n = ::recv(fd, rbuf.data() + got, o.size - got, 0);
      if (n <= 0)
        break;
      got += static_cast<size_t>(n);
    }
  });
  ::close(fd);
  // wire and basp
  caf::actor_system_config cfg;
  raft::configure_remote(cfg, {});
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto eng = raft::wire::engine::make("bench-client", {});
  auto target = "127.0.0.1:" + std::to_string(o.port);
  auto link = raft::remote::spawn_link(sys, self, *eng, target,
                                       raft::wire::peer_kind::client,
                                       std::chrono::seconds(5));
  bool ready = false;
  self->receive([&](raft::remote::ready_atom, const std::string&) {
    ready = true;
  }, caf::after(std::chrono::seconds(5)) >> [] {});
  if (!ready) {
    std::cerr << "wire-rtt: no wire session\n";
    stop();
    return 3;
  }
  raft::payload cmd{msg};
  size_t failures = 0;
  auto wire = measure(pid, o.n, [&] {
    self->request(link, std::chrono::seconds(5), raft::append_atom::value, cmd)
      .receive([](raft::append_reply&) {}, [&](caf::error&) { ++failures; });
  });
  auto echo = sys.middleman().remote_actor("127.0.0.1",
                                           static_cast<uint16_t>(o.port + 2));
  if (!echo) {
    stop();
    return 3;
  }
  auto basp = measure(pid, o.n, [&] {
    self->request(*echo, std::chrono::seconds(5), msg)
      .receive([](std::string&) {}, [&](caf::error&) { ++failures; });
  });
  self->send_exit(link, caf::exit_reason::user_shutdown);
  stop();
  std::printf("transport  p50_us  p99_us  cpu_us_per_msg   (%d round trips "
              "of %zu bytes, %zu failures)\n",
              o.n, o.size, failures);
  for (auto& [name, r] : {std::pair{"tcp", tcp}, std::pair{"wire", wire},
                          std::pair{"basp", basp}})
    std::printf("%-9s %7.1f %7.1f %10.1f\n", name, r.p50, r.p99,
                r.cpu_us_per_msg);
  std::fflush(stdout);
  std::_Exit(failures == 0 ? 0 : 1);
}

} // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string{argv[++i]} : ""; };
    if (a == "--serve")
      o.serve = true;
    else if (a == "--port")
      o.port = std::stoi(next());
    else if (a == "--n")
      o.n = std::stoi(next());
    else if (a == "--size")
      o.size = std::stoul(next());
    else {
      std::cerr << "usage: wire-rtt [--port P] [--n N] [--size BYTES]\n";
      return 2;
    }
  }
  if (o.serve)
    return serve(o);
  return client(o, "/proc/self/exe");
}
