// The testing kit's example: runs the bank of bank.hpp in the deterministic
// fault simulation for a range of seeds and checks every history against
// the bank's sequential model (docs/testing-kit.md).
//
//   bank_sim [--seeds N] [--seed S] [--steps M] [--members 3|5]
//            [--broken ignore_deposit_of_7|nondeterministic_transfer]
//            [--expect-caught] [--verbose]
//
// Exit status 0 if every seed passed. With --expect-caught (for the broken
// variants) the other way round: 0 only if some seed failed and the report
// names that seed and how to replay it.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

#include "raft/testing/model_workload.hpp"
#include "raft/testing/simulation.hpp"

#include "bank.hpp"

namespace {

struct cli {
  uint64_t seeds = 30;
  uint64_t first = 1;
  uint64_t steps = 3000;
  size_t members = 0;
  bank::flaw broken = bank::flaw::none;
  std::string broken_name;
  bool expect_caught = false;
  bool verbose = false;

  cli(int argc, char** argv) {
    bool seeds_given = false;
    bool seed_given = false;
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= argc)
          throw std::invalid_argument("missing value after " + arg);
        return argv[++i];
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
        broken_name = next();
        if (broken_name == "ignore_deposit_of_7")
          broken = bank::flaw::ignore_deposit_of_7;
        else if (broken_name == "nondeterministic_transfer")
          broken = bank::flaw::nondeterministic_transfer;
        else
          throw std::invalid_argument("unknown variant " + broken_name);
      } else if (arg == "--expect-caught") {
        expect_caught = true;
      } else if (arg == "--verbose") {
        verbose = true;
      } else {
        throw std::invalid_argument("unknown option " + arg);
      }
    }
    if (seed_given && !seeds_given) {
      seeds = 1; // replay one seed
      verbose = true;
    }
  }
};

} // namespace

int main(int argc, char** argv) try {
  cli args{argc, argv};
  raft::testing::stats totals;
  uint64_t failed = 0;
  bool report_ok = true;
  auto started = std::chrono::steady_clock::now();
  for (uint64_t seed = args.first; seed < args.first + args.seeds; ++seed) {
    raft::testing::options opts;
    opts.seed = seed;
    opts.steps = args.steps;
    opts.members = args.members;
    opts.program = "bank_sim";
    if (args.broken != bank::flaw::none)
      opts.replay_args = "--broken " + args.broken_name;
    // A fresh state machine for every member incarnation, and fresh clients
    // with their own history for every run.
    auto flaw = args.broken;
    raft::testing::machine_factory make = [flaw](size_t member) {
      return std::make_shared<bank::bank_machine>(flaw, member);
    };
    raft::testing::model_workload<bank::bank_spec> load;
    auto r = raft::testing::run(opts, make, load);
    totals += r.totals;
    if (args.verbose)
      std::cout << "seed " << seed << ": "
                << (r.ok() ? "ok" : "FAILED") << "; "
                << raft::testing::summary(r.totals) << std::endl;
    if (!r.ok()) {
      ++failed;
      auto text = raft::testing::report(r, opts);
      std::cout << text;
      // The report must say which seed failed and how to replay it.
      auto replay = "replay: bank_sim --seed " + std::to_string(seed);
      if (text.find("seed " + std::to_string(seed)) == std::string::npos
          || text.find(replay) == std::string::npos)
        report_ok = false;
      if (args.expect_caught)
        break; // caught: that is what the test wants to see
    }
  }
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now()
                                            - started)
                .count();
  std::cout << "bank_sim: " << raft::testing::summary(totals) << "; "
            << failed << " failing seeds; " << secs << " s" << std::endl;
  if (args.expect_caught) {
    if (failed == 0) {
      std::cout << "bank_sim: the broken variant was NOT caught" << std::endl;
      return EXIT_FAILURE;
    }
    if (!report_ok) {
      std::cout << "bank_sim: the report does not name the seed" << std::endl;
      return EXIT_FAILURE;
    }
    std::cout << "bank_sim: the broken variant was caught" << std::endl;
    return EXIT_SUCCESS;
  }
  return failed == 0 && totals.undecided == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
} catch (const std::exception& e) {
  std::cerr << "bank_sim: " << e.what() << std::endl;
  return EXIT_FAILURE;
}
