#include "netns.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <sched.h>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

#include "kv_cluster.hpp"

namespace raft::chaos {

namespace {

using std::chrono::milliseconds;

std::string find_binary(const std::vector<std::string>& candidates) {
  for (auto& c : candidates)
    if (::access(c.c_str(), X_OK) == 0)
      return c;
  return {};
}

std::string nft_binary() {
  return find_binary({"/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"});
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in{s};
  std::string line;
  while (std::getline(in, line))
    if (!line.empty())
      out.push_back(line);
  return out;
}

/// Every namespace name `ip netns list` shows.
std::vector<std::string> list_namespaces() {
  std::vector<std::string> names;
  auto r = dist::run({ip_binary(), "netns", "list"}, milliseconds(10000));
  for (auto& line : lines_of(r.out))
    names.push_back(line.substr(0, line.find(' ')));
  return names;
}

} // namespace

std::string ip_binary() {
  return find_binary({"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"});
}

std::string netns_net::unavailable_reason() {
  if (::geteuid() != 0)
    return "not root";
  if (ip_binary().empty())
    return "no `ip` (package iproute2)";
  if (nft_binary().empty())
    return "no `nft` (package nftables)";
  return {};
}

std::string netns_net::remove_stale() {
  std::string done;
  if (!unavailable_reason().empty())
    return done;
  for (auto& name : list_namespaces()) {
    if (name.rfind("craft-", 0) != 0)
      continue;
    auto dash = name.find('-', 6);
    if (dash == std::string::npos)
      continue;
    auto pid_text = name.substr(6, dash - 6);
    if (pid_text.empty()
        || pid_text.find_first_not_of("0123456789") != std::string::npos)
      continue;
    auto pid = static_cast<pid_t>(std::stol(pid_text));
    if (::kill(pid, 0) == 0 || errno != ESRCH)
      continue; // Its test is still running.
    auto pids = dist::run({ip_binary(), "netns", "pids", name},
                          milliseconds(10000));
    for (auto& p : lines_of(pids.out))
      if (p.find_first_not_of("0123456789") == std::string::npos)
        ::kill(static_cast<pid_t>(std::stol(p)), SIGKILL);
    dist::run({ip_binary(), "netns", "del", name}, milliseconds(10000));
    done += (done.empty() ? "" : " ") + name;
  }
  return done;
}

netns_net::netns_net(size_t members, std::string dir)
  : n_(members), dir_(std::move(dir)) {
  prefix_ = "craft-" + std::to_string(::getpid()) + "-";
  hub_ = prefix_ + "hub";
  client_ns_ = prefix_ + "cl";
  for (size_t i = 0; i < n_; ++i)
    member_ns_.push_back(prefix_ + "m" + std::to_string(i));
  try {
    auto ip = ip_binary();
    auto add_ns = [&](const std::string& name) {
      sh({ip, "netns", "add", name});
      created_.push_back(name);
      sh({ip, "-n", name, "link", "set", "lo", "up"});
    };
    add_ns(hub_);
    sh({ip, "-n", hub_, "link", "add", "br0", "type", "bridge"});
    sh({ip, "-n", hub_, "link", "set", "br0", "up"});
    // A namespace on the bridge: veth `port` in the hub, eth0 inside.
    auto attach = [&](const std::string& ns, const std::string& port,
                      const std::string& addr) {
      add_ns(ns);
      sh({ip, "-n", hub_, "link", "add", port, "type", "veth", "peer", "name",
          "eth0", "netns", ns});
      sh({ip, "-n", hub_, "link", "set", port, "master", "br0", "up"});
      sh({ip, "-n", ns, "addr", "add", addr + "/24", "dev", "eth0"});
      sh({ip, "-n", ns, "link", "set", "eth0", "up"});
    };
    for (size_t i = 0; i < n_; ++i) {
      attach(member_ns_[i], "m" + std::to_string(i), member_addr(i));
      auto file = dir_ + "/nft-init-m" + std::to_string(i) + ".nft";
      std::ofstream{file} << "table inet craft {\n"
                             "  chain output {\n"
                             "    type filter hook output priority 0;\n"
                             "    policy accept;\n"
                             "  }\n"
                             "}\n";
      sh({ip, "netns", "exec", member_ns_[i], nft_binary(), "-f", file});
    }
    attach(client_ns_, "cl", client_addr());
  } catch (...) {
    teardown();
    throw;
  }
}

netns_net::~netns_net() {
  teardown();
}

void netns_net::teardown() {
  leave_client();
  // Members first: deleting one takes its veth pair along; the hub (and its
  // bridge) last.
  for (auto i = created_.rbegin(); i != created_.rend(); ++i)
    dist::run({ip_binary(), "netns", "del", *i}, milliseconds(10000));
  created_.clear();
}

std::string netns_net::member_addr(size_t i) const {
  return "10.213.1." + std::to_string(i + 1);
}

std::string netns_net::client_addr() const {
  return "10.213.1.100";
}

void netns_net::sh(const std::vector<std::string>& argv) {
  auto r = dist::run(argv, milliseconds(15000));
  if (r.code != 0) {
    std::string cmd;
    for (auto& a : argv)
      cmd += (cmd.empty() ? "" : " ") + a;
    throw std::runtime_error("`" + cmd + "` failed (exit " + std::to_string(r.code)
                             + "): " + r.err);
  }
}

void netns_net::enter_client() {
  if (saved_ns_ < 0) {
    saved_ns_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (saved_ns_ < 0)
      throw std::runtime_error("cannot open /proc/thread-self/ns/net");
  }
  auto path = "/var/run/netns/" + client_ns_;
  auto fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw std::runtime_error("cannot open " + path);
  auto rc = ::setns(fd, CLONE_NEWNET);
  ::close(fd);
  if (rc != 0)
    throw std::runtime_error("setns into " + client_ns_ + " failed");
}

void netns_net::leave_client() {
  if (saved_ns_ < 0)
    return;
  ::setns(saved_ns_, CLONE_NEWNET);
  ::close(saved_ns_);
  saved_ns_ = -1;
}

void netns_net::apply(const std::set<link>& cuts) {
  for (size_t i = 0; i < n_; ++i) {
    std::vector<size_t> before;
    std::vector<size_t> after;
    for (auto& [a, b] : cuts_)
      if (a == i)
        before.push_back(b);
    for (auto& [a, b] : cuts)
      if (a == i)
        after.push_back(b);
    if (before == after)
      continue;
    // One nft transaction per namespace: flush, then the new drops.
    auto file = dir_ + "/nft-m" + std::to_string(i) + ".nft";
    {
      std::ofstream out{file};
      out << "flush chain inet craft output\n";
      for (auto b : after)
        out << "add rule inet craft output ip daddr " << member_addr(b)
            << " drop\n";
    }
    sh({ip_binary(), "netns", "exec", member_ns_[i], nft_binary(), "-f",
        file});
  }
  cuts_ = cuts;
}

} // namespace raft::chaos
