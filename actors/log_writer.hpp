// The log writer actor: the only place that touches a member's storage.
#pragma once

#include "caf/fwd.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "raft/atoms.hpp"
#include "raft/storage/storage.hpp"

namespace raft {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, write_batch& x) {
  return f(caf::meta::type_name("write_batch"), x.reset_to, x.has_state,
           x.state, x.truncate_from, x.entries, x.compact_to);
}

/// Persists one batch per request and answers once it is durable; an error
/// reply means the storage failed and the member must stop.
using log_writer_actor = caf::typed_actor<
  caf::replies_to<write_atom, write_batch>::with<caf::ok_atom>>;

/// Spawns a log writer owning `store`. It runs on its own thread when the
/// scheduler detaches utility actors (so an fsync never blocks a worker),
/// and on the scheduler itself in deterministic tests.
log_writer_actor spawn_log_writer(caf::actor_system& sys, storage_ptr store);

} // namespace raft
