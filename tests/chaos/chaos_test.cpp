// The real-process chaos test (labels `chaos;distributed`, and `long`):
// 3 or 5 `raft-kv serve` processes, concurrent clients, and a seeded fault
// schedule of SIGKILLs and restarts, SIGSTOPs and SIGCONTs and (as root,
// with network namespaces) partitions. The history goes through the
// linearizability checker of tests/support. docs/testing.md, "Real
// processes: the chaos test", describes it. Options after `--`:
//
//   chaos_test --run_test=chaos -- --seconds 40
//   chaos_test --run_test=chaos -- --seed 1234 --seconds 40 --members 3
//
//   --seed S          the fault schedule's seed (default: drawn, printed)
//   --seconds T       length of the fault phase (default 40)
//   --members K       3 or 5 (default 3)
//   --clients C       concurrent clients (default 2 per member)
//   --keys K          keys the clients use (default 4)
//   --no-netns        all members on 127.0.0.1, no partitions
//   --snapshots N     --snapshot-threshold of the members (default: drawn
//                     from the seed: raft-kv's default or 200)
//   --check-seconds S time limit of the linearizability check (default 120)
//   --corrupt-history replaces a read's value in the recorded history with
//                     one never written before checking it: the run must
//                     fail (shows what a failure prints)
//   --no-membership   no membership nemesis (by default it removes and
//                     re-adds members and transfers leadership with the
//                     raft-kv CLI while the other faults run)
//   --verbose         prints the plan and the fault trace as it happens
#define BOOST_TEST_MODULE chaos
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scoped_actor.hpp"

#include "raft/client.hpp"
#include "raft/errc.hpp"
#include "raft/remote.hpp"

#include "kv_client.hpp"
#include "kv_cluster.hpp"
#include "kv_command.hpp"
#include "linearizability.hpp"
#include "members.hpp"
#include "membership_nemesis.hpp"
#include "netns.hpp"
#include "schedule.hpp"

namespace lin = raft::test::lin;
namespace fs = std::filesystem;
using namespace raft::chaos;
using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

namespace {

// -- options ------------------------------------------------------------------------

struct cli {
  uint64_t seed = 0;
  double seconds = 40;
  size_t members = 3;
  size_t clients = 0;
  size_t keys = 4;
  bool netns = true;
  int64_t snapshots = -1;
  double check_seconds = 120;
  bool corrupt = false;
  bool verbose = false;
  bool membership = true;

  cli() {
    std::random_device rd;
    seed = (static_cast<uint64_t>(rd()) << 16 ^ rd()) % 1000000000 + 1;
    auto& suite = boost::unit_test::framework::master_test_suite();
    for (int i = 1; i < suite.argc; ++i) {
      std::string arg = suite.argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= suite.argc)
          throw std::invalid_argument("missing value after " + arg);
        return suite.argv[++i];
      };
      if (arg == "--seed")
        seed = std::stoull(next());
      else if (arg == "--seconds")
        seconds = std::stod(next());
      else if (arg == "--members")
        members = std::stoul(next());
      else if (arg == "--clients")
        clients = std::stoul(next());
      else if (arg == "--keys")
        keys = std::stoul(next());
      else if (arg == "--no-netns")
        netns = false;
      else if (arg == "--snapshots")
        snapshots = std::stoll(next());
      else if (arg == "--check-seconds")
        check_seconds = std::stod(next());
      else if (arg == "--corrupt-history")
        corrupt = true;
      else if (arg == "--verbose")
        verbose = true;
      else if (arg == "--no-membership")
        membership = false;
      else
        throw std::invalid_argument("unknown option " + arg);
    }
    if (members != 3 && members != 5)
      throw std::invalid_argument("--members must be 3 or 5");
    if (clients == 0)
      clients = 2 * members;
    if (keys == 0)
      keys = 1;
  }

  std::string replay() const {
    std::ostringstream s;
    s << "chaos_test --run_test=chaos -- --seed " << seed << " --seconds "
      << seconds << " --members " << members;
    if (!netns)
      s << " --no-netns";
    if (snapshots >= 0)
      s << " --snapshots " << snapshots;
    if (clients != 2 * members)
      s << " --clients " << clients;
    if (keys != 4)
      s << " --keys " << keys;
    if (corrupt)
      s << " --corrupt-history";
    if (!membership)
      s << " --no-membership";
    return s.str();
  }
};

std::string fmt(const char* format, double x) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, x);
  return buf;
}

// -- the test's directory -------------------------------------------------------------

/// A fresh directory under $TMPDIR; removed at the end unless the run failed
/// (or RAFT_KEEP_TEST_DIRS is set).
struct chaos_dir {
  chaos_dir() {
    auto templ = (fs::temp_directory_path() / "raft-chaos-XXXXXX").string();
    if (!mkdtemp(templ.data()))
      throw std::runtime_error("mkdtemp failed");
    path = templ;
  }
  ~chaos_dir() {
    std::error_code ec;
    if (!keep && !std::getenv("RAFT_KEEP_TEST_DIRS"))
      fs::remove_all(path, ec);
  }
  std::string path;
  bool keep = false;
};

