// Payload layouts of the wire's frames (docs/wire.md): an explicit codec,
// written field by field, little-endian. Decoding never allocates more than
// the bytes left in the frame: every string length and element count is
// checked against them before anything is reserved. A payload with bytes
// left over after its last field is malformed too.
//
// Primitive fields: u8, u32, u64 (little-endian); bool = u8 0 or 1 (other
// values are malformed); str = u32 length n, then n bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "caf/error.hpp"

#include "raft/member.hpp"
#include "raft/messages.hpp"
#include "raft/wire/frame.hpp"

namespace raft::wire {

// -- primitives ----------------------------------------------------------------------

/// Appends fields to a string (usually the frame being built).
class writer {
public:
  explicit writer(std::string& out) : out_(out) {
    // nop
  }
  void u8(uint8_t x);
  void u32(uint32_t x);
  void u64(uint64_t x);
  void boolean(bool x) {
    u8(x ? 1 : 0);
  }
  void str(std::string_view x);

private:
  std::string& out_;
};

/// Reads fields from a payload; once a read fails, all later reads fail.
class reader {
public:
  explicit reader(std::string_view in) : in_(in) {
    // nop
  }
  bool u8(uint8_t& x);
  bool u32(uint32_t& x);
  bool u64(uint64_t& x);
  bool boolean(bool& x);
  /// Fails (without allocating) if the length exceeds the bytes left.
  bool str(std::string& x);
  /// Reads a u32 element count; fails if `count * min_element_size` exceeds
  /// the bytes left (so a count cannot reserve memory the frame lacks).
  bool count(uint32_t& n, size_t min_element_size);
  size_t left() const {
    return in_.size();
  }
  bool ok() const {
    return ok_;
  }
  /// True if every read succeeded and nothing is left.
  bool done() const {
    return ok_ && in_.empty();
  }

private:
  bool take(size_t n, const char*& p);

