// What the attacker knows of the wire under test: how a frame header that
// announces a payload length looks. PLACEHOLDER until part A's frame format
// (docs/wire.md) lands: today's BASP header (CAF 0.17: operation, 3 bytes,
// 32-bit big-endian payload length, operation data, source and destination
// actor ids: 32 bytes).
#pragma once

#include <cstdint>
#include <string>

namespace raft::hostile {

/// A frame header that announces `payload_len` bytes to follow.
inline std::string frame_header(uint64_t payload_len) {
  std::string h(32, '\0');
  h[0] = 0x01; // client_handshake
  auto len = static_cast<uint32_t>(payload_len > 0xffffffffu ? 0xffffffffu
                                                             : payload_len);
  for (int i = 0; i < 4; ++i)
    h[4 + i] = static_cast<char>((len >> (8 * (3 - i))) & 0xff);
  return h;
}

} // namespace raft::hostile
