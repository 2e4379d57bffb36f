// The limits of a process's wire sessions (docs/wire.md, "Limits").
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "caf/timespan.hpp"

#include "raft/wire/frame.hpp"

namespace raft::wire {

/// The limits of docs/wire.md, "Limits".
struct limits {
  /// Largest frame payload after authentication (both directions).
  uint32_t max_payload = default_max_payload;
  /// A session that has not completed its handshake (TLS and hello) within
  /// this time after accept is closed.
  caf::timespan handshake_timeout = std::chrono::seconds(2);
  /// Connections a listener keeps at once (further ones are closed at
  /// once); also capped below the process's descriptor limit.
  size_t max_connections = 1024;
  /// Unauthenticated connections at once; beyond, the oldest is closed.
  size_t max_unauthenticated = 32;
  /// An authenticated client session that sends nothing this long is closed.
  caf::timespan client_idle_timeout = std::chrono::seconds(60);
  /// A member session that sends nothing this long is closed (links ping).
  caf::timespan member_idle_timeout = std::chrono::seconds(5);
  /// Links ping this often and give up on a connection silent this long.
  caf::timespan ping_interval = std::chrono::milliseconds(200);
  caf::timespan silence_timeout = std::chrono::milliseconds(1000);
  /// A dialed connection must be established (TCP, TLS, welcome) in time.
  caf::timespan connect_timeout = std::chrono::milliseconds(3000);
  /// Bytes queued for a peer that does not read; beyond, it is closed.
  size_t max_queued_bytes = 64u * 1024 * 1024;
  /// Refusal lines per second in the log (then "suppressed k").
  size_t log_lines_per_second = 20;
  /// Bytes a listener's sessions hold in incomplete frames, all together
  /// (authenticated or not; never less than one frame of max_payload).
  /// Beyond it the session whose frame grows is closed; a member session
  /// first closes the other sessions holding the most.
  size_t max_incomplete_frame_bytes = 32u * 1024 * 1024;
};

} // namespace raft::wire
