// A member's way to a remote peer's dialed session that skips the peer's
// link actor (issue 14): the member encodes each Raft RPC itself and hands
// the frame to the io thread, one thread hand-off per message instead of two
// (member -> link -> io thread). The transport gives it to the member with
// the link's handle, as (peer_atom, id, link, channel); the link keeps the
// session's lifecycle and the forwarded client requests.
//
// A channel belongs to one session: when the session goes down its frames
// are dropped (Raft tolerates loss), and a new session comes with a new
// channel, so nothing is ever sent on a stale one. In-process peers have
// none and keep the plain CAF send.
#pragma once

#include <memory>

#include "caf/allowed_unsafe_message_type.hpp"
#include "caf/message.hpp"

#include "raft/messages.hpp"

namespace raft {

class peer_channel {
public:
  virtual ~peer_channel() = default;

  // Each encodes the RPC once and queues the frame (thread-safe); dropped
  // if the session is not established (any more).
  virtual void send(const request_vote_request& msg) = 0;
  virtual void send(const request_vote_response& msg) = 0;
  virtual void send(const append_entries_request& msg) = 0;
  virtual void send(const append_entries_response& msg) = 0;
  virtual void send(const install_snapshot_request& msg) = 0;
  virtual void send(const install_snapshot_response& msg) = 0;
  virtual void send(const timeout_now_request& msg) = 0;

  /// Sends a message the write queue held (a caf::message with one Raft
  /// RPC); false if it holds something else (the caller sends it as is).
  bool send_message(const caf::message& msg) {
    return try_send<request_vote_response, append_entries_response,
                    install_snapshot_response, request_vote_request,
                    append_entries_request, install_snapshot_request,
                    timeout_now_request>(msg);
  }

private:
  template <class T, class... Ts>
  bool try_send(const caf::message& msg) {
    if (msg.match_elements<T>()) {
      send(msg.get_as<T>(0));
      return true;
    }
    if constexpr (sizeof...(Ts) > 0)
      return try_send<Ts...>(msg);
    else
      return false;
  }
};

using peer_channel_ptr = std::shared_ptr<peer_channel>;

} // namespace raft

// Travels only between actors of one process (transport -> member).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(raft::peer_channel_ptr)
