// Spawning a member that breaks Raft rules on purpose: only the testing kit
// (src/testing) and the project's tests call this. Applications use
// raft::spawn_member (raft/member.hpp), whose members break none.
#pragma once

#include <memory>

#include "caf/expected.hpp"
#include "caf/fwd.hpp"

#include "raft/config.hpp"
#include "raft/core/rules.hpp"
#include "raft/member.hpp"
#include "raft/state_machine.hpp"
#include "raft/storage/storage.hpp"

namespace raft::detail {

/// raft::spawn_member with `broken` switched on.
caf::expected<member_actor>
spawn_breaking_member(caf::actor_system& sys, config cfg, broken_rules broken,
                      std::shared_ptr<state_machine> sm,
                      storage_ptr store = nullptr);

} // namespace raft::detail
