// What the actors of remote members and clients share: batched appends
// (what a client_request frame carries, as CAF messages), and the actors
// that bridge the wire (wire_engine.hpp) to CAF: the link (a dialed
// session, one per peer of a member's transport; clients own their sessions
// directly) and the bridge (a listener's client operations, answered by the
// member). Private to the actors layer.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/atom.hpp"
#include "caf/error.hpp"
#include "caf/fwd.hpp"
#include "caf/meta/type_name.hpp"
#include "caf/timespan.hpp"

#include "raft/member.hpp"

#include "peer_channel.hpp"
#include "remote_auth.hpp"
#include "wire_engine.hpp"

namespace raft::remote {

// -- atoms ------------------------------------------------------------------------

/// Link to its owner: the session is established.
using ready_atom = caf::atom_constant<caf::atom("ready")>;
/// Transport timer: try a peer again.
using retry_atom = caf::atom_constant<caf::atom("retry")>;

// -- batched appends ---------------------------------------------------------------

using payload_vector = std::vector<payload>;

/// One append of a batch: the reply, or the error (raft/member.hpp).
using append_outcome = command_outcome;

using outcome_vector = std::vector<append_outcome>;

/// Registers the types above (configure_remote calls it).
void add_remote_message_types(caf::actor_system_config& cfg);

// -- the actors -----------------------------------------------------------------------

/// Spawns a link: it dials `target` through `eng` as `kind`, tells `owner`
/// `(ready_atom, target)` once the session stands, and then carries what
/// local actors send it: Raft RPCs (one way, dropped while not connected),
/// and (append_atom | query_atom, payload | payload_vector) and status_atom
/// requests, answered from the other side's replies (errc::timeout after
/// `request_timeout`, or when the connection is lost with the request in
/// flight: outcome unknown). It quits when the connection fails or is lost,
/// with errc::access_denied when the other side refused us (retrying will
/// not help) and errc::unreachable otherwise; and when `owner` goes down.
///
/// With `with_channel` (a member's transport), the owner hears
/// `(ready_atom, target, peer_channel_ptr)` instead: the session's channel,
/// through which the member sends its Raft RPCs without the link's hop.
caf::actor spawn_link(caf::actor_system& sys, caf::actor owner,
                      wire::engine_ptr eng, member_id target,
                      wire::peer_kind kind, caf::timespan request_timeout,
                      bool with_channel = false);

/// A channel over the dialed session `conn` (wire_peer_channel.cpp): each
/// Raft RPC encoded once, by the caller, and queued on the io thread.
peer_channel_ptr make_peer_channel(wire::dial_handle_ptr conn);

/// Spawns the bridge of a listener: it answers the client operations
/// (wire_req_atom) of sessions by asking `member`, and hands the encoded
/// replies to `eng`. It quits when the member does.
caf::actor spawn_bridge(caf::actor_system& sys, caf::actor member,
                        wire::engine_ptr eng);

/// Logs one line to stderr: "[raft <who>] <what>".
void log_line(const std::string& who, const std::string& what);

} // namespace raft::remote
