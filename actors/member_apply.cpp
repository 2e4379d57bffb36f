// Applying without an actor hop (issue 14): a member spawned with a C++
// state_machine calls apply and query itself, on its own thread, straight
// from its log entries. Saves and restores still run off the member's thread
// (the state machine adapter and its snapshot writer), with applies and
// queries stopped while they touch the state machine (`snapshotting`,
// `restoring`): the state machine object is used by two threads, but never
// by both at once, and every hand-over between them is a message, which
// orders the memory accesses. Implementations need no locks of their own.

#include "member_state.hpp"

#include "caf/event_based_actor.hpp"

#include "raft/errc.hpp"

namespace raft {

namespace {

/// Queries and applies must wait: the state machine is being saved (one
/// phase, or a two-phase view being taken) or restored on another thread
/// (Vanadium's raft interface: no Apply until SaveToSnapshot returns).
bool state_machine_busy(const member_state& st) {
  return st.snapshotting || st.restoring;
}

/// A failure found where stopping at once would pull the member's state
/// from under its caller (a query inside serve_reads): the member stops on
/// its next message, as it did when the adapter's actor ended; meanwhile
/// nothing is applied or queried (`stop_reason` set while running).
void stop_soon(member_self* self, caf::error reason) {
  auto& st = self->state;
  if (st.stop_reason)
    return;
  st.stop_reason = std::move(reason);
  if (!st.apply_queued) {
    st.apply_queued = true;
    self->send(self, apply_atom::value);
  }
}

} // namespace

void apply_directly(member_self* self) {
  auto& st = self->state;
  if (st.role == role::stopped || state_machine_busy(st) || st.stop_reason)
    return;
  // A continuation is queued: the next batch waits for its turn, behind the
  // messages that arrived meanwhile.
  if (st.apply_queued)
    return;
  if (st.last_applied < st.commit_index) {
    // Figure 2, Rules for Servers: "If commitIndex > lastApplied: increment
    // lastApplied, apply log[lastApplied] to state machine", in log order,
    // at most max_apply_batch entries per message.
    auto from = st.last_applied + 1;
    auto upto = std::min(st.commit_index,
                         st.last_applied + st.cfg.max_apply_batch);
    auto& sm = *st.direct_sm;
    // The batch first, then the replies (as the adapter's path did): the
    // results of its commands, in order.
    std::vector<apply_result> results;
    results.reserve(static_cast<size_t>(upto - from + 1));
    index_t failed_at = 0;
    for (auto i = from; i <= upto && failed_at == 0; ++i) {
      auto& e = st.log.at(i);
      if (e.kind != entry_kind::command)
        continue; // No-ops (§5.4.2) and configurations are Raft's own.
      try {
        results.push_back(sm.apply(i, e.data));
      } catch (std::exception& ex) {
        // As the adapter does: the application's error for this command,
        // which is applied (docs/api.md).
        results.push_back(apply_result{{}, ex.what()});
      } catch (...) {
        // Anything else ended the adapter's actor: the state is unknown,
        // so stop rather than skip the command; those before it are
        // applied and answered.
        failed_at = i;
      }
    }
    auto done = failed_at != 0 ? failed_at - 1 : upto;
    st.trace.stamp_upto(trace_stage::applied, done);
    size_t k = 0;
    for (auto i = from; i <= done; ++i) {
      auto& e = st.log.at(i);
      if (e.kind == entry_kind::command)
        answer_proposals(self, i, e.term, &results[k++]);
    }
    applied_upto(self, done);
    if (failed_at != 0) {
      // Stopping here would pull the state from under our caller (e.g.
      // advance_commit): on the next message instead.
      stop_soon(self, make_error(errc::state_machine_failure,
                                 "state machine failure: apply threw a "
                                 "non-standard exception at index "
                                   + std::to_string(failed_at)));
      return;
    }
    // After an applied batch, as the adapter's path: reads that waited for
    // it, then a snapshot may begin (between two batches).
    serve_reads(self);
    maybe_snapshot(self);
  } else {
    // Queries that waited for a save or a restore to end.
    serve_reads(self);
  }
  // Long backlogs (replay after a restart): one batch per message, so that
  // heartbeats, AppendEntries and votes are handled in between.
  if (st.role != role::stopped && !state_machine_busy(st)
      && st.last_applied < st.commit_index && !st.apply_queued) {
    st.apply_queued = true;
    self->send(self, apply_atom::value);
  }
}

void on_apply_continuation(member_self* self) {
  auto& st = self->state;
  st.apply_queued = false;
  if (st.stop_reason && st.role != role::stopped) {
    auto reason = st.stop_reason; // stop_soon
    shut_down(self, reason);
    return;
  }
  apply_committed(self);
}

std::optional<caf::expected<apply_result>>
query_directly(member_self* self, const payload& query) {
  auto& st = self->state;
  if (!st.direct_sm)
    return std::nullopt;
  try {
    return st.direct_sm->query(query);
  } catch (std::exception& ex) {
    // As the adapter does: the query's error.
    return apply_result{{}, ex.what()};
  } catch (...) {
    auto err = make_error(errc::state_machine_failure,
                          "state machine failure: query threw a "
                          "non-standard exception");
    stop_soon(self, err);
    return caf::expected<apply_result>{std::move(err)};
  }
}

bool queries_wait(member_self* self) {
  auto& st = self->state;
  return st.direct_sm && (state_machine_busy(st) || st.stop_reason);
}

} // namespace raft
