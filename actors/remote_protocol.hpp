// What travels between processes besides Raft's own messages: the gate
// handshake, the session envelope, batched appends; and the actors that
// speak it (gate, link, dialer), which raft/remote.hpp and raft/client.hpp
// assemble. Private to the actors layer.
//
// Handshake (client = whoever dials: a member's link or a client):
//
//   client                                      gate
//     │ (hello_atom, auth_hello{client_nonce})    │
//     │ ─────────────────────────────────────────►│
//     │    auth_challenge{gate_nonce, gate id,     │  gate signs
//     │    certificate, signature("gate", ...)}    │  transcript
//     │ ◄─────────────────────────────────────────│
//     │ (hello_atom, auth_proof{gate_nonce, id,    │  client signs;
//     │    certificate, signature("client", ...)}) │  gate checks CA,
//     │ ─────────────────────────────────────────►│  name, signature,
//     │    session_token (16 random bytes)         │  access list
//     │ ◄─────────────────────────────────────────│
//
//   then (relay_atom, token, caf::message)        one-way Raft messages
//        (relay_atom, token, append_atom, payload) -> append_reply
//        (relay_atom, token, append_atom, payload_vector) -> outcome_vector
//        (relay_atom, token, status_atom) -> member_status
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

#include "remote_auth.hpp"

namespace raft::remote {

// -- atoms ------------------------------------------------------------------------

/// The handshake with a gate.
using hello_atom = caf::atom_constant<caf::atom("hello")>;
/// A message inside an authenticated session.
using relay_atom = caf::atom_constant<caf::atom("relay")>;
/// Dialer to transport/client: a connection attempt's outcome.
using dialed_atom = caf::atom_constant<caf::atom("dialed")>;
/// Link to its owner: the session is established.
using ready_atom = caf::atom_constant<caf::atom("ready")>;
/// Transport timer: try a peer again.
using retry_atom = caf::atom_constant<caf::atom("retry")>;
/// Gate to its transport: a member authenticated over a connection it
/// opened, and this is its gate (reach it over the same connection).
using inbound_atom = caf::atom_constant<caf::atom("inbound")>;

// -- handshake messages -------------------------------------------------------

struct auth_hello {
  std::string client_nonce;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, auth_hello& x) {
  return f(caf::meta::type_name("raft::auth_hello"), x.client_nonce);
}

struct auth_challenge {
  std::string gate_nonce;
  /// The gate's member id.
  std::string identity;
  std::string certificate;
  std::string signature;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, auth_challenge& x) {
  return f(caf::meta::type_name("raft::auth_challenge"), x.gate_nonce,
           x.identity, x.certificate, x.signature);
}

struct auth_proof {
  std::string gate_nonce;
  std::string identity;
  std::string certificate;
  std::string signature;
  /// A member's own gate, so the gate's side can open its session back over
  /// this same connection (invalid for clients).
  caf::actor gate;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, auth_proof& x) {
  return f(caf::meta::type_name("raft::auth_proof"), x.gate_nonce, x.identity,
           x.certificate, x.signature, x.gate);
}

/// What the gate answers a valid proof with.
struct session_token {
  std::string bytes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_token& x) {
  return f(caf::meta::type_name("raft::session_token"), x.bytes);
}

// -- batched appends ---------------------------------------------------------------

using payload_vector = std::vector<payload>;

/// One append of a batch: the reply, or the error (then `reply` is empty).
struct append_outcome {
  append_reply reply;
  caf::error error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, append_outcome& x) {
  return f(caf::meta::type_name("raft::append_outcome"), x.reply, x.error);
}

using outcome_vector = std::vector<append_outcome>;

/// Registers the types above (configure_remote calls it).
void add_remote_message_types(caf::actor_system_config& cfg);

// -- the actors -----------------------------------------------------------------------

/// Who may do what at a gate.
struct access_policy {
  /// The cluster's members: they alone may send Raft RPCs.
  std::set<std::string> members;
  /// Identities allowed to append, query and read status besides the
  /// members; empty: any authenticated identity.
  std::set<std::string> clients;
};

/// Spawns the gate of `member` (published in its place). It quits when the
/// member does. It tells `transport` `(inbound_atom, id, gate)` when a member
/// authenticated and named its own gate.
caf::actor spawn_gate(caf::actor_system& sys, caf::actor member,
                      caf::actor transport, member_id self_id,
                      credentials_ptr creds, access_policy policy);

/// Spawns a link: it runs the handshake with `gate` (whose identity must be
/// `gate_id`), tells `owner` `(ready_atom, gate_id)` once the session stands,
/// and then forwards what local actors send it through the session. It quits
/// (with the reason) when the handshake fails or the connection is lost.
/// Requests it forwards time out after `request_timeout`.
/// `own_gate` (members only) travels in the proof: see inbound_atom.
caf::actor spawn_link(caf::actor_system& sys, caf::actor owner,
                      member_id gate_id, caf::actor gate,
                      credentials_ptr creds, caf::actor own_gate,
                      caf::timespan handshake_timeout,
                      caf::timespan request_timeout);

/// Spawns a one-shot dialer (on its own thread): probes `id` (see
/// remote_dialer.cpp), then asks the middleman (or caf::openssl's, when
/// `tls` is enabled) to connect, and answers `owner` with
/// `(dialed_atom, id, attempt, caf::actor gate)`, or
/// `(dialed_atom, id, attempt, caf::error)`. Never blocks `owner`.
void spawn_dialer(caf::actor_system& sys, caf::actor owner, member_id id,
                  uint64_t attempt, tls_options tls,
                  caf::timespan probe_timeout, caf::timespan connect_timeout);

/// Whether the workarounds for caf::openssl 0.17.6 in
/// remote_openssl_fix.cpp are in effect in this process.
bool openssl_workarounds_active();

/// Logs one line to stderr: "[raft <who>] <what>".
void log_line(const std::string& who, const std::string& what);

} // namespace raft::remote
