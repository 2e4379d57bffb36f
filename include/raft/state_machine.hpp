// The application's side of the contract (Vanadium's RaftClient), two ways:
// a C++ interface, or a typed actor that answers the same three requests.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "caf/expected.hpp"
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

/// The second phase of a two-phase save (state_machine::begin_snapshot):
/// writes the consistent view taken in the first phase into `out`. It runs
/// on another thread while commands are applied, so it must touch only that
/// view, never the live state. An error (or a failed stream) discards the
/// snapshot; writing nothing is an empty snapshot.
using snapshot_writer = std::function<caf::error(std::ostream& out)>;

/// The application's state machine, as a C++ interface. Calls come one at a time, so implementations need no locking:
/// apply and query on the member's thread, saves and restores on its adapter's while the member applies and queries nothing.
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

  /// Two-phase save (Vanadium's SaveToSnapshot: "Until SaveToSnapshot
  /// returns, no commands will be Apply()ed. Closing the response channel
  /// signals that the snapshot is finished"): takes a consistent view of
  /// everything applied so far, cheaply, and returns the writer that writes
  /// it later, off the apply path. Applies resume as soon as this returns;
  /// the snapshot is published (and the log compacted) only once the writer
  /// finished without error. An error here discards the snapshot.
  /// The default returns no writer (an empty function): the member then
  /// calls save_snapshot, with applies stopped until it returns.
  virtual caf::expected<snapshot_writer> begin_snapshot();

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

/// A state machine actor that also saves in two phases (Vanadium's
/// SaveToSnapshot), so that applies need not wait while a snapshot is
/// written. The member uses only these for saving:
/// - (save, begin, path): take a consistent view of everything applied so
///   far and start writing it into the file at `path`; answer once the view
///   exists. The member sends the next apply only after this answer, and
///   applies go on while the file is written.
/// - (save, done, path): answer once the writing begun for `path` finished:
///   ok_atom if the file is complete, an error otherwise. The member
///   publishes the snapshot (and compacts its log) only after ok; an error
///   discards it. The member sends it only after (save, begin, path) was
///   answered with ok, and begins no other save before this is answered.
/// The one-phase (save, path) stays part of the interface for members and
/// tools that use it.
using two_phase_state_machine_actor = state_machine_actor::extend<
  caf::replies_to<save_atom, begin_atom, std::string>::with<caf::ok_atom>,
  caf::replies_to<save_atom, done_atom, std::string>::with<caf::ok_atom>>;

/// Runs a C++ state machine inside an actor. It saves in two phases when
/// `sm->begin_snapshot()` returns a writer (the writer runs on an actor of
/// its own), and in one phase otherwise.
two_phase_state_machine_actor
spawn_state_machine(caf::actor_system& sys, std::shared_ptr<state_machine> sm);

} // namespace raft
