// Fuzz target: the wire's incremental frame decoder (raft/wire/frame.hpp,
// docs/wire.md), fed the bytes a peer sends, cut into chunks as TCP might.
//
// Input: byte 0 picks the payload limit (the handshake's 4 KiB, a tiny one,
// or the session default) and whether the callback raises it to the session
// limit after the first frame (as a listener does after the hello); byte 1
// seeds the chunk sizes; the rest is the stream.
//
// Checked: memory held never exceeds the header plus the largest limit in
// force, nor the bytes actually received; every frame's payload is within
// the limit; the frames re-encoded with append_frame are exactly the bytes
// consumed; the outcome (frames and error) does not depend on how the
// stream was cut; too_large is reported only for a length above the limit;
// after an error the decoder consumes nothing more.
#include <string>
#include <utility>
#include <vector>

#include "raft/wire/frame.hpp"

#include "fuzz_common.hpp"

using namespace raft::wire;
using raft::fuzz::check;

namespace {

struct outcome {
  std::vector<std::pair<frame_type, std::string>> frames;
  decode_error error = decode_error::none;
  size_t buffered = 0;
};

/// Feeds `stream` in chunks; `cut(i)` gives the size of chunk i (>= 1).
template <class Cut>
outcome run(const std::string& stream, uint32_t limit, bool raise, Cut cut) {
  outcome out;
  frame_decoder dec{limit};
  uint64_t largest_limit = limit;
  size_t fed = 0;
  for (size_t i = 0; fed < stream.size(); ++i) {
    auto n = std::min(cut(i), stream.size() - fed);
    auto err = dec.feed(stream.data() + fed, n, [&](frame_type t, std::string_view p) {
      check(known_frame_type(static_cast<uint8_t>(t)), "a frame of a known type");
      check(p.size() <= dec.max_payload(), "a payload within the limit");
      check(to_string(t) != nullptr, "a frame type has a name");
      out.frames.emplace_back(t, std::string{p});
      if (raise && out.frames.size() == 1) {
        dec.set_max_payload(default_max_payload);
        largest_limit = default_max_payload;
      }
      return true;
    });
    fed += n;
    check(dec.buffered() <= header_size + largest_limit,
          "memory bounded by the limit");
    check(dec.buffered() <= fed, "memory bounded by the bytes received");
    if (err != decode_error::none) {
      check(err == dec.error(), "feed returns the decoder's error");
      check(to_string(err) != nullptr, "an error has a name");
      if (err == decode_error::too_large)
        check(dec.announced() > dec.max_payload(), "too_large only above the limit");
      // A failed decoder stays failed and takes nothing more.
      size_t before = out.frames.size();
      auto again = dec.feed(stream.data(), stream.size(), [&](frame_type, std::string_view) {
        out.frames.emplace_back(frame_type::ping, std::string{});
        return true;
      });
      check(again == err && out.frames.size() == before,
            "a failed decoder consumes nothing");
      out.error = err;
      break;
    }
  }
  out.buffered = dec.buffered();
  dec.shrink();
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  raft::fuzz::reader in{data, size};
  auto mode = in.u8();
  auto seed = in.u8();
  auto stream = in.rest();
  uint32_t limits[] = {handshake_max_payload, 16, default_max_payload, 0};
  auto limit = limits[mode & 3];
  bool raise = (mode & 4) != 0;
  // Chunk sizes from a small generator seeded by the input.
  uint32_t state = seed * 2654435761u + 1;
  auto chunked = run(stream, limit, raise, [&](size_t) {
    state = state * 1103515245u + 12345u;
    return size_t{1} + (state >> 16) % 64;
  });
  auto whole = run(stream, limit, raise, [&](size_t) { return stream.size(); });
  auto bytewise = run(stream, limit, raise, [](size_t) { return size_t{1}; });
  check(chunked.frames == whole.frames && chunked.error == whole.error
          && chunked.buffered == whole.buffered,
        "the outcome does not depend on the chunking");
  check(bytewise.frames == whole.frames && bytewise.error == whole.error,
        "byte by byte gives the same frames");
  // The frames are exactly the bytes they came from.
  std::string again;
  for (auto& [t, p] : whole.frames)
    append_frame(again, t, p);
  check(stream.compare(0, again.size(), again) == 0,
        "re-encoded frames equal the bytes consumed");
  if (whole.error == decode_error::none)
    check(again.size() + whole.buffered == stream.size(),
          "without an error every byte is a frame or buffered");
  return 0;
}
