// The sockets of the wire (docs/wire.md): Boost.Asio on one io thread per
// process, plain TCP or mutual TLS (OpenSSL through boost/asio/ssl). Frames
// are decoded on the io thread; what they carry reaches actors as plain CAF
// messages, and actors hand encoded frames back to the io thread.
//
//   member ──► link actor ──frame──► io thread ══ TCP/TLS ══► io thread
//     │          ▲  (wire_reply)                                │ session:
//     │          └───────────── io thread ◄══ replies ══ bridge ◄┤ auth, limits
//     └─Raft RPCs: frame (peer_channel)─► io thread    member ◄──┘ (Raft RPCs)
//
// (A member's own Raft RPCs skip its link actor: it encodes them and posts
// the frames to the session itself, through the channel the transport gave
// it: actors/peer_channel.hpp. The link carries forwarded client requests.)
//
// A listener (one per member) authenticates every session before it decodes
// anything but the hello, binds the session's identity (TLS certificate, or
// the plain-mode claim) and checks every Raft RPC's sender against it. A
// dialed connection (a link) belongs to one actor, which it tells when the
// session stands, when replies arrive, and when it is gone.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "caf/actor.hpp"
#include "caf/atom.hpp"
#include "caf/expected.hpp"
#include "caf/timespan.hpp"

#include "raft/remote.hpp"
#include "raft/wire/limits.hpp"
#include "raft/wire/messages.hpp"

namespace raft::wire {

// -- atoms between the io thread and actors ----------------------------------------

/// io -> owner: (wire_up_atom, tag) the session is established.
using wire_up_atom = caf::atom_constant<caf::atom("wireup")>;
/// io -> owner: (wire_down_atom, tag, std::string why, bool refused) the
/// connection failed or was lost; `refused`: the other side (or its TLS
/// certificate) refused us, trying again will not help.
using wire_down_atom = caf::atom_constant<caf::atom("wiredown")>;
/// io -> link: (wire_reply_atom, id, outcome_vector | member_status |
/// caf::error) the reply to a client_request.
using wire_reply_atom = caf::atom_constant<caf::atom("wirereply")>;
/// listener -> bridge: (wire_req_atom, session, id, op, payload_vector).
using wire_req_atom = caf::atom_constant<caf::atom("wirereq")>;
/// listener -> bridge: (wire_member_atom, session, id, op, member, promote,
/// cluster_configuration) a membership_request, already authorized.
using wire_member_atom = caf::atom_constant<caf::atom("wiremember")>;
/// link timer: check the deadlines of the requests in flight.
using wire_timeout_atom = caf::atom_constant<caf::atom("wiretmo")>;

// -- the process's io thread and its TLS setup -----------------------------------------

class engine;
using engine_ptr = std::shared_ptr<engine>;

/// Who may do what at a listener.
struct listener_policy {
  /// This member's id: the hello's target must be it.
  member_id self_id;
  /// The configured members: only they may open member sessions.
  std::set<std::string> members;
  /// Identities allowed to send client operations besides the members;
  /// empty: any authenticated identity.
  std::set<std::string> clients;
  /// Receives the Raft RPCs (their sender checked).
  caf::actor member;
  /// Receives (wire_req_atom, ...) for the client operations.
  caf::actor bridge;
  /// Identities allowed to change the cluster (membership_request other
  /// than reading it; docs/wire.md); empty: whoever may send client
  /// operations.
  std::set<std::string> admins;
};

/// One dialed connection, owned by an actor (its link).
class dial_handle {
public:
  virtual ~dial_handle();
  /// Queues an encoded frame (thread-safe); dropped if not established.
  virtual void send(std::string frame) = 0;
  /// Closes the connection; the owner hears nothing more (thread-safe).
  virtual void close() = 0;
};

using dial_handle_ptr = std::shared_ptr<dial_handle>;

/// The wire of one identity in this process: TLS context (if any),
/// listener, dialed connections, on the process's io thread.
class engine {
public:
  /// Loads the TLS files (if `tls` is enabled). `identity`: who we are
  /// (member id, or a client's claimed/certified identity). `log_who`:
  /// the name in log lines.
  static caf::expected<engine_ptr> make(std::string identity,
                                        const tls_options& tls,
                                        limits lim = {});

  virtual ~engine();

  /// Listens on host:port (SO_REUSEADDR); returns the port.
  virtual caf::expected<uint16_t> listen(const std::string& host,
                                         uint16_t port,
                                         listener_policy policy) = 0;

  /// Sends an encoded frame to a listener's session (thread-safe; dropped
  /// if the session is gone).
  virtual void reply(uint64_t session, std::string frame) = 0;

  /// Dials `target` (a member id) as `kind`; `owner` gets wire_up_atom,
  /// wire_reply_atom and at most one wire_down_atom, the first two with
  /// `tag` (an owner of several connections tells them apart by it).
  virtual dial_handle_ptr dial(const member_id& target, peer_kind kind,
                               caf::actor owner, uint64_t tag = 0) = 0;

  /// Closes the listener and every session (thread-safe, waits).
  virtual void shutdown() = 0;

  /// Lets the listener accept member sessions from `id` (thread-safe): a
  /// member added to the configuration while the member runs (the
  /// transport calls it when its member asks to reach `id`).
  virtual void allow_member(const member_id& id) = 0;

  virtual const limits& get_limits() const = 0;
};

} // namespace raft::wire
