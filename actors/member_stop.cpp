// A member after `stop` or after a failure (fail-stop): it no longer takes
// part in Raft, but it keeps answering, so callers learn why instead of
// seeing CAF's request_receiver_down (docs/api.md, "Lifecycle and
// failures"). It lingers until its last handle goes.

#include "member_state.hpp"

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/exit_reason.hpp"

#include "raft/errc.hpp"

#include "system_exit_hook.hpp"

namespace raft {

namespace {

caf::error stopped_error(member_self* self) {
  auto& reason = self->state.stop_reason;
  if (!reason)
    return make_error(errc::stopped, "the member was stopped");
  return make_error(errc::stopped,
                    "the member stopped after a failure: "
                      + self->system().render(reason));
}

/// Which helper an exit came from, as the error the member stops with.
caf::error helper_failure(member_self* self, const caf::exit_msg& msg) {
  auto& st = self->state;
  auto why = self->system().render(msg.reason);
  if (msg.source == st.writer_addr)
    return msg.reason && msg.reason.category() == errc_category
             ? msg.reason
             : make_error(errc::storage_failure, "the log writer ended: " + why);
  if (msg.source == st.sm_addr)
    return make_error(errc::state_machine_failure,
                      "the state machine ended: " + why);
  if (msg.source == st.snapshots_addr)
    return make_error(errc::snapshot_failure,
                      "the snapshot actor ended: " + why);
  return caf::none;
}

} // namespace

member_behavior stopped_behavior(member_self* self) {
  auto refuse_request = [=]() { return stopped_error(self); };
  return {
    [=](status_atom) {
      auto s = make_status(self);
      s.role = role::stopped;
      s.leader.clear();
      return s;
    },
    // Stopping twice is not an error: the member is stopped.
    [=](stop_atom) { return caf::ok_atom::value; },
    [=](append_atom, payload&) -> caf::result<append_reply> {
      return refuse_request();
    },
    [=](query_atom, payload&) -> caf::result<append_reply> {
      return refuse_request();
    },
    [=](append_atom, std::vector<payload>&)
      -> caf::result<std::vector<command_outcome>> {
      return refuse_request();
    },
    [=](query_atom, std::vector<payload>&)
      -> caf::result<std::vector<command_outcome>> {
      return refuse_request();
    },
    [=](start_atom) -> caf::result<caf::ok_atom> { return refuse_request(); },
    [=](election_atom) -> caf::result<caf::ok_atom> {
      return refuse_request();
    },
    [=](caf::add_atom, const member_id&,
        const caf::actor&) -> caf::result<caf::ok_atom> {
      return refuse_request();
    },
    [=](caf::add_atom, const member_id&) -> caf::result<caf::ok_atom> {
      return refuse_request();
    },
    [=](transfer_atom, const member_id&) -> caf::result<caf::ok_atom> {
      return refuse_request();
    },
    [=](metrics_atom) { return make_metrics(self); },
    [=](members_atom) { return current_configuration(self); },
    [=](learner_atom, const member_id&,
        bool) -> caf::result<cluster_configuration> {
      return refuse_request();
    },
    [=](promote_atom,
        const member_id&) -> caf::result<cluster_configuration> {
      return refuse_request();
    },
    [=](remove_atom, const member_id&) -> caf::result<cluster_configuration> {
      return refuse_request();
    },
    [=](reconfig_atom,
        const cluster_configuration&) -> caf::result<cluster_configuration> {
      return refuse_request();
    },
    // Timers, peers and replies of the running member: nothing to do.
    [=](election_atom, term_t) {},
    [=](heartbeat_atom, term_t) {},
    [=](deadline_atom, uint64_t) {},
    [=](flush_atom) {},
    [=](transfer_atom, uint64_t) {},
    [=](rejoin_atom, const member_id&, const caf::actor&) {},
    [=](apply_atom) {},
    [=](peer_atom, const member_id&, const peer_actor&) {},
    [=](peer_atom, const member_id&, const peer_actor&,
        const peer_channel_ptr&) {},
    [=](const request_vote_request&) {},
    [=](const request_vote_response&) {},
    [=](const append_entries_request&) {},
    [=](const append_entries_response&) {},
    [=](const install_snapshot_request&) {},
    [=](const install_snapshot_response&) {},
    [=](const timeout_now_request&) {},
  };
}

void set_stop_handlers(member_self* self) {
  auto& st = self->state;
  st.writer_addr = st.writer.address();
  st.snapshots_addr = st.snapshots ? st.snapshots.address() : caf::actor_addr{};
  st.sm_addr = st.sm.address();
  self->set_exit_handler([](caf::scheduled_actor* ptr, caf::exit_msg& msg) {
    auto self = static_cast<member_self*>(ptr);
    if (auto failure = helper_failure(self, msg)) {
      // A helper ended on its own (a failed write, a crashed state
      // machine): fail-stop with a named error, never silently. After our
      // own stop the helpers' exits are expected.
      if (self->state.role != role::stopped && msg.reason)
        shut_down(self, failure);
      return;
    }
    // Someone else asked the member to exit: answer what it owes, then go.
    if (!msg.reason)
      return;
    shut_down(self, msg.reason);
    self->quit(msg.reason);
  });
}


void release_helpers(member_self* self) {
  auto& st = self->state;
  st.writer = log_writer_actor{};
  st.snapshots = snapshot_actor{};
  if (st.owns_sm)
    st.sm = state_machine_actor{};
}

void release_at_system_exit(caf::actor_system& sys, const caf::actor& member) {
  if (!detach_helpers(sys))
    return; // Helpers on the scheduler: nothing waits for them.
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(member);
  auto* system = &sys;
  at_system_exit(sys, [weak, system] {
    auto ptr = caf::actor_cast<caf::strong_actor_ptr>(weak);
    if (!ptr)
      return;
    // What CAF's scheduler does at stop for the actors still in its queues
    // (abstract_coordinator::cleanup_and_release), for a member that was
    // idle: it terminates, its links end its helpers, and its mailbox
    // (whose replies name the helpers as senders) is closed.
    auto self = dynamic_cast<member_self*>(
      caf::actor_cast<caf::abstract_actor*>(ptr));
    if (self == nullptr)
      return;
    // A member that finished (it quit: an exit message, or it stopped for a
    // remote transport) ran on_exit, which destroyed its state, handles
    // included: nothing is left to release, and the state must not be
    // touched (it did, and learner-bench crashed or hung at exit). Such an
    // actor has no behaviour left; one cleaned up by the scheduler's stop
    // (below, or in cleanup_and_release) keeps its behaviour and its state.
    if (self->getf(caf::abstract_actor::is_cleaned_up_flag) && !self->alive())
      return;
    if (!self->getf(caf::abstract_actor::is_cleaned_up_flag))
      self->cleanup(caf::make_error(caf::exit_reason::user_shutdown),
                    system->dummy_execution_unit());
    // cleanup keeps the state (only finishing an actor destroys it): drop
    // its handles, so the helpers (and peers) are no longer held by it.
    auto& st = self->state;
    st.writer = log_writer_actor{};
    st.snapshots = snapshot_actor{};
    st.sm = state_machine_actor{};
    for (auto& kvp : st.peers)
      kvp.second = peer_actor{};
    st.channels.clear(); // the sessions (and their links) they hold
    st.transport = transport_actor{};
  });
}

caf::error check_entry_size(member_self* self, const payload& cmd) {
  auto limit = self->state.cfg.max_entry_size;
  if (cmd.size() <= limit)
    return caf::none;
  return make_error(errc::entry_too_large,
                    "the command has " + std::to_string(cmd.size())
                      + " bytes, max_entry_size is " + std::to_string(limit));
}

} // namespace raft
