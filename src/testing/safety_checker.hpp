// Checks the five safety properties of Figure 3 (Raft paper, extended
// version) over snapshots of every member's state, and what membership
// changes add (Ongaro's thesis, chapter 4): a leader is a voter of the
// configuration in its log, every committed entry is stored on a majority
// of each configuration in force when it committed (both while joint), and
// leaders follow the change rules. Configurations are read from the
// members' logs (entry_kind::configuration), never from what a test meant
// to change. Tests call check() after every delivered message; the first
// violation is reported with enough detail to replay it.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "raft/core/configuration.hpp"
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
  /// The configuration this member bootstrapped with (the members added
  /// before start; empty for a member that joins): in force while its log
  /// holds no configuration entry and no snapshot covers one.
  const cluster_configuration* bootstrap = nullptr;
};

/// The configuration in force in `l` (thesis §4.1: the latest configuration
/// entry, committed or not) and its index; nullopt if the log holds none.
/// A configuration entry that does not decode counts as none.
std::optional<std::pair<index_t, cluster_configuration>>
latest_configuration(const raft::log& l);

/// The configuration in force at a member whose log is `l` and its index:
/// latest_configuration(l), or, when the log holds no configuration entry,
/// `below` at `below_index` (the member's snapshot's or bootstrap's
/// configuration). Never a configuration seen earlier: an entry that is not
/// committed may be truncated by the next leader, and the member then falls
/// back to the previous one (thesis §4.1; docs/testing.md, finding 8).
std::pair<index_t, cluster_configuration>
configuration_in_force(const raft::log& l, index_t below_index,
                       const cluster_configuration& below);

class safety_checker {
public:
  /// Returns an empty string if all properties hold, else what broke.
  std::string check(const std::vector<member_view>& members);

  /// Entries known committed so far (index -> term).
  size_t committed_count() const {
    return committed_.size();
  }

  /// Whether member `id` holds the entry (index, term) on stable storage
  /// (or in a snapshot covering it); unset: whether a live member's log
  /// holds it. Used for "committed entries are on a majority".
  std::function<bool(const member_id& id, index_t index, term_t term)> stored;

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
  std::string check_change_rules(const member_view& m,
                                 const log_entry& appended);
  std::string check_committed_on_majorities(const member_view& m,
                                            index_t from, index_t to,
                                            const std::vector<member_view>& ms);

  /// The configuration in force at member `m`: its log's latest, else the
  /// latest committed one the log's snapshot covers, else its bootstrap.
  cluster_configuration configuration_of(const member_view& m) const;
  /// The same, from entries up to `upto` only.
  cluster_configuration configuration_of(const member_view& m,
                                         index_t upto) const;

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
  /// Committed configuration entries (index -> configuration): what a
  /// snapshot that covers them carries.
  std::map<index_t, cluster_configuration> committed_configs_;
  /// Each member's last index as the previous check saw it: a commit is
  /// decided under the configuration in the log before the message that
  /// moved it (a leader appends C_new, or a promotion, right after).
  std::map<member_id, index_t> last_seen_;
};

} // namespace raft::testing
