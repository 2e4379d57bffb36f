// Ends a member's detached helper actors (log writer, snapshot actor) with
// their actor system, so that a process whose members were never stopped
// does not hang at exit.
//
// Why: CAF 0.17's actor_system destructor waits for every non-hidden actor
// (members are hidden for that reason) and then for every detached thread.
// A detached helper of a member that was never stopped waits for messages
// forever, so the destructor would too; and its thread ends only once the
// helper object is destroyed, which the member's handle prevents (members
// of a cluster hold each other's handles, and timers hold them too, so a
// running member is never destroyed before the system). A thread hook
// installed by add_message_types sees the scheduler's clock thread end (it
// ends only when the scheduler stops, after the workers were joined, so no
// actor runs any more) and then kills the helpers and runs the members'
// release functions, which drop their handles to helpers and peers.
#pragma once

#include <functional>

#include "caf/actor_addr.hpp"
#include "caf/fwd.hpp"

namespace raft {

/// True if helpers may run detached on `sys`: its scheduler detaches
/// utility actors and its config carries the exit hook (add_message_types).
/// Otherwise helpers run on the scheduler, where nothing waits for them.
bool detach_helpers(caf::actor_system& sys);

/// Registers a detached helper to be killed when `sys`'s scheduler stops.
void end_with_system(caf::actor_system& sys, const caf::actor_addr& helper);

/// Registers `release` to run when `sys`'s scheduler has stopped (no actor
/// runs then): it drops a member's handles so its helpers can be destroyed.
void at_system_exit(caf::actor_system& sys, std::function<void()> release);

/// Installs the hook behind end_with_system on an actor system config.
void add_exit_hook(caf::actor_system_config& cfg);

} // namespace raft
