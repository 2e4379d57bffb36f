// The public face of a Raft member: a typed actor handle, its requests and
// replies, and the functions that spawn one.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/error.hpp"
#include "caf/expected.hpp"
#include "caf/fwd.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "raft/atoms.hpp"
#include "raft/config.hpp"
#include "raft/core/configuration.hpp"
#include "raft/messages.hpp"
#include "raft/metrics.hpp"
#include "raft/state_machine.hpp"
#include "raft/storage/storage.hpp"

namespace raft {

/// The reply to a successful append: the command is committed and the member
/// that received the request has applied it.
struct append_reply {
  /// Where the command sits in the log (the index passed to apply).
  index_t index = 0;
  /// What apply returned.
  std::string result;
  /// The application's error from apply (Vanadium's applyError); empty if
  /// none. Raft's own failures are caf::error replies instead.
  std::string apply_error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, append_reply& x) {
  return f(caf::meta::type_name("append_reply"), x.index, x.result,
           x.apply_error);
}

/// One command's outcome in a batch request (member_actor's
/// `(append_atom, std::vector<payload>)`): the reply, or the error (then
/// `reply` is empty). Each means what the single request's answer would.
struct command_outcome {
  append_reply reply;
  caf::error error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, command_outcome& x) {
  return f(caf::meta::type_name("raft::command_outcome"), x.reply, x.error);
}

/// A member's view of itself (Vanadium's Status, and more).
/// What a member did since it started: the figures behind batching.
struct member_counters {
  /// Writes to the log (each one fdatasync on a durable log).
  uint64_t log_writes = 0;
  /// Entries those writes held.
  uint64_t entries_written = 0;
  /// Raft messages sent to peers: AppendEntries (heartbeats too), their
  /// acknowledgements, votes and snapshot chunks.
  uint64_t messages_sent = 0;
  /// Entries carried by the AppendEntries this member sent.
  uint64_t entries_sent = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, member_counters& x) {
  return f(caf::meta::type_name("member_counters"), x.log_writes,
           x.entries_written, x.messages_sent, x.entries_sent);
}

struct member_status {
  member_id id;
  raft::role role = role::idle;
  term_t term = 0;
  /// The leader this member knows of, or empty.
  member_id leader;
  index_t commit_index = 0;
  index_t last_applied = 0;
  index_t last_log_index = 0;
  /// Every voting member, this one included (both configurations' voters
  /// while joint).
  std::vector<member_id> members;
  member_counters counters;
  /// The configuration in force here: voters, learners, and C_old's voters
  /// while joint (thesis §4.3).
  cluster_configuration configuration;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, member_status& x) {
  return f(caf::meta::type_name("member_status"), x.id, x.role, x.term,
           x.leader, x.commit_index, x.last_applied, x.last_log_index,
           x.members, x.counters, x.configuration);
}

/// The handle an application holds.
/// - add:      (add_atom, id, handle) adds a member before start (Vanadium:
///             AddMember); the handle reaches it (local actor or proxy) and
///             must accept `peer_actor`'s messages (it is stored as one).
///             (add_atom, id) adds a member the member's transport reaches
///             by its `host:port` id (remote members).
/// - start:    joins the cluster as a follower (Vanadium: Start).
/// - stop:     stops for good (Vanadium: Stop).
/// - append:   appends a command; the reply comes once a quorum has logged
///             it and this member has applied it (Vanadium: Append). Any member
///             accepts it and forwards it to the leader.
/// - query:    a linearizable read-only query, answered by the leader's
///             state machine after it confirmed its leadership with a
///             majority (ReadIndex, thesis §6.4); never written to the log.
///             `index` in the reply is the read index.
/// - append / query of a batch: (append_atom | query_atom,
///             std::vector<payload>) answers every command at once, with one
///             command_outcome each, in order, once the last is answered;
///             each outcome is what the single request would have answered
///             (a too-large command fails alone; outcome_unknown() as
///             there). Before start and after stop the whole request fails
///             (not_started, stopped). One message for a client's batch
///             (the wire's bridge); a follower forwards each command.
/// - status:   id, role, term, leader, ... (Vanadium: Status).
/// - election: starts an election now (Vanadium: StartElection); like a
///             leadership transfer's, it skips PreVote and leader stickiness.
/// - transfer: (transfer_atom, id): the leader hands its leadership to
///             member `id` (thesis §3.10); ok once `id` leads. Errors:
///             not_leader, unknown_member, transfer_in_progress, timeout
///             (not done within an election timeout).
/// After start, (add_atom, id, handle) replaces the handle of a known member
/// (never adds one): e.g. a member restarted in-process (a restarted member
/// also tells the members it was given handles for by itself, at start).
/// - metrics:  counters, gauges and histograms (raft/metrics.hpp).
/// Membership (thesis chapter 4, docs/membership.md). Each change goes to the
/// leader (errc::not_leader elsewhere, naming the leader) and replies with
/// the configuration once the change has committed (for a change of voters:
/// once the joint configuration was left, thesis §4.3):
/// - members:  (members_atom): the configuration in force on this member.
/// - learner:  (learner_atom, id, promote): adds `id` as a learner (thesis
///             §4.2.1); with `promote`, makes it a voter once it caught up
///             and replies after that.
/// - promote:  (promote_atom, id): a learner becomes a voter; not_caught_up
///             while it lags by more than one round of entries.
/// - remove:   (remove_atom, id): takes a voter or learner out. A leader that
///             removes itself steps down once the change commits.
/// - reconfig: (reconfig_atom, target): changes to `target` (voters and
///             learners; old_voters empty) in one joint change, e.g. to
///             replace a member.
/// Errors: change_in_progress (another change is uncommitted, or the leader
/// has not committed an entry of its term yet), not_caught_up,
/// unknown_member, invalid_config, not_leader, leadership_lost.
using member_actor = caf::typed_actor<
  caf::replies_to<caf::add_atom, member_id, caf::actor>::with<caf::ok_atom>,
  caf::replies_to<caf::add_atom, member_id>::with<caf::ok_atom>,
  caf::replies_to<start_atom>::with<caf::ok_atom>,
  caf::replies_to<stop_atom>::with<caf::ok_atom>,
  caf::replies_to<append_atom, payload>::with<append_reply>,
  caf::replies_to<query_atom, payload>::with<append_reply>,
  caf::replies_to<append_atom, std::vector<payload>>::with<
    std::vector<command_outcome>>,
  caf::replies_to<query_atom, std::vector<payload>>::with<
    std::vector<command_outcome>>,
  caf::replies_to<status_atom>::with<member_status>,
  caf::replies_to<election_atom>::with<caf::ok_atom>,
  caf::replies_to<metrics_atom>::with<member_metrics>,
  caf::replies_to<transfer_atom, member_id>::with<caf::ok_atom>,
  caf::replies_to<members_atom>::with<cluster_configuration>,
  caf::replies_to<learner_atom, member_id, bool>::with<cluster_configuration>,
  caf::replies_to<promote_atom, member_id>::with<cluster_configuration>,
  caf::replies_to<remove_atom, member_id>::with<cluster_configuration>,
  caf::replies_to<reconfig_atom,
                  cluster_configuration>::with<cluster_configuration>>;

/// What a member sends another member, and so what a handle that reaches a
/// peer (the member itself, a test's relay, or the link of a transport)
/// must accept: the RPCs of Figure 2 (AppendEntries, RequestVote) and
/// Figure 13 (InstallSnapshot), one-way with their responses sent back the
/// same way, and a client's append or query that a follower forwards to
/// its leader (answered like member_actor's).
using peer_actor = caf::typed_actor<
  caf::reacts_to<append_entries_request>,
  caf::reacts_to<append_entries_response>,
  caf::reacts_to<request_vote_request>,
  caf::reacts_to<request_vote_response>,
  caf::reacts_to<install_snapshot_request>,
  caf::reacts_to<install_snapshot_response>,
  caf::reacts_to<timeout_now_request>,
  caf::replies_to<append_atom, payload>::with<append_reply>,
  caf::replies_to<query_atom, payload>::with<append_reply>>;

/// A member's transport (raft/remote.hpp builds one): asked
/// `(connect_atom, id)` for each member added by `host:port` alone, it
/// answers the member with `(peer_atom, id, handle)` (member_peer_actor)
/// whenever the handle that reaches that peer changes, an invalid handle
/// while the peer is unreachable.
using transport_actor =
  caf::typed_actor<caf::reacts_to<caf::connect_atom, member_id>>;

/// The member as its peers and its transport see it: the Raft RPCs and the
/// transport's reports.
using member_peer_actor = peer_actor::extend<
  caf::reacts_to<peer_atom, member_id, peer_actor>>;

/// Spawns a member that applies commands through the actor `sm`.
/// `store` defaults to a file_storage in `cfg.log_dir`, or to memory_storage
/// when log_dir is empty. `transport`, if given, resolves members added by
/// id alone (see transport_actor). Fails on an invalid config or when the
/// stored state cannot be loaded.
caf::expected<member_actor> spawn_member(caf::actor_system& sys, config cfg,
                                         state_machine_actor sm,
                                         storage_ptr store = nullptr,
                                         transport_actor transport = {});

/// Spawns a member that applies commands through the C++ interface `sm`.
caf::expected<member_actor> spawn_member(caf::actor_system& sys, config cfg,
                                         std::shared_ptr<state_machine> sm,
                                         storage_ptr store = nullptr,
                                         transport_actor transport = {});

/// Spawns a member that applies commands through the actor `sm`, which
/// saves snapshots in two phases (applies go on while a snapshot is written).
caf::expected<member_actor> spawn_member(caf::actor_system& sys, config cfg,
                                         two_phase_state_machine_actor sm,
                                         storage_ptr store = nullptr,
                                         transport_actor transport = {});

/// Registers caf-raft's message types and its error category. Call it on the
/// actor_system_config of every process that runs members or talks to them.
void add_message_types(caf::actor_system_config& cfg);

} // namespace raft
