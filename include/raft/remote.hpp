// Members in separate processes: each member publishes a *gate* actor on its
// `host:port` id (CAF's io middleman, optionally TLS through caf::openssl),
// and a *transport* connects it to the other members' gates.
//
//   process A                                   process B
//   member ──► link(B) ──── BASP / TLS ────► gate(B) ──► member
//     ▲  (connect_atom, id)                    │ session check, access list
//     └── transport ◄──(peer_atom, id, link)   │ (errc::access_denied)
//
// Nothing reaches a member from another process except through its gate, and
// the gate accepts a message only inside an authenticated session:
//
// - The dialer opens the connection asynchronously (the middleman actor's
//   connect request, after a short TCP probe so a silent host never stalls
//   the middleman), then a link actor runs a mutual challenge-response with
//   the gate: each side signs the other's fresh nonce, the two ids and its
//   own nonce with the private key of a certificate issued by the cluster CA
//   whose subject CN (or a SAN DNS name) is its identity. A member's identity
//   is its `host:port` id; a client's is whatever its certificate names.
// - The gate then hands the link a random 128-bit session token, valid only
//   while the link (and so the connection) lives; every later message
//   carries it. The token, not CAF's node id (which BASP takes from the
//   message header without checking), says who sent a message.
// - Raft RPCs are accepted only from the configured members, and only when
//   the sender id inside the message (leader_id, candidate_id, from: the
//   field after the term, in every RPC) is the session's identity; a
//   message whose sender cannot be read is refused; appends, queries and status from the members and
//   from the identities in the access list (empty: any authenticated
//   identity). Anything else is answered with errc::access_denied and
//   logged, and changes nothing.
//
// Without TLS the same protocol runs but identities are only claimed, not
// proven: use it on a trusted host only. An access list without TLS is
// refused as a configuration error.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/expected.hpp"
#include "caf/fwd.hpp"
#include "caf/timespan.hpp"

#include "raft/config.hpp"
#include "raft/member.hpp"
#include "raft/state_machine.hpp"
#include "raft/storage/storage.hpp"

namespace raft {

// -- TLS ------------------------------------------------------------------------

/// PEM files for TLS and identity. Either all three are set or none.
struct tls_options {
  /// This process's certificate (issued by the CA; CN = identity).
  std::string certificate;
  /// Its private key (unencrypted PEM).
  std::string key;
  /// The cluster CA's certificate: peers must present one it issued.
  std::string ca_file;

  /// True if any of the three is set (validate() says whether all are).
  bool enabled() const {
    return !certificate.empty() || !key.empty() || !ca_file.empty();
  }
};

/// Checks that either none or all three files are given, that they load,
/// that the key belongs to the certificate and that the CA issued it.
/// Returns an invalid_config error that says what is wrong.
caf::error validate(const tls_options& tls);

/// The identity a certificate names (its subject CN), or an error.
caf::expected<std::string> certificate_identity(const std::string& pem_file);

// -- process setup ----------------------------------------------------------------

/// How fast a broken connection is noticed and retried.
struct remote_timing {
  /// BASP heartbeat between connected processes.
  caf::timespan heartbeat_interval = std::chrono::milliseconds(200);
  /// A connection silent this long is closed (its proxies go down), so a
  /// silent partition is noticed (CAF leaves this off by default).
  caf::timespan connection_timeout = std::chrono::milliseconds(1000);
};

/// Prepares the config of a process that runs remote members or talks to
/// them: loads the io middleman (and caf::openssl with the TLS files when
/// `tls` is enabled), sets the heartbeat and connection timeout, and
/// registers caf-raft's message types. For latency it also sets
/// `middleman.workers=0` and `scheduler.policy=sharing` (measured in
/// docs/benchmarks.md); set them again after this call (or from the config
/// file / command line CAF parses later) to choose otherwise. Refuses a
/// half-configured `tls`: never falls back to CAF's anonymous TLS. Call
/// before creating the system.
caf::error configure_remote(caf::actor_system_config& cfg,
                            const tls_options& tls,
                            const remote_timing& timing = {});

// -- members ------------------------------------------------------------------

/// Options of a member in its own process.
struct remote_options {
  /// Every member of the cluster (`host:port` ids), this one included or not.
  std::vector<member_id> members;
  /// Must match what configure_remote was given.
  tls_options tls;
  /// Reconnect backoff: doubles from min up to max, with ±50% jitter. A
  /// small cap matters: only one side of a pair dials, so a member that
  /// restarts waits for it, and should hear from the leader before its
  /// election timer fires. A failed attempt costs one refused connect.
  caf::timespan backoff_min = std::chrono::milliseconds(50);
  caf::timespan backoff_max = std::chrono::milliseconds(400);
  /// Limits for one connection attempt (TCP probe; BASP connect; handshake).
  caf::timespan probe_timeout = std::chrono::milliseconds(500);
  caf::timespan connect_timeout = std::chrono::milliseconds(3000);
  caf::timespan handshake_timeout = std::chrono::milliseconds(3000);
};

/// A member running in this process, reachable from others.
struct remote_member {
  /// The member itself (local handle: full interface, no access checks).
  member_actor member;
  /// What is published on the member's port (and registered under
  /// cfg.server_name when set): the gate that checks every remote message.
  caf::actor gate;
  /// The port the gate listens on.
  uint16_t port = 0;
};

/// Spawns a member, publishes its gate on `cfg.host_port` (bound to the
/// host part, SO_REUSEADDR; TLS when `opts.tls` is enabled), registers the
/// gate under `cfg.server_name` in the actor registry when set (at most 10
/// characters: CAF 0.17's registry keys are atoms; local actors find it with
/// `sys.registry().get<caf::actor>(caf::atom_from_string(name))`, remote
/// nodes with `middleman().remote_lookup(name, node)`, and local senders may
/// use the member's interface on it directly), and adds the other members of
/// `opts.members`, reached through a transport that reconnects with backoff.
/// The access list is `cfg.acl`. The caller still sends start_atom.
caf::expected<remote_member>
spawn_remote_member(caf::actor_system& sys, config cfg,
                    std::shared_ptr<state_machine> sm, remote_options opts,
                    storage_ptr store = nullptr);

/// The same with the state machine as an actor.
caf::expected<remote_member>
spawn_remote_member(caf::actor_system& sys, config cfg, state_machine_actor sm,
                    remote_options opts, storage_ptr store = nullptr);

/// Splits "host:port"; an error for anything else.
caf::expected<std::pair<std::string, uint16_t>>
split_host_port(const std::string& id);

} // namespace raft
