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

std::string str(const cluster_configuration& c) {
  return to_string(c);
}

} // namespace

namespace {

std::optional<std::pair<index_t, cluster_configuration>>
latest_configuration_upto(const raft::log& l, index_t upto) {
  for (auto i = std::min(upto, l.last_index()); i >= l.first_index() && i > 0;
       --i) {
    auto& e = l.at(i);
    if (e.kind != entry_kind::configuration)
      continue;
    if (auto c = decode_configuration(e.data))
      return std::make_pair(i, std::move(*c));
  }
  return std::nullopt;
}

} // namespace

std::optional<std::pair<index_t, cluster_configuration>>
latest_configuration(const raft::log& l) {
  return latest_configuration_upto(l, l.last_index());
}

std::pair<index_t, cluster_configuration>
configuration_in_force(const raft::log& l, index_t below_index,
                       const cluster_configuration& below) {
  if (auto c = latest_configuration(l))
    return std::move(*c);
  return {below_index, below};
}

cluster_configuration
safety_checker::configuration_of(const member_view& m) const {
  return configuration_of(m, m.log->last_index());
}

cluster_configuration
safety_checker::configuration_of(const member_view& m, index_t upto) const {
  if (auto c = latest_configuration_upto(*m.log, upto))
    return std::move(c->second);
  // Compacted: the snapshot carries the latest configuration it covers,
  // which was committed (only committed entries go into a snapshot).
  auto first = m.log->first_index();
  auto i = committed_configs_.lower_bound(first);
  if (i != committed_configs_.begin())
    return std::prev(i)->second;
  return m.bootstrap != nullptr ? *m.bootstrap : cluster_configuration{};
}

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
  for (auto& m : ms)
    last_seen_[m.id] = m.log->last_index();
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
    if (added) {
      // Thesis §4.1-§4.3: votes are asked of, and counted among, the voters
      // of the configuration in the candidate's log; a learner or a member
      // outside it never wins. (A leader may leave the configuration later:
      // one not in C_new manages the change, thesis §4.2.2.)
      auto cfg = configuration_of(m);
      if (!cfg.empty() && !cfg.is_voter(m.id))
        return "election safety: " + m.id + " leads term " + str(m.term)
               + " but is no voter of the configuration in its log "
               + str(cfg);
    }
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
    for (auto i = std::max(from, l.first_index()); i <= l.last_index(); ++i) {
      seen.push_back(l.at(i));
      auto& e = l.at(i);
      if (e.kind == entry_kind::configuration && e.term == m.term)
        if (auto err = check_change_rules(m, e); !err.empty())
          return err;
    }
  }
  return {};
}

// The rules for starting a change, checked on the leader's own state the
// moment a configuration entry of its term shows in its log:
// - thesis §4.1: "a leader [...] does not begin a new configuration change
//   until the previous change's entry has committed" (joint consensus:
//   C_new follows only once C_old,new committed, thesis §4.3);
// - a leader appends a configuration entry only once it committed an entry
//   of its current term (the single-server-change bug reported on raft-dev
//   in 2015 and its fix, thesis §4.1's errata).
std::string safety_checker::check_change_rules(const member_view& m,
                                               const log_entry& appended) {
  auto& l = *m.log;
  auto commit_term = l.term_at(m.commit_index);
  if (!commit_term || *commit_term != m.term)
    return "configuration change: leader " + m.id + " of term " + str(m.term)
           + " appended configuration entry " + str(appended.index)
           + " before committing an entry of its term (commit index "
           + str(m.commit_index) + ")";
  for (auto i = std::max(m.commit_index + 1, l.first_index());
       i < appended.index; ++i)
    if (l.at(i).kind == entry_kind::configuration)
      return "configuration change: leader " + m.id + " of term "
             + str(m.term) + " appended configuration entry "
             + str(appended.index) + " while entry " + str(i)
             + " (another configuration) was uncommitted (commit index "
             + str(m.commit_index) + ")";
  return {};
}

// Thesis §4.3: while joint, "agreement (for elections and entry commitment)
// requires separate majorities from both the old and new configurations";
// otherwise a majority of the one configuration. So every entry, when it
// commits, is on stable storage at a majority of each configuration in
// force at the member that committed it.
std::string safety_checker::check_committed_on_majorities(
  const member_view& m, index_t from, index_t to,
  const std::vector<member_view>& ms) {
  // The configuration in force when the commit was decided: the entries
  // appended while handling this very message (C_new once C_old,new
  // committed, an automatic promotion) came after the decision.
  auto seen = last_seen_.find(m.id);
  auto upto = seen != last_seen_.end() ? seen->second : m.log->last_index();
  auto cfg = configuration_of(m, upto);
  if (cfg.empty())
    return {};
  auto holds = [&](const member_id& id, index_t i, term_t t) {
    if (stored)
      return stored(id, i, t);
    for (auto& v : ms)
      if (v.id == id)
        return i < v.log->first_index()
               || (i <= v.log->last_index() && v.log->at(i).term == t);
    return false;
  };
  auto& l = *m.log;
  for (auto i = std::max(from, l.first_index()); i <= to; ++i) {
    auto t = l.at(i).term;
    for (auto* group : {&cfg.voters, &cfg.old_voters}) {
      if (group->empty())
        continue;
      size_t n = 0;
      std::string who;
      for (auto& id : *group)
        if (holds(id, i, t)) {
          ++n;
          who += (who.empty() ? "" : ", ") + id;
        }
      if (2 * n <= group->size())
        return "committed on a minority: " + m.id + " (term " + str(m.term)
               + ") committed entry " + str(i) + " (term " + str(t)
               + ") but only {" + who + "} of "
               + (group == &cfg.voters ? "the voters" : "C_old's voters")
               + " of " + str(cfg) + " store it";
    }
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
    if (upto >= std::max(start, l.first_index()))
      if (auto err = check_committed_on_majorities(m, start, upto, ms);
          !err.empty())
        return err;
    for (auto i = std::max(start, l.first_index()); i <= upto; ++i) {
      auto& e = l.at(i);
      committed_.emplace(i, committed_entry{e.term, m.term, e.data.bytes()});
      if (e.kind == entry_kind::configuration)
        if (auto c = decode_configuration(e.data))
          committed_configs_.emplace(i, std::move(*c));
    }
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
