#include "log_writer.hpp"

#include "caf/actor_system.hpp"
#include "caf/scheduler/abstract_coordinator.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "system_exit_hook.hpp"

namespace raft {

namespace {

log_writer_actor::behavior_type
log_writer(log_writer_actor::pointer self, storage_ptr store) {
  return {
    [=](write_atom, const write_batch& batch) -> caf::result<caf::ok_atom> {
      if (auto err = persist(*store, batch)) {
        // Fail-stop: answer the member with the error, write nothing more.
        self->quit(err);
        return err;
      }
      return caf::ok_atom::value;
    },
  };
}

} // namespace

log_writer_actor spawn_log_writer(caf::actor_system& sys, storage_ptr store) {
  // Hidden: a member's helpers never keep its actor system from exiting
  // (system_exit_hook.hpp).
  if (detach_helpers(sys)) {
    auto writer = sys.spawn<caf::detached + caf::hidden>(log_writer,
                                                         std::move(store));
    end_with_system(sys, writer.address());
    return writer;
  }
  return sys.spawn<caf::hidden>(log_writer, std::move(store));
}

} // namespace raft
