// The Raft member actor. Roles are CAF behaviours, swapped with become():
//
//                 start
//     idle ─────────────────► following ◄─────────────────────┐
//                               │   ▲                          │
//              election timeout │   │ AppendEntries from a     │ higher term,
//              (§5.2)           ▼   │ current leader, or a     │ no quorum
//                            candidating  higher term (§5.2)   │ (thesis §6.2),
//                               │  ▲ │                         │ or a transfer's
//                               │  └─┘ election timeout:       │ new leader
//                  majority of  │      new election            │ (thesis §3.10)
//                  votes (§5.2) ▼                              │
//                            leading ──────────────────────────┘
//
// With config::pre_vote, candidating begins as a pre-candidate (thesis
// §9.6): same role and per-role state, term unchanged, asking for pre-votes
// at term + 1; a majority of them starts the real election. TimeoutNow
// (thesis §3.10) and StartElection skip the pre-vote.
//
// Each role's behaviour joins the handlers it acts on with the groups every
// role shares (`always`, `running`: votes, status, timers, flushing; see
// behavior_of below). `state.role` always names the current role.

#include "member_flow.hpp"
#include "member_spawn.hpp"
#include "member_state.hpp"

#include <algorithm>
#include <functional>
#include <tuple>

#include "caf/actor_cast.hpp"
#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/message_handler.hpp"
#include "caf/sec.hpp"
#include "caf/send.hpp"

#include "raft/core/rules.hpp"
#include "raft/errc.hpp"
#include "raft/storage/file_storage.hpp"
#include "raft/storage/memory_storage.hpp"
#include "raft/storage/recovery.hpp"

#include "system_exit_hook.hpp"

