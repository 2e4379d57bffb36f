// Runs a C++ state_machine inside an actor, so members treat both kinds of
// application alike: one apply batch per message, answered in order.

#include <fstream>

#include "caf/actor_system.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "raft/errc.hpp"
#include "raft/state_machine.hpp"

namespace raft {

state_machine::~state_machine() {
  // nop
}

apply_result state_machine::query(const payload&) {
  return apply_result{{}, "queries are not supported by this state machine"};
}

namespace {

state_machine_actor::behavior_type
adapter(state_machine_actor::pointer self, std::shared_ptr<state_machine> sm) {
  return {
    [=](apply_atom, const entry_vector& commands) {
      std::vector<apply_result> results;
      results.reserve(commands.size());
      for (auto& e : commands) {
        try {
          results.push_back(sm->apply(e.index, e.data));
        } catch (std::exception& ex) {
          // An exception is the application's error, not Raft's.
          results.push_back(apply_result{{}, ex.what()});
        }
      }
      return results;
    },
    [=](query_atom, const payload& q) {
      try {
        return sm->query(q);
      } catch (std::exception& ex) {
        return apply_result{{}, ex.what()};
      }
    },
    [=](save_atom, const std::string& path) -> caf::result<caf::ok_atom> {
      std::ofstream out{path, std::ios::binary | std::ios::trunc};
      if (!out)
        return make_error(errc::snapshot_failure, "cannot open " + path);
      if (auto err = sm->save_snapshot(out))
        return err;
      out.flush();
      if (!out)
        return make_error(errc::snapshot_failure, "cannot write " + path);
      return caf::ok_atom::value;
    },
    [=](restore_atom, index_t index,
        const std::string& path) -> caf::result<caf::ok_atom> {
      std::ifstream in{path, std::ios::binary};
      if (!in)
        return make_error(errc::snapshot_failure, "cannot open " + path);
      if (auto err = sm->restore_snapshot(index, in))
        return err;
      return caf::ok_atom::value;
    },
  };
}

} // namespace

state_machine_actor spawn_state_machine(caf::actor_system& sys,
                                        std::shared_ptr<state_machine> sm) {
  // Hidden: it lives as long as its member, which never keeps the actor
  // system from exiting (system_exit_hook.hpp).
  return sys.spawn<caf::hidden>(adapter, std::move(sm));
}

} // namespace raft
