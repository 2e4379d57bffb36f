// The kit's simulation (raft/testing/simulation.hpp): one seed draws the
// cluster, its tuning, the fault schedule and when clients act; the
// application's workload draws what they do and checks the history.
#include "raft/testing/simulation.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <map>
#include <memory>
#include <random>
#include <cstdint>
#include <sstream>
#include <type_traits>

#include <stdlib.h>

#include "caf/message.hpp"
#include "caf/sec.hpp"

#include "raft/errc.hpp"

#include "safety_checker.hpp"
#include "sim_cluster.hpp"

namespace raft::testing {

// -- names ---------------------------------------------------------------------------

namespace {

const char* fault_names[] = {
  "partition", "one_way", "isolate_leader", "drop",    "duplicate",
  "delay",     "reorder", "heal",           "crash",   "power_loss",
  "restart",   "pause",   "resume",         "clock_jump", "change",
  "transfer",
};

} // namespace

std::string to_string(fault x) {
  return fault_names[static_cast<size_t>(x)];
}

// -- stats ----------------------------------------------------------------------------

uint64_t stats::total_faults() const {
  uint64_t n = 0;
  for (auto x : faults)
    n += x;
  return n;
}

stats& stats::operator+=(const stats& x) {
  runs += x.runs;
  steps += x.steps;
  settle_ms += x.settle_ms;
  messages += x.messages;
  delivered += x.delivered;
  dropped += x.dropped;
  duplicated += x.duplicated;
  delayed += x.delayed;
  for (size_t i = 0; i < fault_kinds; ++i)
    faults[i] += x.faults[i];
  elections += x.elections;
  ops_ok += x.ops_ok;
  ops_failed += x.ops_failed;
  ops_unknown += x.ops_unknown;
  ops_checked += x.ops_checked;
  queries += x.queries;
  applied += x.applied;
  compacted += x.compacted;
  restored += x.restored;
  check_steps += x.check_steps;
  undecided += x.undecided;
  stalls += x.stalls;
  violations += x.violations;
  changes_ok += x.changes_ok;
  changes_refused += x.changes_refused;
  return *this;
}

std::string summary(const stats& x) {
  std::ostringstream out;
  out << x.runs << " runs, " << x.steps << " steps (simulated ms) + "
      << x.settle_ms << " ms settling, " << x.messages << " messages run, "
      << x.delivered << " delivered between members (" << x.dropped
      << " dropped, " << x.duplicated << " duplicated, " << x.delayed
      << " delayed); faults: " << x.total_faults() << " (";
  for (size_t i = 0; i < fault_kinds; ++i)
    out << (i > 0 ? ", " : "") << fault_names[i] << ' ' << x.faults[i];
  out << "); " << x.elections << " elections; operations: " << x.ops()
      << " (" << x.ops_ok << " ok, " << x.ops_failed << " failed, "
      << x.ops_unknown << " unknown; " << x.queries << " queries), "
      << x.ops_checked << " checked, " << x.applied << " commands applied ("
      << x.compacted << " members ended compacted, " << x.restored
      << " restored from a snapshot); "
      << x.undecided << " undecided; " << x.stalls << " idle stalls; "
      << "membership changes and transfers: " << x.changes_ok << " done, "
      << x.changes_refused << " refused or unanswered; "
      << x.violations << " violations";
  return out.str();
}

// -- the simulation ---------------------------------------------------------------

namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

/// A client: one operation at a time.
struct client {
  uint64_t id = 0;
  bool busy = false;
  uint64_t counter = 0;
  /// The member it talked to last (clients stick to one while it answers).
  size_t member = 0;
};

/// Something the fault schedule does later (restart, resume).
struct scheduled {
  uint64_t step;
  fault kind;
  size_t member;
};

class simulation {
public:
  simulation(const options& opts, const machine_factory& make, workload& load)
    : opts_(opts),
      make_(make),
      load_(load),
      rng_(opts.seed * 0x9e3779b97f4a7c15ULL + 1) {
    // nop
  }

  ~simulation() {
    // Client callbacks may still run while the cluster shuts down: they
    // must not record anything then.
    closing_ = true;
    c_.reset();
    if (!snapshot_root_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(snapshot_root_, ec);
    }
  }

  result run();

private:
  // -- setup ------------------------------------------------------------------

  void draw_setup();

  // -- the schedule -----------------------------------------------------------

  void maybe_fault();
  void inject(fault f);
  void run_scheduled();
  void crash(size_t i, uint64_t down_ms);
  void links_fault(fault f);

  // -- the membership nemesis (thesis chapter 4, §3.10) -----------------------

  void maybe_change();
  /// Asks member `l` for a change; its reply (of type T) or refusal goes to
  /// the trace.
  template <class T>
  void ask(size_t l, fault kind, caf::message msg, const std::string& text);
  /// The configuration in force at live member i as its log says (thesis
  /// §4.1): its latest configuration entry, or, when its log holds none, the
  /// one below the log (its snapshot's or bootstrap's); `at`: its index.
  cluster_configuration config_of(size_t i, index_t& at);
  /// Live members a client may talk to (with membership changes: the
  /// members of the configuration last seen).
  std::vector<size_t> serving_members();
  std::string names(const cluster_configuration& x) const;
  size_t index_of(const member_id& id) const;

  // -- clients --------------------------------------------------------------------

  void clients_act();
  void issue(client& c);

  // -- observing ------------------------------------------------------------------

  void observe_roles();
  /// After every message: reactive faults.
  void react();
  void event(const std::string& text);
  std::string name(size_t i) const {
    return "n" + std::to_string(i + 1);
  }
  uint64_t now_ns() const {
    return static_cast<uint64_t>((c_->now() - start_).count());
  }
  uint64_t now_ms() const {
    return now_ns() / 1'000'000;
  }

  // -- the end ---------------------------------------------------------------------

  std::string settle();
  std::string converged_or_why();
  std::string check_apply_order();
  std::string check_history();
  /// Member i's state, as its state machine's snapshot.
  std::string state_of(size_t i, std::string& out);
  void fail(const std::string& what);

  // -- random helpers --------------------------------------------------------------

  uint64_t uniform(uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>{lo, hi}(rng_);
  }
  double unit() {
    return std::uniform_real_distribution<double>{0.0, 1.0}(rng_);
  }
  bool chance(double p) {
    return unit() < p;
  }
  template <class T>
  const T& pick(const std::vector<T>& xs) {
    return xs[uniform(0, xs.size() - 1)];
  }
  std::vector<size_t> live_members() const;

