// The deterministic fault simulation as a test (label `sim`), and its long
// mode. Options after `--` (Boost.Test passes them through):
//
//   sim_test --run_test=bounded_seeds -- --seeds 2000 --steps 10000
//   sim_test --run_test=bounded_seeds -- --seed 1234        (replay one seed)
//
//   --seeds N       runs N seeds (default: the bounded run's count)
//   --seed S        the first seed (alone: replays S, printing its trace)
//   --steps M       simulated milliseconds of faults per seed
//   --members K     3 or 5 (default: drawn from the seed)
//   --broken V      a broken variant (see docs/testing.md)
//   --membership on|off  membership changes in every seed, or in none
//                   (default: drawn, in a fifth of the seeds)
//   --no-queries    every get through the log (default: half as ReadIndex
//                   queries)
//   --strict-liveness  a stall after healing (no convergence while idle)
//                   fails the run (default: noted, then a write unsticks it)
//   --trace N       events kept for the failure trace
//   --verbose       print every run's summary line
//   --explore       start at a seed base drawn at random (or taken from the
//                   environment variable RAFT_SIM_SEED_BASE), printed first
//                   so that a failure replays; scripts/test draws it
//
// docs/testing.md explains the rig.
#define BOOST_TEST_MODULE sim
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>
#include <initializer_list>
#include <random>
#include <iostream>
#include <string>

#include "simulation.hpp"

using namespace raft::test::sim;

namespace {

// The bounded run in ctest: sized to take about a minute on the 2-core
// development machine (docs/testing.md has the measurements).
constexpr uint64_t bounded_seeds_default = 300;
constexpr uint64_t bounded_steps_default = 3000;

/// Options from the command line (after `--`).
struct cli {
  uint64_t seeds = bounded_seeds_default;
  uint64_t first = 1;
  uint64_t steps = bounded_steps_default;
  size_t members = 0;
  variant broken = variant::none;
  bool queries = true;
  int membership = -1;
  bool strict_liveness = false;
  size_t trace = 60;
  bool verbose = false;
  bool replay = false;

  cli() {
    auto& suite = boost::unit_test::framework::master_test_suite();
    bool seeds_given = false;
    bool seed_given = false;
    for (int i = 1; i < suite.argc; ++i) {
      std::string arg = suite.argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= suite.argc)
          throw std::invalid_argument("missing value after " + arg);
        return suite.argv[++i];
      };
      if (arg == "--seeds") {
        seeds = std::stoull(next());
        seeds_given = true;
      } else if (arg == "--seed") {
        first = std::stoull(next());
        seed_given = true;
      } else if (arg == "--steps") {
        steps = std::stoull(next());
      } else if (arg == "--members") {
        members = std::stoul(next());
      } else if (arg == "--broken") {
        auto name = next();
        if (!from_string(name, broken))
          throw std::invalid_argument("unknown variant " + name);
      } else if (arg == "--membership") {
        auto v = next();
        if (v != "on" && v != "off")
          throw std::invalid_argument("--membership on|off, not " + v);
        membership = v == "on" ? 1 : 0;
      } else if (arg == "--no-queries") {
        queries = false;
      } else if (arg == "--strict-liveness") {
        strict_liveness = true;
      } else if (arg == "--trace") {
        trace = std::stoul(next());
      } else if (arg == "--verbose") {
        verbose = true;
      } else if (arg == "--explore") {
        first = explore_base();
        seed_given = seeds_given = true;
      } else {
        throw std::invalid_argument("unknown option " + arg);
      }
    }
    if (seed_given && !seeds_given) {
      seeds = 1;
      replay = true;
      verbose = true;
    }
  }

  /// Explored seeds start at 10,000,000 and above, clear of the fixed
  /// ranges (1-300 bounded, 100,001+ long, regression seeds).
  static uint64_t explore_base() {
    uint64_t base;
    if (auto env = std::getenv("RAFT_SIM_SEED_BASE"); env && *env) {
      base = std::stoull(env);
    } else {
      std::random_device rd;
      base = 10'000'000 + (uint64_t{rd()} << 16 ^ rd()) % 1'000'000'000;
    }
    std::cout << "sim: exploring from seed base " << base
              << " (replay a seed S: sim_test --run_test=bounded_seeds -- --seed S)"
              << std::endl;
    return base;
  }

  options make(uint64_t seed) const {
    options o;
    o.seed = seed;
    o.steps = steps;
    o.members = members;
    o.broken = broken;
    o.queries = queries;
    o.membership = membership;
    o.strict_liveness = strict_liveness;
    o.trace_size = trace;
    return o;
  }
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  using namespace std::chrono;
  return duration_cast<duration<double>>(steady_clock::now() - t0).count();
}

/// Runs `opts.broken` over the bounded seeds until a run fails; returns it.
result first_catch(const cli& args, variant v, uint64_t& seeds_run) {
  result r;
  seeds_run = 0;
  for (uint64_t s = args.first; s < args.first + args.seeds; ++s) {
    auto o = args.make(s);
    o.broken = v;
    r = run(o);
    ++seeds_run;
    if (!r.ok())
      return r;
  }
  return r;
}

void expect_caught(variant v) {
  cli args;
  auto t0 = std::chrono::steady_clock::now();
  uint64_t seeds_run = 0;
  auto r = first_catch(args, v, seeds_run);
  BOOST_TEST_MESSAGE(to_string(v) << ": " << seeds_run << " seeds in "
                                  << seconds_since(t0) << " s");
  BOOST_TEST(!r.ok(), to_string(v) << " not caught in " << seeds_run
                                   << " seeds");
  if (!r.ok()) {
    auto o = args.make(r.seed);
    o.broken = v;
    std::cout << "CAUGHT " << to_string(v) << " at seed " << r.seed
              << ", step " << r.step << ": " << r.violation.substr(0, 300)
              << "\n"
              << report(r, o) << std::endl;
  }
}

} // namespace

