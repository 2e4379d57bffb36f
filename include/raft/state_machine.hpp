// The application's side of the contract (Vanadium's RaftClient), two ways:
// a C++ interface, or a typed actor that answers the same three requests.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "caf/fwd.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "raft/atoms.hpp"
#include "raft/core/types.hpp"

namespace raft {

/// What applying one command produced. `error` non-empty is Vanadium's
/// applyError: the command is still committed and applied on every member
/// (the state machine must be deterministic), only the proposer learns of it.
struct apply_result {
  /// Bytes returned to the proposer (e.g. the value a `get` read).
  std::string result;
  /// The application's error, if any.
  std::string error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, apply_result& x) {
  return f(caf::meta::type_name("apply_result"), x.result, x.error);
}

/// The application's state machine, as a C++ interface. All calls come from
/// one actor, one at a time, so implementations need no locking.
class state_machine {
public:
  virtual ~state_machine();

  /// Applies a committed command. Commands arrive in log order with their
  /// index, exactly once per member lifetime (after a restart, replay starts
  /// after the restored snapshot).
  virtual apply_result apply(index_t index, const payload& command) = 0;

  /// Answers a read-only query from the current state, without changing it
  /// (linearizable reads through ReadIndex, thesis §6.4). The default says
  /// queries are not supported.
  virtual apply_result query(const payload& query);

  /// Writes a snapshot of everything applied so far to `out`. No apply runs
  /// until it returns. An error discards the snapshot. Writing nothing is
  /// allowed: the application then keeps its own database and uses the
  /// indexes it is given to skip replays.
  virtual caf::error save_snapshot(std::ostream& out) = 0;

  /// Replaces the whole state with the snapshot in `in`, which covers every
  /// command up to `index`. Called on restart and when far behind; applies
  /// of later commands follow.
  virtual caf::error restore_snapshot(index_t index, std::istream& in) = 0;
};

/// The state machine as an actor. Requests arrive in order; a member sends
/// its next batch only after the previous one was answered.
/// - apply: the commands (no no-ops) in log order; one result per command.
/// - query: a read-only query against the current state.
/// - save: write the snapshot into the file at the given path.
/// - restore: rebuild from the snapshot file (index, path).
using state_machine_actor = caf::typed_actor<
  caf::replies_to<apply_atom, entry_vector>::with<std::vector<apply_result>>,
  caf::replies_to<query_atom, payload>::with<apply_result>,
  caf::replies_to<save_atom, std::string>::with<caf::ok_atom>,
  caf::replies_to<restore_atom, index_t, std::string>::with<caf::ok_atom>>;

/// Runs a C++ state machine inside an actor of type state_machine_actor.
state_machine_actor spawn_state_machine(caf::actor_system& sys,
                                        std::shared_ptr<state_machine> sm);

} // namespace raft
