// What the attacker knows of the wire (docs/wire.md): a frame header that
// announces a payload length, written with the project's own encoder, and
// whole frames (hello, Raft RPCs, client requests) from raft/wire/messages.hpp.
#pragma once

#include <cstdint>
#include <string>

#include "raft/wire/frame.hpp"
#include "raft/wire/messages.hpp"

namespace raft::hostile {

/// A valid frame header of type `type` announcing `payload_len` bytes (the
/// length field is 32 bits: 4 GiB is announced as 4 GiB - 1).
inline std::string frame_header(uint64_t payload_len,
                                wire::frame_type type = wire::frame_type::hello) {
  std::string h(wire::header_size, '\0');
  auto len = static_cast<uint32_t>(payload_len > 0xffffffffu ? 0xffffffffu
                                                             : payload_len);
  wire::write_header(h.data(), type, len);
  return h;
}

/// A hello frame.
inline std::string hello_frame(const std::string& identity, wire::peer_kind kind,
                               const std::string& target) {
  wire::hello h;
  h.identity = identity;
  h.kind = kind;
  h.target = target;
  std::string out;
  wire::encode(out, h);
  return out;
}

} // namespace raft::hostile