namespace raft {

namespace {

member_behavior following(member_self* self);
member_behavior candidating(member_self* self);
member_behavior leading(member_self* self);

} // namespace

void refuse(member_self* self, const std::string& what, refusal why) {
  self->state.metrics.on_refused(why);
  log_line(self, log_level::warning, "refused: " + what);
}

void log_line(member_self* self, log_level level, const std::string& what) {
  auto& st = self->state;
  st.cfg.log.write(level, st.id(), what);
}

bool observe_term(member_self* self, term_t term) {
  auto& st = self->state;
  if (term <= st.persistent.current_term)
    return false;
  auto was_leader = st.role == role::leader;
  adopt_term(self, term);
  if (was_leader)
    fail_all_requests(self, make_error(errc::leadership_lost,
                                       "a newer term began"));
  become_follower(self, member_id{});
  return true;
}

namespace {

/// The transport found (or lost) the way to a peer.
void on_peer_handle(member_self* self, const member_id& id,
                    const peer_actor& handle, peer_channel_ptr channel) {
  auto& st = self->state;
  auto i = st.peers.find(id);
  if (i == st.peers.end()) {
    refuse(self, "peer handle for unknown member " + id, refusal::unknown_sender);
    return;
  }
  i->second = handle;
  // A new session comes with its own channel; without one (the session is
  // down) nothing is sent the direct way.
  if (channel && handle)
    st.channels[id] = {handle, std::move(channel)};
  else
    st.channels.erase(id);
  // Whatever was in flight to it may be lost: resend from its last match.
  if (auto* ld = st.if_leading()) {
    auto f = ld->followers.find(id);
    if (f != ld->followers.end())
      f->second.on_silence();
  }
}

} // namespace

member_status make_status(member_self* self) {
  auto& st = self->state;
  member_status s;
  s.id = st.id();
  s.role = st.role;
  s.term = st.persistent.current_term;
  s.leader = st.leader;
  s.commit_index = st.commit_index;
  s.last_applied = st.last_applied;
  s.last_log_index = st.log.last_index();
  // Thesis §4.1: the voters of the configuration in force (both while
  // joint).
  auto& cfg = st.configuration();
  s.members = cfg.voters;
  s.members.insert(s.members.end(), cfg.old_voters.begin(),
                   cfg.old_voters.end());
  std::sort(s.members.begin(), s.members.end());
  s.members.erase(std::unique(s.members.begin(), s.members.end()),
                  s.members.end());
  s.counters = st.counters;
  s.configuration = cfg;
  return s;
}

namespace {

// -- leaders ---------------------------------------------------------------------------

/// Sends follower `id` the entries it lacks, pipelined up to max_in_flight
/// messages; with `heartbeat`, an empty AppendEntries if nothing else went.
void replicate_to(member_self* self, const member_id& id, progress& pr,
                  bool heartbeat) {
  auto& st = self->state;
  auto& peer = st.peers[id];
  auto make_request = [&](index_t prev) {
    append_entries_request req;
    req.term = st.persistent.current_term;
    req.leader_id = st.id();
    req.prev_log_index = prev;
    req.prev_log_term = st.log.term_at(prev).value_or(0);
    req.leader_commit = st.commit_index;
    req.read_round = st.leading().read_round;
    return req;
  };
  if (pr.next_index() < st.log.first_index()) {
    // §7: the entries it needs were compacted into a snapshot.
    send_snapshot(self, id);
    if (heartbeat) // keep its election timer quiet meanwhile
      send_to_peer(self, peer, make_request(0));
    return;
  }
  bool sent = false;
  while (pr.next_index() <= st.log.last_index()
         && pr.next_index() >= st.log.first_index()
         && pr.sends_entries()
         && pr.can_send(st.cfg.max_in_flight, st.cfg.max_inflight_bytes)) {
    auto req = make_request(pr.next_index() - 1);
    req.entries = st.log.slice(pr.next_index(), st.cfg.max_entries_per_message,
                               st.cfg.max_bytes_per_message);
    pr.on_sent(req.entries.back().index, payload_bytes(req));
    st.counters.entries_sent += req.entries.size();
    st.metrics.totals.append_entries.observe(req.entries.size());
    send_to_peer(self, peer, std::move(req));
    sent = true;
  }
  if (!sent && heartbeat) {
    // §5.2: heartbeats are AppendEntries with no entries. Anchor them where
    // the follower is known to match (or at the probe point) so they never
    // cause a spurious rejection.
    auto prev = pr.probing() ? pr.next_index() - 1 : pr.match_index();
    if (st.log.term_at(prev))
      send_to_peer(self, peer, make_request(prev));
  }
}

} // namespace

void propose(member_self* self, payload cmd, reply_to rp) {
  auto& st = self->state;
  if (auto err = admit_proposal(self, cmd)) { // back-pressure (issue 14)
    rp.deliver(std::move(err));
    return;
  }
  log_entry e;
  e.term = st.persistent.current_term;
  e.index = st.log.last_index() + 1;
  e.kind = entry_kind::command;
  e.data = std::move(cmd);
  st.trace.stamp(trace_stage::leader_receive, e.index);
  st.commit_waiters.push_back(commit_waiter{e.index, e.term, std::move(rp),
                                            self->clock().now()});
  st.writes.append(e);
  st.log.append(std::move(e));
  schedule_flush(self);
}

namespace {

void drain_parked(member_self* self) {
  auto& st = self->state;
  if (st.leader.empty())
    return;
  auto parked = std::move(st.parked);
  st.parked.clear();
  for (auto& p : parked) {
    if (p.is_query)
      forward_query(self, std::move(p.command), std::move(p.promise));
    else
      forward_append(self, std::move(p.command), std::move(p.promise));
  }
}

void on_heartbeat(member_self* self) {
  auto& st = self->state;
  for (auto& kvp : st.leading().followers) {
    auto& pr = kvp.second;
    if (!pr.take_heard() && pr.in_flight() > 0)
      pr.on_silence(); // Lost messages: resend from the last match.
  }
  replicate(self, true);
  check_transfers(self);
  if (!st.changes.empty())
    maybe_promote(self); // a learner waiting for automatic promotion
  // Thesis §6.2 (check quorum): a leader that has not heard from a majority
  // within an election timeout steps down, so a leader cut off in a
  // minority stops accepting appends that can never commit.
  if (st.cfg.check_quorum && ++st.leading().ticks_since_check * st.cfg.heartbeat
                               >= st.cfg.election_timeout_max) {
    // Thesis §4.3: a majority of each configuration while joint.
    auto heard = st.leading().active;
    heard.insert(st.id());
    st.leading().active.clear();
    st.leading().ticks_since_check = 0;
    if (!has_quorum(st, heard)) {
      fail_all_requests(self, make_error(errc::no_quorum,
                                         "leader lost contact with a "
                                         "majority; outcome unknown"));
      become_follower(self, member_id{});
      return;
    }
  }
  self->delayed_send(self, st.cfg.heartbeat, heartbeat_atom::value,
                     st.persistent.current_term);
}

} // namespace

void on_append_response(member_self* self, append_entries_response& resp) {
  auto& st = self->state;
  auto i = st.leading().followers.find(resp.from);
  if (i == st.leading().followers.end()) {
    refuse(self, "append_entries_response from unknown member " + resp.from,
           refusal::unknown_sender);
    return;
  }
  auto& pr = i->second;
  st.leading().active.insert(resp.from);
  auto& acked = st.leading().read_acks[resp.from];
  if (resp.read_round > acked) {
    acked = resp.read_round;
    serve_reads(self);
  }
  if (resp.success) {
    if (resp.match_index > st.log.last_index()) {
      refuse(self, "append_entries_response from " + resp.from
                     + " acknowledges entries never sent",
             refusal::bad_response);
      return;
    }
    st.trace.stamp_upto(trace_stage::ack_received, resp.match_index);
    if (pr.on_success(resp.match_index)) {
      advance_commit(self);
      // A committed configuration may have ended our leadership (thesis
      // §4.2.2) or removed this follower (member_config.cpp).
      auto* ld = st.if_leading();
      if (!ld || ld->followers.count(resp.from) == 0)
        return;
    }
  } else {
    auto next = next_index_after_reject(st.log, resp.rejected_index,
                                        resp.conflict_index,
                                        resp.conflict_term);
    if (!pr.on_reject(resp.rejected_index, next))
      return;
  }
  replicate_to(self, resp.from, pr, false);
  if (resp.from == st.leading().transfer_target)
    maybe_send_timeout_now(self);
}

// -- candidates ----------------------------------------------------------------------

void on_vote_response(member_self* self, request_vote_response& resp) {
  auto& st = self->state;
  // A pre-candidate counts pre-votes only (a late vote of our term's
  // earlier election is not one).
  if (!resp.vote_granted || st.candidacy().pre_vote)
    return;
  st.candidacy().votes.insert(resp.from);
  // §5.2: "A candidate wins an election if it receives votes from a majority
  // of the servers in the full cluster for the same term"; thesis §4.3: of
  // each configuration while joint.
  if (won_election(st))
    become_leader(self);
}

namespace {

// -- behaviours -----------------------------------------------------------------------
//
// A role's behaviour is a member_behavior: the compiler checks that it
// handles every message of member_node_actor, once. The handlers every role
// shares are grouped below (a std::tuple each) and joined with the role's
// own by `behavior_of`.

/// Joins groups of handlers (tuples) into one behaviour.
template <class... Groups>
member_behavior behavior_of(Groups... groups) {
  return std::apply(
    [](auto&&... fs) { return member_behavior{std::move(fs)...}; },
    std::tuple_cat(std::move(groups)...));
}

/// In every role, idle included.
auto always(member_self* self) {
  return std::make_tuple(
    [=](status_atom) { return make_status(self); },
    [=](metrics_atom) { return make_metrics(self); },
    [=](members_atom) { return current_configuration(self); },
    [=](stop_atom) {
      shut_down(self, caf::none);
      return caf::ok_atom::value;
    },
    [=](peer_atom, const member_id& id, const peer_actor& handle) {
      on_peer_handle(self, id, handle, nullptr);
    },
    [=](peer_atom, const member_id& id, const peer_actor& handle,
        peer_channel_ptr& channel) {
      on_peer_handle(self, id, handle, std::move(channel));
    },
    [=](rejoin_atom, const member_id& id, const caf::actor& handle) {
      // A peer restarted in-process tells us its new handle (peers by id).
      replace_peer(self, id, handle, true);
    },
    [=](transfer_atom, uint64_t id) { on_transfer_timeout(self, id); },
    [=](apply_atom) { on_apply_continuation(self); },
    [=](election_atom, term_t) {
      // The election timer (§5.2).
      auto& st = self->state;
      st.election_timer_armed = false;
      if (st.role != role::follower && st.role != role::candidate)
        return;
      auto now = self->clock().now();
      if (now >= st.election_deadline) {
        become_candidate(self);
      } else {
        st.election_timer_armed = true;
        self->delayed_send(self, st.election_deadline - now,
                           election_atom::value, st.persistent.current_term);
      }
    },
    [=](deadline_atom, uint64_t id) {
      auto& parked = self->state.parked;
      for (auto i = parked.begin(); i != parked.end(); ++i) {
        if (i->id == id) {
          i->promise.deliver(make_error(errc::no_leader,
                                        "no leader known within the "
                                        "append timeout"));
          parked.erase(i);
          return;
        }
      }
    },
    [=](flush_atom) {
      auto& st = self->state;
      st.flush_queued = false;
      if (st.role == role::leader) {
        replicate(self, false);
        broadcast_read_round(self);
      }
      start_write(self);
    });
}

/// In every role after start (following, candidating, leading).
auto running(member_self* self) {
  return std::make_tuple(
    [=](caf::add_atom, const member_id& id,
        const caf::actor& handle) -> caf::result<caf::ok_atom> {
      // After start: registers or replaces how to reach `id` (peers by
      // id); the configuration does not change.
      if (auto err = replace_peer(self, id, handle, false))
        return err;
      return caf::ok_atom::value;
    },
    [=](transfer_atom, const member_id& target) {
      return start_transfer(self, target);
    },
    [=](learner_atom, const member_id& id, bool promote) {
      return add_learner(self, id, promote);
    },
    [=](promote_atom, const member_id& id) {
      return promote_learner(self, id);
    },
    [=](remove_atom, const member_id& id) { return remove_member(self, id); },
    [=](reconfig_atom, cluster_configuration& target) {
      return change_configuration(self, std::move(target));
    },
    [=](caf::add_atom, const member_id& id) -> caf::result<caf::ok_atom> {
      // Peers by id: how to reach `id` through the transport; the
      // configuration does not change.
      if (auto err = register_remote_peer(self, id))
        return err;
      return caf::ok_atom::value;
    },
    [=](start_atom) -> caf::result<caf::ok_atom> {
      return make_error(errc::already_started);
    },
    // Client commands: each role's path (leader proposes, follower
    // forwards, candidate parks) is in member_batch.cpp, one for the
    // single request and the batch alike.
    [=](append_atom, payload& cmd) -> caf::result<append_reply> {
      auto rp = self->make_response_promise();
      append_one(self, std::move(cmd), rp);
      return caf::delegated<append_reply>{};
    },
    [=](query_atom, payload& query) -> caf::result<append_reply> {
      auto rp = self->make_response_promise();
      query_one(self, std::move(query), rp);
      return caf::delegated<append_reply>{};
    },
    [=](append_atom, std::vector<payload>& cmds)
      -> caf::result<std::vector<command_outcome>> {
      return batch_request(self, cmds, false);
    },
    [=](query_atom, std::vector<payload>& cmds)
      -> caf::result<std::vector<command_outcome>> {
      return batch_request(self, cmds, true);
    },
    [=](election_atom) -> caf::result<caf::ok_atom> {
      // StartElection (Vanadium's raft interface): force an election now. An
      // operator's request, like a transfer's TimeoutNow: no pre-vote, and it
      // bypasses leader stickiness (thesis §3.10, §4.2.3).
      if (self->state.role != role::leader)
        start_election(self, true);
      return caf::ok_atom::value;
    },
    // Every Raft message enters through step (member_step.cpp), which
    // handles its term and leader and hands it to the role.
    [=](request_vote_request& m) { step(self, m); },
    [=](request_vote_response& m) { step(self, m); },
    [=](append_entries_request& m) { step(self, m); },
    [=](append_entries_response& m) { step(self, m); },
    [=](install_snapshot_request& m) { step(self, m); },
    [=](install_snapshot_response& m) { step(self, m); },
    [=](timeout_now_request& m) { step(self, m); });
}

/// A heartbeat timer outside leadership (or from an earlier one).
auto no_heartbeat() {
  return std::make_tuple([](heartbeat_atom, term_t) {});
}

member_behavior idle(member_self* self) {
  auto before_start = std::make_tuple(
    [=](caf::add_atom, const member_id& id,
        const caf::actor& handle) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      if (id.empty() || id == st.id() || !handle)
        return make_error(errc::unknown_member,
                          "cannot add member '" + id + "'");
      st.peers[id] = caf::actor_cast<peer_actor>(handle);
      st.added_before_start.insert(id);
      // Peers by id: a dead handle is forgotten, and at start we tell this
      // peer our own handle (a restarted member rejoins by itself).
      self->monitor(handle);
      st.announce_to.insert(id);
      return caf::ok_atom::value;
    },
    [=](caf::add_atom, const member_id& id) -> caf::result<caf::ok_atom> {
      if (auto err = register_remote_peer(self, id))
        return err;
      self->state.added_before_start.insert(id);
      return caf::ok_atom::value;
    },
    [=](start_atom) {
      start_configuration(self);
      become_follower(self, member_id{});
      announce_self(self);
      return caf::ok_atom::value;
    },
    [=](transfer_atom, const member_id&) -> caf::result<caf::ok_atom> {
      return make_error(errc::not_started);
    },
    [=](learner_atom, const member_id&,
        bool) -> caf::result<cluster_configuration> {
      return make_error(errc::not_started);
    },
    [=](promote_atom,
        const member_id&) -> caf::result<cluster_configuration> {
      return make_error(errc::not_started);
    },
    [=](remove_atom, const member_id&) -> caf::result<cluster_configuration> {
      return make_error(errc::not_started);
    },
    [=](reconfig_atom,
        const cluster_configuration&) -> caf::result<cluster_configuration> {
      return make_error(errc::not_started);
    },
    [=](append_atom, payload&) -> caf::result<append_reply> {
      return make_error(errc::not_started);
    },
    [=](query_atom, payload&) -> caf::result<append_reply> {
      return make_error(errc::not_started);
    },
    [=](append_atom, std::vector<payload>&)
      -> caf::result<std::vector<command_outcome>> {
      return make_error(errc::not_started);
    },
    [=](query_atom, std::vector<payload>&)
      -> caf::result<std::vector<command_outcome>> {
      return make_error(errc::not_started);
    },
    [=](election_atom) -> caf::result<caf::ok_atom> {
      return make_error(errc::not_started);
    },
    // Peers may talk to us before we start: ignore them quietly, as a
    // member that is not running yet would.
    [=](const request_vote_request&) {},
    [=](const request_vote_response&) {},
    [=](const append_entries_request&) {},
    [=](const append_entries_response&) {},
    [=](const install_snapshot_request&) {},
    [=](const install_snapshot_response&) {},
    [=](const timeout_now_request&) {});
  return behavior_of(std::move(before_start), always(self), no_heartbeat());
}

// Followers and candidates handle client commands as every running role
// does (running(), member_batch.cpp): forwarded, or parked.
member_behavior following(member_self* self) {
  return behavior_of(running(self), always(self), no_heartbeat());
}

member_behavior candidating(member_self* self) {
  return behavior_of(running(self), always(self), no_heartbeat());
}

member_behavior leading(member_self* self) {
  auto role = std::make_tuple(
    [=](heartbeat_atom, term_t term) {
      if (term == self->state.persistent.current_term)
        on_heartbeat(self);
    });
  return behavior_of(std::move(role), running(self), always(self));
}

member_behavior member_impl(member_self* self, config cfg,
                            broken_rules broken,
                            recovered_state rec, log_writer_actor writer,
                            state_machine_actor sm, bool owns_sm,
                            transport_actor transport,
                          snapshot_actor snapshots, snapshot_info newest,
                            std::shared_ptr<state_machine> direct_sm) {
  auto& st = self->state;
  st.direct_sm = std::move(direct_sm);
  st.cfg = std::move(cfg);
  st.broken = broken;
  st.persistent = rec.state;
  st.log = raft::log{rec.snapshot, std::move(rec.entries)};
  st.writes = write_queue{st.log.last_index()};
  st.commit_index = rec.snapshot.last_index;
  st.metrics.commit_at_start = st.commit_index;
  st.last_applied = rec.snapshot.last_index;
  st.writer = std::move(writer);
  st.sm = std::move(sm);
  st.transport = std::move(transport);
  st.snapshots = std::move(snapshots);
  st.owns_sm = owns_sm;
  st.trace.configure(st.cfg.trace, self->clock());
  auto seed = st.cfg.random_seed;
  if (seed == 0)
    seed = std::hash<std::string>{}(st.id())
           ^ static_cast<uint64_t>(
             std::chrono::steady_clock::now().time_since_epoch().count());
  st.rng.seed(static_cast<std::minstd_rand::result_type>(seed));
  self->link_to(st.writer);
  if (owns_sm)
    self->link_to(st.sm);
  if (st.snapshots)
    self->link_to(st.snapshots);
  if (!newest.none())
    restore_at_start(self, newest);
  // Thesis §4.1: the log's, else the snapshot's, else the bootstrap one.
  load_configuration(self,
                     newest.none() ? cluster_configuration{}
                                   : newest.configuration,
                     rec.configuration);
  // An error message from a peer (e.g. it refused something) must never
  // take the member down: CAF's default would quit.
  self->set_error_handler([](caf::scheduled_actor* ptr, caf::error& err) {
    auto self = static_cast<member_self*>(ptr);
    refuse(self, "error message " + self->system().render(err),
           refusal::error_message);
  });
  set_stop_handlers(self);
  self->set_default_handler([](caf::scheduled_actor* ptr,
                               caf::message_view& x) -> caf::result<caf::message> {
    auto self = static_cast<member_self*>(ptr);
    refuse(self, "unexpected message " + to_string(x.content()),
           refusal::unexpected_message);
    return caf::sec::unexpected_message;
  });
  self->set_down_handler([](caf::scheduled_actor* ptr, caf::down_msg& dm) {
    on_peer_down(static_cast<member_self*>(ptr), dm.source);
  });
  return idle(self);
}

} // namespace