/// A port on 127.0.0.1 below the ephemeral range (so no outgoing connection
/// takes it while its member is down) that nothing listens on now.
uint16_t pick_port(raft::chaos::rng& r, std::set<uint16_t>& taken) {
  unsigned low = 32768;
  std::ifstream range{"/proc/sys/net/ipv4/ip_local_port_range"};
  range >> low;
  unsigned lo = 20000;
  unsigned hi = low > lo + 1000 ? low - 1 : 30999;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    auto port = static_cast<uint16_t>(lo + r.below(hi - lo));
    if (taken.count(port))
      continue;
    auto fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    bool free = fd >= 0
                && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr))
                     == 0;
    if (fd >= 0)
      ::close(fd);
    if (free) {
      taken.insert(port);
      return port;
    }
  }
  throw std::runtime_error("no free port on 127.0.0.1");
}

// -- the history ----------------------------------------------------------------------

/// Operations by outcome, as the clients saw them.
struct op_counts {
  size_t ok = 0;
  /// ok with a definite negative reply (not_found, mismatch): counted in ok.
  size_t negative = 0;
  size_t failed = 0;
  size_t unknown = 0;
  size_t queries = 0;
  size_t log_reads = 0;

  size_t total() const {
    return ok + failed + unknown;
  }
};

/// The shared, thread-safe recorder: the history plus what was written to
/// each key (for cas's expected values).
class recorder {
public:
  explicit recorder(clock_type::time_point t0) : t0_(t0) {
    // nop
  }

  uint64_t now_us() const {
    return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now()
                                                            - t0_)
        .count());
  }

  lin::history::id invoke(uint64_t client, lin::call c) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (c.kind == lin::op_kind::put || c.kind == lin::op_kind::cas)
      written_[c.key].push_back(c.value);
    return hist_.invoke(client, now_us(), std::move(c));
  }

  /// Records how operation `id` (of kind `kind`) ended.
  void finish(lin::history::id id, lin::op_kind kind, const kv::result& r,
              bool query) {
    auto t = now_us();
    std::lock_guard<std::mutex> guard{mtx_};
    if (query)
      ++counts_.queries;
    switch (r.outcome) {
      case kv::outcome::ok:
        ++counts_.ok;
        hist_.complete(id, t,
                       kind == lin::op_kind::get ? lin::response::found(r.value)
                                                 : lin::response::ok());
        break;
      case kv::outcome::negative:
        ++counts_.ok;
        ++counts_.negative;
        hist_.complete(id, t,
                       r.message == kv::mismatch ? lin::response::mismatch()
                                                 : lin::response::not_found());
        break;
      case kv::outcome::failed:
        ++counts_.failed;
        hist_.fail(id, t);
        break;
      case kv::outcome::unknown:
        ++counts_.unknown;
        break;
    }
  }

  void count_log_read() {
    std::lock_guard<std::mutex> guard{mtx_};
    ++counts_.log_reads;
  }

  /// One of the last three values written to `key`, or "".
  std::string recent_value(const std::string& key, raft::chaos::rng& r) {
    std::lock_guard<std::mutex> guard{mtx_};
    auto& xs = written_[key];
    if (xs.empty())
      return {};
    auto from = xs.size() > 3 ? xs.size() - 3 : 0;
    return xs[from + r.below(xs.size() - from)];
  }

  lin::history snapshot() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return hist_;
  }

  op_counts counts() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return counts_;
  }

private:
  clock_type::time_point t0_;
  mutable std::mutex mtx_;
  lin::history hist_;
  std::map<std::string, std::vector<std::string>> written_;
  op_counts counts_;
};

/// A get through the log (a command, not a ReadIndex query), with the
/// client library's rules for outcomes.
kv::result log_get(caf::actor_system& sys, kv::client& c,
                   const std::string& key, caf::timespan timeout) {
  kv::result r;
  caf::scoped_actor self{sys};
  self
    ->request(c.handle(), timeout + std::chrono::seconds(5),
              raft::append_atom::value, kv::get_cmd(key))
    .receive(
      [&](raft::append_reply& reply) {
        if (reply.apply_error.empty()) {
          r.outcome = kv::outcome::ok;
          r.value = std::move(reply.result);
        } else if (reply.apply_error == kv::not_found) {
          r.outcome = kv::outcome::negative;
          r.message = reply.apply_error;
        } else {
          r.outcome = kv::outcome::failed;
          r.message = reply.apply_error;
        }
      },
      [&](caf::error& err) {
        // A get changes nothing: unknown or failed, the checker drops it.
        r.outcome = raft::client_outcome_unknown(err) ? kv::outcome::unknown
                                                      : kv::outcome::failed;
        r.message = sys.render(err);
      });
  return r;
}

