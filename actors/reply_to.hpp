// Where the answer to one client command goes: the response promise of its
// own request, or one slot of a batch request (member_actor's
// `(append_atom | query_atom, std::vector<payload>)`), answered in one
// message once every slot is filled. The member's bookkeeping
// (commit_waiters, apply_waiters, parked, reads) holds these, so a batch's
// commands take the single request's paths unchanged.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "caf/error.hpp"
#include "caf/response_promise.hpp"

#include "raft/member.hpp"

namespace raft {

/// The outcomes of one batch request, shared by its commands' reply_to: a
/// few allocations per batch, none per command.
struct batch_outcomes {
  std::vector<command_outcome> outcomes;
  /// Which slots were answered.
  std::vector<bool> answered;
  /// Slots not answered yet; the batch is answered when it reaches zero.
  size_t left = 0;
  caf::response_promise promise;
};

class reply_to {
public:
  reply_to() = default;

  /// A single request's promise (implicit: the single paths pass theirs).
  reply_to(caf::response_promise rp) : promise_(std::move(rp)) {
    // nop
  }

  /// Slot `slot` of `batch`.
  reply_to(std::shared_ptr<batch_outcomes> batch, size_t slot)
    : batch_(std::move(batch)), slot_(slot) {
    // nop
  }

  void deliver(append_reply reply) {
    if (batch_)
      fill(command_outcome{std::move(reply), caf::error{}});
    else
      promise_.deliver(std::move(reply));
  }

  void deliver(caf::error err) {
    if (batch_)
      fill(command_outcome{append_reply{}, std::move(err)});
    else
      promise_.deliver(std::move(err));
  }

private:
  void fill(command_outcome x) {
    // Each command is answered once (as a single request's promise is);
    // a copy answering again finds its slot answered and changes nothing.
    auto& b = *batch_;
    if (b.left == 0 || b.answered[slot_])
      return;
    b.answered[slot_] = true;
    b.outcomes[slot_] = std::move(x);
    if (--b.left == 0)
      b.promise.deliver(std::move(b.outcomes));
  }

  caf::response_promise promise_;
  std::shared_ptr<batch_outcomes> batch_;
  size_t slot_ = 0;
};

} // namespace raft