// -- role transitions ---------------------------------------------------------------

void become_follower(member_self* self, const member_id& leader) {
  auto& st = self->state;
  auto was = st.role;
  if (auto* ld = st.if_leading()) {
    fail_changes(self, make_error(errc::leadership_lost,
                                  "the leader stepped down"));
    // Callers fail the leader's requests first (a newer term, no quorum);
    // reads still held are failed here, never dropped unanswered.
    for (auto& r : ld->reads)
      r.promise.deliver(make_error(errc::leadership_lost,
                                   "the leader stepped down"));
  }
  st.role = role::follower;
  st.role_data = follower_state{};
  st.leader = leader;
  st.metrics.on_leader(leader);
  reset_election_timer(self);
  if (was != role::follower)
    self->become(following(self));
  drain_parked(self);
}

void become_candidate(member_self* self) {
  auto& st = self->state;
  if (!may_campaign(st)) {
    // Thesis §4.2.1, §4.2.2: learners, removed and joining members wait.
    reset_election_timer(self);
    return;
  }
  if (!st.cfg.pre_vote) {
    start_election(self, false);
    return;
  }
  // Thesis §9.6: "a candidate would first ask other servers whether its log
  // was up-to-date enough to get their vote": at term + 1, with our term and
  // vote unchanged (nothing to persist).
  st.role = role::candidate;
  st.role_data = candidate_state{{st.id()}, true};
  st.leader.clear();
  reset_election_timer(self);
  self->become(candidating(self));
  request_vote_request req;
  req.term = st.persistent.current_term + 1;
  req.candidate_id = st.id();
  req.last_log_index = st.log.last_index();
  req.last_log_term = st.log.last_term();
  req.pre_vote = true;
  for (auto& id : voters_but_self(st))
    send_to_peer(self, st.peers[id], req);
  if (won_election(st))
    start_election(self, false);
}

