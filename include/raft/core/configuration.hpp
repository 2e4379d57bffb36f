// Who takes part in the cluster (Ongaro's thesis, chapter 4): the voters,
// whose majority elects leaders and commits entries, and the learners, which
// receive the log and snapshots but count for neither. The configuration
// lives in the log as entries of kind `configuration` (thesis §4.1); while a
// change is in progress it is joint (thesis §4.3): C_old's voters in
// `old_voters`, C_new's in `voters`, and a majority of each is needed.
#pragma once

#include <string>
#include <vector>

#include "caf/expected.hpp"
#include "caf/meta/type_name.hpp"

#include "raft/core/types.hpp"

namespace raft {

/// Invariants (see valid()): each list is sorted and free of duplicates; no
/// member is both a learner and a voter (of either configuration).
struct cluster_configuration {
  /// C_new's voters (the only voters when not joint).
  std::vector<member_id> voters;
  /// Members that receive the log but neither vote nor count for commitment.
  std::vector<member_id> learners;
  /// C_old's voters while joint (thesis §4.3); empty otherwise.
  std::vector<member_id> old_voters;

  /// True while a joint configuration (C_old,new) is in force.
  bool joint() const {
    return !old_voters.empty();
  }

  /// True if there is no configuration at all (a member waiting to join).
  bool empty() const {
    return voters.empty() && learners.empty() && old_voters.empty();
  }

  /// A voter of either configuration.
  bool is_voter(const member_id& id) const;

  bool is_learner(const member_id& id) const;

  /// A voter or a learner.
  bool contains(const member_id& id) const;

  /// Every member, voters of both configurations and learners, sorted.
  std::vector<member_id> members() const;

  /// Sorts and deduplicates the lists.
  void normalize();

  friend bool operator==(const cluster_configuration& x,
                         const cluster_configuration& y) {
    return x.voters == y.voters && x.learners == y.learners
           && x.old_voters == y.old_voters;
  }

  friend bool operator!=(const cluster_configuration& x,
                         const cluster_configuration& y) {
    return !(x == y);
  }
};

/// @relates cluster_configuration
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f,
                                        cluster_configuration& x) {
  return f(caf::meta::type_name("cluster_configuration"), x.voters,
           x.learners, x.old_voters);
}

/// Renders `{voters: a, b; learners: c; old: a, d}` for logs and errors.
std::string to_string(const cluster_configuration& x);

/// Checks the invariants; an invalid_config error says what is wrong (a
/// configuration from the log or the network is checked before use).
caf::error check(const cluster_configuration& x);

/// The payload of a configuration entry (docs/storage.md): u32 count, then
/// per member u32 length and bytes, for voters, learners and old voters in
/// turn; all integers little-endian.
payload encode_configuration(const cluster_configuration& x);

/// Decodes and checks a configuration entry's payload. Bounded by the
/// payload's size (a count is never trusted beyond the bytes present); a
/// corrupt_record error on anything malformed.
caf::expected<cluster_configuration> decode_configuration(const payload& x);

} // namespace raft
