// Membership (Ongaro's thesis, chapter 4): the configuration in force, read
// from the log (thesis §4.1); changes through the joint configuration
// C_old,new (thesis §4.3), left automatically once it commits; learners
// (thesis §4.2.1); a leader that removes itself steps down once C_new
// commits (thesis §4.2.2). The rules themselves are pure functions of
// raft/core/rules.hpp (membership section); docs/membership.md draws the
// states.

#include <algorithm>

#include "raft/core/rules.hpp"
#include "raft/errc.hpp"

#include "caf/event_based_actor.hpp"

#include "member_state.hpp"

namespace raft {

namespace {

std::string list(const std::vector<member_id>& xs) {
  std::string out;
  for (auto& x : xs)
    out += (out.empty() ? "" : ", ") + x;
  return out;
}

/// Leader: appends a configuration entry and replicates it to the members
/// it names (thesis §4.1: in force at once, committed or not).
index_t append_configuration(member_self* self, cluster_configuration cfg) {
  auto& st = self->state;
  log_entry e;
  e.term = st.persistent.current_term;
  e.index = st.log.last_index() + 1;
  e.kind = entry_kind::configuration;
  e.data = encode_configuration(cfg);
  auto index = e.index;
  log_line(self, log_level::info,
           "configuration " + to_string(cfg) + " at index "
             + std::to_string(index));
  st.writes.append(e);
  st.log.append(std::move(e));
  st.configs.append(index, std::move(cfg));
  sync_followers(self);
  ensure_directory(self);
  schedule_flush(self);
  return index;
}

/// The leader's checks before any change: leading, and (unless the wanted
/// state holds already) the refusal rules of change_allowed.
caf::error not_leading(member_self* self) {
  auto& st = self->state;
  if (st.role == role::leader)
    return caf::none;
  if (auto err = not_member_error(self))
    return err;
  return make_error(errc::not_leader, st.leader);
}

caf::error refused_now(member_self* self) {
  auto& st = self->state;
  return change_allowed(st.configs.current_index(), st.leading().term_start,
                        st.commit_index, st.broken);
}

/// Starts the change to `target` and returns the promise answered once it
/// committed (for voters: once C_new committed).
caf::result<cluster_configuration> begin_change(member_self* self,
                                                cluster_configuration target,
                                                member_id promote = {}) {
  auto& st = self->state;
  auto next = start_change(st.configuration(), std::move(target));
  if (!next)
    return next.error();
  auto joint = next->joint();
  auto index = append_configuration(self, std::move(*next));
  auto rp = self->make_response_promise();
  st.changes.push_back(pending_change{rp, index, joint, std::move(promote)});
  return caf::delegated<cluster_configuration>{};
}

/// The follower's match index (0 if unknown).
index_t match_of(member_state& st, const member_id& id) {
  auto& fs = st.leading().followers;
  auto i = fs.find(id);
  return i == fs.end() ? 0 : i->second.match_index();
}

bool caught_up(member_state& st, const member_id& id) {
  return learner_caught_up(match_of(st, id), st.log.last_index(),
                           st.cfg.max_entries_per_message);
}

/// Thesis §4.2.1: errc::not_caught_up unless learner `id` may vote.
caf::error refuse_unless_caught_up(member_state& st, const member_id& id) {
  if (caught_up(st, id))
    return caf::none;
  return make_error(errc::not_caught_up,
                    id + " matches index " + std::to_string(match_of(st, id))
                      + " of " + std::to_string(st.log.last_index()));
}

cluster_configuration promoted(cluster_configuration cfg,
                               const member_id& id) {
  cfg.learners.erase(std::remove(cfg.learners.begin(), cfg.learners.end(), id),
                     cfg.learners.end());
  cfg.voters.push_back(id);
  cfg.normalize();
  return cfg;
}

/// Leader: answers the changes whose entry committed; an automatic
/// promotion whose learner entry committed starts waiting for the learner.
void answer_changes(member_self* self) {
  auto& st = self->state;
  auto& committed = st.configs.at(st.commit_index);
  auto settled = st.configs.current_index() <= st.commit_index
                 && !committed.joint();
  for (auto i = st.changes.begin(); i != st.changes.end();) {
    auto& c = *i;
    if (c.index == 0 || c.index > st.commit_index || c.leaves_joint) {
      ++i;
      continue;
    }
    if (!c.promote.empty() && !(settled && committed.is_voter(c.promote))) {
      if (!committed.is_learner(c.promote)) {
        c.promise.deliver(make_error(errc::unknown_member,
                                     c.promote
                                       + " left the configuration before "
                                         "its promotion"));
        i = st.changes.erase(i);
        continue;
      }
      c.index = 0; // The learner is in: wait until it caught up.
      ++i;
      continue;
    }
    c.promise.deliver(committed);
    i = st.changes.erase(i);
  }
}

/// Leader: the voter of the configuration in force whose log matches ours
/// furthest (empty if none is known).
member_id most_up_to_date_voter(member_state& st) {
  member_id best;
  index_t best_match = 0;
  for (auto& [id, pr] : st.leading().followers)
    if (st.configuration().is_voter(id)
        && (best.empty() || pr.match_index() > best_match)) {
      best = id;
      best_match = pr.match_index();
    }
  return best;
}

/// A leader that stepped down because C_new left it out: thesis §4.2.2 with
/// §3.10, TimeoutNow to `successor` (a voter of C_new holding C_new, which
/// committed on a majority of C_new), so that C_new gets a leader without
/// waiting for an election timeout. Its RequestVotes carry `transfer`, which
/// the others' stickiness (thesis §4.2.3) lets through.
void hand_over(member_self* self, const member_id& successor) {
  auto& st = self->state;
  auto i = st.peers.find(successor);
  if (successor.empty() || i == st.peers.end() || !i->second)
    return; // Unreachable now: its election timer decides.
  log_line(self, log_level::info, "handing leadership over to " + successor);
  send_timeout_now(self, i->second);
}

} // namespace

// -- the configuration in force -------------------------------------------------

cluster_configuration current_configuration(member_self* self) {
  return self->state.configuration();
}

bool may_campaign(const member_state& st) {
  // Thesis §4.2.1: learners never start elections; a removed member or one
  // waiting to join is no voter either.
  return st.configuration().is_voter(st.id());
}

std::vector<member_id> voters_but_self(const member_state& st) {
  auto& cfg = st.configuration();
  std::vector<member_id> result;
  for (auto* group : {&cfg.voters, &cfg.old_voters})
    for (auto& id : *group)
      if (id != st.id()
          && std::find(result.begin(), result.end(), id) == result.end())
        result.push_back(id);
  return result;
}

bool won_election(const member_state& st) {
  auto* c = std::get_if<candidate_state>(&st.role_data);
  return c && has_joint_majority(st.configuration(), c->votes);
}

bool has_quorum(const member_state& st, const std::set<member_id>& heard) {
  return has_joint_majority(st.configuration(), heard);
}

caf::error not_member_error(member_self* self) {
  auto& st = self->state;
  if (st.configuration().contains(st.id()))
    return caf::none;
  if (st.configuration().empty())
    return make_error(errc::not_member,
                      st.id() + " waits to be added to a cluster");
  return make_error(errc::not_member,
                    st.id() + " is not in the configuration "
                      + to_string(st.configuration()));
}

void load_configuration(member_self* self, cluster_configuration snapshot_cfg,
                        cluster_configuration stored_bootstrap) {
  auto& st = self->state;
  // Thesis §4.1: the latest configuration in the log; before it the
  // snapshot's (the configuration at its last index); else the bootstrap
  // one stored when the cluster was created.
  if (!snapshot_cfg.empty())
    st.configs = configuration_history{st.log.base().last_index,
                                       std::move(snapshot_cfg)};
  else
    st.configs = configuration_history{0, std::move(stored_bootstrap)};
  on_log_changed(self, st.log.first_index());
}

void start_configuration(member_self* self) {
  auto& st = self->state;
  cluster_configuration wanted;
  wanted.voters.assign(st.added_before_start.begin(),
                       st.added_before_start.end());
  wanted.voters.push_back(st.id());
  wanted.normalize();
  if (st.configuration().empty()) {
    if (st.cfg.join) {
      log_line(self, log_level::info,
               "no configuration: waiting to be added by a leader");
      return;
    }
    // A new cluster: the members added before start are its voters.
    st.configs.set_base(wanted);
    // Stored, so that a restart with other members never obeys them.
    st.writes.save_bootstrap(wanted);
    schedule_flush(self);
    log_line(self, log_level::info, "bootstrapping " + to_string(wanted));
    return;
  }
  if (!st.added_before_start.empty()
      && wanted.voters != st.configuration().members())
    log_line(self, log_level::warning,
             "the members added before start (" + list(wanted.voters)
               + ") differ from the stored configuration "
               + to_string(st.configuration())
               + ": using the stored one (they only tell how to reach "
                 "members)");
  ensure_directory(self);
}

void on_log_changed(member_self* self, index_t from) {
  auto& st = self->state;
  // §5.3 receiver 3 truncated from `from`, or entries were appended there:
  // the configurations from there on come from the log as it is now.
  st.configs.truncate_from(from);
  auto changed = false;
  for (auto i = std::max(from, st.log.first_index()); i <= st.log.last_index();
       ++i) {
    auto& e = st.log.at(i);
    if (e.kind != entry_kind::configuration)
      continue;
    auto cfg = decode_configuration(e.data);
    if (!cfg) {
      // step() refuses such entries; one from our own storage is corrupt.
      refuse(self, "configuration entry " + std::to_string(i) + ": "
                     + self->system().render(cfg.error()),
             refusal::malformed);
      continue;
    }
    st.configs.append(i, std::move(*cfg));
    changed = true;
  }
  // Before start the directory is not filled yet (start_configuration).
  if (changed && st.role != role::idle)
    ensure_directory(self);
}

void on_snapshot_installed(member_self* self, index_t index,
                           cluster_configuration cfg, bool keep_later) {
  auto& st = self->state;
  // A snapshot written without its configuration: the one we knew there.
  if (cfg.empty())
    cfg = st.configs.at(index);
  st.configs.reset(index, std::move(cfg), keep_later);
  ensure_directory(self);
}

void ensure_directory(member_self* self) {
  auto& st = self->state;
  for (auto& id : st.configuration().members()) {
    if (id == st.id() || st.peers.count(id) > 0)
      continue;
    if (st.transport) {
      // Peers by id: the transport finds the way (peer_atom answers).
      st.peers.emplace(id, peer_actor{});
      self->send(st.transport, caf::connect_atom::value, id);
    } else {
      log_line(self, log_level::warning,
               "no way to reach member " + id
                 + " yet: add it with (add_atom, id, handle)");
    }
  }
}

// -- leaders -------------------------------------------------------------------------

void sync_followers(member_self* self) {
  auto& st = self->state;
  auto* ld = st.if_leading();
  if (!ld)
    return;
  // Thesis §4.1: replicate to every member of the configuration in force;
  // the committed one's members too, so that members being removed learn
  // of C_new (and answer not_member) until it commits.
  auto wanted = st.configuration().members();
  auto committed = st.configs.at(st.commit_index).members();
  wanted.insert(wanted.end(), committed.begin(), committed.end());
  std::set<member_id> keep(wanted.begin(), wanted.end());
  keep.erase(st.id());
  for (auto& id : keep)
    if (ld->followers.count(id) == 0)
      ld->followers.emplace(id, progress{st.log.last_index() + 1});
  for (auto i = ld->followers.begin(); i != ld->followers.end();) {
    if (keep.count(i->first) > 0) {
      ++i;
      continue;
    }
    // Thesis §4.2.2: a removed member is no longer replicated to.
    ld->transfers.erase(i->first);
    ld->read_acks.erase(i->first);
    ld->active.erase(i->first);
    i = ld->followers.erase(i);
  }
}

void on_commit_advanced(member_self* self) {
  auto& st = self->state;
  if (st.role != role::leader)
    return;
  auto& current = st.configuration();
  if (current.joint() && st.configs.current_index() <= st.commit_index) {
    // Thesis §4.3: "Once C_old,new has been committed, ... the leader
    // [creates] a log entry describing C_new and replicate[s] it".
    auto joint_index = st.configs.current_index();
    auto next = append_configuration(self, leave_joint(current));
    for (auto& c : st.changes)
      if (c.leaves_joint && c.index == joint_index) {
        c.index = next;
        c.leaves_joint = false;
      }
  }
  answer_changes(self);
  sync_followers(self);
  if (st.configs.current_index() <= st.commit_index
      && !st.configuration().is_voter(st.id())) {
    // Thesis §4.2.2: "the leader steps down (returns to follower state)
    // once the C_new entry is committed".
    log_line(self, log_level::info,
             "stepping down: not a voter of the committed configuration "
               + to_string(st.configuration()));
    auto successor = most_up_to_date_voter(st);
    fail_all_requests(self,
                      make_error(errc::leadership_lost,
                                 "the leader left the configuration; "
                                 "outcome unknown"),
                      make_error(errc::leadership_lost,
                                 "the leader left the configuration"));
    become_follower(self, member_id{});
    hand_over(self, successor);
    return;
  }
  maybe_promote(self);
}

void maybe_promote(member_self* self) {
  auto& st = self->state;
  if (st.role != role::leader)
    return;
  for (auto i = st.changes.begin(); i != st.changes.end(); ++i) {
    if (i->promote.empty() || i->index != 0)
      continue;
    // One change at a time; thesis §4.2.1: once within one round.
    if (refused_now(self) || !caught_up(st, i->promote))
      return;
    auto next = start_change(st.configuration(),
                             promoted(st.configuration(), i->promote));
    if (!next) {
      i->promise.deliver(next.error());
      st.changes.erase(i);
      return;
    }
    log_line(self, log_level::info,
             "learner " + i->promote + " caught up: promoting it");
    auto index = append_configuration(self, std::move(*next));
    // append_configuration does not touch `changes`: `i` is still valid.
    i->index = index;
    i->leaves_joint = true;
    return;
  }
}

void fail_changes(member_self* self, const caf::error& err) {
  auto& st = self->state;
  for (auto& c : st.changes)
    c.promise.deliver(err);
  st.changes.clear();
}

// -- the requests (member_actor's membership messages) -----------------------------

caf::result<cluster_configuration> add_learner(member_self* self,
                                               const member_id& id,
                                               bool promote) {
  if (auto err = not_leading(self))
    return err;
  auto& st = self->state;
  if (id.empty())
    return make_error(errc::invalid_config, "empty member id");
  auto& cur = st.configuration();
  if (cur.is_voter(id)) {
    // A voter is what an automatic promotion wants; a learner it is not.
    if (promote)
      return cur;
    return make_error(errc::invalid_config, id + " is a voter already");
  }
  if (cur.is_learner(id)) {
    if (!promote)
      return cur; // In the wanted role already.
    auto rp = self->make_response_promise();
    st.changes.push_back(pending_change{rp, 0, false, id});
    maybe_promote(self);
    return caf::delegated<cluster_configuration>{};
  }
  if (auto err = refused_now(self))
    return err;
  // Thesis §4.2.1: a new member joins as a learner (one step: learners
  // count for nothing), and catches up before it may vote.
  auto target = cur;
  target.learners.push_back(id);
  target.normalize();
  return begin_change(self, std::move(target), promote ? id : member_id{});
}

caf::result<cluster_configuration> promote_learner(member_self* self,
                                                   const member_id& id) {
  if (auto err = not_leading(self))
    return err;
  auto& st = self->state;
  auto& cur = st.configuration();
  if (cur.is_voter(id) && !cur.joint())
    return cur; // In the wanted role already.
  if (!cur.is_learner(id))
    return make_error(errc::unknown_member, id + " is not a learner");
  if (auto err = refused_now(self))
    return err;
  // Thesis §4.2.1: only a learner within one round of entries.
  if (auto err = refuse_unless_caught_up(st, id))
    return err;
  return begin_change(self, promoted(cur, id));
}

caf::result<cluster_configuration> remove_member(member_self* self,
                                                 const member_id& id) {
  if (auto err = not_leading(self))
    return err;
  auto& st = self->state;
  auto& cur = st.configuration();
  if (!cur.contains(id))
    return make_error(errc::unknown_member,
                      id + " is not in " + to_string(cur));
  auto target = leave_joint(cur);
  target.voters.erase(std::remove(target.voters.begin(), target.voters.end(),
                                  id),
                      target.voters.end());
  target.learners.erase(std::remove(target.learners.begin(),
                                    target.learners.end(), id),
                        target.learners.end());
  if (target.voters.empty())
    return make_error(errc::invalid_config, "cannot remove the last voter");
  if (auto err = refused_now(self))
    return err;
  return begin_change(self, std::move(target));
}

caf::result<cluster_configuration>
change_configuration(member_self* self, cluster_configuration target) {
  if (auto err = not_leading(self))
    return err;
  auto& st = self->state;
  if (auto err = check_target(target))
    return err;
  if (target == st.configuration())
    return target; // In the wanted state already.
  if (auto err = refused_now(self))
    return err;
  // Thesis §4.2.1: a member becomes a voter only as a caught-up learner, so
  // that it holds the log before its vote counts (and holds_a_vote can tell
  // a wiped member from a voter).
  auto& cur = st.configuration();
  for (auto& id : target.voters) {
    if (cur.is_voter(id))
      continue;
    if (!cur.is_learner(id))
      return make_error(errc::invalid_config,
                        id + " is neither a voter nor a learner: add it as "
                             "a learner first");
    if (auto err = refuse_unless_caught_up(st, id))
      return err;
  }
  return begin_change(self, std::move(target));
}

} // namespace raft