void start_election(member_self* self, bool transfer) {
  auto& st = self->state;
  if (!may_campaign(st)) {
    reset_election_timer(self);
    return;
  }
  // §5.2: "To begin an election, a follower increments its current term and
  // transitions to candidate state. It then votes for itself and issues
  // RequestVote RPCs in parallel to each of the other servers."
  adopt_term(self, st.persistent.current_term + 1);
  ++st.metrics.totals.elections_started;
  st.persistent.voted_for = st.id();
  persist_state(self);
  st.role = role::candidate;
  st.role_data = candidate_state{{st.id()}};
  st.leader.clear();
  reset_election_timer(self);
  self->become(candidating(self));
  request_vote_request req;
  req.term = st.persistent.current_term;
  req.candidate_id = st.id();
  req.last_log_index = st.log.last_index();
  req.last_log_term = st.log.last_term();
  req.transfer = transfer;
  // The vote for ourselves must be durable before we ask for others'.
  // Thesis §4.3: only voters (of both configurations while joint).
  for (auto& id : voters_but_self(st))
    send_after_persist(self, st.peers[id], req);
  if (won_election(st))
    become_leader(self);
}

void become_leader(member_self* self) {
  auto& st = self->state;
  st.role = role::leader;
  auto& ld = st.role_data.emplace<leader_state>();
  st.leader = st.id();
  st.metrics.on_leader(st.leader);
  // Figure 2: "nextIndex initialized to leader last log index + 1", for
  // every member of the configuration (thesis §4.1).
  sync_followers(self);
  // §5.4.2 / thesis §6.4: commit a no-op of our term at once, which commits
  // every earlier entry and lets reads and commits proceed.
  log_entry noop;
  noop.term = st.persistent.current_term;
  noop.index = st.log.last_index() + 1;
  noop.kind = entry_kind::noop;
  ld.term_start = noop.index;
  st.writes.append(noop);
  st.log.append(std::move(noop));
  self->become(leading(self));
  schedule_flush(self);
  self->delayed_send(self, st.cfg.heartbeat, heartbeat_atom::value,
                     st.persistent.current_term);
  drain_parked(self);
}