/// One client: one operation at a time, until `stop`.
void client_loop(size_t id, uint64_t seed, caf::actor_system& sys,
                 kv::client& c, caf::timespan timeout, size_t keys,
                 recorder& rec, const std::atomic<bool>& stop) {
  raft::chaos::rng r{seed * 1000003 + id};
  std::map<std::string, std::string> seen; // last value read or written
  uint64_t counter = 0;
  while (!stop.load()) {
    auto key = "k" + std::to_string(r.below(keys));
    auto value = "c" + std::to_string(id) + "." + std::to_string(++counter);
    auto x = r.below(100);
    lin::call call;
    kv::result res;
    bool query = false;
    if (x < 35) {
      call = lin::call::put(key, value);
      auto hid = rec.invoke(id, call);
      res = c.put(key, value);
      rec.finish(hid, call.kind, res, false);
      if (res.outcome == kv::outcome::ok)
        seen[key] = value;
    } else if (x < 65) {
      call = lin::call::get(key);
      query = r.below(3) != 0; // two thirds ReadIndex, one third the log
      auto hid = rec.invoke(id, call);
      if (query) {
        res = c.get(key);
      } else {
        rec.count_log_read();
        res = log_get(sys, c, key, timeout);
      }
      rec.finish(hid, call.kind, res, query);
      if (res.outcome == kv::outcome::ok)
        seen[key] = res.value;
    } else if (x < 88) {
      std::string expected;
      auto y = r.below(10);
      if (y < 6 && seen.count(key))
        expected = seen[key];
      else if (y < 9)
        expected = rec.recent_value(key, r);
      if (expected.empty())
        expected = "never";
      call = lin::call::cas(key, expected, value);
      auto hid = rec.invoke(id, call);
      res = c.cas(key, expected, value);
      rec.finish(hid, call.kind, res, false);
      if (res.outcome == kv::outcome::ok)
        seen[key] = value;
      else if (res.outcome == kv::outcome::negative
               && res.message == kv::mismatch)
        seen[key] = res.value;
    } else {
      call = lin::call::del(key);
      auto hid = rec.invoke(id, call);
      res = c.del(key);
      rec.finish(hid, call.kind, res, false);
      if (res.outcome == kv::outcome::ok)
        seen.erase(key);
    }
    // Think a little; back off when the cluster refuses.
    auto pause = res.outcome == kv::outcome::failed ? 50 + r.below(50)
                                                    : 2 + r.below(24);
    std::this_thread::sleep_for(milliseconds(pause));
  }
}

// -- one run --------------------------------------------------------------------------

struct run_result {
  bool ok = true;
  std::vector<std::string> failures;
  std::string summary;
};

class chaos_run {
public:
  explicit chaos_run(const cli& args) : args_(args), t0_(clock_type::now()) {
    faults_.fill(0);
  }

  run_result run();

private:
  double now() const {
    return std::chrono::duration<double>(clock_type::now() - t0_).count();
  }

  /// Also called by the membership nemesis's thread.
  void trace(const std::string& what) {
    auto line = fmt("  [%8.3f s] ", now()) + what;
    std::lock_guard<std::mutex> guard{trace_mtx_};
    trace_.push_back(line);
    if (args_.verbose)
      std::cout << line << std::endl;
  }

  void fail(const std::string& why) {
    result_.ok = false;
    result_.failures.push_back(why);
    trace("FAILURE: " + why);
  }

  std::string name(size_t i) const {
    return "m" + std::to_string(i) + " (" + procs_->id(i) + ")";
  }

  /// The member that leads with the highest term among those answering.
  std::optional<size_t> find_leader(std::string* note = nullptr,
                                    uint64_t* term = nullptr);
  /// leader_churn: kills a leader of a term not seen before.
  void churn_step();
  /// Builds the namespaces (or says why not); the members' ids.
  std::vector<member_procs::spec> setup_network();
  /// After the faults: heals, resumes and restarts everyone.
  void recover();
  /// A final write, convergence, and a last read of every key.
  void settle(recorder& rec, kv::client& c);
  /// The checker must reject a copy of `hist` in which a read returns a
  /// value never written.
  void self_check(const lin::history& hist, uint64_t end_us);
  /// `preferred` if it is running, else the first running one of `order`.
  std::optional<size_t> pick_running(std::optional<size_t> preferred,
                                     const std::vector<size_t>& order);
  void apply(const planned_fault& f);
  /// Carries out `plan` (times relative to `from`) for args_.seconds.
  void run_faults(const std::vector<planned_fault>& plan, double from);
  void start(size_t i, const std::string& why);
  void run_due();
  void reap();
  bool converged(std::string& state);
  std::string report(const std::string& checker_text);

  struct pending {
    double at;
    enum { restart, resume, heal } what;
    size_t member;
    uint64_t generation;
  };

