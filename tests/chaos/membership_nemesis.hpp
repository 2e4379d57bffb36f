// The chaos test's membership nemesis (issue 12): while the other faults
// run, it changes the cluster the way an operator does, with the
// `raft-kv` CLI (docs/operations.md): it removes a random member (the
// leader too: thesis §4.2.2) and adds it back as a learner, then promotes
// it once it caught up (thesis §4.2.1), or transfers leadership to a
// random member (thesis §3.10). One member is out at a time. Every CLI
// call is counted as done (exit 0), refused (exit 1: nothing changed) or
// unknown (any other exit, or no answer in time).
//
// It runs on its own thread; nothing it does starts a member process, so
// it never touches member_procs (whose children must be started from one
// thread). Its decisions are a function of the seed; which of them the
// cluster accepts depends on the faults and the timing.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "schedule.hpp"

namespace raft::chaos {

class membership_nemesis {
public:
  /// The outcomes of one kind of CLI call.
  struct counts {
    size_t done = 0;
    size_t refused = 0;
    size_t unknown = 0;
  };

  /// Called (from the nemesis's thread) with one line per action.
  using tracer = std::function<void(const std::string&)>;

  /// `ids`: every member (HOST:PORT), the cluster the CLI is given.
  membership_nemesis(std::vector<std::string> ids, uint64_t seed, tracer trace);
  ~membership_nemesis();

  membership_nemesis(const membership_nemesis&) = delete;
  membership_nemesis& operator=(const membership_nemesis&) = delete;

  /// Starts the thread: an action every 2-4 s until stop().
  void start();

  /// Stops after the current CLI call (at most a few seconds).
  void stop();

  /// Brings every member back as a voter (adding and promoting those that
  /// are out), with no learner left and no joint configuration. After the
  /// faults are healed. False if that did not happen within `timeout`;
  /// `state` then holds the last `member list`.
  bool restore(std::chrono::milliseconds timeout, std::string& state);

  /// Counts by call: "remove", "add", "promote", "transfer", "list".
  std::map<std::string, counts> totals() const;

  /// E.g. "remove 5/1/0, add 4/0/0, ... (done/refused/unknown)".
  std::string summary() const;

  /// Changes done (remove, add, promote, transfer with exit 0) and
  /// refused (exit 1).
  size_t done() const;
  size_t refused() const;

private:
  struct configuration {
    std::vector<std::string> voters;
    std::vector<std::string> learners;
    bool joint = false;
  };

  /// Runs `raft-kv` with `args` (the cluster and timeout added); counts the
  /// outcome under `what`; returns the exit code.
  int cli(const std::string& what, std::vector<std::string> args,
          int timeout_ms, std::string* out = nullptr);

  /// `raft-kv member list`, parsed; false if it did not answer.
  bool list(configuration& c, std::string* text = nullptr);

  /// Sleeps up to `ms`, in small steps; false once stop() was called.
  bool nap(double ms);

  void loop();
  /// If `c` is not every member as a voter: one step back towards it (add
  /// a missing member as a learner, or promote a learner); true if there
  /// was something to do (or to wait for: a joint configuration).
  bool repair(const configuration& c);
  /// Removes a random member, then adds it back and promotes it.
  void cycle();
  /// Transfers leadership to a random voter of `c`.
  void transfer(const configuration& c);

  std::vector<std::string> ids_;
  std::string cluster_;
  rng rng_;
  tracer trace_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mtx_;
  std::map<std::string, counts> counts_;
};

} // namespace raft::chaos