// -- replication ---------------------------------------------------------------------

void replicate(member_self* self, bool heartbeat) {
  auto& st = self->state;
  for (auto& kvp : st.leading().followers)
    replicate_to(self, kvp.first, kvp.second, heartbeat || st.leading().commit_dirty);
  st.leading().commit_dirty = false;
}

void advance_commit(member_self* self) {
  auto& st = self->state;
  std::map<member_id, index_t> matches;
  // The leader counts itself only for what its log writer confirmed.
  matches.emplace(st.id(), st.writes.durable_index());
  for (auto& kvp : st.leading().followers)
    matches.emplace(kvp.first, kvp.second.match_index());
  // Thesis §4.3: a majority of each configuration while joint; learners
  // never count (thesis §4.2.1).
  auto n = joint_quorum_index(st.configuration(), matches, st.broken);
  auto commit = leader_commit_at(st.log, st.persistent.current_term,
                                 st.commit_index, n, st.broken);
  if (commit > st.commit_index) {
    observe_commits(self, st.commit_index, commit);
    release_committed(self, st.commit_index, commit);
    st.commit_index = commit;
    st.trace.stamp_upto(trace_stage::commit, commit);
    // Tell followers soon: their forwarded appends wait for it.
    st.leading().commit_dirty = true;
    schedule_flush(self);
    apply_committed(self);
    on_commit_advanced(self);
  }
}