  const cli& args_;
  clock_type::time_point t0_;
  run_result result_;
  std::mutex trace_mtx_;
  std::vector<std::string> trace_;
  std::array<size_t, fault_kinds> faults_;
  std::unique_ptr<chaos_dir> dir_;
  std::unique_ptr<netns_net> net_;
  std::unique_ptr<member_procs> procs_;
  // Destroyed before the members and the namespaces (reverse order), and
  // the clients before their actor system.
  std::unique_ptr<caf::actor_system> sys_;
  std::unique_ptr<kv::client> status_;
  std::vector<pending> pending_;
  /// Removes, re-adds and promotes members, transfers leadership.
  std::unique_ptr<membership_nemesis> nemesis_;
  uint64_t net_generation_ = 0;
  // leader_churn, while now() < churn_until_.
  double churn_until_ = -1;
  double churn_polled_ = 0;
  std::vector<double> churn_delays_;
  size_t churn_next_ = 0;
  uint64_t churn_term_ = 0;
  size_t churn_kills_ = 0;
  std::string mode_;
};

std::optional<size_t> chaos_run::find_leader(std::string* note,
                                             uint64_t* term_out) {
  auto ids = procs_->ids();
  auto st = status_->statuses(ids);
  std::optional<size_t> best;
  uint64_t term = 0;
  for (size_t i = 0; i < st.size(); ++i) {
    if (!st[i] || st[i]->role != raft::role::leader)
      continue;
    if (!best || st[i]->term > term) {
      best = i;
      term = st[i]->term;
    }
  }
  if (note)
    *note = best ? "leader of term " + std::to_string(term) : "no leader seen";
  if (term_out)
    *term_out = term;
  return best;
}

std::optional<size_t>
chaos_run::pick_running(std::optional<size_t> preferred,
                        const std::vector<size_t>& order) {
  using st = member_procs::state;
  if (preferred && procs_->state_of(*preferred) == st::running)
    return preferred;
  for (auto i : order)
    if (procs_->state_of(i) == st::running)
      return i;
  return std::nullopt;
}

void chaos_run::start(size_t i, const std::string& why) {
  procs_->start(i, fmt("at %.3f s: ", now()) + why);
  trace("start " + name(i) + " (" + why + "), pid "
        + std::to_string(procs_->pid(i)));
}

void chaos_run::apply(const planned_fault& f) {
  using st = member_procs::state;
  auto count = [&] { ++faults_[static_cast<size_t>(f.kind)]; };
  auto plan_text = "plan: " + f.describe();
  switch (f.kind) {
    case fault::kill:
    case fault::kill_leader:
    case fault::pause:
    case fault::pause_leader: {
      bool leader = f.kind == fault::kill_leader
                    || f.kind == fault::pause_leader;
      std::string note;
      std::optional<size_t> target;
      if (leader) {
        auto l = find_leader(&note);
        target = pick_running(l, f.members);
        if (l && target != l)
          note += " (m" + std::to_string(*l) + ", not running)";
      } else if (procs_->state_of(f.members[0]) == st::running) {
        target = f.members[0];
      }
      if (!target) {
        trace(plan_text + ": skipped (target not running)");
        return;
      }
      auto i = *target;
      bool kill = f.kind == fault::kill || f.kind == fault::kill_leader;
      if (kill) {
        trace("SIGKILL " + name(i) + (leader ? ", " + note : "")
              + fmt(", restart in %.2f s", f.duration));
        procs_->kill(i);
        pending_.push_back({now() + f.duration, pending::restart, i, 0});
      } else {
        trace("SIGSTOP " + name(i) + (leader ? ", " + note : "")
              + fmt(", SIGCONT in %.2f s", f.duration));
        procs_->pause(i);
        pending_.push_back({now() + f.duration, pending::resume, i, 0});
      }
      count();
      return;
    }
    case fault::majority_down: {
      std::string who;
      for (auto i : f.members) {
        if (procs_->state_of(i) != st::running)
          continue;
        who += " m" + std::to_string(i);
        if (f.hard) {
          procs_->kill(i);
          pending_.push_back({now() + f.duration, pending::restart, i, 0});
        } else {
          procs_->pause(i);
          pending_.push_back({now() + f.duration, pending::resume, i, 0});
        }
      }
      trace(std::string{f.hard ? "SIGKILL" : "SIGSTOP"} + " a majority:" + who
            + fmt(", back in %.2f s", f.duration));
      count();
      return;
    }
    case fault::partition:
    case fault::one_way:
    case fault::cut_link:
    case fault::isolate_leader: {
      if (!net_)
        return;
      std::set<netns_net::link> cuts(f.cuts.begin(), f.cuts.end());
      std::string text = f.describe();
      if (f.kind == fault::isolate_leader) {
        std::string note;
        auto l = find_leader(&note);
        auto target = l ? l : std::optional<size_t>{f.members[0]};
        for (size_t j = 0; j < procs_->size(); ++j)
          if (j != *target) {
            cuts.emplace(*target, j);
            cuts.emplace(j, *target);
          }
        text = "isolate m" + std::to_string(*target) + " (" + note + ")"
               + fmt(" for %.2f s", f.duration);
      }
      net_->apply(cuts);
      ++net_generation_;
      pending_.push_back({now() + f.duration, pending::heal, 0,
                          net_generation_});
      trace(text);
      count();
      return;
    }
    case fault::leader_churn:
      churn_until_ = now() + f.duration;
      churn_delays_ = f.delays;
      churn_term_ = 0;
      trace(f.describe());
      count();
      return;
    case fault::unexpected_exit:
      return;
  }
}

