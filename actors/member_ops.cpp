// Operations the role behaviours share: persistence before responding, the
// election timer, applying committed entries, and client requests.

#include "member_state.hpp"

#include "caf/event_based_actor.hpp"
#include "caf/sec.hpp"

#include "raft/core/rules.hpp"
#include "raft/errc.hpp"

namespace raft {

// -- persistence -------------------------------------------------------------------

void adopt_term(member_self* self, term_t term) {
  auto& st = self->state;
  if (term <= st.persistent.current_term)
    return;
  st.persistent.current_term = term;
  ++st.metrics.totals.term_changes;
  st.persistent.voted_for.clear();
  st.leader.clear();
  persist_state(self);
}

void persist_state(member_self* self) {
  auto& st = self->state;
  st.writes.save_state(st.persistent);
  schedule_flush(self);
}

void send_held(member_self* self, const peer_actor& dest, caf::message msg) {
  auto& writes = self->state.writes;
  if (auto now = writes.send_after_persist(caf::actor_cast<caf::actor>(dest),
                                           std::move(msg)))
    send_released(self, std::move(*now));
}

void schedule_flush(member_self* self) {
  auto& st = self->state;
  if (!st.flush_queued) {
    st.flush_queued = true;
    self->send(self, flush_atom::value);
  }
}

namespace {

void on_write_done(member_self* self);

} // namespace

void start_write(member_self* self) {
  auto& st = self->state;
  auto batch = st.writes.next_write();
  if (!batch)
    return;
  ++st.counters.log_writes;
  st.counters.entries_written += batch->entries.size();
  st.metrics.on_write_started(self->clock().now(), batch->entries.size());
  self->request(st.writer, caf::infinite, write_atom::value, std::move(*batch))
    .then([=](caf::ok_atom) { on_write_done(self); },
          [=](caf::error& err) {
            // Fail-stop: a member whose storage failed must not acknowledge
            // anything again; the others carry on without it.
            // The storage's errors are storage_failure already, naming the
            // call, the file and the system error: keep them as they are.
            shut_down(self, err.category() == errc_category
                              ? err
                              : make_error(errc::storage_failure,
                                           self->system().render(err)));
          });
}

namespace {

void on_write_done(member_self* self) {
  auto& st = self->state;
  st.metrics.on_write_done(self->clock().now());
  if (st.role == role::stopped)
    return; // A write that completed as the member stopped: nothing to send.
  // Release what waited for this write, in order.
  for (auto& msg : st.writes.on_durable())
    send_released(self, std::move(msg));
  st.trace.stamp_upto(st.role == role::leader ? trace_stage::leader_durable
                                              : trace_stage::follower_durable,
                      st.writes.durable_index());
  if (st.role == role::leader)
    advance_commit(self);
  start_write(self);
}

} // namespace

// -- timers ---------------------------------------------------------------------------

void reset_election_timer(member_self* self) {
  auto& st = self->state;
  auto lo = st.cfg.election_timeout_min.count();
  auto hi = st.cfg.election_timeout_max.count();
  std::uniform_int_distribution<int64_t> dist{lo, hi};
  auto timeout = caf::timespan{dist(st.rng)};
  st.election_deadline = self->clock().now() + timeout;
  // One timer message at a time: when it fires early (the deadline moved),
  // it re-arms itself for the rest.
  if (!st.election_timer_armed) {
    st.election_timer_armed = true;
    self->delayed_send(self, timeout, election_atom::value, st.persistent.current_term);
  }
}

// -- applying ----------------------------------------------------------------------

namespace {

void on_applied(member_self* self, index_t upto, const entry_vector& commands,
                std::vector<apply_result>& results);

} // namespace

namespace {

/// Fail-stop after the state machine broke its contract: its state is
/// unknown, so applying on would diverge from the other members.
void state_machine_failed(member_self* self, const std::string& what) {
  shut_down(self, make_error(errc::state_machine_failure,
                             "state machine failure: " + what));
}

} // namespace

void apply_committed(member_self* self) {
  auto& st = self->state;
  if (st.role == role::stopped)
    return;
  if (st.direct_sm) {
    // A C++ state machine: applied here, without a hop (member_apply.cpp).
    apply_directly(self);
    return;
  }
  // Vanadium's raft interface: no Apply while a snapshot is saved or restored.
  if (st.snapshotting || st.restoring)
    return;
  while (!st.applying && st.last_applied < st.commit_index) {
    auto from = st.last_applied + 1;
    auto upto = std::min(st.commit_index,
                         st.last_applied + st.cfg.max_apply_batch);
    entry_vector commands;
    for (auto i = from; i <= upto; ++i) {
      auto& e = st.log.at(i);
      if (e.kind == entry_kind::command)
        commands.push_back(e);
    }
    if (commands.empty()) {
      // Only no-ops: nothing for the application (§5.4.2's no-op is Raft's).
      std::vector<apply_result> none;
      on_applied(self, upto, commands, none);
      continue;
    }
    st.applying = true;
    st.applying_upto = upto;
    self->request(st.sm, caf::infinite, apply_atom::value, commands)
      .then(
        [=](std::vector<apply_result>& results) {
          self->state.applying = false;
          if (self->state.role == role::stopped)
            return; // Its requests were answered when it stopped.
          if (results.size() != commands.size()) {
            // One result per command is the contract: which command a
            // result belongs to is unknown now, and so is the state.
            state_machine_failed(self,
                                 "it returned " + std::to_string(results.size())
                                   + " results for "
                                   + std::to_string(commands.size())
                                   + " commands (indexes "
                                   + std::to_string(commands.front().index)
                                   + " to "
                                   + std::to_string(commands.back().index)
                                   + ")");
            return;
          }
          on_applied(self, upto, commands, results);
          apply_committed(self);
        },
        [=](caf::error& err) {
          // The application's actor failed: we cannot apply in order any
          // more, so stop rather than skip commands.
          state_machine_failed(self, "it answered apply with "
                                       + self->system().render(err));
        });
  }
}

namespace {

void on_applied(member_self* self, index_t upto, const entry_vector& commands,
                std::vector<apply_result>& results) {
  for (size_t k = 0; k < commands.size(); ++k)
    answer_proposals(self, commands[k].index, commands[k].term, &results[k]);
  applied_upto(self, upto);
  serve_reads(self);
  maybe_snapshot(self);
}

} // namespace

void answer_proposals(member_self* self, index_t index, term_t term,
                      apply_result* result) {
  auto& waiters = self->state.commit_waiters;
  while (!waiters.empty() && waiters.front().index <= index) {
    auto& w = waiters.front();
    if (result && w.index == index && w.term == term) {
      w.promise.deliver(append_reply{w.index, std::move(result->result),
                                     std::move(result->error)});
    } else {
      // Another leader's entry took this index: ours was never committed.
      w.promise.deliver(make_error(errc::leadership_lost,
                                   "entry overwritten by a newer leader"));
    }
    waiters.pop_front();
  }
}

void applied_upto(member_self* self, index_t upto) {
  auto& st = self->state;
  st.last_applied = upto;
  st.trace.stamp_upto(trace_stage::applied, upto);
  answer_proposals(self, upto, 0, nullptr);
  release_apply_waiters(self);
}

void release_apply_waiters(member_self* self) {
  auto& st = self->state;
  // Forwarded proposals that the leader answered.
  auto end = st.apply_waiters.upper_bound(st.last_applied);
  for (auto i = st.apply_waiters.begin(); i != end; ++i)
    i->second.promise.deliver(std::move(i->second.reply));
  st.apply_waiters.erase(st.apply_waiters.begin(), end);
}

// -- client requests -----------------------------------------------------------------

void fail_all_requests(member_self* self, const caf::error& appended,
                       const caf::error& not_appended) {
  auto& st = self->state;
  for (auto& w : st.commit_waiters)
    w.promise.deliver(appended);
  st.commit_waiters.clear();
  for (auto& kvp : st.apply_waiters)
    kvp.second.promise.deliver(appended);
  st.apply_waiters.clear();
  for (auto& p : st.parked)
    p.promise.deliver(not_appended);
  st.parked.clear();
  if (auto* ld = st.if_leading()) {
    for (auto& r : ld->reads)
      r.promise.deliver(not_appended);
    ld->reads.clear();
  }
  // Configuration changes (member_config.cpp): appended, outcome unknown.
  fail_changes(self, appended);
}

void park_append(member_self* self, payload cmd, reply_to rp,
                 bool is_query) {
  auto& st = self->state;
  auto id = st.next_parked_id++;
  st.parked.push_back(parked_append{id, std::move(cmd), std::move(rp),
                                    is_query});
  self->delayed_send(self, st.cfg.append_timeout, deadline_atom::value, id);
}

void forward_append(member_self* self, payload cmd, reply_to rp) {
  auto& st = self->state;
  if (st.role == role::leader) {
    propose(self, std::move(cmd), std::move(rp));
    return;
  }
  auto i = st.peers.find(st.leader);
  if (i == st.peers.end() || !i->second) {
    park_append(self, std::move(cmd), std::move(rp));
    return;
  }
  auto leader_id = st.leader;
  auto leader_handle = i->second;
  auto cmd_copy = cmd; // shares the bytes
  self->request(leader_handle, st.cfg.append_timeout, append_atom::value,
                std::move(cmd))
    .then(
      [=](append_reply& reply) mutable {
        auto& st = self->state;
        if (st.role == role::stopped) {
          // The leader took it; this member will never apply it.
          rp.deliver(make_error(errc::leadership_lost,
                                "the member stopped; outcome unknown"));
          return;
        }
        if (st.last_applied >= reply.index) {
          rp.deliver(std::move(reply));
        } else {
          auto index = reply.index;
          st.apply_waiters.emplace(index,
                                   apply_waiter{std::move(reply), rp});
        }
      },
      [=](caf::error& err) mutable {
        auto& st = self->state;
        if (st.role == role::stopped) {
          rp.deliver(outcome_unknown(err) || err == caf::sec::request_receiver_down
                       ? make_error(errc::leadership_lost,
                                    "the member stopped; outcome unknown")
                       : err);
          return;
        }
        auto leader_stopped = err.category() == errc_category
                              && err.code()
                                   == static_cast<uint8_t>(errc::stopped);
        if ((err == caf::sec::request_receiver_down
             && leader_handle.node() == self->node())
            || leader_stopped) {
          // A stopped leader (it answers errc::stopped, member_stop.cpp)
          // never appended the command either.
          // A local leader that is gone never saw the request: wait for
          // the next leader rather than fail.
          if (st.leader == leader_id)
            st.leader.clear();
          forward_append(self, std::move(cmd_copy), std::move(rp));
          return;
        }
        if (err == caf::sec::request_timeout
            || err == caf::sec::request_receiver_down)
          rp.deliver(make_error(errc::timeout,
                                "no answer from the leader; outcome unknown"));
        else
          rp.deliver(std::move(err));
      });
}

// -- stopping -------------------------------------------------------------------------

void shut_down(member_self* self, const caf::error& reason) {
  auto& st = self->state;
  if (st.role == role::stopped)
    return;
  st.role = role::stopped;
  st.stop_reason = reason;
  // A failure is never silent: one line naming it (the storage's errors
  // name the file and the system error).
  if (reason)
    log_line(self, log_level::error,
             "stopping after a failure: " + self->system().render(reason));
  // Appends already in the log may still commit through the others: their
  // outcome is unknown, never "stopped" (a caller would retry and apply
  // twice). A failed state machine names itself (also outcome unknown).
  // Parked appends and queries were never appended.
  auto appended = reason && reason.category() == errc_category
                      && reason.code()
                           == static_cast<uint8_t>(errc::state_machine_failure)
                    ? reason
                    : make_error(errc::leadership_lost,
                                 "the member stopped; outcome unknown");
  fail_all_requests(self, appended,
                    reason ? reason : make_error(errc::stopped));
  st.role_data = follower_state{};
  // The helpers end with the member; their exits are expected now
  // (set_stop_handlers).
  self->send_exit(st.writer, caf::exit_reason::user_shutdown);
  if (st.snapshots)
    self->send_exit(st.snapshots, caf::exit_reason::user_shutdown);
  if (st.owns_sm)
    self->send_exit(st.sm, caf::exit_reason::user_shutdown);
  // Hold no handle to them: a detached helper's thread ends only once the
  // helper is destroyed, and a lingering member must not keep it.
  release_helpers(self);
  // Linger, answering errc::stopped (member_stop.cpp), until the last
  // handle goes: callers learn why rather than request_receiver_down.
  self->become(stopped_behavior(self));
  // A member with a transport (remote members, remote.hpp) quits instead:
  // its transport and wire sessions end when it goes down, and must not
  // linger with it (they would keep the actor system and the port open).
  if (st.transport)
    self->quit(reason);
}

} // namespace raft