void receive_entries(member_self* self, append_entries_request& req,
                     const peer_actor& leader) {
  auto& st = self->state;
  append_entries_response resp;
  resp.from = st.id();
  resp.term = st.persistent.current_term;
  auto out = apply_append(st.log, req, st.commit_index, st.broken);
  if (out.refused_committed != 0) {
    refuse(self, "append_entries_request from " + req.leader_id
                   + " replaces committed entry "
                   + std::to_string(out.refused_committed),
           refusal::replaces_committed);
    return;
  }
  resp.read_round = req.read_round;
  if (!out.success) {
    resp.rejected_index = req.prev_log_index;
    resp.conflict_index = out.conflict_index;
    resp.conflict_term = out.conflict_term;
    send_after_persist(self, leader, resp);
    return;
  }
  if (out.truncated_from != 0)
    st.writes.truncate(out.truncated_from);
  for (auto i = out.first_appended; i != 0 && i <= st.log.last_index(); ++i)
    st.writes.append(st.log.at(i));
  // Thesis §4.1: a configuration entry is in force once in the log; a
  // truncated one no longer is.
  if (out.first_appended != 0)
    on_log_changed(self, out.first_appended);
  st.commit_index = follower_commit(st.commit_index, req.leader_commit,
                                    out.last_new_index);
  st.trace.stamp_upto(trace_stage::follower_receive, out.last_new_index);
  apply_committed(self);
  resp.success = true;
  resp.match_index = out.last_new_index;
  if (st.broken.ack_before_durable) {
    send_to_peer(self, leader, resp);
    schedule_flush(self);
    return;
  }
  // One acknowledgement per durable batch, covering every request in it.
  if (auto now = st.writes.acknowledge(caf::actor_cast<caf::actor>(leader),
                                       std::move(resp)))
    send_released(self, std::move(*now));
  else
    schedule_flush(self);
}

