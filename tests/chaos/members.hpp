// The chaos test's member processes: `raft-kv serve`, each in its network
// namespace (`ip netns exec NS raft-kv serve ...`: ip execs, so the pid is
// the member's and signals reach it) or on 127.0.0.1. Each member's stdout
// and stderr go to DIR/member<i>.log, with a line before each start.
//
// Children are started with PR_SET_PDEATHSIG = SIGKILL: if the test process
// dies (a ctest timeout), its members die with it. Start and stop them from
// one thread (the death signal follows the thread that started a child).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <sys/types.h>
#include <vector>

namespace raft::chaos {

class member_procs {
public:
  enum class state { stopped, running, paused };

  struct spec {
    /// `host:port`.
    std::string id;
    /// The network namespace to run in, or "" for the current one.
    std::string ns;
  };

  /// `extra` goes after `serve --id ID --members ... --data DIR/data<i>`.
  member_procs(std::vector<spec> members, std::string dir,
               std::vector<std::string> extra);
  ~member_procs();
  member_procs(const member_procs&) = delete;
  member_procs& operator=(const member_procs&) = delete;

  size_t size() const {
    return specs_.size();
  }
  const std::string& id(size_t i) const {
    return specs_[i].id;
  }
  std::vector<std::string> ids() const;
  state state_of(size_t i) const {
    return states_[i];
  }
  pid_t pid(size_t i) const {
    return pids_[i];
  }

  /// Starts member i (again: same data directory); `note` goes to its log.
  void start(size_t i, const std::string& note);
  /// SIGKILL and reap (a paused member too).
  void kill(size_t i);
  void pause(size_t i);
  void resume(size_t i);

  /// A member process that exited although nobody killed it.
  struct exit_info {
    size_t member = 0;
    /// "exit code 1", "signal 6".
    std::string how;
    /// Whether it had said "serving" since its last start.
    bool was_serving = false;
  };

  /// Reaps members that exited on their own (now stopped).
  std::vector<exit_info> reap_exited();

  std::string log_path(size_t i) const;
  /// The last `lines` lines of member i's log.
  std::string log_tail(size_t i, size_t lines) const;

private:
  std::vector<spec> specs_;
  std::string dir_;
  std::vector<std::string> extra_;
  std::vector<pid_t> pids_;
  std::vector<state> states_;
  std::vector<size_t> starts_;
  /// Size of the log at the last start: "serving" after it counts.
  std::vector<size_t> log_offset_;
};

} // namespace raft::chaos
