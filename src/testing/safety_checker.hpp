// Checks the five safety properties of Figure 3 (Raft paper, extended
// version) over snapshots of every member's state. Tests call check() after
// every delivered message; the first violation is reported with enough
// detail to replay it.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "raft/core/log.hpp"

namespace raft::testing {

/// What the checker needs to see of one live member.
struct member_view {
  member_id id;
  raft::role role = role::follower;
  term_t term = 0;
  const raft::log* log = nullptr;
  index_t commit_index = 0;
  /// Commands applied by this incarnation's state machine, in order:
  /// (index, command bytes).
  const std::vector<std::pair<index_t, std::string>>* applied = nullptr;
  /// Distinguishes incarnations of one member across restarts.
  const void* incarnation = nullptr;
};

class safety_checker {
public:
  /// Returns an empty string if all properties hold, else what broke.
  std::string check(const std::vector<member_view>& members);

  /// Entries known committed so far (index -> term).
  size_t committed_count() const {
    return committed_.size();
  }

private:
  struct committed_entry {
    term_t term;        // the entry's term
    term_t commit_term; // the term in which it was first seen committed
    std::string data;
  };

  std::string check_election_safety(const std::vector<member_view>& ms);
  std::string check_leader_append_only(const std::vector<member_view>& ms);
  std::string check_log_matching(const std::vector<member_view>& ms);
  std::string check_leader_completeness(const std::vector<member_view>& ms);
  std::string check_state_machine_safety(const std::vector<member_view>& ms);

  /// Election Safety: at most one leader per term.
  std::map<term_t, member_id> leaders_;
  /// Leader Append-Only: each leader's log as last seen, per (id, term).
  std::map<std::pair<member_id, term_t>, std::vector<log_entry>> leader_logs_;
  /// Leader Completeness: every entry seen committed.
  std::map<index_t, committed_entry> committed_;
  /// State Machine Safety: the command applied at each index.
  std::map<index_t, std::string> applied_;
  /// How much of each incarnation's applied list was checked already.
  std::map<const void*, size_t> applied_checked_;
};

} // namespace raft::testing