void receive_vote_request(member_self* self, request_vote_request& req,
                          const peer_actor& candidate) {
  auto& st = self->state;
  request_vote_response resp;
  resp.from = st.id();
  resp.vote_granted = holds_a_vote(st)
                      && should_grant_vote(st.persistent, st.log, req, st.broken);
  if (resp.vote_granted) {
    // Figure 2: votedFor is persistent; the grant leaves only once durable.
    st.persistent.voted_for = req.candidate_id;
    persist_state(self);
    reset_election_timer(self);
  }
  resp.term = st.persistent.current_term;
  send_after_persist(self, candidate, resp);
}

// -- spawning -------------------------------------------------------------------------

namespace {

caf::expected<member_actor> spawn_impl(caf::actor_system& sys, config cfg,
                                       state_machine_actor sm, bool owns_sm,
                                       storage_ptr store,
                                       transport_actor transport,
                                       broken_rules broken = {},
                                       two_phase_state_machine_actor two_phase
                                       = {},
                                       std::shared_ptr<state_machine> direct_sm
                                       = nullptr) {
  if (auto err = validate(cfg))
    return err;
  if (!sm)
    return make_error(errc::invalid_config, "no state machine");
  if (!store) {
    // log_dir set: the durable file log (docs/storage.md); else memory.
    if (!cfg.log_dir.empty())
      store = std::make_shared<file_storage>(cfg.log_dir);
    else
      store = std::make_shared<memory_storage>();
  }
  auto fail = [&](caf::error err) {
    if (owns_sm)
      caf::anon_send_exit(sm, caf::exit_reason::user_shutdown);
    return err;
  };
  // docs/storage.md, Recovery: the log, then the newest snapshot, reconciled
  // durably with each other before the member starts.
  std::shared_ptr<snapshot_store> files;
  if (!cfg.snapshot_dir.empty())
    files = std::make_shared<snapshot_store>(cfg.snapshot_dir);
  auto rec = recover(*store, files.get());
  if (!rec)
    return fail(rec.error());
  if (!files && rec->log.snapshot.last_index != 0)
    return fail(make_error(errc::invalid_config,
                           "the log was compacted but no snapshot_dir is "
                           "configured"));
  snapshot_actor snapshots;
  if (files)
    snapshots = spawn_snapshot_actor(sys, files, rec->snapshot, sm,
                                     std::move(two_phase));
  auto writer = spawn_log_writer(sys, store);
  // Remote members quit when they stop (their state is gone then): only
  // in-process members linger and are released at system exit.
  bool remote = static_cast<bool>(transport);
  // Hidden: members never keep their actor system from exiting (pending
  // timers and peer handles would keep a running member alive forever).
  auto m = sys.spawn<caf::hidden>(member_impl, std::move(cfg), broken,
                                  std::move(rec->log), std::move(writer),
                                  std::move(sm), owns_sm, std::move(transport),
                                  std::move(snapshots),
                                  std::move(rec->snapshot),
                                  std::move(direct_sm));
  if (!remote)
    release_at_system_exit(sys, caf::actor_cast<caf::actor>(m));
  return caf::actor_cast<member_actor>(m);
}

} // namespace