  // -- state -------------------------------------------------------------------------

  options opts_;
  const machine_factory& make_;
  workload& load_;
  std::mt19937_64 rng_;
  result res_;
  std::unique_ptr<sim_cluster> c_;
  caf::actor_clock::time_point start_;
  uint64_t step_ = 0;

  // Drawn from the seed.
  size_t n_ = 3;
  std::vector<client> clients_;
  double fault_rate_ = 0; // per step
  double op_rate_ = 0;    // per idle client and step
  uint64_t disk_latency_max_ = 0;
  /// Share of new leaders crashed soon after their election (the windows
  /// of Figure 8: entries on a minority, a no-op not yet replicated).
  double leader_crash_rate_ = 0;
  /// A fresh leader crashes within this many ms; crashed members restart
  /// within restart_max_ ms.
  uint64_t leader_crash_delay_ = 30;
  uint64_t restart_max_ = 1500;
  bool churn_ = false;
  /// Share of new leaders cut off the moment they win (before their no-op
  /// leaves), and the term each member was last seen leading in.
  double isolate_rate_ = 0;
  std::vector<term_t> leading_term_;
  /// Share of leaders that crash the moment their commit index first moves
  /// in their term (before any follower hears of it), and the commit index
  /// each member had when it began leading (0 after the first move).
  double commit_crash_rate_ = 0;
  std::vector<index_t> commit_at_start_;
  /// Chance that the power fails everywhere the moment a leader commits
  /// (what followers acknowledged may not be on their disks yet).
  double power_at_commit_rate_ = 0;
  std::vector<index_t> last_commit_;
  bool all_next_power_loss_ = false;
  bool queries_ = false;

  /// Membership changes on: n_ counts the spares too, voters_ the members
  /// that bootstrap the cluster.
  bool membership_ = false;
  size_t voters_ = 3;
  double change_rate_ = 0; // per step
  /// The configuration the nemesis saw last (the bootstrap one at first).
  cluster_configuration known_config_;

