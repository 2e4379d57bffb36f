// The frames of caf-raft's wire protocol (docs/wire.md): a fixed 8-byte
// little-endian header, then a payload of at most a configured size. Pure
// code: no sockets, no actors, no clocks. The decoder is fed bytes as they
// arrive and yields whole frames; it refuses a header that announces more
// than its limit *before* any buffer of that size exists, and its buffer
// grows only with bytes actually received.
//
//   offset  size  field
//        0     1  magic 0xCA
//        1     1  version (3)
//        2     1  type (frame_type)
//        3     1  flags (0; anything else is refused)
//        4     4  payload length n (u32, little-endian)
//        8     n  payload (layout per type: raft/wire/messages.hpp)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace raft::wire {

// -- constants -----------------------------------------------------------------

/// First byte of every frame.
constexpr uint8_t frame_magic = 0xCA;

/// Version of the frame format; a frame of another version is refused.
/// 2: request_vote_request/response carry PreVote and transfer flags, and
/// TimeoutNow (0x16) exists (docs/wire.md, History).
/// 3: membership: membership_request/reply (0x23, 0x24), status_reply
/// carries the configuration.
constexpr uint8_t frame_version = 3;

/// Size of the fixed header.
constexpr size_t header_size = 8;

/// Largest payload of a frame before the session is authenticated (the
/// hello / welcome / refuse frames fit easily).
constexpr uint32_t handshake_max_payload = 4096;

/// Default largest payload after authentication: a full AppendEntries
/// (config::max_bytes_per_message, 1 MiB) plus one maximum-size entry
/// (max_entry_bytes) plus headroom.
constexpr uint32_t default_max_payload = 8u * 1024 * 1024;

/// Largest command (entry payload) a client may send by default.
constexpr uint32_t max_entry_bytes = 4u * 1024 * 1024;

// -- frame types -----------------------------------------------------------------

/// What a frame carries. Values are part of the format: never renumber.
enum class frame_type : uint8_t {
  // handshake (the only frames decoded before authentication)
  /// Dialer -> listener: who I am and whom I want to reach.
  hello = 0x01,
  /// Listener -> dialer: the session is established.
  welcome = 0x02,
  /// Either side: why the session is refused; the sender closes.
  refuse = 0x03,
  // liveness (any time after the handshake)
  ping = 0x04,
  pong = 0x05,
  // Raft RPCs (Figure 2, Figure 13): members only, one way
  request_vote_request = 0x10,
  request_vote_response = 0x11,
  append_entries_request = 0x12,
  append_entries_response = 0x13,
  install_snapshot_request = 0x14,
  install_snapshot_response = 0x15,
  /// Leadership transfer (thesis §3.10); since version 2.
  timeout_now_request = 0x16,
  // client operations (members and clients in the access list)
  /// A batch of appends or queries, or a status request, with a request id.
  client_request = 0x20,
  /// The outcomes of a client_request batch, in order.
  client_reply = 0x21,
  /// The member_status a status request asked for.
  status_reply = 0x22,
  /// Read or change the cluster's configuration, or transfer leadership
  /// (docs/membership.md); since version 3.
  membership_request = 0x23,
  /// The configuration a membership_request produced, or its error.
  membership_reply = 0x24,
};

/// True if `x` is one of the frame_type values above.
bool known_frame_type(uint8_t x);

/// The name of a frame type, for logs ("append_entries_request", ...).
const char* to_string(frame_type x);

// -- header ---------------------------------------------------------------------------

/// Writes a header for a payload of `length` bytes into `out` (8 bytes).
void write_header(char* out, frame_type type, uint32_t length);

/// Appends a whole frame (header + payload) to `out`.
void append_frame(std::string& out, frame_type type, std::string_view payload);

// -- decoder --------------------------------------------------------------------------

/// Why the decoder stopped for good. Anything but `none` closes the session.
enum class decode_error : uint8_t {
  none = 0,
  /// The first byte is not frame_magic (e.g. a TLS ClientHello on a plain
  /// port, HTTP, random bytes).
  bad_magic,
  /// Another version of the format.
  bad_version,
  /// A type byte this version does not know.
  unknown_type,
  /// Non-zero flags.
  bad_flags,
  /// The header announces a payload above the current limit.
  too_large,
  /// A frame whose payload must be empty (ping, pong) announces bytes.
  unexpected_payload,
  /// Growing the buffer of an incomplete frame would exceed the memory
  /// budget shared with other decoders (buffer_budget).
  over_budget,
};

const char* to_string(decode_error x);