caf::expected<member_actor> spawn_member(caf::actor_system& sys, config cfg,
                                         state_machine_actor sm,
                                         storage_ptr store,
                                         transport_actor transport) {
  return spawn_impl(sys, std::move(cfg), std::move(sm), false,
                    std::move(store), std::move(transport));
}

caf::expected<member_actor> spawn_member(caf::actor_system& sys, config cfg,
                                         std::shared_ptr<state_machine> sm,
                                         storage_ptr store,
                                         transport_actor transport) {
  if (!sm)
    return make_error(errc::invalid_config, "no state machine");
  // Validate first: an adapter spawned for a member that never runs would
  // keep the actor system from shutting down.
  if (auto err = validate(cfg))
    return err;
  // The member applies and queries `sm` itself; the adapter saves and
  // restores it off the member's thread (member_apply.cpp).
  auto adapter = spawn_state_machine(sys, sm);
  return spawn_impl(sys, std::move(cfg), adapter, true, std::move(store),
                    std::move(transport), {}, adapter, std::move(sm));
}

caf::expected<member_actor> spawn_member(caf::actor_system& sys, config cfg,
                                         two_phase_state_machine_actor sm,
                                         storage_ptr store,
                                         transport_actor transport) {
  return spawn_impl(sys, std::move(cfg), sm, false, std::move(store),
                    std::move(transport), {}, sm);
}

namespace detail {

caf::expected<member_actor>
spawn_breaking_member(caf::actor_system& sys, config cfg, broken_rules broken,
                      std::shared_ptr<state_machine> sm, storage_ptr store) {
  if (!sm)
    return make_error(errc::invalid_config, "no state machine");
  if (auto err = validate(cfg))
    return err;
  auto adapter = spawn_state_machine(sys, sm);
  return spawn_impl(sys, std::move(cfg), adapter, true, std::move(store),
                    transport_actor{}, broken, adapter, std::move(sm));
}

} // namespace detail

void add_message_types(caf::actor_system_config& cfg) {
  // Ends members' detached helpers with the system (system_exit_hook.hpp).
  add_exit_hook(cfg);
  cfg.add_message_type<payload>("raft::payload");
  cfg.add_message_type<log_entry>("raft::log_entry");
  cfg.add_message_type<entry_vector>("std::vector<raft::log_entry>");
  cfg.add_message_type<entry_kind>("raft::entry_kind");
  cfg.add_message_type<cluster_configuration>("raft::cluster_configuration");
  cfg.add_message_type<hard_state>("raft::hard_state");
  cfg.add_message_type<role>("raft::role");
  cfg.add_message_type<request_vote_request>("raft::request_vote_request");
  cfg.add_message_type<request_vote_response>("raft::request_vote_response");
  cfg.add_message_type<append_entries_request>("raft::append_entries_request");
  cfg.add_message_type<append_entries_response>(
    "raft::append_entries_response");
  cfg.add_message_type<append_reply>("raft::append_reply");
  // Batch requests (member_actor's append and query of a batch).
  cfg.add_message_type<std::vector<payload>>("std::vector<raft::payload>");
  cfg.add_message_type<command_outcome>("raft::command_outcome");
  cfg.add_message_type<std::vector<command_outcome>>(
    "std::vector<raft::command_outcome>");
  cfg.add_message_type<snapshot_meta>("raft::snapshot_meta");
  cfg.add_message_type<install_snapshot_request>(
    "raft::install_snapshot_request");
  cfg.add_message_type<install_snapshot_response>(
    "raft::install_snapshot_response");
  cfg.add_message_type<member_status>("raft::member_status");
  cfg.add_message_type<member_metrics>("raft::member_metrics");
  cfg.add_message_type<timeout_now_request>("raft::timeout_now_request");
  cfg.add_message_type<apply_result>("raft::apply_result");
  cfg.add_message_type<std::vector<apply_result>>(
    "std::vector<raft::apply_result>");
  cfg.add_error_category(errc_category, [](uint8_t code, caf::atom_value,
                                           const caf::message& context) {
    auto result = "raft: " + to_string(static_cast<errc>(code));
    if (context.match_elements<std::string>())
      result += " (" + context.get_as<std::string>(0) + ")";
    else if (!context.empty())
      result += " " + to_string(context);
    return result;
  });
}

} // namespace raft