  std::vector<scheduled> later_;
  uint64_t last_heal_ = 0;
  std::vector<std::pair<role, term_t>> roles_;
  /// Per member: the state machine (incarnation) and its restored index.
  std::map<size_t, std::pair<const void*, index_t>> restored_;
  std::deque<std::string> trace_;
  /// Every event with its time (ns): a history violation is shown with the
  /// events around the operations that do not fit.
  std::vector<std::pair<uint64_t, std::string>> all_events_;
  /// [from, to] (ns) of the events to show instead of the last ones.
  std::pair<uint64_t, uint64_t> window_{0, 0};
  bool stopped_ = false;
  bool closing_ = false;
  bool settling_ = false;
  /// Snapshot directories of this run (removed at the end), if any.
  std::string snapshot_root_;
};

std::vector<size_t> simulation::live_members() const {
  std::vector<size_t> result;
  for (size_t i = 0; i < n_; ++i)
    if (c_->alive(i))
      result.push_back(i);
  return result;
}

void simulation::event(const std::string& text) {
  std::ostringstream line;
  line << "[" << std::setw(5) << now_ms() << " ms, step " << step_ << "] "
       << text;
  auto str = line.str();
  // FNV-1a over every event: replays of a seed must agree.
  for (unsigned char ch : str) {
    res_.fingerprint ^= ch;
    res_.fingerprint *= 0x100000001b3ULL;
  }
  all_events_.emplace_back(now_ns(), str);
  trace_.push_back(std::move(str));
  while (trace_.size() > opts_.trace_size)
    trace_.pop_front();
}

void simulation::fail(const std::string& what) {
  if (!res_.violation.empty())
    return;
  res_.violation = what;
  res_.step = step_;
  stopped_ = true;
  event("VIOLATION: " + what);
}

void simulation::draw_setup() {
  n_ = opts_.members != 0 ? opts_.members : (uniform(0, 1) == 0 ? 3 : 5);
  // Membership changes in a fifth of the seeds (3, 8, 13, ...), decided
  // without drawing, so that the other seeds' draws stay as they were.
  membership_ = opts_.membership < 0 ? opts_.seed % 5 == 3
                                     : opts_.membership > 0;
  auto nclients = uniform(2, 4);
  auto load_setup = load_.setup(rng_);
  for (size_t k = 0; k < nclients; ++k) {
    client cl;
    cl.id = k + 1;
    clients_.push_back(cl);
  }
  static const size_t entries_choices[] = {1, 2, 3, 16, 1024};
  static const size_t in_flight_choices[] = {1, 2, 4, 8};
  static const uint64_t disk_choices[] = {0, 1, 2, 5, 10};
  auto max_entries = entries_choices[uniform(0, 4)];
  auto in_flight = in_flight_choices[uniform(0, 3)];
  disk_latency_max_ = disk_choices[uniform(0, 4)];
  auto check_quorum = uniform(0, 3) != 0;
  // PreVote (thesis §9.6) on even seeds, off on odd ones: both modes are
  // explored, and the seed's other draws stay what they were before PreVote
  // existed. (With PreVote everywhere, Figure 8's windows became too rare
  // for the bounded seeds to catch commit_old_terms_by_counting.)
  auto pre_vote = opts_.seed % 2 == 0;
  static const std::pair<int, int> latency_choices[] = {
    {0, 0}, {0, 1}, {1, 2}, {1, 3}, {0, 5}};
  auto latency = latency_choices[uniform(0, 4)];
  // Two profiles: mixed faults, or leader churn (fresh leaders crash within
  // milliseconds, little else happens): the windows of Figure 8, where an
  // entry of an old term sits on a minority and a new leader's no-op has not
  // spread yet.
  churn_ = uniform(0, 2) == 0;
  if (churn_) {
    if (uniform(0, 2) != 0)
      max_entries = 1;
    leader_crash_rate_ = 0.2 + 0.6 * unit();
    isolate_rate_ = 0.2 + 0.4 * unit();
    commit_crash_rate_ = 0.2 + 0.6 * unit();
    leader_crash_delay_ = uniform(3, 15);
    restart_max_ = uniform(50, 400);
    fault_rate_ = 1.0 / static_cast<double>(uniform(300, 1000));
    op_rate_ = 1.0 / static_cast<double>(uniform(2, 10));
  } else {
    power_at_commit_rate_ = uniform(0, 1) == 0 ? 0.0 : 0.002 + 0.01 * unit();
    leader_crash_rate_ = uniform(0, 1) == 0 ? 0.0 : 0.05 + 0.25 * unit();
    fault_rate_ = 1.0 / static_cast<double>(uniform(60, 250));
    op_rate_ = 1.0 / static_cast<double>(uniform(5, 40));
  }
  queries_ = opts_.queries;
  auto tweak = opts_.tweak;
  // A third of the runs take snapshots every few dozen entries (in a
  // temporary directory, on tmpfs when there is one): restarts restore
  // them, lagging followers get InstallSnapshot.
  int64_t snapshot_threshold = 0;
  if (uniform(0, 2) == 0) {
    snapshot_threshold = static_cast<int64_t>(uniform(10, 60));
    for (auto base : {"/dev/shm", "/tmp"}) {
      auto tmpl = std::string{base} + "/caf-raft-sim-XXXXXX";
      if (mkdtemp(tmpl.data()) != nullptr) {
        snapshot_root_ = tmpl;
        break;
      }
    }
    if (snapshot_root_.empty())
      snapshot_threshold = 0;
  }
  auto root = snapshot_root_;
  voters_ = n_;
  if (membership_) {
    // Spares to grow into (3 -> 5) or to replace a member with; a change
    // every 100-500 ms.
    n_ += n_ == 3 ? 2 : 1;
    change_rate_ = 1.0 / static_cast<double>(uniform(100, 500));
  }
  c_ = std::make_unique<sim_cluster>(
    n_, voters_, rng_(),
    [=](size_t i, member_setup& cfg) {
      if (snapshot_threshold > 0) {
        cfg.snapshot_dir = root + "/m" + std::to_string(i);
        cfg.snapshot_threshold = snapshot_threshold;
      }
      cfg.max_entries_per_message = max_entries;
      cfg.max_in_flight = in_flight;
      cfg.check_quorum = check_quorum;
      cfg.pre_vote = pre_vote;
      if (tweak)
        tweak(i, cfg);
    },
    make_);
  leading_term_.assign(n_, 0);
  commit_at_start_.assign(n_, 0);
  last_commit_.assign(n_, 0);
  c_->after_message = [this] { react(); };
  // The members' own lines belong in the trace, next to what caused them.
  c_->on_log_line = [this](const std::string& line) { event(line); };
  c_->net->base.delay_min = milliseconds{latency.first};
  c_->net->base.delay_max = milliseconds{latency.second};
  if (disk_latency_max_ > 0) {
    // Each batch waits 0..max ms at the writer (drawn from the network's
    // random source: the order of writes is deterministic, so is this).
    auto net = c_->net;
    auto hi = static_cast<int64_t>(disk_latency_max_);
    c_->disk_latency = [net, hi](size_t) {
      std::uniform_int_distribution<int64_t> dist{0, hi};
      return caf::timespan{milliseconds{dist(net->rng)}};
    };
  }
  known_config_ = c_->bootstraps[0];
  std::ostringstream setup;
  setup << voters_ << " members, " << nclients << " clients, "
        << (load_setup.empty() ? "" : load_setup + ", ")
        << "max_entries_per_message " << max_entries
        << ", max_in_flight " << in_flight << ", link latency "
        << latency.first << "-" << latency.second << " ms, disk latency 0-"
        << disk_latency_max_ << " ms, check_quorum "
        << (check_quorum ? "on" : "off") << ", pre_vote "
        << (pre_vote ? "on" : "off") << ", a fault every ~"
        << static_cast<int>(1.0 / fault_rate_) << " ms, an op every ~"
        << static_cast<int>(1.0 / op_rate_) << " ms per idle client, "
        << static_cast<int>(leader_crash_rate_ * 100)
        << "% of new leaders crash within " << leader_crash_delay_ << " ms"
        << ", " << static_cast<int>(isolate_rate_ * 100)
        << "% isolated the moment they win, "
        << static_cast<int>(commit_crash_rate_ * 100)
        << "% crash at their first commit, "
        << power_at_commit_rate_ * 100 << "% power failure per commit"
        << (churn_ ? " (leader churn)" : "")
        << (queries_ ? ", gets also as queries" : "")
        << (snapshot_threshold > 0
              ? ", a snapshot every " + std::to_string(snapshot_threshold)
                  + " entries"
              : std::string{})
        << (membership_ ? ", " + std::to_string(n_ - voters_)
                            + " spares, a membership change every ~"
                            + std::to_string(
                              static_cast<int>(1.0 / change_rate_))
                            + " ms"
                        : std::string{})
        << (opts_.label.empty() ? "" : ", ") << opts_.label;
  res_.setup = setup.str();
  roles_.assign(n_, {role::idle, 0});
}

// -- faults -------------------------------------------------------------------------

void simulation::maybe_fault() {
  // Never more than 1.5 s without a heal, so progress stays possible.
  if (step_ - last_heal_ > 1500) {
    inject(fault::heal);
    return;
  }
  if (!chance(fault_rate_))
    return;
  static const std::pair<fault, unsigned> weights[] = {
    {fault::partition, 10}, {fault::one_way, 6},   {fault::isolate_leader, 8},
    {fault::drop, 8},       {fault::duplicate, 6}, {fault::delay, 6},
    {fault::reorder, 8},    {fault::heal, 20},     {fault::crash, 10},
    {fault::power_loss, 5}, {fault::pause, 6},     {fault::clock_jump, 4},
  };
  unsigned total = 0;
  for (auto& w : weights)
    total += w.second;
  auto x = static_cast<unsigned>(uniform(0, total - 1));
  for (auto& w : weights) {
    if (x < w.second) {
      inject(w.first);
      return;
    }
    x -= w.second;
  }
}

void simulation::crash(size_t i, uint64_t down_ms) {
  c_->crash(i);
  later_.push_back(scheduled{step_ + down_ms, fault::restart, i});
}

void simulation::links_fault(fault f) {
  // All links, or a random share of them.
  auto all = chance(0.4);
  link_faults lf;
  std::ostringstream what;
  switch (f) {
    case fault::drop:
      lf.drop = 0.05 + 0.45 * unit();
      what << "drop " << static_cast<int>(lf.drop * 100) << "%";
      break;
    case fault::duplicate:
      lf.duplicate = 0.05 + 0.45 * unit();
      what << "duplicate " << static_cast<int>(lf.duplicate * 100) << "%";
      break;
    case fault::delay:
      lf.delay_min = lf.delay_max = milliseconds{uniform(1, 30)};
      what << "delay "
           << std::chrono::duration_cast<milliseconds>(lf.delay_min).count()
           << " ms";
      break;
    default: // reorder
      lf.delay_max = milliseconds{uniform(5, 60)};
      what << "reorder (delay 0-"
           << std::chrono::duration_cast<milliseconds>(lf.delay_max).count()
           << " ms)";
      break;
  }
  std::vector<std::string> links;
  for (size_t a = 0; a < n_; ++a) {
    for (size_t b = 0; b < n_; ++b) {
      if (a == b || !(all || chance(0.3)))
        continue;
      auto& cur = c_->net->faults[{c_->ids[a], c_->ids[b]}];
      // Faults of different kinds on one link add up.
      cur.drop = std::max(cur.drop, lf.drop);
      cur.duplicate = std::max(cur.duplicate, lf.duplicate);
      cur.delay_min = std::max(cur.delay_min, lf.delay_min);
      cur.delay_max = std::max(cur.delay_max, lf.delay_max);
      links.push_back(name(a) + ">" + name(b));
    }
  }
  if (links.empty())
    return;
  what << " on " << (all ? std::string{"all links"} : "");
  if (!all)
    for (size_t k = 0; k < links.size(); ++k)
      what << (k > 0 ? " " : "") << links[k];
  ++res_.totals.faults[static_cast<size_t>(f)];
  event(what.str());
}

void simulation::inject(fault f) {
  auto& net = *c_->net;
  auto count = [&] { ++res_.totals.faults[static_cast<size_t>(f)]; };
  switch (f) {
    case fault::partition: {
      // Two or three groups, none empty.
      auto groups = n_ >= 3 && chance(0.3) ? 3u : 2u;
      std::vector<unsigned> of(n_);
      do {
        for (auto& g : of)
          g = static_cast<unsigned>(uniform(0, groups - 1));
      } while (std::count(of.begin(), of.end(), of[0]) == long(n_));
      for (size_t a = 0; a < n_; ++a)
        for (size_t b = 0; b < n_; ++b)
          if (of[a] != of[b])
            net.cut.emplace(c_->ids[a], c_->ids[b]);
      std::ostringstream what;
      what << "partition";
      for (unsigned g = 0; g < groups; ++g) {
        what << " {";
        bool first = true;
        for (size_t i = 0; i < n_; ++i)
          if (of[i] == g) {
            what << (first ? "" : " ") << name(i);
            first = false;
          }
        what << "}";
      }
      count();
      event(what.str());
      break;
    }
    case fault::one_way: {
      std::ostringstream what;
      what << "cut one way:";
      auto k = uniform(1, n_);
      for (uint64_t j = 0; j < k; ++j) {
        auto a = uniform(0, n_ - 1);
        auto b = uniform(0, n_ - 2);
        if (b >= a)
          ++b;
        net.cut.emplace(c_->ids[a], c_->ids[b]);
        what << " " << name(a) << ">" << name(b);
      }
      count();
      event(what.str());
      break;
    }
    case fault::isolate_leader: {
      auto l = c_->leader();
      if (!l)
        return;
      std::vector<member_id> group{c_->ids[*l]};
      std::string who = name(*l);
      if (n_ == 5 && chance(0.5)) {
        auto other = (*l + uniform(1, n_ - 1)) % n_;
        group.push_back(c_->ids[other]);
        who += " " + name(other);
      }
      net.partition(group, c_->ids);
      count();
      event("isolate leader {" + who + "}");
      break;
    }
    case fault::drop:
    case fault::duplicate:
    case fault::delay:
    case fault::reorder:
      links_fault(f);
      break;
    case fault::heal:
      net.heal();
      last_heal_ = step_;
      count();
      event("heal the network");
      break;
    case fault::crash: {
      auto live = live_members();
      if (live.empty())
        return;
      auto l = c_->leader();
      auto i = l && chance(0.4) ? *l : pick(live);
      auto down = uniform(10, restart_max_);
      count();
      event("crash " + name(i) + " (restart in " + std::to_string(down)
            + " ms)");
      crash(i, down);
      break;
    }
    case fault::power_loss: {
      auto live = live_members();
      if (live.size() < 2)
        return;
      std::shuffle(live.begin(), live.end(), rng_);
      auto k = all_next_power_loss_ || chance(0.5) ? live.size() : n_ / 2 + 1;
      all_next_power_loss_ = false;
      k = std::min(k, live.size());
      std::string who;
      for (size_t j = 0; j < k; ++j)
        who += (j > 0 ? " " : "") + name(live[j]);
      count();
      event("power loss: " + who);
      for (size_t j = 0; j < k; ++j)
        crash(live[j], uniform(10, 1000));
      break;
    }
    case fault::pause: {
      std::vector<size_t> running;
      for (auto i : live_members())
        if (!c_->paused(i))
          running.push_back(i);
      if (running.empty())
        return;
      auto l = c_->leader();
      auto i = l && !c_->paused(*l) && chance(0.4) ? *l : pick(running);
      auto length = uniform(20, 1500);
      c_->pause(i);
      later_.push_back(scheduled{step_ + length, fault::resume, i});
      count();
      event("pause " + name(i) + " for " + std::to_string(length) + " ms");
      break;
    }
    case fault::clock_jump: {
      auto d = uniform(50, 2000);
      count();
      event("clock jumps " + std::to_string(d) + " ms");
      c_->jump_clock(milliseconds{d});
      break;
    }
    case fault::restart:
    case fault::resume:
      break; // scheduled only
    case fault::change:
    case fault::transfer:
      break; // the membership nemesis's (maybe_change)
  }
}

void simulation::run_scheduled() {
  auto due = std::stable_partition(later_.begin(), later_.end(),
                                   [&](const scheduled& s) {
                                     return s.step > step_;
                                   });
  std::vector<scheduled> now(due, later_.end());
  later_.erase(due, later_.end());
  for (auto& s : now) {
    if (s.kind == fault::crash && c_->alive(s.member)) {
      auto down = uniform(10, restart_max_);
      ++res_.totals.faults[static_cast<size_t>(fault::crash)];
      event("crash " + name(s.member) + ", a fresh leader (restart in "
            + std::to_string(down) + " ms)");
      crash(s.member, down);
    } else if (s.kind == fault::power_loss) {
      all_next_power_loss_ = true;
      inject(fault::power_loss);
    } else if (s.kind == fault::heal) {
      inject(fault::heal);
    } else if (s.kind == fault::restart && !c_->alive(s.member)) {
      ++res_.totals.faults[static_cast<size_t>(fault::restart)];
      event("restart " + name(s.member));
      c_->restart(s.member);
    } else if (s.kind == fault::resume && c_->alive(s.member)
               && c_->paused(s.member)) {
      ++res_.totals.faults[static_cast<size_t>(fault::resume)];
      event("resume " + name(s.member));
      c_->resume(s.member);
    }
  }
}

// -- the membership nemesis ----------------------------------------------------------

size_t simulation::index_of(const member_id& id) const {
  return static_cast<size_t>(std::find(c_->ids.begin(), c_->ids.end(), id)
                             - c_->ids.begin());
}

std::string simulation::names(const cluster_configuration& x) const {
  auto list = [this](const std::vector<member_id>& ids) {
    std::string out;
    for (auto& id : ids)
      out += (out.empty() ? "" : " ") + name(index_of(id));
    return out;
  };
  std::string out = "{" + list(x.voters);
  if (!x.learners.empty())
    out += "; learners " + list(x.learners);
  if (x.joint())
    out += "; old " + list(x.old_voters);
  return out + "}";
}

cluster_configuration simulation::config_of(size_t i, index_t& at) {
  // Not the last configuration seen when the log holds none: a new leader
  // may have truncated it (docs/testing.md, finding 8).
  auto& st = c_->state(i);
  auto c = configuration_in_force(st.log, st.configs.base_index(),
                                  st.configs.base());
  at = c.first;
  if (!c.second.voters.empty()) // a member that joined and holds none yet
    known_config_ = std::move(c.second);
  return known_config_;
}

std::vector<size_t> simulation::serving_members() {
  auto live = live_members();
  if (!membership_)
    return live;
  if (auto l = c_->leader()) {
    index_t at = 0;
    config_of(*l, at);
  }
  std::vector<size_t> result;
  for (auto i : live)
    if (known_config_.contains(c_->ids[i]))
      result.push_back(i);
  return result.empty() ? live : result;
}

template <class T>
void simulation::ask(size_t l, fault kind, caf::message msg,
                     const std::string& text) {
  ++res_.totals.faults[static_cast<size_t>(kind)];
  event("ask " + name(l) + ": " + text);
  auto* self = this;
  c_->call_async<T>(
    l, std::move(msg), std::chrono::seconds(3),
    [self, text](caf::expected<T> r) {
      if (self->closing_)
        return;
      if (r) {
        ++self->res_.totals.changes_ok;
        if constexpr (std::is_same_v<T, cluster_configuration>)
          self->event(text + " => " + self->names(*r));
        else
          self->event(text + " => ok");
      } else {
        // Refusals are normal outcomes: another change in progress, not
        // the leader (any more), not caught up, a timeout, ...
        ++self->res_.totals.changes_refused;
        self->event(text + " => refused: " + self->c_->sys->render(r.error()));
      }
    });
}

void simulation::maybe_change() {
  if (!membership_ || settling_ || !chance(change_rate_))
    return;
  // Asked of whatever member the nemesis believes leads.
  auto l = c_->leader();
  if (!l)
    return;
  index_t at = 0;
  auto cfg = config_of(*l, at);
  bool committed = at <= c_->state(*l).commit_index;
  std::vector<size_t> voters;
  std::vector<size_t> learners;
  std::vector<size_t> spares;
  for (size_t i = 0; i < n_; ++i) {
    auto& id = c_->ids[i];
    if (std::count(cfg.voters.begin(), cfg.voters.end(), id) > 0)
      voters.push_back(i);
    else if (cfg.is_learner(id))
      learners.push_back(i);
    else if (!cfg.is_voter(id))
      spares.push_back(i);
  }
  // A spare that was a member before starts empty (a new disk) when no
  // configuration in force counts it any more: the one the leader has
  // committed is the latest it knows. Otherwise it comes back as it was.
  auto fresh = [&](size_t s) {
    if (committed && c_->holds_state(s) && chance(0.7)) {
      event("wipe " + name(s) + ": it starts empty and joins");
      c_->wipe(s);
    }
  };
  enum action { add, promote, remove, replace, transfer };
  std::vector<std::pair<action, unsigned>> weights;
  if (!spares.empty())
    weights.emplace_back(add, 3);
  if (!learners.empty())
    weights.emplace_back(promote, 3);
  if (voters.size() > 3 || !learners.empty())
    weights.emplace_back(remove, 3);
  // A new voter is a caught-up learner first (thesis §4.2.1).
  if (voters.size() >= 3 && !learners.empty())
    weights.emplace_back(replace, 2);
  if (voters.size() > 1)
    weights.emplace_back(transfer, 2);
  unsigned total = 0;
  for (auto& w : weights)
    total += w.second;
  if (total == 0)
    return;
  auto x = static_cast<unsigned>(uniform(0, total - 1));
  auto what = weights.front().first;
  for (auto& w : weights) {
    if (x < w.second) {
      what = w.first;
      break;
    }
    x -= w.second;
  }
  switch (what) {
    case add: {
      auto s = pick(spares);
      fresh(s);
      bool promote_too = chance(0.5);
      ask<cluster_configuration>(
        *l, fault::change,
        caf::make_message(learner_atom::value, c_->ids[s], promote_too),
        "add " + name(s) + " as learner"
          + (promote_too ? ", promote once caught up" : ""));
      break;
    }
    case promote: {
      auto s = pick(learners);
      ask<cluster_configuration>(
        *l, fault::change, caf::make_message(promote_atom::value, c_->ids[s]),
        "promote " + name(s));
      break;
    }
    case remove: {
      std::vector<size_t> candidates = learners;
      if (voters.size() > 3)
        candidates.insert(candidates.end(), voters.begin(), voters.end());
      bool voter_leader = voters.size() > 3
                          && std::count(voters.begin(), voters.end(), *l) > 0;
      auto s = voter_leader && chance(0.3) ? *l : pick(candidates);
      ask<cluster_configuration>(
        *l, fault::change, caf::make_message(remove_atom::value, c_->ids[s]),
        "remove " + name(s) + (s == *l ? " (itself)" : ""));
      break;
    }
    case replace: {
      cluster_configuration target;
      target.voters = cfg.voters;
      target.learners = cfg.learners;
      auto drop = [&](std::vector<member_id>& xs, size_t i) {
        xs.erase(std::remove(xs.begin(), xs.end(), c_->ids[i]), xs.end());
      };
      std::string text;
      if (voters.size() == 3 && learners.size() >= 2 && chance(0.3)) {
        // Several at once: 3 -> 5.
        for (size_t k = 0; k < 2; ++k) {
          target.voters.push_back(c_->ids[learners[k]]);
          drop(target.learners, learners[k]);
        }
        text = "grow to five";
      } else if (voters.size() == 5 && chance(0.3)) {
        // 5 -> 3, the leader perhaps among those leaving.
        auto out = voters;
        std::shuffle(out.begin(), out.end(), rng_);
        drop(target.voters, out[0]);
        drop(target.voters, out[1]);
        text = "shrink to three";
      } else {
        auto out = chance(0.25) && std::count(voters.begin(), voters.end(), *l)
                   ? *l
                   : pick(voters);
        auto in = pick(learners);
        drop(target.voters, out);
        drop(target.learners, in);
        target.voters.push_back(c_->ids[in]);
        text = "replace " + name(out) + " by " + name(in);
      }
      target.normalize();
      ask<cluster_configuration>(
        *l, fault::change, caf::make_message(reconfig_atom::value, target),
        "reconfigure to " + names(target) + " (" + text + ")");
      break;
    }
    case transfer: {
      std::vector<size_t> others;
      for (auto v : voters)
        if (v != *l)
          others.push_back(v);
      if (others.empty())
        return;
      auto s = pick(others);
      ask<caf::ok_atom>(*l, fault::transfer,
                        caf::make_message(transfer_atom::value, c_->ids[s]),
                        "transfer leadership to " + name(s));
      break;
    }
  }
}

// -- clients -------------------------------------------------------------------------

void simulation::clients_act() {
  for (auto& cl : clients_)
    if (!cl.busy && chance(op_rate_))
      issue(cl);
}

void simulation::issue(client& cl) {
  auto live = serving_members();
  if (live.empty())
    return;
  if (std::find(live.begin(), live.end(), cl.member) == live.end()
      || chance(0.3))
    cl.member = pick(live);
  client_call call;
  call.client = cl.id;
  call.time = now_ns();
  call.rng = &rng_;
  call.queries = queries_;
  size_t id = 0;
  auto req = load_.issue(call, id);
  auto query = req.query;
  auto text = "c" + std::to_string(cl.id) + " "
              + (req.text.empty() ? req.command.bytes() : req.text)
              + (query ? " (query)" : "");
  event(text + " -> " + name(cl.member));
  cl.busy = true;
  if (query)
    ++res_.totals.queries;
  auto* self = this;
  auto* clp = &cl;
  // A read goes through the log as a command, or (ReadIndex, thesis §6.4)
  // as a read-only query that never touches the log.
  auto msg = query ? caf::make_message(query_atom::value, req.command)
                   : caf::make_message(append_atom::value, req.command);
  c_->request_async(
    cl.member, std::move(msg), std::chrono::seconds(2),
    [self, clp, id, text, query](caf::expected<append_reply> r) {
      if (self->closing_)
        return;
      clp->busy = false;
      auto t = self->now_ns();
      if (r) {
        apply_result reply{r->result, r->apply_error};
        if (auto why = self->load_.completed(id, t, reply); !why.empty())
          self->fail(why);
        ++self->res_.totals.ops_ok;
        auto& err = r->apply_error;
        self->event(text + " => " + (err.empty() ? r->result : err) + " @"
                    + std::to_string(r->index));
        return;
      }
      auto& err = r.error();
      // Definitely not applied: a query (it changes nothing), a refusal
      // before the command reached a log (no_leader, not_member,
      // transfer_in_progress, ...), or never handled (the member died with
      // the request in its mailbox). The library's own rule decides, as an
      // application's client would.
      bool definite = query || !outcome_unknown(err);
      if (definite) {
        self->load_.failed(id, t);
        ++self->res_.totals.ops_failed;
      } else {
        self->load_.unknown(id, t);
        ++self->res_.totals.ops_unknown;
      }
      self->event(text + " => " + (definite ? "failed: " : "unknown: ")
                  + self->c_->sys->render(err));
    });
}

// -- observing -------------------------------------------------------------------------

// -- reactive faults ----------------------------------------------------------------

void simulation::react() {
  if (settling_ || closing_
      || (isolate_rate_ == 0 && commit_crash_rate_ == 0
          && power_at_commit_rate_ == 0))
    return;
  auto cut_off = [this](size_t i) {
    for (size_t j = 0; j < n_; ++j) {
      if (j == i)
        continue;
      c_->net->cut.emplace(c_->ids[i], c_->ids[j]);
      c_->net->cut.emplace(c_->ids[j], c_->ids[i]);
    }
  };
  for (size_t i = 0; i < n_; ++i) {
    if (!c_->alive(i))
      continue;
    auto& st = c_->state(i);
    if (st.role != role::leader)
      continue;
    auto term = st.persistent.current_term;
    if (st.commit_index > last_commit_[i]) {
      last_commit_[i] = st.commit_index;
      if (chance(power_at_commit_rate_)) {
        later_.push_back(scheduled{step_, fault::power_loss, n_});
        event(name(i) + " commits " + std::to_string(st.commit_index)
              + ": the power fails everywhere next");
      }
    }
    if (term != leading_term_[i]) {
      leading_term_[i] = term;
      commit_at_start_[i] = st.commit_index + 1;
      if (chance(isolate_rate_)) {
        // Cut off before its flush sends the no-op: its entries of this
        // term stay on it alone (Figure 8's S5).
        cut_off(i);
        ++res_.totals.faults[static_cast<size_t>(fault::isolate_leader)];
        auto heal_in = uniform(50, 400);
        later_.push_back(scheduled{step_ + heal_in, fault::heal, i});
        event("isolate " + name(i) + " the moment it leads term "
              + std::to_string(term) + " (heal in " + std::to_string(heal_in)
              + " ms)");
      }
    } else if (commit_at_start_[i] != 0
               && st.commit_index + 1 > commit_at_start_[i]) {
      commit_at_start_[i] = 0;
      if (chance(commit_crash_rate_)) {
        // Dies right after its first commit, before anyone hears of it:
        // cut off now (what it sends is lost), killed at the next step.
        cut_off(i);
        later_.push_back(scheduled{step_, fault::crash, i});
        event(name(i) + " commits " + std::to_string(st.commit_index)
              + " first in term " + std::to_string(term)
              + ": cut off, crash next");
      }
    }
  }
}

void simulation::observe_roles() {
  for (size_t i = 0; i < n_; ++i) {
    std::pair<role, term_t> now{role::stopped, 0};
    if (c_->alive(i)) {
      auto& st = c_->state(i);
      now = {st.role, st.persistent.current_term};
    }
    auto& before = roles_[i];
    if (c_->alive(i)) {
      // Snapshots restored (at start or by InstallSnapshot) show in the trace.
      auto& m = *c_->recorders[i];
      auto& seen = restored_[i];
      if (seen.first != &m || seen.second != m.restored_index) {
        if (m.restored_index != 0)
          event(name(i) + " restored a snapshot at "
                + std::to_string(m.restored_index) + " (last applied before: "
                + (m.applied.empty() ? std::string{"none"}
                                     : std::to_string(m.applied.back().first))
                + ")");
        seen = {&m, m.restored_index};
      }
    }
    if (now.first == role::stopped && before.first != role::stopped)
      event(name(i) + " is gone: " + c_->exit_reason(i));
    if (now.first == role::leader
        && (before.first != role::leader || before.second != now.second)) {
      ++res_.totals.elections;
      event(name(i) + " leader of term " + std::to_string(now.second));
      if (!settling_ && chance(leader_crash_rate_))
        later_.push_back(
          scheduled{step_ + uniform(0, leader_crash_delay_), fault::crash, i});
    } else if (before.first == role::leader && now.first != role::leader
               && now.first != role::stopped) {
      event(name(i) + " steps down in term " + std::to_string(now.second));
    }
    before = now;
  }
}

// -- the end -----------------------------------------------------------------------------

std::string simulation::converged_or_why() {
  for (auto& cl : clients_)
    if (cl.busy)
      return "client c" + std::to_string(cl.id) + " still waits";
  auto l = c_->leader();
  if (!l)
    return "no leader";
  auto& lead = c_->state(*l);
  auto last = lead.log.last_index();
  // With membership changes: the members of the leader's configuration,
  // which must not be joint any more (leaving it is automatic, thesis
  // §4.3); members removed or never added are left alone.
  cluster_configuration cfg;
  if (membership_) {
    index_t at = 0;
    cfg = config_of(*l, at);
    if (cfg.joint())
      return "the leader " + name(*l) + " is still in the joint configuration "
             + names(cfg);
  }
  std::ostringstream why;
  for (size_t i = 0; i < n_; ++i) {
    if (membership_ && !cfg.contains(c_->ids[i]))
      continue;
    if (!c_->alive(i))
      return name(i) + " is down";
    auto& st = c_->state(i);
    if (st.log.last_index() != last || st.commit_index != last
        || st.last_applied != last)
      why << name(i) << ": role " << static_cast<int>(st.role) << " term "
          << st.persistent.current_term << " last " << st.log.last_index()
          << " commit " << st.commit_index << " applied "
          << st.last_applied << "; ";
  }
  auto str = why.str();
  if (!str.empty()) {
    // The leader's view of each follower (Figure 2's nextIndex/matchIndex,
    // plus probing and the appends in flight): where a stall comes from.
    for (auto& kvp : lead.leading().followers)
      why << "progress of " << kvp.first << ": next " << kvp.second.next_index()
          << " match " << kvp.second.match_index()
          << (kvp.second.probing() ? " probing" : "") << " in flight "
          << kvp.second.in_flight() << "; ";
    return "leader " + name(*l) + " has last index " + std::to_string(last)
           + "; " + why.str();
  }
  return {};
}

std::string simulation::settle() {
  later_.erase(std::remove_if(later_.begin(), later_.end(),
                              [](const scheduled& s) {
                                return s.kind != fault::restart
                                       && s.kind != fault::resume;
                              }),
               later_.end());
  settling_ = true;
  c_->net->heal();
  event("settle: heal, resume and restart everything");
  for (size_t i = 0; i < n_; ++i) {
    if (!c_->alive(i)) {
      ++res_.totals.faults[static_cast<size_t>(fault::restart)];
      c_->restart(i);
    } else if (c_->paused(i)) {
      ++res_.totals.faults[static_cast<size_t>(fault::resume)];
      c_->resume(i);
    }
  }
  later_.clear();
  std::string why = "not checked";
  uint64_t t = 0;
  bool nudged = false;
  for (; t < opts_.settle_ms; ++t) {
    if (t % 10 == 0 && (why = converged_or_why()).empty())
      break;
    if (t == opts_.idle_ms && !nudged && !why.empty()) {
      // Idle and healed, yet not converged: a liveness bug. Note it, and
      // (unless strict) write once more, as any client would.
      res_.stall = why;
      ++res_.totals.stalls;
      event("STALL: no convergence " + std::to_string(t)
            + " ms after healing with no new command: " + why);
      if (opts_.strict_liveness)
        return "liveness: " + res_.stall;
      nudged = true;
      for (auto& cl : clients_)
        if (!cl.busy) {
          issue(cl);
          break;
        }
    } else if (t == 2 * opts_.idle_ms && nudged && !why.empty()) {
      // Still stuck after a new command: a new leader starts replication
      // afresh (its progress for every follower is new).
      if (auto l = c_->leader()) {
        event("STALL persists: restart the leader " + name(*l));
        c_->crash(*l);
        c_->restart(*l);
      }
    }
    c_->advance(milliseconds{1});
    ++step_;
    observe_roles();
    if (!c_->violation().empty())
      return c_->violation();
  }
  res_.totals.settle_ms = t;
  if (!why.empty())
    return "liveness: no convergence within " + std::to_string(opts_.settle_ms)
           + " ms after healing: " + why;
  event("converged at index "
        + std::to_string(c_->state(*c_->leader()).last_applied)
        + (membership_ ? " in " + names(known_config_) : std::string{}));
  return {};
}

std::string simulation::check_apply_order() {
  // Every member applied exactly the committed commands after its last
  // restored snapshot, in log order: each incarnation's applied list, past
  // the snapshot it restored, equals the commands every member applied at
  // those indexes. And all hold the same data.
  std::map<index_t, std::string> all;
  std::string first_state;
  for (size_t i = 0; i < n_; ++i) {
    for (auto& [index, cmd] : c_->recorders[i]->applied) {
      auto [pos, added] = all.emplace(index, cmd);
      if (!added && pos->second != cmd)
        return "apply order: " + name(i) + " applied '" + cmd + "' at "
               + std::to_string(index) + ", another member '" + pos->second
               + "'";
    }
  }
  std::string reference;
  for (size_t i = 0; i < n_; ++i) {
    auto& m = *c_->recorders[i];
    auto from = m.restored_index;
    auto to = c_->state(i).last_applied;
    auto mine = m.applied.begin();
    while (mine != m.applied.end() && mine->first <= from)
      ++mine;
    for (auto x = all.upper_bound(from); x != all.end() && x->first <= to;
         ++x, ++mine) {
      if (mine == m.applied.end() || mine->first != x->first)
        return "apply order: " + name(i) + " skipped '" + x->second
               + "' at " + std::to_string(x->first) + " (its snapshot: "
               + std::to_string(from) + ")";
    }
    if (mine != m.applied.end())
      return "apply order: " + name(i) + " applied '" + mine->second
             + "' at " + std::to_string(mine->first) + " beyond "
             + std::to_string(to);
    // The same state everywhere, as the application's own snapshot shows
    // it (save_snapshot writes the same bytes for the same state); with
    // membership changes, on the members of the final configuration.
    if (membership_ && !known_config_.contains(c_->ids[i]))
      continue;
    std::string mine_state;
    if (auto err = state_of(i, mine_state); !err.empty())
      return err;
    if (reference.empty()) {
      first_state = std::move(mine_state);
      reference = name(i);
    } else if (mine_state != first_state) {
      return "state: " + name(i) + " holds different data than " + reference;
    }
  }
  res_.totals.applied = all.size();
  for (size_t i = 0; i < n_; ++i) {
    if (c_->state(i).log.first_index() > 1)
      ++res_.totals.compacted;
    if (c_->recorders[i]->restored_index > 0)
      ++res_.totals.restored;
  }
  return {};
}

std::string simulation::state_of(size_t i, std::string& out) {
  std::ostringstream bytes;
  if (auto err = c_->recorders[i]->inner->save_snapshot(bytes))
    return "state: " + name(i) + " cannot save a snapshot: "
           + c_->sys->render(err);
  out = bytes.str();
  return {};
}

std::string simulation::check_history() {
  auto r = load_.check(opts_.check_budget);
  res_.totals.ops_checked = r.operations;
  res_.totals.check_steps = r.steps;
  if (r.status == history_verdict::undecided) {
    ++res_.totals.undecided;
    event("linearizability check undecided (budget) on key " + r.key);
    return {};
  }
  if (r.status == history_verdict::violation) {
    // Show the events from a while before the operations that do not fit
    // up to the end of them.
    if (r.window_to > 0 || r.window_from > 0) {
      const uint64_t margin = 300'000'000; // 300 ms
      auto from = r.window_from;
      window_ = {from > margin ? from - margin : 0, r.window_to + margin / 3};
    }
    // The checker's explanation, its first lines.
    std::istringstream in{r.explanation};
    std::string line;
    std::string text;
    std::vector<std::string> lines;
    while (std::getline(in, line))
      lines.push_back(line);
    for (size_t k = 0; k < lines.size(); ++k) {
      if (lines.size() > 30 && k == 8) {
        text += "  ... (" + std::to_string(lines.size() - 22)
                + " more lines)\n";
        k = lines.size() - 14;
      }
      text += lines[k] + "\n";
    }
    return "not linearizable: " + text;
  }
  return {};
}

result simulation::run() {
  res_.seed = opts_.seed;
  res_.fingerprint = 0xcbf29ce484222325ULL;
  draw_setup();
  start_ = c_->now();
  c_->start_all();
  event("start: " + res_.setup);
  for (step_ = 0; step_ < opts_.steps && !stopped_; ++step_) {
    run_scheduled();
    maybe_fault();
    maybe_change();
    clients_act();
    c_->advance(milliseconds{1});
    observe_roles();
    if (!c_->violation().empty())
      fail(c_->violation());
  }
  res_.totals.steps = std::min(step_, opts_.steps);
  if (!stopped_) {
    if (auto err = settle(); !err.empty())
      fail(err);
    else if (auto err = check_apply_order(); !err.empty())
      fail(err);
    else if (auto err = check_history(); !err.empty())
      fail(err);
  }
  auto& net = *c_->net;
  res_.totals.runs = 1;
  res_.totals.delivered = net.delivered;
  res_.totals.dropped = net.dropped;
  res_.totals.duplicated = net.duplicated;
  res_.totals.delayed = net.delayed;
  res_.totals.messages = c_->messages_run();
  res_.totals.violations = res_.ok() ? 0 : 1;
  std::ostringstream trace;
  if (window_.second > 0) {
    trace << "  (events from " << window_.first / 1'000'000 << " to "
          << window_.second / 1'000'000
          << " ms, around the operations that do not fit)\n";
    size_t shown = 0;
    for (auto& [t, line] : all_events_)
      if (t >= window_.first && t <= window_.second
          && shown++ < 4 * opts_.trace_size)
        trace << "  " << line << '\n';
  } else {
    for (auto& line : trace_)
      trace << "  " << line << '\n';
  }
  res_.trace = trace.str();
  return res_;
}

} // namespace

result run(const options& opts, const machine_factory& make, workload& load) {
  simulation s{opts, make, load};
  return s.run();
}

std::string report(const result& r, const options& opts) {
  std::ostringstream out;
  out << "SIMULATION FAILED: seed " << r.seed << ", step " << r.step << "\n"
      << "  violation: " << r.violation << "\n"
      << "  setup: " << r.setup << "\n"
      << "  last events:\n"
      << r.trace << "  replay: " << opts.program << " --seed " << r.seed
      << " --steps " << opts.steps;
  if (opts.members != 0)
    out << " --members " << opts.members;
  if (!opts.replay_args.empty())
    out << ' ' << opts.replay_args;
  out << " --trace 200\n";
  return out.str();
}

// -- the workload's defaults ---------------------------------------------------------

workload::~workload() {
  // nop
}

std::string workload::setup(std::mt19937_64&) {
  return {};
}

void workload::unknown(size_t, uint64_t) {
  // nop
}

} // namespace raft::testing