// Every seed of the bounded range (or of --seeds/--seed) passes: Figure 3
// after every message, then convergence, identical apply order and a
// linearizable history.
BOOST_AUTO_TEST_CASE(bounded_seeds) {
  cli args;
  stats total;
  size_t printed = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (uint64_t s = args.first; s < args.first + args.seeds; ++s) {
    auto o = args.make(s);
    auto r = run(o);
    total += r.totals;
    if (args.replay)
      std::cout << "seed " << s << ": " << r.setup << "\n" << r.trace;
    if (args.verbose)
      std::cout << "seed " << s << ": " << (r.ok() ? "ok" : "FAILED") << "; "
                << summary(r.totals) << std::endl;
    if (!r.ok() && printed++ < 5)
      std::cout << report(r, o) << std::endl;
    if (!r.stall.empty())
      std::cout << "STALL (liveness, see docs/testing.md) at seed " << s
                << ": " << r.stall << std::endl;
    BOOST_TEST(r.ok(), "seed " << s << ": " << r.violation.substr(0, 2000));
  }
  std::cout << "sim: " << summary(total) << " in " << seconds_since(t0)
            << " s" << std::endl;
}

// One seed, run twice, does exactly the same (the fingerprint hashes every
// event: faults, elections, client operations and their results). Seed 3
// draws leader churn and snapshots, 4 mixed faults and snapshots, 7 mixed
// faults without.
BOOST_AUTO_TEST_CASE(replay_is_deterministic) {
  for (uint64_t seed : {3, 4, 7, 8}) {
    // Seed 8 draws membership changes too.
    options o;
    o.seed = seed;
    o.steps = 2000;
    auto a = run(o);
    auto b = run(o);
    BOOST_TEST(a.fingerprint == b.fingerprint);
    BOOST_TEST(a.trace == b.trace);
    BOOST_TEST(a.totals.messages == b.totals.messages);
    BOOST_TEST(a.violation == b.violation);
  }
}

namespace {

struct regression {
  uint64_t seed;
  uint64_t steps;
  const char* finding;
  /// Membership changes drawn (1) or not (0), as when it was found.
  int membership = 0;
};

void replay_all(std::initializer_list<regression> seeds) {
  for (auto& x : seeds) {
    options o;
    o.seed = x.seed;
    o.steps = x.steps;
    // The schedules as they were found (100058 would draw membership
    // changes now).
    o.membership = x.membership;
    auto r = run(o);
    if (!r.ok())
      std::cout << report(r, o) << std::endl;
    BOOST_TEST(r.ok(), "seed " << x.seed << " (" << x.finding << "): "
                                 << r.violation.substr(0, 2000));
  }
}

} // namespace

// Every seed that ever failed, with the simulated time it needed; each is in
// docs/testing.md (Findings) with its cause and fix.
BOOST_AUTO_TEST_CASE(regression_seeds) {
  replay_all({
    {152, 3000, "finding 1: a member that had not started made peers quit"},
    {174, 3000, "finding 2: a lost AppendEntries was not resent"},
    {204, 3000, "finding 2: a lost AppendEntries was not resent"},
    {247, 3000, "finding 2: a lost AppendEntries was not resent"},
    {265, 3000, "finding 2: a lost AppendEntries was not resent"},
    {100041, 5000, "finding 3: snapshot install rolled the state machine back"},
    {100058, 9300, "finding 3: snapshot install rolled the state machine back"},
    {100109, 3900, "finding 3: snapshot install rolled the state machine back"},
    {101180, 10000, "finding 6: a new leader replayed the whole log (stall)"},
    {9100077, 15000, "finding 7: restart with a snapshot beyond the log"},
    {26, 3000, "finding 8: the rig kept a truncated joint configuration", 1},
    {294, 3000, "membership: a wiped member's vote elected a stale leader", 1},
  });
}

// Regression seeds too slow for every run (minutes: Figure 3 checked after
// every message of a long history); label long.
BOOST_AUTO_TEST_CASE(slow_regression_seeds) {
  replay_all({
    {101304, 10000, "finding 6: a new leader replayed the whole log (stall)"},
  });
}

// -- it must be able to fail: each broken variant is caught ------------------------

BOOST_AUTO_TEST_CASE(catches_skip_vote_log_check) {
  expect_caught(variant::skip_vote_log_check);
}

BOOST_AUTO_TEST_CASE(catches_commit_old_terms_by_counting) {
  expect_caught(variant::commit_old_terms_by_counting);
}

BOOST_AUTO_TEST_CASE(catches_keep_conflicting_suffix) {
  expect_caught(variant::keep_conflicting_suffix);
}

BOOST_AUTO_TEST_CASE(catches_ack_before_durable) {
  expect_caught(variant::ack_before_durable);
}

BOOST_AUTO_TEST_CASE(catches_serve_reads_without_quorum_check) {
  expect_caught(variant::serve_reads_without_quorum_check);
}

// Membership changes (thesis chapter 4): caught on the seeds that draw
// membership changes (3, 8, 13, ... of the bounded range).

BOOST_AUTO_TEST_CASE(catches_accept_concurrent_changes) {
  expect_caught(variant::accept_concurrent_changes);
}

BOOST_AUTO_TEST_CASE(catches_joint_commit_on_new_majority) {
  expect_caught(variant::joint_commit_on_new_majority);
}

BOOST_AUTO_TEST_CASE(catches_change_before_term_commit) {
  expect_caught(variant::change_before_term_commit);
}