  std::string_view in_;
  bool ok_ = true;
};

// -- handshake -----------------------------------------------------------------------

/// What a session is for.
enum class peer_kind : uint8_t {
  /// A member's link: Raft RPCs and forwarded client operations.
  member = 1,
  /// A client: client operations only.
  client = 2,
};

/// hello: str identity, u8 kind, str target, u32 max_payload.
struct hello {
  /// The dialer's identity. With TLS it must be named by the dialer's
  /// certificate; without TLS it is only claimed.
  std::string identity;
  peer_kind kind = peer_kind::client;
  /// The member id the dialer wants to reach (must be the listener's).
  std::string target;
  /// The largest payload the dialer accepts.
  uint32_t max_payload = default_max_payload;
};

/// welcome: str identity, u32 max_payload.
struct welcome {
  /// The listener's member id.
  std::string identity;
  uint32_t max_payload = default_max_payload;
};

/// Why a session is refused (refuse frame: u8 code, str text).
enum class refuse_code : uint8_t {
  /// The hello could not be decoded, or came after another frame.
  malformed = 1,
  /// The hello's identity is not what the certificate names.
  identity_mismatch = 2,
  /// A member session from an identity that is not a member.
  not_a_member = 3,
  /// The target is not this member.
  wrong_target = 4,
  /// Too many connections.
  overloaded = 5,
  /// Not in the access list.
  access_denied = 6,
};

struct refuse {
  refuse_code code = refuse_code::malformed;
  std::string text;
};

// -- client operations -----------------------------------------------------------------

/// The operation of a client_request.
enum class client_op : uint8_t {
  append = 1,
  query = 2,
  status = 3,
};

/// client_request: u64 id, u8 op, u32 count, count x str command.
/// status: count is 0.
struct client_request {
  uint64_t id = 0;
  client_op op = client_op::append;
  std::vector<payload> commands;
};

/// One outcome of a batch: the reply, or the error.
/// ok: u8 1, u64 index, str result, str apply_error.
/// error: u8 0, u8 errc, str context.
struct client_outcome {
  append_reply reply;
  /// A raft::errc error (others are mapped to errc values by the sender).
  caf::error error;
};

/// client_reply: u64 id, u32 count, count x client_outcome.
/// A failure of the whole request (e.g. access denied) is one outcome
/// holding the error, whatever the batch size.
struct client_reply {
  uint64_t id = 0;
  std::vector<client_outcome> outcomes;
};

/// status_reply: u64 id, u8 ok; ok: member_status (str id, u8 role,
/// u64 term, str leader, u64 commit_index, u64 last_applied,
/// u64 last_log_index, u32 count, count x str member, u64 x 4 counters,
/// configuration (since version 3)); not ok: u8 errc, str context.
struct status_reply {
  uint64_t id = 0;
  member_status status;
  caf::error error;
};

// -- membership (docs/membership.md) ------------------------------------------------
//
// A configuration on the wire: three lists (voters, learners, old_voters),
// each u32 count, count x str member. Decoded configurations are checked
// (raft::check: sorted, no duplicates, no member twice).

/// What a membership_request asks (member_actor's membership messages).
enum class membership_op : uint8_t {
  /// (members_atom): the configuration in force at the member asked.
  members = 1,
  /// (learner_atom, member, promote).
  add_learner = 2,
  /// (promote_atom, member).
  promote = 3,
  /// (remove_atom, member).
  remove = 4,
  /// (reconfig_atom, target).
  reconfigure = 5,
  /// (transfer_atom, member): the reply's configuration is empty.
  transfer = 6,
};

/// True for the operations that change the cluster (all but `members`):
/// administrative, subject to remote_options::admins.
inline bool changes_cluster(membership_op op) {
  return op != membership_op::members;
}

/// membership_request: u64 id, u8 op, str member, bool promote,
/// configuration target. Unused fields are empty (member ""; promote 0;
/// target three counts 0); anything else is malformed.
struct membership_request {
  uint64_t id = 0;
  membership_op op = membership_op::members;
  member_id member;
  bool promote = false;
  cluster_configuration target;
};

/// membership_reply: u64 id, u8 ok; ok: configuration; not ok: u8 errc,
/// str context.
struct membership_reply {
  uint64_t id = 0;
  cluster_configuration configuration;
  caf::error error;
};

// -- encoding: each appends a whole frame (header + payload) to `out` ------------------

void encode(std::string& out, const hello& x);
void encode(std::string& out, const welcome& x);
void encode(std::string& out, const refuse& x);
void encode_ping(std::string& out);
void encode_pong(std::string& out);
void encode(std::string& out, const request_vote_request& x);
void encode(std::string& out, const request_vote_response& x);
void encode(std::string& out, const append_entries_request& x);
void encode(std::string& out, const append_entries_response& x);
void encode(std::string& out, const install_snapshot_request& x);
void encode(std::string& out, const install_snapshot_response& x);
void encode(std::string& out, const timeout_now_request& x);
void encode(std::string& out, const client_request& x);
void encode(std::string& out, const client_reply& x);
void encode(std::string& out, const status_reply& x);
void encode(std::string& out, const membership_request& x);
void encode(std::string& out, const membership_reply& x);

// -- decoding: payload only (the frame's type selects the function) ----------------------
// Each returns false for a malformed payload (then `x` is unspecified).

bool decode(std::string_view in, hello& x);
bool decode(std::string_view in, welcome& x);
bool decode(std::string_view in, refuse& x);
bool decode(std::string_view in, request_vote_request& x);
bool decode(std::string_view in, request_vote_response& x);
bool decode(std::string_view in, append_entries_request& x);
bool decode(std::string_view in, append_entries_response& x);
bool decode(std::string_view in, install_snapshot_request& x);
bool decode(std::string_view in, install_snapshot_response& x);
bool decode(std::string_view in, timeout_now_request& x);
bool decode(std::string_view in, client_request& x);
bool decode(std::string_view in, client_reply& x);
bool decode(std::string_view in, status_reply& x);
bool decode(std::string_view in, membership_request& x);
bool decode(std::string_view in, membership_reply& x);

} // namespace raft::wire
