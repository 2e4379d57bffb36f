// Members in separate processes: each member listens on its `host:port` id
// with caf-raft's own wire protocol (docs/wire.md: length-prefixed frames
// with limits checked before allocation, plain TCP or mutual TLS through
// OpenSSL), and dials every other member.
//
//   process A                                     process B
//   member ──► link(B) ═══ frames / TLS ═══► session ──► member
//     ▲  (connect_atom, id)                    │ hello: identity, member?
//     └── transport ◄──(peer_atom, id, link)   │ access list, sender check
//
// Nothing reaches a member from another process except through an
// authenticated session of its listener:
//
// - A session starts with the dialer's hello; nothing else is decoded
//   before it is accepted. With TLS both sides present a certificate from
//   the cluster CA, and the session's identity is a name the certificate
//   carries (subject CN or a SAN DNS name); the hello must name it. A
//   member's identity is its `host:port` id; a client's is whatever its
//   certificate names. The dialer checks that the member it reached is
//   the one its certificate names.
// - Raft RPCs are accepted only on sessions of configured members, and only
//   when the sender id inside the message (candidate_id, leader_id, from)
//   is the session's identity; client operations (append, query, status)
//   from the members and from the identities in the access list (empty:
//   any authenticated identity); membership changes moreover only from
//   the admin list when there is one (remote_options::admins). Anything
//   else is refused, logged (rate-limited) and changes nothing.
// - A member added to the configuration while the cluster runs is let in
//   once this member's own configuration names it (its transport is asked
//   to reach it).
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
#include "raft/wire/limits.hpp"

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

/// Kept for source compatibility: liveness is the wire's (wire::limits).
struct remote_timing {
  caf::timespan heartbeat_interval = std::chrono::milliseconds(200);
  caf::timespan connection_timeout = std::chrono::milliseconds(1000);
};

/// Prepares the config of a process that runs remote members or talks to
/// them: registers caf-raft's message types, and sets
/// `scheduler.policy=sharing` for latency (docs/benchmarks.md; set it again
/// after this call to choose otherwise). Refuses a half-configured `tls`.
/// Call before creating the system.
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
  /// The wire's limits and timeouts (docs/wire.md, "Limits").
  wire::limits limits;

  /// Identities allowed to change the cluster (add, promote, remove,
  /// reconfigure, transfer: docs/operations.md, "Changing the members");
  /// empty: whoever may send client operations (`config::acl`). Needs TLS,
  /// like the access list. Reading the configuration is a client operation.
  std::vector<std::string> admins;
};

/// A member running in this process, reachable from others.
struct remote_member {
  /// The member itself (local handle: full interface, no access checks).
  member_actor member;
  /// The port its listener listens on.
  uint16_t port = 0;
};

/// Spawns a member, listens on `cfg.host_port` (bound to the host part,
/// SO_REUSEADDR; TLS when `opts.tls` is enabled) with the wire protocol,
/// registers the member under `cfg.server_name` in the actor registry when
/// set (at most 10 characters: CAF 0.17's registry keys are atoms; local
/// actors only), and adds the other members of `opts.members`, reached
/// through a transport that reconnects with backoff. The access list is
/// `cfg.acl`. The listener closes when the member terminates. The caller
/// still sends start_atom.
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
