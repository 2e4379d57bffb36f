// The frame header and the incremental decoder (raft/wire/frame.hpp).

#include "raft/wire/frame.hpp"

#include <algorithm>

#include "../storage/byte_order.hpp"

namespace raft::wire {

bool known_frame_type(uint8_t x) {
  switch (x) {
    case 0x01: case 0x02: case 0x03: case 0x04: case 0x05:
    case 0x10: case 0x11: case 0x12: case 0x13: case 0x14: case 0x15:
    case 0x16:
    case 0x20: case 0x21: case 0x22: case 0x23: case 0x24:
      return true;
    default:
      return false;
  }
}

const char* to_string(frame_type x) {
  switch (x) {
    case frame_type::hello: return "hello";
    case frame_type::welcome: return "welcome";
    case frame_type::refuse: return "refuse";
    case frame_type::ping: return "ping";
    case frame_type::pong: return "pong";
    case frame_type::request_vote_request: return "request_vote_request";
    case frame_type::request_vote_response: return "request_vote_response";
    case frame_type::append_entries_request: return "append_entries_request";
    case frame_type::append_entries_response:
      return "append_entries_response";
    case frame_type::install_snapshot_request:
      return "install_snapshot_request";
    case frame_type::install_snapshot_response:
      return "install_snapshot_response";
    case frame_type::timeout_now_request: return "timeout_now_request";
    case frame_type::client_request: return "client_request";
    case frame_type::client_reply: return "client_reply";
    case frame_type::status_reply: return "status_reply";
    case frame_type::membership_request: return "membership_request";
    case frame_type::membership_reply: return "membership_reply";
  }
  return "unknown";
}

const char* to_string(decode_error x) {
  switch (x) {
    case decode_error::none: return "none";
    case decode_error::bad_magic: return "bad magic byte";
    case decode_error::bad_version: return "unsupported frame version";
    case decode_error::unknown_type: return "unknown frame type";
    case decode_error::bad_flags: return "non-zero frame flags";
    case decode_error::too_large: return "frame larger than the limit";
    case decode_error::unexpected_payload:
      return "payload in a frame that carries none";
    case decode_error::over_budget:
      return "incomplete frames over the memory budget";
  }
  return "unknown";
}

void write_header(char* out, frame_type type, uint32_t length) {
  out[0] = static_cast<char>(frame_magic);
  out[1] = static_cast<char>(frame_version);
  out[2] = static_cast<char>(type);
  out[3] = 0;
  detail::put_le32(out + 4, length);
}

void append_frame(std::string& out, frame_type type,
                  std::string_view payload) {
  char hdr[header_size];
  write_header(hdr, type, static_cast<uint32_t>(payload.size()));
  out.append(hdr, header_size);
  out.append(payload.data(), payload.size());
}

bool empty_payload_type(frame_type t) {
  return t == frame_type::ping || t == frame_type::pong;
}

frame_decoder::frame_decoder(uint32_t max_payload)
  : max_payload_(max_payload) {
  // nop
}

frame_decoder::~frame_decoder() {
  release();
}

void frame_decoder::reset() {
  release();
  have_header_ = false;
  header_fill_ = 0;
}

void frame_decoder::release() {
  auto n = payload_.capacity();
  std::vector<char>{}.swap(payload_);
  if (budget_ != nullptr && n > 0)
    budget_->give_back(n);
}

bool frame_decoder::grow(size_t n) {
  auto need = payload_.size() + n;
  auto cap = payload_.capacity();
  if (need <= cap)
    return true;
  // Doubling (at least 64 KiB) keeps the copies linear; never beyond the
  // announced length, which the limit already bounds. std::vector's
  // reserve allocates exactly this much, so held() is the truth.
  constexpr size_t min_step = 64 * 1024;
  auto next = std::max(need, std::min<size_t>(length_, std::max(2 * cap,
                                                                min_step)));
  if (budget_ != nullptr && !budget_->take(next - cap)) {
    error_ = decode_error::over_budget;
    return false;
  }
  payload_.reserve(next);
  return true;
}

bool frame_decoder::parse_header() {
  auto byte = [this](size_t i) { return static_cast<uint8_t>(header_[i]); };
  if (byte(0) != frame_magic)
    error_ = decode_error::bad_magic;
  else if (byte(1) != frame_version)
    error_ = decode_error::bad_version;
  else if (!known_frame_type(byte(2)))
    error_ = decode_error::unknown_type;
  else if (byte(3) != 0)
    error_ = decode_error::bad_flags;
  else {
    uint32_t length = detail::get_le32(header_ + 4);
    if (length > 0 && empty_payload_type(static_cast<frame_type>(byte(2)))) {
      announced_ = length;
      error_ = decode_error::unexpected_payload;
    } else if (length > max_payload_) {
      // Refused before any buffer of that size exists.
      announced_ = length;
      error_ = decode_error::too_large;
    } else {
      type_ = static_cast<frame_type>(byte(2));
      length_ = length;
      have_header_ = true;
      return true;
    }
  }
  return false;
}

} // namespace raft::wire