void chaos_run::churn_step() {
  using st = member_procs::state;
  churn_polled_ = now();
  uint64_t term = 0;
  auto l = find_leader(nullptr, &term);
  if (!l || term <= churn_term_)
    return;
  churn_term_ = term;
  size_t down = 0;
  for (size_t i = 0; i < procs_->size(); ++i)
    if (procs_->state_of(i) != st::running)
      ++down;
  if (procs_->state_of(*l) != st::running
      || down >= (procs_->size() - 1) / 2 || churn_delays_.empty())
    return;
  auto delay = churn_delays_[churn_next_++ % churn_delays_.size()];
  trace("SIGKILL " + name(*l) + ", new leader of term " + std::to_string(term)
        + " (churn)" + fmt(", restart in %.2f s", delay));
  procs_->kill(*l);
  ++churn_kills_;
  pending_.push_back({now() + delay, pending::restart, *l, 0});
}

void chaos_run::run_faults(const std::vector<planned_fault>& plan,
                           double from) {
  size_t next = 0;
  while (now() < from + args_.seconds) {
    reap();
    run_due();
    while (next < plan.size() && from + plan[next].at <= now())
      apply(plan[next++]);
    if (now() < churn_until_ && now() - churn_polled_ >= 0.15)
      churn_step();
    double wake = from + args_.seconds;
    if (next < plan.size())
      wake = std::min(wake, from + plan[next].at);
    for (auto& p : pending_)
      wake = std::min(wake, p.at);
    auto nap = std::clamp(wake - now(), 0.0, 0.05);
    std::this_thread::sleep_for(std::chrono::duration<double>(nap));
  }
}

void chaos_run::run_due() {
  using st = member_procs::state;
  auto t = now();
  std::vector<pending> later;
  std::vector<pending> due;
  for (auto& p : pending_)
    (p.at <= t ? due : later).push_back(p);
  pending_ = std::move(later);
  std::sort(due.begin(), due.end(),
            [](const pending& a, const pending& b) { return a.at < b.at; });
  for (auto& p : due) {
    switch (p.what) {
      case pending::restart:
        if (procs_->state_of(p.member) == st::stopped)
          start(p.member, "restart");
        break;
      case pending::resume:
        if (procs_->state_of(p.member) == st::paused) {
          procs_->resume(p.member);
          trace("SIGCONT " + name(p.member));
        }
        break;
      case pending::heal:
        if (net_ && p.generation == net_generation_ && !net_->cuts().empty()) {
          net_->heal();
          trace("heal the network");
        }
        break;
    }
  }
}

void chaos_run::reap() {
  for (auto& e : procs_->reap_exited()) {
    ++faults_[static_cast<size_t>(fault::unexpected_exit)];
    trace("EXIT of " + name(e.member) + " on its own: " + e.how
          + (e.was_serving ? " (it was serving)" : " (before serving)")
          + "; restart in 1 s");
    if (e.was_serving)
      fail("member " + name(e.member) + " exited on its own while serving ("
           + e.how + ")");
    pending_.push_back({now() + 1.0, pending::restart, e.member, 0});
  }
}

bool chaos_run::converged(std::string& state) {
  auto ids = procs_->ids();
  auto st = status_->statuses(ids);
  std::ostringstream out;
  bool ok = true;
  std::optional<uint64_t> commit;
  std::string leader;
  for (size_t i = 0; i < st.size(); ++i) {
    if (!st[i]) {
      out << "  m" << i << " " << ids[i] << ": no status\n";
      ok = false;
      continue;
    }
    auto& s = *st[i];
    out << "  m" << i << " " << s.id << ": " << raft::to_string(s.role)
        << " term=" << s.term << " leader=" << (s.leader.empty() ? "-" : s.leader)
        << " commit=" << s.commit_index << " applied=" << s.last_applied
        << " last=" << s.last_log_index << "\n";
    if (s.leader.empty() || (!leader.empty() && s.leader != leader))
      ok = false;
    leader = s.leader;
    if (commit && *commit != s.commit_index)
      ok = false;
    commit = s.commit_index;
    if (s.last_applied != s.commit_index || s.last_log_index != s.commit_index)
      ok = false;
  }
  state = out.str();
  return ok;
}

std::string chaos_run::report(const std::string& checker_text) {
  std::ostringstream out;
  out << "CHAOS FAILED: seed " << args_.seed << ", " << args_.members
      << " members (" << mode_ << "), " << args_.seconds << " s of faults\n";
  for (auto& f : result_.failures)
    out << "  what: " << f << "\n";
  if (!checker_text.empty())
    out << "  checker (times in µs since the start):\n" << checker_text;
  out << "  fault trace:\n";
  for (auto& line : trace_)
    out << line << "\n";
  out << "  member logs (kept in " << dir_->path << "):\n";
  for (size_t i = 0; i < procs_->size(); ++i)
    out << "  --- " << name(i) << ", last lines of " << procs_->log_path(i)
        << "\n"
        << procs_->log_tail(i, 15);
  out << "  history: " << dir_->path << "/history.txt\n";
  out << "  replay: " << args_.replay()
      << (!net_ && args_.netns ? " --no-netns" : "") << "\n";
  return out.str();
}

