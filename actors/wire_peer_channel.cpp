// A peer_channel over a dialed session (peer_channel.hpp): the member
// encodes its Raft RPC here, on its own thread, and the frame goes to the io
// thread's write queue, whose limit on unread output (limits::
// max_queued_bytes) applies as to every frame. A session that is not
// established, or no longer, drops the frame (dial_handle::send).

#include "remote_protocol.hpp"

#include <string>

#include "raft/wire/messages.hpp"

namespace raft::remote {

namespace {

class wire_peer_channel final : public peer_channel {
public:
  explicit wire_peer_channel(wire::dial_handle_ptr conn)
    : conn_(std::move(conn)) {
    // nop
  }

  void send(const request_vote_request& msg) override {
    put(msg);
  }

  void send(const request_vote_response& msg) override {
    put(msg);
  }

  void send(const append_entries_request& msg) override {
    put(msg);
  }

  void send(const append_entries_response& msg) override {
    put(msg);
  }

  void send(const install_snapshot_request& msg) override {
    put(msg);
  }

  void send(const install_snapshot_response& msg) override {
    put(msg);
  }

  void send(const timeout_now_request& msg) override {
    put(msg);
  }

private:
  template <class Msg>
  void put(const Msg& msg) {
    std::string frame;
    wire::encode(frame, msg);
    conn_->send(std::move(frame));
  }

  wire::dial_handle_ptr conn_;
};

} // namespace

peer_channel_ptr make_peer_channel(wire::dial_handle_ptr conn) {
  return std::make_shared<wire_peer_channel>(std::move(conn));
}

} // namespace raft::remote
