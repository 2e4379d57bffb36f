#include "members.hpp"

#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kv_cluster.hpp"
#include "netns.hpp"

extern char** environ;

namespace raft::chaos {

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string describe(int status) {
  if (WIFEXITED(status))
    return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

} // namespace

member_procs::member_procs(std::vector<spec> members, std::string dir,
                           std::vector<std::string> extra)
  : specs_(std::move(members)), dir_(std::move(dir)), extra_(std::move(extra)) {
  pids_.assign(specs_.size(), -1);
  states_.assign(specs_.size(), state::stopped);
  starts_.assign(specs_.size(), 0);
  log_offset_.assign(specs_.size(), 0);
}

member_procs::~member_procs() {
  for (size_t i = 0; i < size(); ++i)
    kill(i);
}

std::vector<std::string> member_procs::ids() const {
  std::vector<std::string> out;
  for (auto& s : specs_)
    out.push_back(s.id);
  return out;
}

std::string member_procs::log_path(size_t i) const {
  return dir_ + "/member" + std::to_string(i) + ".log";
}

void member_procs::start(size_t i, const std::string& note) {
  if (pids_[i] > 0)
    throw std::logic_error("member already running");
  std::string members;
  for (auto& s : specs_)
    members += (members.empty() ? "" : ",") + s.id;
  std::vector<std::string> argv;
  if (!specs_[i].ns.empty())
    argv = {ip_binary(), "netns", "exec", specs_[i].ns};
  for (auto& a : std::vector<std::string>{dist::raft_kv_binary(), "serve",
                                          "--id", specs_[i].id, "--members",
                                          members, "--data",
                                          dir_ + "/data" + std::to_string(i)})
    argv.push_back(a);
  argv.insert(argv.end(), extra_.begin(), extra_.end());
  auto log = log_path(i);
  {
    std::ofstream out{log, std::ios::app};
    out << "=== chaos: start #" << ++starts_[i] << " " << note << "\n";
  }
  struct stat st{};
  log_offset_[i] = ::stat(log.c_str(), &st) == 0 ? static_cast<size_t>(st.st_size)
                                                  : 0;
  // Everything the child needs is prepared before fork(): after it, only
  // async-signal-safe calls.
  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  auto fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                   0644);
  auto null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0 || null < 0)
    throw std::runtime_error("cannot open " + log);
  auto parent = ::getpid();
  auto pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
      ::_exit(127);
    ::dup2(null, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execve(args[0], args.data(), environ);
    ::_exit(127);
  }
  ::close(fd);
  ::close(null);
  if (pid < 0)
    throw std::runtime_error("fork failed");
  pids_[i] = pid;
  states_[i] = state::running;
}

void member_procs::kill(size_t i) {
  if (pids_[i] <= 0)
    return;
  ::kill(pids_[i], SIGKILL);
  ::waitpid(pids_[i], nullptr, 0);
  pids_[i] = -1;
  states_[i] = state::stopped;
}

void member_procs::pause(size_t i) {
  if (pids_[i] <= 0 || states_[i] != state::running)
    return;
  ::kill(pids_[i], SIGSTOP);
  states_[i] = state::paused;
}

void member_procs::resume(size_t i) {
  if (pids_[i] <= 0 || states_[i] != state::paused)
    return;
  ::kill(pids_[i], SIGCONT);
  states_[i] = state::running;
}

std::vector<member_procs::exit_info> member_procs::reap_exited() {
  std::vector<exit_info> out;
  for (size_t i = 0; i < size(); ++i) {
    if (pids_[i] <= 0)
      continue;
    int status = 0;
    if (::waitpid(pids_[i], &status, WNOHANG) != pids_[i])
      continue;
    exit_info e;
    e.member = i;
    e.how = describe(status);
    auto text = slurp(log_path(i));
    e.was_serving = text.find("raft-kv: serving", log_offset_[i])
                    != std::string::npos;
    pids_[i] = -1;
    states_[i] = state::stopped;
    out.push_back(std::move(e));
  }
  return out;
}

std::string member_procs::log_tail(size_t i, size_t lines) const {
  auto text = slurp(log_path(i));
  size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n')
    --pos;
  for (size_t k = 0; k < lines && pos > 0; ++k) {
    auto nl = text.rfind('\n', pos - 1);
    if (nl == std::string::npos) {
      pos = 0;
      break;
    }
    pos = nl;
  }
  if (pos > 0)
    ++pos;
  return text.substr(pos);
}

} // namespace raft::chaos
