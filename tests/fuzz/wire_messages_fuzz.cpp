// Fuzz target: every payload decoder of the wire (raft/wire/messages.hpp,
// docs/wire.md). First input byte: the frame's payload type; the rest is the
// payload as it arrives after the frame header.
//
// Decoding must fail cleanly, or give a value that encodes into one whole
// frame of the right type whose payload decodes again and re-encodes to the
// same bytes. For the types without lossy fields the re-encoded payload
// must equal the input byte for byte (the format is canonical: bools are 0
// or 1, nothing may follow the last field).
#include <string>

#include "raft/wire/frame.hpp"
#include "raft/wire/messages.hpp"

#include "fuzz_common.hpp"

using namespace raft;
using namespace raft::wire;
using raft::fuzz::check;

namespace {

/// Splits a whole frame into its payload, checking the header.
std::string payload_of(const std::string& frame, frame_type type) {
  check(frame.size() >= header_size, "an encoded frame has a header");
  std::string body;
  frame_decoder dec{0xffffffffu};
  size_t frames = 0;
  auto err = dec.feed(frame.data(), frame.size(), [&](frame_type t, std::string_view p) {
    check(t == type, "the encoder writes the right frame type");
    body = std::string{p};
    ++frames;
    return true;
  });
  check(err == decode_error::none && frames == 1 && dec.buffered() == 0,
        "an encoded value is exactly one frame");
  return body;
}

/// Decodes `in`; if that works, checks the round trip. `canonical`: the
/// re-encoded payload must equal `in`.
template <class T>
void round_trip(const std::string& in, frame_type type, const char* what,
                bool canonical) {
  T x;
  if (!decode(in, x))
    return;
  std::string once;
  encode(once, x);
  auto body = payload_of(once, type);
  if (canonical)
    check(body == in, std::string{"a "} + what + " re-encodes to its input");
  T y;
  check(decode(body, y), std::string{"a re-encoded "} + what + " decodes");
  std::string twice;
  encode(twice, y);
  check(once == twice, std::string{"a "} + what + " round-trips");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  std::string in{reinterpret_cast<const char*>(data + 1), size - 1};
  switch (data[0] % 14) {
    case 0:
      round_trip<hello>(in, frame_type::hello, "hello", true);
      break;
    case 1:
      round_trip<welcome>(in, frame_type::welcome, "welcome", true);
      break;
    case 2:
      round_trip<refuse>(in, frame_type::refuse, "refuse", true);
      break;
    case 3:
      round_trip<request_vote_request>(in, frame_type::request_vote_request,
                                       "request_vote_request", true);
      break;
    case 4:
      round_trip<request_vote_response>(in, frame_type::request_vote_response,
                                        "request_vote_response", true);
      break;
    case 5:
      round_trip<append_entries_request>(in, frame_type::append_entries_request,
                                         "append_entries_request", true);
      break;
    case 6:
      round_trip<append_entries_response>(in,
                                          frame_type::append_entries_response,
                                          "append_entries_response", true);
      break;
    case 7:
      round_trip<install_snapshot_request>(in,
                                           frame_type::install_snapshot_request,
                                           "install_snapshot_request", true);
      break;
    case 8:
      round_trip<install_snapshot_response>(
        in, frame_type::install_snapshot_response, "install_snapshot_response",
        true);
      break;
    case 9:
      round_trip<client_request>(in, frame_type::client_request,
                                 "client_request", true);
      break;
    case 10:
      // Errors travel as errc codes: a code is mapped, not kept as sent.
      round_trip<client_reply>(in, frame_type::client_reply, "client_reply",
                               false);
      break;
    case 11:
      round_trip<status_reply>(in, frame_type::status_reply, "status_reply",
                               false);
      break;
    case 12:
      round_trip<membership_request>(in, frame_type::membership_request,
                                     "membership_request", true);
      break;
    default:
      round_trip<membership_reply>(in, frame_type::membership_reply,
                                   "membership_reply", false);
  }
  return 0;
}
