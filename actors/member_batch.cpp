// Client commands one at a time and in batches. A batch request
// (member_actor's `(append_atom | query_atom, std::vector<payload>)`, which
// the wire's bridge sends for each client frame) is one message in and one
// out; inside, each command takes the single request's path through a
// reply_to naming its slot, so its outcome is what the single request would
// have answered (issue 14: one message per client batch).

#include "member_state.hpp"

#include "raft/errc.hpp"

namespace raft {

void append_one(member_self* self, payload cmd, reply_to rp) {
  auto& st = self->state;
  if (st.role == role::idle) {
    rp.deliver(make_error(errc::not_started));
    return;
  }
  if (st.role == role::stopped) {
    rp.deliver(make_error(errc::stopped));
    return;
  }
  if (auto err = check_entry_size(self, cmd)) {
    rp.deliver(std::move(err));
    return;
  }
  switch (st.role) {
    case role::leader:
      // Thesis §3.10: no new proposals while handing over leadership.
      if (!st.leading().transfer_target.empty()) {
        rp.deliver(make_error(errc::transfer_in_progress,
                              "leadership is being transferred to "
                                + st.leading().transfer_target));
        return;
      }
      propose(self, std::move(cmd), std::move(rp));
      return;
    case role::candidate:
      // No leader during an election: wait for one (or the timeout).
      park_append(self, std::move(cmd), std::move(rp));
      return;
    default:
      if (auto err = not_member_error(self)) {
        rp.deliver(std::move(err));
        return;
      }
      // Append anywhere (Vanadium's raft interface): a follower forwards to
      // the leader.
      forward_append(self, std::move(cmd), std::move(rp));
      return;
  }
}

void query_one(member_self* self, payload query, reply_to rp) {
  auto& st = self->state;
  switch (st.role) {
    case role::idle:
      rp.deliver(make_error(errc::not_started));
      return;
    case role::stopped:
      rp.deliver(make_error(errc::stopped));
      return;
    case role::leader:
      start_read(self, std::move(query), std::move(rp));
      return;
    case role::candidate:
      park_append(self, std::move(query), std::move(rp), true);
      return;
    default:
      if (auto err = not_member_error(self)) {
        rp.deliver(std::move(err));
        return;
      }
      forward_query(self, std::move(query), std::move(rp));
      return;
  }
}

caf::result<std::vector<command_outcome>>
batch_request(member_self* self, std::vector<payload>& cmds, bool is_query) {
  auto n = cmds.size();
  if (n == 0)
    return std::vector<command_outcome>{};
  auto batch = std::make_shared<batch_outcomes>();
  batch->outcomes.resize(n);
  batch->answered.resize(n, false);
  batch->left = n;
  batch->promise = self->make_response_promise();
  for (size_t i = 0; i < n; ++i) {
    if (is_query)
      query_one(self, std::move(cmds[i]), reply_to{batch, i});
    else
      append_one(self, std::move(cmds[i]), reply_to{batch, i});
  }
  return caf::delegated<std::vector<command_outcome>>{};
}

} // namespace raft