std::string first_lines(const std::string& text, size_t max) {
  std::istringstream in{text};
  std::string line;
  std::string out;
  size_t k = 0;
  while (std::getline(in, line)) {
    if (k++ == max) {
      out += "    ...\n";
      break;
    }
    out += "    " + line + "\n";
  }
  return out;
}

std::vector<member_procs::spec> chaos_run::setup_network() {
  const size_t n = args_.members;
  std::string reason = args_.netns ? netns_net::unavailable_reason()
                                   : "--no-netns given";
  if (reason.empty()) {
    auto stale = netns_net::remove_stale();
    if (!stale.empty())
      std::cout << "chaos: removed stale namespaces: " << stale << std::endl;
    try {
      net_ = std::make_unique<netns_net>(n, dir_->path);
    } catch (std::exception& e) {
      reason = std::string{"cannot set up network namespaces: "} + e.what();
    }
  }
  std::vector<member_procs::spec> specs;
  if (net_) {
    mode_ = "netns";
    for (size_t i = 0; i < n; ++i)
      specs.push_back({net_->member_addr(i) + ":7100", net_->member_ns(i)});
    std::cout << "chaos: netns mode: members in namespaces "
              << net_->member_ns(0) << ".. on " << net_->member_addr(0)
              << "..; clients in " << net_->client_ns() << " ("
              << net_->client_addr() << ")" << std::endl;
  } else {
    mode_ = "127.0.0.1";
    std::cout << "chaos: skipping network partitions: " << reason << std::endl;
    raft::chaos::rng ports{args_.seed ^ static_cast<uint64_t>(::getpid())};
    std::set<uint16_t> taken;
    for (size_t i = 0; i < n; ++i)
      specs.push_back(
        {"127.0.0.1:" + std::to_string(pick_port(ports, taken)), ""});
  }
  return specs;
}

void chaos_run::recover() {
  trace("end of faults: heal, resume and restart everyone");
  pending_.clear();
  churn_until_ = -1;
  if (net_) {
    try {
      net_->heal();
    } catch (std::exception& e) {
      fail(std::string{"harness error while healing: "} + e.what());
    }
  }
  for (size_t i = 0; i < procs_->size(); ++i) {
    if (procs_->state_of(i) == member_procs::state::paused) {
      procs_->resume(i);
      trace("SIGCONT " + name(i));
    } else if (procs_->state_of(i) == member_procs::state::stopped) {
      start(i, "final restart");
    }
  }
}

void chaos_run::settle(recorder& rec, kv::client& c) {
  // A write must succeed within ~10 s (15 s on a loaded machine).
  bool written = raft::dist::wait_until(
    [&] {
      reap();
      run_due();
      auto call = lin::call::put("k0", "final." + std::to_string(args_.seed));
      auto hid = rec.invoke(0, call);
      auto r = c.put(call.key, call.value);
      rec.finish(hid, call.kind, r, false);
      return r.outcome == kv::outcome::ok;
    },
    milliseconds(15000), milliseconds(100));
  if (written)
    trace("final write done");
  else
    fail("no write succeeded within 15 s after healing");
  std::string state;
  bool conv = raft::dist::wait_until(
    [&] {
      reap();
      run_due();
      return converged(state);
    },
    milliseconds(20000), milliseconds(200));
  if (conv)
    trace("converged:\n" + state);
  else
    fail("no convergence within 20 s after the final write:\n" + state);
  // A last read of every key, through the ReadIndex path.
  for (size_t k = 0; k < args_.keys; ++k) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      auto call = lin::call::get("k" + std::to_string(k));
      auto hid = rec.invoke(0, call);
      auto r = c.get(call.key);
      rec.finish(hid, call.kind, r, true);
      if (r.outcome == kv::outcome::ok || r.outcome == kv::outcome::negative)
        break;
    }
  }
}

void chaos_run::self_check(const lin::history& hist, uint64_t end_us) {
  // The first read that returned a value, and the other operations on its
  // key; that read now returns a value nobody wrote.
  std::vector<lin::operation> ops;
  std::string key;
  for (auto& op : hist.operations())
    if (op.status == lin::outcome::ok && op.op.kind == lin::op_kind::get
        && op.result.code == lin::result_code::ok) {
      key = op.op.key;
      break;
    }
  bool corrupted = false;
  for (auto op : hist.operations()) {
    if (key.empty() || op.op.key != key)
      continue;
    if (!corrupted && op.status == lin::outcome::ok
        && op.op.kind == lin::op_kind::get
        && op.result.code == lin::result_code::ok) {
      op.result.value = "never-written-" + std::to_string(args_.seed);
      corrupted = true;
    }
    ops.push_back(op);
  }
  if (!corrupted) {
    // No read returned a value: a read of one nobody wrote, after the end.
    ops.clear();
    ops.push_back({0, end_us, end_us + 1, lin::call::get("k0"),
                   lin::outcome::ok, lin::response::found("never-written")});
  }
  lin::check_options opts;
  opts.timeout = std::chrono::seconds(30);
  auto r = lin::check(ops, opts);
  if (r.status == lin::verdict::violation) {
    trace("self-check: a corrupted copy of the history is rejected");
    return;
  }
  std::ostringstream verdict;
  verdict << r.status;
  fail("self-check: the checker did not reject a read of a value never "
       "written (verdict "
       + verdict.str() + ")");
}

