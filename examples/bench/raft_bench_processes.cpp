// raft-bench: child processes (launched, awaited, stopped by PID) and what
// /proc says about them (CPU, RSS, load average).

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

namespace raft_bench {

// -- child processes --------------------------------------------------------------


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

} // namespace raft_bench
