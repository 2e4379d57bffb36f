// What the attacker knows of the wire (docs/wire.md): a frame header that
// announces a payload length, written with the project's own encoder, and
// whole frames (hello, Raft RPCs, client requests) from raft/wire/messages.hpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "attacker.hpp"

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

/// The frames a member sent back, and whether it closed the connection.
struct answer {
  std::vector<std::pair<wire::frame_type, std::string>> frames;
  bool closed = false;

  /// The refuse frame's code and text, if one came.
  bool refused(wire::refuse& r) const {
    for (auto& [t, p] : frames)
      if (t == wire::frame_type::refuse && wire::decode(p, r))
        return true;
    return false;
  }

  bool has(wire::frame_type t) const {
    for (auto& f : frames)
      if (f.first == t)
        return true;
    return false;
  }
};

/// Reads what the member answers on `c` until it closes or `timeout` passes
/// (or, with `until`, once a frame of that type arrived).
inline answer read_answer(connection& c, std::chrono::milliseconds timeout,
                          int until = -1) {
  answer a;
  wire::frame_decoder dec{wire::default_max_payload};
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    auto bytes = c.read_some(std::max(left, std::chrono::milliseconds(1)));
    if (bytes.empty()) {
      if (c.eof()) {
        a.closed = true;
        break;
      }
      continue;
    }
    bool stop = false;
    auto err = dec.feed(bytes.data(), bytes.size(),
                        [&](wire::frame_type t, std::string_view p) {
                          a.frames.emplace_back(t, std::string{p});
                          stop = stop || static_cast<int>(t) == until;
                          return true;
                        });
    if (err != wire::decode_error::none || stop)
      break;
  }
  return a;
}

/// Any message as one frame.
template <class T>
std::string frame_of(const T& x) {
  std::string out;
  wire::encode(out, x);
  return out;
}

} // namespace raft::hostile
