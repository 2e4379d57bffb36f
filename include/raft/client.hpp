// A client of a cluster of members in other processes (raft/remote.hpp): it
// connects to any member, finds the leader, and coalesces concurrent
// requests into one message per round trip.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "caf/expected.hpp"
#include "caf/fwd.hpp"
#include "caf/replies_to.hpp"
#include "caf/timespan.hpp"
#include "caf/typed_actor.hpp"

#include "raft/member.hpp"
#include "raft/remote.hpp"

namespace raft {

struct client_options {
  /// The members' `host:port` ids (any of them will do; all is better).
  std::vector<member_id> cluster;
  /// TLS and identity; must match what configure_remote was given.
  tls_options tls;
  /// The identity claimed without TLS (with TLS: the certificate's CN).
  std::string identity = "client";
  /// Every request is answered within this time (roughly): with its reply,
  /// or with an error saying whether it may have been applied.
  caf::timespan timeout = std::chrono::seconds(5);
  /// Coalescing: at most this many requests per message (and within one
  /// frame, `limits.max_payload`), and at most `window` messages in flight
  /// to a member; requests that arrive meanwhile wait and travel together
  /// in the next message.
  ///
  /// Why 64: a request held here waits for a message in flight to return,
  /// a whole round (docs/benchmarks.md, "The client's window": at 64
  /// concurrent callers, window 4 held requests 2.0 ms of a 4.3 ms p50,
  /// 64 cut that to 0.8 ms, 1.37 x the throughput at no more CPU per put).
  /// Coalescing does not need the client: the member's log writer and
  /// replication batch whatever arrived while the last write and round were
  /// out. A single caller has one request out whatever the window.
  ///
  /// What bounds memory: at most window x max_batch requests in flight per
  /// member; the queue here holds what the callers asked and not yet got
  /// answered (each caller waits for its answer: closed loop, or its own
  /// bound); the leader answers `overloaded` beyond its
  /// `max_uncommitted_bytes` (raft/config.hpp).
  size_t max_batch = 256;
  size_t window = 64;
  /// The wire's limits and timeouts (docs/wire.md, "Limits").
  wire::limits limits;
};

/// The client's handle. Replies and errors mean what they mean for a
/// member (raft/member.hpp), and:
/// - append: retried at another member (the leader, once known)
///   only while the command is certainly not applied (never sent, refused
///   before appending: no_leader, not_started); once sent and
///   then lost (connection lost, timeout, leadership lost) the error says
///   so: `outcome_unknown(err)` is true.
/// - query: a linearizable read (ReadIndex at the leader); any failure
///   changed nothing.
/// - status: the named member's status.
/// - membership (member_actor's messages, docs/membership.md): `members`
///   reads the configuration at the leader; `learner`, `promote`,
///   `remove`, `reconfig` and `transfer` change the cluster. They go to
///   the leader (redirected by not_leader, like an append) and are retried
///   until the timeout while they certainly changed nothing
///   (change_in_progress, not_caught_up, no_leader, ...): the last error
///   comes back then. A change sent and then lost (timeout, connection
///   lost) is not retried: `client_outcome_unknown(err)` says so; read the
///   configuration to learn what happened. Members may require an admin
///   identity (remote_options::admins): access_denied otherwise.
using client_actor = caf::typed_actor<
  caf::replies_to<append_atom, payload>::with<append_reply>,
  caf::replies_to<query_atom, payload>::with<append_reply>,
  caf::replies_to<status_atom, member_id>::with<member_status>,
  caf::replies_to<members_atom>::with<cluster_configuration>,
  caf::replies_to<learner_atom, member_id, bool>::with<cluster_configuration>,
  caf::replies_to<promote_atom, member_id>::with<cluster_configuration>,
  caf::replies_to<remove_atom, member_id>::with<cluster_configuration>,
  caf::replies_to<reconfig_atom,
                  cluster_configuration>::with<cluster_configuration>,
  caf::replies_to<transfer_atom, member_id>::with<caf::ok_atom>>;

/// Spawns a client in a system prepared with configure_remote(). It quits
/// when sent an exit message (or when its system shuts down).
caf::expected<client_actor> spawn_client(caf::actor_system& sys,
                                         client_options opts);

/// True if a client's error means the request may have been applied.
/// (Like outcome_unknown(), and a member that stopped with a request it had
/// already appended also counts as unknown.)
bool client_outcome_unknown(const caf::error& err);

} // namespace raft