run_result chaos_run::run() {
  const size_t n = args_.members;
  dir_ = std::make_unique<chaos_dir>();
  std::cout << "chaos: seed " << args_.seed << ", " << n << " members, "
            << args_.clients << " clients, " << args_.keys << " keys, "
            << args_.seconds << " s of faults; dir " << dir_->path << std::endl;
  auto specs = setup_network();
  // -- the plan and the members -----------------------------------------------------
  raft::chaos::rng setup{args_.seed};
  auto snapshots = args_.snapshots >= 0 ? args_.snapshots
                                        : (setup.chance(0.5) ? 200 : -1);
  std::vector<std::string> extra{"--heartbeat", "50"};
  if (snapshots >= 0) {
    extra.push_back("--snapshot-threshold");
    extra.push_back(std::to_string(snapshots));
  }
  auto plan = make_plan({args_.seed, args_.seconds, n, net_ != nullptr});
  std::cout << "chaos: " << plan.size() << " faults planned; snapshots "
            << (snapshots >= 0 ? "every " + std::to_string(snapshots)
                                   + " entries"
                               : std::string{"at raft-kv's default"})
            << std::endl;
  if (args_.verbose)
    std::cout << to_string(plan);
  procs_ = std::make_unique<member_procs>(specs, dir_->path, extra);
  // The clients' side: this thread (and so every thread the actor system
  // starts) moves into the client namespace.
  if (net_)
    net_->enter_client();
  caf::actor_system_config cfg;
  if (auto err = raft::configure_remote(cfg, raft::tls_options{}))
    throw std::runtime_error("configure_remote failed");
  sys_ = std::make_unique<caf::actor_system>(cfg);
  auto& sys = sys_;
  recorder rec{t0_};
  const auto timeout = caf::timespan{std::chrono::seconds(2)};
  auto make_client = [&](caf::timespan t) {
    raft::client_options opts;
    opts.cluster = procs_->ids();
    opts.timeout = t;
    auto c = kv::client::make(*sys, std::move(opts));
    if (!c)
      throw std::runtime_error("cannot make a client: "
                               + sys->render(c.error()));
    return std::move(*c);
  };
  status_ = make_client(std::chrono::milliseconds(600));
  for (size_t i = 0; i < n; ++i)
    start(i, "initial");
  // -- the first leader ---------------------------------------------------------------
  bool up = raft::dist::wait_until(
    [&] {
      reap();
      run_due();
      return find_leader().has_value();
    },
    milliseconds(30000), milliseconds(200));
  if (!up)
    fail("no leader within 30 s of starting the members");
  // -- clients and faults ---------------------------------------------------------------
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<kv::client>> clients;
  std::vector<std::thread> threads;
  double faults_from = now();
  if (up) {
    for (size_t c = 0; c < args_.clients; ++c)
      clients.push_back(make_client(timeout));
    for (size_t c = 0; c < args_.clients; ++c)
      threads.emplace_back(client_loop, c + 1, args_.seed, std::ref(*sys),
                           std::ref(*clients[c]), timeout, args_.keys,
                           std::ref(rec), std::cref(stop));
    trace(fmt("faults from now on, for %.0f s", args_.seconds));
    if (args_.membership) {
      // Its CLI processes start from its thread, in the client namespace
      // (the thread is made after enter_client).
      nemesis_ = std::make_unique<membership_nemesis>(
        procs_->ids(), args_.seed, [this](const std::string& x) { trace(x); });
      nemesis_->start();
    }
    try {
      run_faults(plan, faults_from);
    } catch (std::exception& e) {
      fail(std::string{"harness error during the faults: "} + e.what());
    }
    if (nemesis_) {
      nemesis_->stop();
      trace("membership nemesis stopped");
    }
  }
  double fault_seconds = now() - faults_from;
  // -- recovery -------------------------------------------------------------------------
  recover();
  stop = true;
  for (auto& t : threads)
    t.join();
  trace("clients stopped");
  if (nemesis_) {
    // Every member a voter again before the final checks.
    std::string state;
    if (nemesis_->restore(milliseconds(60000), state))
      trace("membership restored: every member a voter");
    else
      fail("membership not restored within 60 s; last member list:\n" + state);
    if (fault_seconds >= 30 && nemesis_->done() == 0)
      fail("the membership nemesis changed nothing in "
           + fmt("%.0f s", fault_seconds) + ": "
           + nemesis_->summary());
  }
  auto final_client = make_client(timeout);
  settle(rec, *final_client);
  double run_seconds = now();
  // -- the check ------------------------------------------------------------------------
  auto hist = rec.snapshot();
  auto counts = rec.counts();
  if (args_.corrupt) {
    // Test-only: make the run fail to show what a failure prints.
    for (auto& op : hist.operations())
      if (op.status == lin::outcome::ok && op.op.kind == lin::op_kind::get
          && op.result.code == lin::result_code::ok) {
        trace("--corrupt-history: the read " + lin::to_string(op)
              + " now returns 'corrupted'");
        op.result.value = "corrupted";
        break;
      }
  }
  {
    std::ofstream out{dir_->path + "/history.txt"};
    for (auto& op : hist.operations())
      out << lin::to_string(op) << "\n";
  }
  lin::check_options copts;
  copts.timeout = std::chrono::duration_cast<std::chrono::nanoseconds>(
    std::chrono::duration<double>(args_.check_seconds));
  auto tc = clock_type::now();
  auto checked = lin::check(hist, copts);
  auto check_s = std::chrono::duration<double>(clock_type::now() - tc).count();
  std::string checker_text;
  size_t violations = 0;
  if (checked.status == lin::verdict::violation) {
    violations = checked.violating_keys.size();
    checker_text = first_lines(checked.explanation, 80);
    fail("not linearizable (keys:"
         + [&] {
             std::string s;
             for (auto& k : checked.violating_keys)
               s += " " + k;
             return s;
           }()
         + ")");
  } else if (checked.status == lin::verdict::unknown) {
    std::cout << "chaos: linearizability check UNDECIDED within "
              << args_.check_seconds << " s on key " << checked.key
              << " (inconclusive, not a failure)" << std::endl;
  }
  // -- the checker's self-check: a read of a value never written ------------------------
  self_check(hist, rec.now_us());
  // -- the summary --------------------------------------------------------------------------
  std::ostringstream sum;
  sum << "chaos: seed " << args_.seed << ", " << n << " members (" << mode_
      << "): " << fmt("%.1f", run_seconds) << " s run, "
      << fmt("%.1f", fault_seconds) << " s of faults; faults:";
  size_t total_faults = 0;
  for (size_t k = 0; k < fault_kinds; ++k) {
    total_faults += faults_[k];
    if (faults_[k] > 0)
      sum << " " << to_string(static_cast<fault>(k)) << " " << faults_[k];
  }
  sum << " (" << total_faults;
  if (churn_kills_ > 0)
    sum << "; " << churn_kills_ << " new leaders killed by leader_churn";
  sum << "); operations: " << counts.total() << " (ok "
      << counts.ok << " [" << counts.negative << " not_found/mismatch], failed "
      << counts.failed << ", unknown " << counts.unknown << "; reads: "
      << counts.queries << " ReadIndex, " << counts.log_reads
      << " through the log); checked " << checked.operations << " on "
      << checked.keys << " keys in " << fmt("%.2f", check_s) << " s ("
      << checked.steps << " steps, " << checked.status << "); violations "
      << violations;
  if (nemesis_)
    sum << "; membership: " << nemesis_->done() << " changes done, "
        << nemesis_->refused() << " refused: " << nemesis_->summary();
  result_.summary = sum.str();
  std::cout << result_.summary << std::endl;
  if (!result_.ok) {
    dir_->keep = true;
    std::cout << report(checker_text) << std::endl;
  }
  // Tear down: clients and the actor system first (they talk to the
  // members), then the members, then the namespaces.
  final_client.reset();
  clients.clear();
  status_.reset();
  sys_.reset();
  procs_.reset();
  net_.reset();
  return result_;
}

} // namespace

