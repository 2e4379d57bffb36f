// Small builders shared by the tests of the pure core: logs written as a list
// of terms (the way the paper draws them), append requests, and a checker for
// the invariants that raft::log documents. Nothing here knows about actors.
#pragma once

#include <string>
#include <vector>

#include "raft/core/log.hpp"
#include "raft/messages.hpp"

namespace raft::test {

// -- entries and logs ------------------------------------------------------------

/// An entry whose payload names its index and term ("3@t2"), so that two logs
/// compare equal only if they hold the same entries.
inline log_entry make_entry(index_t index, term_t term) {
  log_entry e;
  e.index = index;
  e.term = term;
  e.data = payload{std::to_string(index) + "@t" + std::to_string(term)};
  return e;
}

/// Entries with the given terms, the first at index `from`.
inline entry_vector make_entries(index_t from, const std::vector<term_t>& terms) {
  entry_vector result;
  for (size_t k = 0; k < terms.size(); ++k)
    result.push_back(make_entry(from + k, terms[k]));
  return result;
}

/// A log drawn as in the paper's figures: `terms[k]` is the term of the entry
/// at index `base.last_index + 1 + k`.
inline log make_log(const std::vector<term_t>& terms, snapshot_meta base = {}) {
  return log{base, make_entries(base.last_index + 1, terms)};
}

/// The terms of the entries the log still holds, first to last.
inline std::vector<term_t> terms_of(const log& l) {
  std::vector<term_t> result;
  for (auto i = l.first_index(); i <= l.last_index(); ++i)
    result.push_back(l.at(i).term);
  return result;
}

/// The entries the log still holds, first to last.
inline entry_vector entries_of(const log& l) {
  entry_vector result;
  for (auto i = l.first_index(); i <= l.last_index(); ++i)
    result.push_back(l.at(i));
  return result;
}

/// Checks the class invariants of raft::log; returns what is wrong, or an
/// empty string.
inline std::string log_invariant_violation(const log& l) {
  if (l.first_index() != l.base().last_index + 1)
    return "first_index is not one past the snapshot";
  if (l.last_index() + 1 < l.first_index())
    return "last_index below the snapshot";
  if (l.term_at(l.base().last_index) != l.base().last_term)
    return "term_at(snapshot index) is not the snapshot's term";
  auto prev_term = l.base().last_term;
  for (auto i = l.first_index(); i <= l.last_index(); ++i) {
    if (l.at(i).index != i)
      return "entry at position " + std::to_string(i) + " has index "
             + std::to_string(l.at(i).index);
    if (l.at(i).term < prev_term)
      return "term decreases at index " + std::to_string(i);
    prev_term = l.at(i).term;
  }
  if (l.last_term() != prev_term)
    return "last_term is not the last entry's term";
  return {};
}

// -- messages ----------------------------------------------------------------------

inline append_entries_request make_append(term_t term, index_t prev_log_index,
                                          term_t prev_log_term,
                                          entry_vector entries,
                                          index_t leader_commit = 0) {
  append_entries_request req;
  req.term = term;
  req.leader_id = "leader";
  req.prev_log_index = prev_log_index;
  req.prev_log_term = prev_log_term;
  req.entries = std::move(entries);
  req.leader_commit = leader_commit;
  return req;
}

inline request_vote_request make_vote_request(term_t term, member_id candidate,
                                              index_t last_log_index,
                                              term_t last_log_term) {
  request_vote_request req;
  req.term = term;
  req.candidate_id = std::move(candidate);
  req.last_log_index = last_log_index;
  req.last_log_term = last_log_term;
  return req;
}

} // namespace raft::test
