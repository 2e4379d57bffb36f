#include "safety_checker.hpp"

#include <algorithm>

namespace raft::testing {

namespace {

std::string str(index_t x) {
  return std::to_string(x);
}

/// Payload bytes at `i`, or empty for the snapshot boundary.
const std::string& data_at(const raft::log& l, index_t i) {
  static const std::string none;
  return i >= l.first_index() && i <= l.last_index() ? l.at(i).data.bytes()
                                                      : none;
}

} // namespace

std::string safety_checker::check(const std::vector<member_view>& ms) {
  for (auto f : {&safety_checker::check_election_safety,
                 &safety_checker::check_leader_append_only,
                 &safety_checker::check_log_matching,
                 &safety_checker::check_leader_completeness,
                 &safety_checker::check_state_machine_safety}) {
    auto err = (this->*f)(ms);
    if (!err.empty())
      return err;
  }
  return {};
}

// "Election Safety: at most one leader can be elected in a given term. §5.2"
std::string safety_checker::check_election_safety(
  const std::vector<member_view>& ms) {
  for (auto& m : ms) {
    if (m.role != role::leader)
      continue;
    auto [i, added] = leaders_.emplace(m.term, m.id);
    if (!added && i->second != m.id)
      return "election safety: " + i->second + " and " + m.id
             + " both leaders in term " + str(m.term);
  }
  return {};
}

// "Leader Append-Only: a leader never overwrites or deletes entries in its
// log; it only appends new entries. §5.3"
std::string safety_checker::check_leader_append_only(
  const std::vector<member_view>& ms) {
  for (auto& m : ms) {
    if (m.role != role::leader)
      continue;
    auto& l = *m.log;
    auto& seen = leader_logs_[{m.id, m.term}];
    for (auto& e : seen) {
      if (e.index < l.first_index())
        continue; // Compacted into a snapshot: not deleted.
      if (e.index > l.last_index() || !(l.at(e.index) == e))
        return "leader append-only: " + m.id + " (term " + str(m.term)
               + ") lost or changed its entry " + str(e.index);
    }
    auto from = seen.empty() ? l.first_index() : seen.back().index + 1;
    for (auto i = std::max(from, l.first_index()); i <= l.last_index(); ++i)
      seen.push_back(l.at(i));
  }
  return {};
}

// "Log Matching: if two logs contain an entry with the same index and term,
// then the logs are identical in all entries up through the given index.
// §5.3"
std::string safety_checker::check_log_matching(
  const std::vector<member_view>& ms) {
  for (size_t a = 0; a < ms.size(); ++a) {
    for (size_t b = a + 1; b < ms.size(); ++b) {
      auto& x = *ms[a].log;
      auto& y = *ms[b].log;
      auto lo = std::max(x.first_index(), y.first_index());
      auto hi = std::min(x.last_index(), y.last_index());
      // Find the highest index where both hold the same term; below it,
      // everything both hold must be identical.
      index_t agree = 0;
      for (auto i = hi; i >= lo && i > 0; --i) {
        if (x.at(i).term == y.at(i).term) {
          agree = i;
          break;
        }
      }
      for (auto i = lo; i <= agree; ++i)
        if (!(x.at(i) == y.at(i)))
          return "log matching: " + ms[a].id + " and " + ms[b].id
                 + " agree on entry " + str(agree) + " but differ at "
                 + str(i);
    }
  }
  return {};
}

// "Leader Completeness: if a log entry is committed in a given term, then
// that entry will be present in the logs of the leaders for all
// higher-numbered terms. §5.4"
std::string safety_checker::check_leader_completeness(
  const std::vector<member_view>& ms) {
  // Record newly committed entries with the term they were committed in.
  for (auto& m : ms) {
    auto& l = *m.log;
    auto upto = std::min(m.commit_index, l.last_index());
    auto start = committed_.empty() ? index_t{1}
                                    : committed_.rbegin()->first + 1;
    for (auto i = std::max(start, l.first_index()); i <= upto; ++i)
      committed_.emplace(i, committed_entry{l.at(i).term, m.term,
                                            l.at(i).data.bytes()});
    // An entry committed earlier must not differ from this member's copy.
    for (auto i = l.first_index(); i <= upto && i < start; ++i) {
      auto c = committed_.find(i);
      if (c != committed_.end()
          && (c->second.term != l.at(i).term
              || c->second.data != data_at(l, i)))
        return "committed entry " + str(i) + " differs on " + m.id;
    }
  }
  for (auto& m : ms) {
    if (m.role != role::leader)
      continue;
    auto& l = *m.log;
    for (auto& [i, c] : committed_) {
      if (c.commit_term >= m.term || i < l.first_index())
        continue;
      if (i > l.last_index() || l.at(i).term != c.term
          || l.at(i).data.bytes() != c.data)
        return "leader completeness: leader " + m.id + " of term "
               + str(m.term) + " lacks entry " + str(i) + " (term "
               + str(c.term) + ") committed in term " + str(c.commit_term);
    }
  }
  return {};
}

// "State Machine Safety: if a server has applied a log entry at a given index
// to its state machine, no other server will ever apply a different log
// entry for the same index. §5.4.3"
std::string safety_checker::check_state_machine_safety(
  const std::vector<member_view>& ms) {
  for (auto& m : ms) {
    if (m.applied == nullptr)
      continue;
    auto& done = applied_checked_[m.incarnation];
    auto& list = *m.applied;
    for (; done < list.size(); ++done) {
      auto& [index, cmd] = list[done];
      if (done > 0 && list[done - 1].first >= index)
        return "apply order: " + m.id + " applied " + str(index) + " after "
               + str(list[done - 1].first);
      auto [i, added] = applied_.emplace(index, cmd);
      if (!added && i->second != cmd)
        return "state machine safety: " + m.id + " applied '" + cmd
               + "' at " + str(index) + " where another member applied '"
               + i->second + "'";
    }
  }
  return {};
}

} // namespace raft::testing
