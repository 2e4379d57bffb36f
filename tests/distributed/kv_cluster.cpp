#include "kv_cluster.hpp"

#include <arpa/inet.h>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace raft::dist {

namespace fs = std::filesystem;

bool wait_until(const std::function<bool()>& pred, milliseconds timeout,
                milliseconds step) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    if (pred())
      return true;
    if (clock_type::now() >= deadline)
      return false;
    std::this_thread::sleep_for(step);
  }
}

uint16_t free_port() {
  auto fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)))
    throw std::runtime_error("cannot bind a port on 127.0.0.1");
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

temp_dir::temp_dir() {
  auto base = fs::temp_directory_path() / "raft-dist-XXXXXX";
  auto templ = base.string();
  if (!mkdtemp(templ.data()))
    throw std::runtime_error("mkdtemp failed");
  path = templ;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  if (!std::getenv("RAFT_KEEP_TEST_DIRS"))
    fs::remove_all(path, ec);
}

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// Starts `argv` with stdout and stderr appended to files.
pid_t spawn(const std::vector<std::string>& argv, const std::string& out,
            const std::string& err) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  auto rc = posix_spawn(&pid, argv[0].c_str(), &fa, nullptr, args.data(),
                        environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0)
    throw std::runtime_error("cannot start " + argv[0]);
  return pid;
}

/// Waits for `pid` until `timeout`; returns its exit code, or -1 (killed).
int reap(pid_t pid, milliseconds timeout) {
  int status = 0;
  auto done = wait_until(
    [&] { return waitpid(pid, &status, WNOHANG) == pid; }, timeout,
    milliseconds(2));
  if (!done) {
    ::kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::istringstream in{s};
  std::string item;
  while (std::getline(in, item, sep))
    out.push_back(item);
  return out;
}

} // namespace

