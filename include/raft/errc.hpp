// Raft's own errors, kept apart from the application's apply errors (the
// Vanadium's raftError vs applyError). Registered with CAF as the "raft" error
// category, so caf::error values render as "raft: no_leader (...)".
#pragma once

#include <cstdint>
#include <string>

#include "caf/atom.hpp"
#include "caf/error.hpp"

namespace raft {

enum class errc : uint8_t {
  /// Not an error.
  none = 0,
  /// A request that only the leader serves (a leadership transfer) reached
  /// another member; the context names the leader if known. Appends and
  /// queries never get it: every member forwards them to its leader.
  not_leader,
  /// No leader was known within the request's timeout. Not appended.
  no_leader,
  /// The leader lost its leadership (a higher term appeared), or the member
  /// stopped, after the command was appended: it may or may not be committed
  /// later. Outcome unknown.
  leadership_lost,
  /// The leader lost contact with a majority (check quorum) after appending
  /// the command: outcome unknown.
  no_quorum,
  /// The request timed out after it was sent on: outcome unknown.
  timeout,
  /// The member is stopped (or stopping).
  stopped,
  /// The member has not been started yet.
  not_started,
  /// Start was called twice, or add_member after start.
  already_started,
  /// The configuration is invalid; the context says why.
  invalid_config,
  /// A member id is not valid or not known.
  unknown_member,
  /// Stable storage failed (write, fsync, full disk): the member stops.
  storage_failure,
  /// A stored record failed its checksum or could not be decoded.
  corrupt_record,
  /// The state machine failed to save or restore a snapshot.
  snapshot_failure,
  /// A peer sent a message that makes no sense (e.g. a second leader in a
  /// term); it was refused and logged.
  protocol_violation,
  /// The sender is not in the access list.
  access_denied,
  /// A member could not be reached (connection refused or timed out, or
  /// nothing published at its address). Nothing was sent.
  unreachable,
  /// The leader is handing over its leadership (thesis §3.10): it accepts no
  /// new appends until the transfer completes or times out. Not appended;
  /// retry with the new leader.
  transfer_in_progress,
  /// The state machine failed: it answered an apply batch with an error or
  /// with fewer results than commands. The context carries its message. The
  /// member stops (its state machine's state is unknown); commands it owed
  /// an answer for may be committed: outcome unknown.
  state_machine_failure,
  /// The command is larger than config::max_entry_size. Nothing was written.
  entry_too_large,
  /// A configuration change was refused because another one is not yet
  /// committed, or because the leader has not yet committed an entry of its
  /// own term (thesis §4.1, the fix for the single-server change bug). Nothing
  /// changed; retry later.
  change_in_progress,
  /// A learner cannot be promoted yet: it is more than one round of entries
  /// behind the leader (thesis §4.2.1). Nothing changed; retry later.
  not_caught_up,
  /// This member is not in the cluster's configuration: it was removed, or
  /// it waits to be added (config::join).
  not_member,
  /// The leader holds config::max_uncommitted_bytes of commands that are not
  /// yet committed (a slow majority or disk): back-pressure. Not appended;
  /// retry later (after a pause), not at once.
  overloaded,
};

/// Name of the CAF error category for errc.
constexpr caf::atom_value errc_category = caf::atom("raft");

std::string to_string(errc x);

caf::error make_error(errc x);

caf::error make_error(errc x, std::string context);

/// True for errors after which the command may still be applied (the caller
/// cannot know): timeouts and lost leadership.
bool outcome_unknown(const caf::error& err);

} // namespace raft
