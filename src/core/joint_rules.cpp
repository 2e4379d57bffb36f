// Joint consensus and the refusal rules of configuration changes (thesis
// chapter 4): rules.hpp's membership section.

#include <algorithm>

#include "raft/core/rules.hpp"
#include "raft/errc.hpp"

namespace raft {

namespace {

index_t majority_index(const std::vector<member_id>& group,
                       const std::map<member_id, index_t>& values) {
  if (group.empty())
    return 0;
  std::vector<index_t> xs;
  xs.reserve(group.size());
  for (auto& id : group) {
    auto i = values.find(id);
    xs.push_back(i == values.end() ? 0 : i->second);
  }
  return quorum_match_index(std::move(xs));
}

bool majority_of(const std::vector<member_id>& group,
                 const std::set<member_id>& granted) {
  auto n = std::count_if(group.begin(), group.end(), [&](const member_id& id) {
    return granted.count(id) > 0;
  });
  return !group.empty() && static_cast<size_t>(n) >= quorum_size(group.size());
}

} // namespace

index_t joint_quorum_index(const cluster_configuration& cfg,
                           const std::map<member_id, index_t>& values,
                           const broken_rules& broken) {
  auto n = majority_index(cfg.voters, values);
  // Thesis §4.3: a majority of C_old as well while joint.
  if (cfg.joint() && !broken.joint_commit_on_new_majority)
    n = std::min(n, majority_index(cfg.old_voters, values));
  return n;
}

bool has_joint_majority(const cluster_configuration& cfg,
                        const std::set<member_id>& granted) {
  if (!majority_of(cfg.voters, granted))
    return false;
  // Thesis §4.3: elections too need both majorities while joint.
  return !cfg.joint() || majority_of(cfg.old_voters, granted);
}

index_t leader_commit_at(const log& leader_log, term_t current_term,
                         index_t commit_index, index_t quorum_index,
                         const broken_rules& broken) {
  if (quorum_index <= commit_index)
    return commit_index;
  // §5.4.2: only entries of the current term are committed by counting.
  if (broken.commit_old_terms_by_counting
      || leader_log.term_at(quorum_index) == current_term)
    return quorum_index;
  return commit_index;
}

caf::error change_allowed(index_t config_index, index_t term_start,
                          index_t commit_index, const broken_rules& broken) {
  // Thesis §4.3: one change at a time; C_new of a joint change counts.
  if (config_index > commit_index && !broken.accept_concurrent_changes)
    return make_error(errc::change_in_progress,
                      "configuration entry " + std::to_string(config_index)
                        + " is not committed yet");
  // Thesis §4.1 (raft-dev, 2015): not before the leader committed its no-op.
  if (term_start > commit_index && !broken.change_before_term_commit)
    return make_error(errc::change_in_progress,
                      "the leader has not committed an entry of its term yet");
  return caf::none;
}

caf::error check_target(cluster_configuration& target) {
  if (target.joint())
    return make_error(errc::invalid_config,
                      "a target configuration has no old voters");
  target.normalize();
  if (auto err = check(target))
    return err;
  if (target.voters.empty())
    return make_error(errc::invalid_config,
                      "a configuration needs at least one voter");
  return caf::none;
}

caf::expected<cluster_configuration>
start_change(const cluster_configuration& current,
             cluster_configuration target) {
  if (auto err = check_target(target))
    return err;
  if (target == current)
    return make_error(errc::invalid_config,
                      "the configuration is already " + to_string(target));
  if (target.voters == current.voters)
    return target; // Learners only: one step (thesis §4.2.1).
  // Thesis §4.3: C_old,new first.
  cluster_configuration joint = std::move(target);
  joint.old_voters = current.voters;
  if (auto err = check(joint))
    return err; // e.g. an old voter made a learner in one step
  return joint;
}

cluster_configuration leave_joint(const cluster_configuration& joint) {
  auto result = joint;
  result.old_voters.clear();
  return result;
}

bool learner_caught_up(index_t match_index, index_t last_index,
                       size_t max_entries) {
  // Match 0: it never acknowledged anything (an address where nobody
  // answers, say); in a log shorter than one round it would pass otherwise.
  return match_index != 0 && match_index + max_entries >= last_index;
}

} // namespace raft