run_result run(const std::vector<std::string>& argv, milliseconds timeout) {
  temp_dir tmp;
  auto out = tmp.path + "/out";
  auto err = tmp.path + "/err";
  auto pid = spawn(argv, out, err);
  run_result r;
  r.code = reap(pid, timeout);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

std::string raft_kv_binary() {
  return RAFT_KV_BINARY;
}

std::string make_certs_script() {
  return RAFT_MAKE_CERTS;
}

std::string certs::cert(const std::string& id) const {
  auto f = id;
  for (auto& c : f)
    if (c == ':')
      c = '_';
  return dir + "/" + f + ".pem";
}

std::string certs::key(const std::string& id) const {
  auto p = cert(id);
  return p.substr(0, p.size() - 4) + ".key";
}

std::vector<std::string> certs::options(const std::string& id) const {
  return {"--tls-cert", cert(id), "--tls-key", key(id), "--tls-ca", ca()};
}

certs make_certs(const std::string& dir, const std::vector<std::string>& ids) {
  std::vector<std::string> argv{"/bin/bash", make_certs_script(), dir};
  argv.insert(argv.end(), ids.begin(), ids.end());
  auto r = run(argv, milliseconds(60000));
  if (r.code != 0)
    throw std::runtime_error("make-certs.sh failed: " + r.err);
  return certs{dir};
}

// -- kv_cluster -----------------------------------------------------------------

kv_cluster::kv_cluster(options opts) : opts_(std::move(opts)) {
  for (size_t i = 0; i < opts_.size; ++i)
    ids_.push_back("127.0.0.1:" + std::to_string(free_port()));
  pids_.assign(opts_.size, -1);
  boot_size_ = ids_.size();
  if (opts_.tls) {
    // Certificates for these ids (and the default client) in the CA dir.
    auto ids = ids_;
    ids.push_back("client");
    make_certs(opts_.tls->dir, ids);
  }
}

kv_cluster::~kv_cluster() {
  for (auto pid : pids_)
    if (pid > 0)
      ::kill(pid, SIGKILL);
  for (auto pid : pids_)
    if (pid > 0)
      waitpid(pid, nullptr, 0);
}

std::string kv_cluster::members() const {
  std::string s;
  for (size_t i = 0; i < boot_size_; ++i)
    s += (s.empty() ? "" : ",") + ids_[i];
  return s;
}

std::string kv_cluster::list(const std::vector<size_t>& members) const {
  std::string s;
  for (auto i : members)
    s += (s.empty() ? "" : ",") + ids_.at(i);
  return s;
}

size_t kv_cluster::add_member() {
  ids_.push_back("127.0.0.1:" + std::to_string(free_port()));
  pids_.push_back(-1);
  if (opts_.tls)
    make_certs(opts_.tls->dir, {ids_.back()});
  return ids_.size() - 1;
}

void kv_cluster::wipe(size_t i) {
  if (pids_[i] > 0)
    throw std::logic_error("wipe a running member");
  fs::remove_all(dir() + "/data" + std::to_string(i));
}

void kv_cluster::start(size_t i) {
  start_with(i, members(), false);
}

void kv_cluster::start_with(size_t i, const std::string& members, bool join) {
  if (pids_[i] > 0)
    throw std::logic_error("member already running");
  std::vector<std::string> argv{raft_kv_binary(), "serve",   "--id",
                                ids_[i],          "--members", members,
                                "--data",         dir() + "/data" + std::to_string(i),
                                "--heartbeat",    std::to_string(opts_.heartbeat_ms)};
  if (opts_.snapshot_threshold >= 0) {
    argv.push_back("--snapshot-threshold");
    argv.push_back(std::to_string(opts_.snapshot_threshold));
  }
  if (opts_.tls) {
    auto t = opts_.tls->options(ids_[i]);
    argv.insert(argv.end(), t.begin(), t.end());
  }
  if (!opts_.acl.empty()) {
    std::string acl;
    for (auto& a : opts_.acl)
      acl += (acl.empty() ? "" : ",") + a;
    argv.push_back("--acl");
    argv.push_back(acl);
  }
  argv.insert(argv.end(), opts_.serve_args.begin(), opts_.serve_args.end());
  if (join)
    argv.push_back("--join");
  auto log = dir() + "/member" + std::to_string(i) + ".log";
  pids_[i] = spawn(argv, log, log);
}

void kv_cluster::start_all() {
  for (size_t i = 0; i < size(); ++i)
    start(i);
}

void kv_cluster::kill(size_t i) {
  if (pids_[i] <= 0)
    return;
  ::kill(pids_[i], SIGKILL);
  waitpid(pids_[i], nullptr, 0);
  pids_[i] = -1;
}

int kv_cluster::terminate(size_t i, milliseconds timeout) {
  if (pids_[i] <= 0)
    return -1;
  ::kill(pids_[i], SIGTERM);
  auto code = reap(pids_[i], timeout);
  pids_[i] = -1;
  return code;
}

void kv_cluster::pause(size_t i) {
  if (pids_[i] > 0)
    ::kill(pids_[i], SIGSTOP);
}

void kv_cluster::resume(size_t i) {
  if (pids_[i] > 0)
    ::kill(pids_[i], SIGCONT);
}

std::string kv_cluster::log(size_t i) const {
  return slurp(dir() + "/member" + std::to_string(i) + ".log");
}

std::vector<std::string> kv_cluster::tls_options(const std::string& as) const {
  if (!opts_.tls)
    return {};
  return opts_.tls->options(as.empty() ? "client" : as);
}

run_result kv_cluster::cli(const std::string& cmd,
                           const std::vector<std::string>& args,
                           const std::string& cluster, const std::string& as,
                           milliseconds timeout) const {
  std::vector<std::string> argv{raft_kv_binary(), cmd, "--cluster",
                                cluster.empty() ? members() : cluster};
  auto t = tls_options(as);
  argv.insert(argv.end(), t.begin(), t.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, timeout);
}

std::map<std::string, member_line>
kv_cluster::status(const std::string& as) const {
  std::map<std::string, member_line> result;
  // The running members (a dead one would only cost the timeout), the
  // ones added later included.
  std::vector<size_t> up;
  for (size_t i = 0; i < size(); ++i)
    if (running(i))
      up.push_back(i);
  auto r = cli("status", {"--timeout", "2000"},
               up.empty() ? std::string{} : list(up), as);
  for (auto& line : split(r.out, '\n')) {
    auto f = split(line, ' ');
    if (f.size() < 6 || f[2].rfind("term=", 0) != 0)
      continue; // "ID unreachable (...)"
    member_line m;
    m.id = f[0];
    m.role = f[1];
    m.term = std::stoull(f[2].substr(5));
    m.leader = f[3].substr(7);
    m.commit = std::stoull(f[4].substr(7));
    m.applied = std::stoull(f[5].substr(8));
    for (size_t k = 6; k < f.size(); ++k) {
      auto eq = f[k].find('=');
      auto key = f[k].substr(0, eq);
      auto value = eq == std::string::npos ? "" : f[k].substr(eq + 1);
      if (key == "voters")
        m.voters = value;
      else if (key == "learners")
        m.learners = value;
      else if (key == "old")
        m.old = value;
    }
    result.emplace(m.id, m);
  }
  return result;
}

member_line kv_cluster::status_of(const std::string& id,
                                  const std::string& as,
                                  milliseconds timeout) const {
  member_line result;
  auto ok = wait_until(
    [&] {
      auto st = status(as);
      auto i = st.find(id);
      if (i == st.end())
        return false;
      result = i->second;
      return true;
    },
    timeout, milliseconds(50));
  if (!ok)
    throw std::runtime_error("no status from " + id);
  return result;
}

size_t kv_cluster::index_of(const std::string& id) const {
  for (size_t i = 0; i < ids_.size(); ++i)
    if (ids_[i] == id)
      return i;
  throw std::out_of_range("no member " + id);
}

std::optional<size_t> kv_cluster::await_leader(milliseconds timeout,
                                                const std::string& as) const {
  std::optional<size_t> found;
  wait_until(
    [&] {
      auto st = status(as);
      std::string leader;
      for (size_t i = 0; i < size(); ++i) {
        if (!running(i))
          continue;
        auto it = st.find(ids_[i]);
        if (it == st.end() || it->second.leader == "-")
          return false;
        if (leader.empty())
          leader = it->second.leader;
        else if (leader != it->second.leader)
          return false;
      }
      if (leader.empty())
        return false;
      auto l = st.find(leader);
      if (l == st.end() || l->second.role != "leader")
        return false;
      found = index_of(leader);
      return true;
    },
    timeout, milliseconds(50));
  return found;
}

bool kv_cluster::await_applied(uint64_t index, milliseconds timeout,
                               const std::string& as) const {
  return wait_until(
    [&] {
      auto st = status(as);
      for (size_t i = 0; i < size(); ++i) {
        if (!running(i))
          continue;
        auto it = st.find(ids_[i]);
        if (it == st.end() || it->second.applied < index)
          return false;
      }
      return true;
    },
    timeout, milliseconds(50));
}

} // namespace raft::dist