// -- the tests -------------------------------------------------------------------------------

// The chaos run: faults, then healing, convergence and a linearizable
// history (ctest: chaos_short, and chaos_long with label long).
BOOST_AUTO_TEST_CASE(chaos) {
  cli args;
  chaos_run r{args};
  auto res = r.run();
  BOOST_TEST(res.ok, "seed " << args.seed << ": "
                             << (res.failures.empty() ? std::string{}
                                                      : res.failures.front()));
}

// Same seed, same schedule; another seed, another one.
BOOST_AUTO_TEST_CASE(plan_is_deterministic) {
  for (size_t members : {3, 5}) {
    for (bool partitions : {false, true}) {
      plan_options o{42, 120, members, partitions};
      auto a = to_string(make_plan(o));
      auto b = to_string(make_plan(o));
      BOOST_TEST(a == b);
      o.seed = 43;
      BOOST_TEST(a != to_string(make_plan(o)));
    }
  }
  // Without partitions none is planned; at most a minority down at once
  // unless a majority_down is planned while nothing else is down.
  auto plan = make_plan({7, 600, 5, false});
  BOOST_TEST(!plan.empty());
  for (auto& f : plan)
    BOOST_TEST((f.kind != fault::partition && f.kind != fault::one_way
                && f.kind != fault::cut_link
                && f.kind != fault::isolate_leader));
}
