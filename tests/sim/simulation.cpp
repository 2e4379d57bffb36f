#include "simulation.hpp"

#include <memory>

#include "kv_machine.hpp"
#include "kv_workload.hpp"

namespace raft::test::sim {

namespace {

const char* variant_names[] = {
  "none",
  "skip_vote_log_check",
  "commit_old_terms_by_counting",
  "keep_conflicting_suffix",
  "ack_before_durable",
  "serve_reads_without_quorum_check",
  "grant_pre_vote_despite_leader",
  "accept_concurrent_changes",
  "joint_commit_on_new_majority",
  "change_before_term_commit",
};

/// The kit's options for one of ours: the broken variant becomes a tweak of
/// every member's configuration and a note in the setup and replay lines.
testing::options kit_options(const options& opts) {
  testing::options k;
  k.seed = opts.seed;
  k.steps = opts.steps;
  k.settle_ms = opts.settle_ms;
  k.members = opts.members;
  k.trace_size = opts.trace_size;
  k.queries = opts.queries;
  k.idle_ms = opts.idle_ms;
  k.strict_liveness = opts.strict_liveness;
  k.check_budget = opts.check_budget;
  k.membership = opts.membership;
  k.label = "variant " + to_string(opts.broken);
  k.program = "sim_test --";
  if (opts.broken != variant::none)
    k.replay_args = "--broken " + to_string(opts.broken);
  if (!opts.queries)
    k.replay_args += (k.replay_args.empty() ? "" : " ") + std::string{"--no-queries"};
  if (opts.membership >= 0)
    k.replay_args += (k.replay_args.empty() ? "" : " ")
                     + std::string{"--membership "}
                     + (opts.membership > 0 ? "on" : "off");
  auto broken = opts.broken;
  k.tweak = [broken](size_t, testing::member_setup& cfg) {
    switch (broken) {
      case variant::none:
        break;
      case variant::skip_vote_log_check:
        cfg.broken.skip_vote_log_check = true;
        break;
      case variant::commit_old_terms_by_counting:
        cfg.broken.commit_old_terms_by_counting = true;
        break;
      case variant::keep_conflicting_suffix:
        cfg.broken.keep_conflicting_suffix = true;
        break;
      case variant::ack_before_durable:
        cfg.broken.ack_before_durable = true;
        break;
      case variant::serve_reads_without_quorum_check:
        cfg.broken.serve_reads_without_quorum_check = true;
        break;
      case variant::grant_pre_vote_despite_leader:
        cfg.broken.grant_pre_vote_despite_leader = true;
        break;
      case variant::accept_concurrent_changes:
        cfg.broken.accept_concurrent_changes = true;
        break;
      case variant::joint_commit_on_new_majority:
        cfg.broken.joint_commit_on_new_majority = true;
        break;
      case variant::change_before_term_commit:
        cfg.broken.change_before_term_commit = true;
        break;
    }
  };
  return k;
}

} // namespace

std::vector<variant> broken_variants() {
  return {variant::skip_vote_log_check, variant::commit_old_terms_by_counting,
          variant::keep_conflicting_suffix, variant::ack_before_durable,
          variant::serve_reads_without_quorum_check,
          variant::grant_pre_vote_despite_leader,
          variant::accept_concurrent_changes,
          variant::joint_commit_on_new_majority,
          variant::change_before_term_commit};
}

std::string to_string(variant x) {
  return variant_names[static_cast<size_t>(x)];
}

bool from_string(const std::string& str, variant& out) {
  for (size_t i = 0; i < std::size(variant_names); ++i) {
    if (str == variant_names[i]) {
      out = static_cast<variant>(i);
      return true;
    }
  }
  return false;
}

result run(const options& opts) {
  kv_workload load;
  testing::machine_factory make = [](size_t) {
    return std::make_shared<kv_machine>();
  };
  return testing::run(kit_options(opts), make, load);
}

std::string report(const result& r, const options& opts) {
  return testing::report(r, kit_options(opts));
}

} // namespace raft::test::sim