/// Memory shared by the decoders of several connections (a member's
/// budget for incomplete frames, docs/wire.md "Limits"): a decoder asks
/// before its payload buffer grows and gives back what it frees.
class buffer_budget {
public:
  virtual ~buffer_budget() = default;
  /// May a buffer grow by `n` bytes? True: they are taken (give them back
  /// with give_back); false: the decoder fails with over_budget.
  virtual bool take(size_t n) = 0;
  virtual void give_back(size_t n) = 0;
};

/// True if frames of type `t` carry no payload (ping, pong).
bool empty_payload_type(frame_type t);

/// Incremental frame decoder. Memory: at most header_size + the current
/// limit, only as many bytes as have arrived (rounded up to the growth
/// step), and only while the budget (if any) allows it.
class frame_decoder {
public:
  /// `max_payload`: the largest payload accepted (see set_max_payload).
  explicit frame_decoder(uint32_t max_payload = handshake_max_payload);

  ~frame_decoder();

  frame_decoder(const frame_decoder&) = delete;
  frame_decoder& operator=(const frame_decoder&) = delete;

  /// Charges the payload buffer's growth to `b` (which must outlive the
  /// decoder, or be detached with set_budget(nullptr) after reset()).
  void set_budget(buffer_budget* b) {
    budget_ = b;
  }

  /// Bytes of payload buffer held now (what the budget was charged).
  size_t held() const {
    return payload_.capacity();
  }

  /// Drops an incomplete frame and frees its buffer (the connection
  /// closed); never call it from inside feed's callback.
  void reset();

  /// Frees the payload buffer if no frame is incomplete (it is freed after
  /// every frame anyway).
  void shrink() {
    if (payload_.empty())
      release();
  }

  /// Changes the limit for the frames whose header is not complete yet
  /// (e.g. from handshake_max_payload to the session limit after the
  /// handshake; may be called from inside feed's callback).
  void set_max_payload(uint32_t n) {
    max_payload_ = n;
  }

  uint32_t max_payload() const {
    return max_payload_;
  }

  /// Consumes `data[0, n)`. For every complete frame calls
  /// `on_frame(frame_type, std::string_view payload)`, which returns true to
  /// go on or false to stop (the rest of the bytes are dropped and feed
  /// returns `none`: the caller closes). Returns the first error; after an
  /// error the decoder stays failed and consumes nothing more.
  template <class F>
  decode_error feed(const char* data, size_t n, F&& on_frame);

  /// The error that stopped the decoder, or none.
  decode_error error() const {
    return error_;
  }

  /// Bytes of an incomplete frame held now (header included).
  size_t buffered() const {
    return have_header_ ? header_size + payload_.size() : header_fill_;
  }

  /// The payload length of the last header that failed with too_large.
  uint64_t announced() const {
    return announced_;
  }

private:
  /// Parses the complete header in header_; sets error_ on failure.
  bool parse_header();

  /// Makes room for `n` more payload bytes; false (error_ set) when the
  /// budget refuses.
  bool grow(size_t n);

  /// Frees the payload buffer and gives it back to the budget.
  void release();

  uint32_t max_payload_;
  char header_[header_size];
  size_t header_fill_ = 0;
  bool have_header_ = false;
  frame_type type_ = frame_type::hello;
  uint32_t length_ = 0;
  std::vector<char> payload_;
  buffer_budget* budget_ = nullptr;
  decode_error error_ = decode_error::none;
  uint64_t announced_ = 0;
};

template <class F>
decode_error frame_decoder::feed(const char* data, size_t n, F&& on_frame) {
  while (error_ == decode_error::none) {
    if (!have_header_) {
      while (header_fill_ < header_size && n > 0) {
        header_[header_fill_++] = *data++;
        --n;
      }
      if (header_fill_ < header_size)
        return decode_error::none;
      if (!parse_header())
        return error_;
      // A payload that arrives whole in this chunk is passed on without a
      // copy.
      if (payload_.empty() && n >= length_) {
        std::string_view whole{data, length_};
        data += length_;
        n -= length_;
        have_header_ = false;
        header_fill_ = 0;
        if (!on_frame(type_, whole))
          return decode_error::none;
        continue;
      }
    }
    // Grows with the bytes received, never beyond length_.
    size_t want = length_ - payload_.size();
    size_t take = want < n ? want : n;
    if (!grow(take))
      return error_;
    payload_.insert(payload_.end(), data, data + take);
    data += take;
    n -= take;
    if (payload_.size() < length_)
      return decode_error::none;
    have_header_ = false;
    header_fill_ = 0;
    bool go_on = on_frame(type_,
                          std::string_view{payload_.data(), payload_.size()});
    // An incomplete frame's buffer is not kept between frames: what a
    // session holds is what its peer is sending now.
    release();
    if (!go_on)
      return decode_error::none;
  }
  return error_;
}

} // namespace raft::wire
