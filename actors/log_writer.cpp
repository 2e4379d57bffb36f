#include "log_writer.hpp"

#include "caf/actor_system.hpp"
#include "caf/scheduler/abstract_coordinator.hpp"
#include "caf/typed_event_based_actor.hpp"

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
  if (sys.scheduler().detaches_utility_actors())
    return sys.spawn<caf::detached>(log_writer, std::move(store));
  return sys.spawn(log_writer, std::move(store));
}

} // namespace raft
