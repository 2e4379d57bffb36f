// Atoms name commands and timers (CAF 0.17: at most 10 characters).
#pragma once

#include "caf/atom.hpp"

namespace raft {

/// Client request: append a command to the replicated log.
using append_atom = caf::atom_constant<caf::atom("append")>;
/// Client request: the member's status.
using status_atom = caf::atom_constant<caf::atom("status")>;
/// Client request: start taking part in the cluster.
using start_atom = caf::atom_constant<caf::atom("start")>;
/// Client request: stop for good.
using stop_atom = caf::atom_constant<caf::atom("stop")>;
/// Client request (StartElection), and the election timer.
using election_atom = caf::atom_constant<caf::atom("election")>;
/// The leader's heartbeat timer.
using heartbeat_atom = caf::atom_constant<caf::atom("heartbeat")>;
/// A pending request's deadline.
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;
/// Member to log writer: persist a batch.
using write_atom = caf::atom_constant<caf::atom("write")>;
/// Member to state machine: apply a batch of commands.
using apply_atom = caf::atom_constant<caf::atom("apply")>;
/// Client request and member to state machine: a read-only query.
using query_atom = caf::atom_constant<caf::atom("query")>;
/// Member to state machine: save a snapshot.
using save_atom = caf::atom_constant<caf::atom("save")>;
/// Member to snapshot actor: a chunk of the newest snapshot.
using chunk_atom = caf::atom_constant<caf::atom("chunk")>;
/// Member to state machine: restore from a snapshot.
using restore_atom = caf::atom_constant<caf::atom("restore")>;
/// Transport to member: the handle that now reaches a peer (or none).
using peer_atom = caf::atom_constant<caf::atom("peer")>;
/// Member to itself: send what accumulated while handling the mailbox.
using flush_atom = caf::atom_constant<caf::atom("flushout")>;
/// Client request: hand leadership to a member (thesis §3.10); also the
/// transfer's timer.
using transfer_atom = caf::atom_constant<caf::atom("transfer")>;

/// Client request: the configuration in force (thesis §4.1).
using members_atom = caf::atom_constant<caf::atom("members")>;
/// Client request: add a learner (thesis §4.2.1).
using learner_atom = caf::atom_constant<caf::atom("learner")>;
/// Client request: make a caught-up learner a voter.
using promote_atom = caf::atom_constant<caf::atom("promote")>;
/// Client request: take a member out of the configuration.
using remove_atom = caf::atom_constant<caf::atom("remove")>;
/// Client request: change to a given configuration (joint consensus).
using reconfig_atom = caf::atom_constant<caf::atom("reconfig")>;

/// Two-phase snapshot save: take a consistent view, writing follows.
using begin_atom = caf::atom_constant<caf::atom("begin")>;
/// Two-phase snapshot save: the writing finished (or failed).
using done_atom = caf::atom_constant<caf::atom("done")>;

} // namespace raft
