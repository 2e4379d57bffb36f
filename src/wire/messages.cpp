// The explicit payload codec of the wire (raft/wire/messages.hpp,
// docs/wire.md). Every frame is built in place: header first with a zero
// length, fields appended, then the length patched.

#include "raft/wire/messages.hpp"

#include <limits>

#include "raft/errc.hpp"

#include "../storage/byte_order.hpp"

namespace raft::wire {

// -- primitives ----------------------------------------------------------------------

void writer::u8(uint8_t x) {
  out_.push_back(static_cast<char>(x));
}

void writer::u32(uint32_t x) {
  char buf[4];
  detail::put_le32(buf, x);
  out_.append(buf, 4);
}

void writer::u64(uint64_t x) {
  char buf[8];
  detail::put_le64(buf, x);
  out_.append(buf, 8);
}

void writer::str(std::string_view x) {
  u32(static_cast<uint32_t>(x.size()));
  out_.append(x.data(), x.size());
}

bool reader::take(size_t n, const char*& p) {
  if (!ok_ || in_.size() < n)
    return ok_ = false;
  p = in_.data();
  in_.remove_prefix(n);
  return true;
}

bool reader::u8(uint8_t& x) {
  const char* p;
  if (!take(1, p))
    return false;
  x = static_cast<uint8_t>(*p);
  return true;
}

bool reader::u32(uint32_t& x) {
  const char* p;
  if (!take(4, p))
    return false;
  x = detail::get_le32(p);
  return true;
}

bool reader::u64(uint64_t& x) {
  const char* p;
  if (!take(8, p))
    return false;
  x = detail::get_le64(p);
  return true;
}

bool reader::boolean(bool& x) {
  uint8_t b = 0;
  if (!u8(b) || b > 1)
    return ok_ = false;
  x = b == 1;
  return true;
}

bool reader::str(std::string& x) {
  uint32_t n = 0;
  const char* p;
  if (!u32(n) || !take(n, p)) // length checked before the copy
    return false;
  x.assign(p, n);
  return true;
}

bool reader::count(uint32_t& n, size_t min_element_size) {
  if (!u32(n))
    return false;
  if (static_cast<uint64_t>(n) * min_element_size > in_.size())
    return ok_ = false;
  return true;
}

namespace {

// -- frame building -------------------------------------------------------------------

/// Starts a frame: writes its header with length 0, returns its offset.
size_t begin(std::string& out, frame_type type) {
  size_t at = out.size();
  out.resize(at + header_size);
  write_header(&out[at], type, 0);
  return at;
}

/// Patches the frame's length.
void end(std::string& out, size_t at) {
  auto n = out.size() - at - header_size;
  detail::put_le32(&out[at + 4], static_cast<uint32_t>(n));
}

void put_error(writer& w, const caf::error& err) {
  auto code = err.category() == errc_category ? err.code()
                                              : static_cast<uint8_t>(
                                                errc::protocol_violation);
  w.u8(code);
  std::string ctx;
  if (!err.context().empty() && err.context().match_elements<std::string>())
    ctx = err.context().get_as<std::string>(0);
  w.str(ctx);
}

bool get_error(reader& r, caf::error& err) {
  uint8_t code = 0;
  std::string ctx;
  if (!r.u8(code) || !r.str(ctx))
    return false;
  // Every raft::errc of this version (the last one is overloaded).
  if (code == 0 || code > static_cast<uint8_t>(errc::overloaded))
    return false;
  err = ctx.empty() ? make_error(static_cast<errc>(code))
                    : make_error(static_cast<errc>(code), std::move(ctx));
  return true;
}

/// Smallest encoded log entry: term, index, kind, empty data.
constexpr size_t min_entry_size = 8 + 8 + 1 + 4;

/// Smallest encoded member id: its length field.
constexpr size_t min_member_size = 4;

void put_members(writer& w, const std::vector<member_id>& xs) {
  w.u32(static_cast<uint32_t>(xs.size()));
  for (auto& x : xs)
    w.str(x);
}

bool get_members(reader& r, std::vector<member_id>& xs) {
  uint32_t n = 0;
  if (!r.count(n, min_member_size)) // bounded by the bytes left
    return false;
  xs.clear();
  xs.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    member_id id;
    if (!r.str(id))
      return false;
    xs.push_back(std::move(id));
  }
  return true;
}

/// A configuration: voters, learners, old voters, each a u32 count and that
/// many strings.
void put_configuration(writer& w, const cluster_configuration& x) {
  put_members(w, x.voters);
  put_members(w, x.learners);
  put_members(w, x.old_voters);
}

/// Reads a configuration and checks its invariants (sorted, unique, no
/// learner that votes): a peer never gets an invalid one past the codec.
bool get_configuration(reader& r, cluster_configuration& x) {
  return get_members(r, x.voters) && get_members(r, x.learners)
         && get_members(r, x.old_voters) && !check(x);
}

/// An entry kind this version knows; a configuration entry must carry a
/// configuration (thesis §4.1: it is in force as soon as it is stored).
bool valid_entry(uint8_t kind, const payload& data) {
  if (kind > static_cast<uint8_t>(entry_kind::configuration))
    return false;
  if (kind == static_cast<uint8_t>(entry_kind::configuration))
    return static_cast<bool>(decode_configuration(data));
  return true;
}

} // namespace

// -- handshake -----------------------------------------------------------------------

void encode(std::string& out, const hello& x) {
  auto at = begin(out, frame_type::hello);
  writer w{out};
  w.str(x.identity);
  w.u8(static_cast<uint8_t>(x.kind));
  w.str(x.target);
  w.u32(x.max_payload);
  end(out, at);
}

bool decode(std::string_view in, hello& x) {
  reader r{in};
  uint8_t kind = 0;
  r.str(x.identity);
  r.u8(kind);
  r.str(x.target);
  r.u32(x.max_payload);
  if (!r.done() || (kind != 1 && kind != 2))
    return false;
  x.kind = static_cast<peer_kind>(kind);
  return true;
}

void encode(std::string& out, const welcome& x) {
  auto at = begin(out, frame_type::welcome);
  writer w{out};
  w.str(x.identity);
  w.u32(x.max_payload);
  end(out, at);
}

bool decode(std::string_view in, welcome& x) {
  reader r{in};
  r.str(x.identity);
  r.u32(x.max_payload);
  return r.done();
}

void encode(std::string& out, const refuse& x) {
  auto at = begin(out, frame_type::refuse);
  writer w{out};
  w.u8(static_cast<uint8_t>(x.code));
  w.str(x.text);
  end(out, at);
}

bool decode(std::string_view in, refuse& x) {
  reader r{in};
  uint8_t code = 0;
  r.u8(code);
  r.str(x.text);
  if (!r.done() || code < 1 || code > 6)
    return false;
  x.code = static_cast<refuse_code>(code);
  return true;
}

void encode_ping(std::string& out) {
  end(out, begin(out, frame_type::ping));
}

void encode_pong(std::string& out) {
  end(out, begin(out, frame_type::pong));
}

// -- Raft RPCs ---------------------------------------------------------------------------

void encode(std::string& out, const request_vote_request& x) {
  auto at = begin(out, frame_type::request_vote_request);
  writer w{out};
  w.u64(x.term);
  w.str(x.candidate_id);
  w.u64(x.last_log_index);
  w.u64(x.last_log_term);
  // Version 2: bit 0 pre_vote (thesis §9.6), bit 1 transfer (§3.10).
  w.u8(static_cast<uint8_t>((x.pre_vote ? 1 : 0) | (x.transfer ? 2 : 0)));
  end(out, at);
}

bool decode(std::string_view in, request_vote_request& x) {
  reader r{in};
  r.u64(x.term);
  r.str(x.candidate_id);
  r.u64(x.last_log_index);
  r.u64(x.last_log_term);
  uint8_t flags = 0;
  if (!r.u8(flags) || flags > 3)
    return false; // An unknown flag is malformed.
  x.pre_vote = (flags & 1) != 0;
  x.transfer = (flags & 2) != 0;
  return r.done();
}

void encode(std::string& out, const request_vote_response& x) {
  auto at = begin(out, frame_type::request_vote_response);
  writer w{out};
  w.u64(x.term);
  w.str(x.from);
  w.boolean(x.vote_granted);
  w.boolean(x.pre_vote);
  end(out, at);
}

void encode(std::string& out, const timeout_now_request& x) {
  auto at = begin(out, frame_type::timeout_now_request);
  writer w{out};
  w.u64(x.term);
  w.str(x.leader_id);
  end(out, at);
}

bool decode(std::string_view in, timeout_now_request& x) {
  reader r{in};
  r.u64(x.term);
  r.str(x.leader_id);
  return r.done();
}

bool decode(std::string_view in, request_vote_response& x) {
  reader r{in};
  r.u64(x.term);
  r.str(x.from);
  r.boolean(x.vote_granted);
  r.boolean(x.pre_vote);
  return r.done();
}

void encode(std::string& out, const append_entries_request& x) {
  auto at = begin(out, frame_type::append_entries_request);
  writer w{out};
  w.u64(x.term);
  w.str(x.leader_id);
  w.u64(x.prev_log_index);
  w.u64(x.prev_log_term);
  w.u64(x.leader_commit);
  w.u64(x.read_round);
  w.u32(static_cast<uint32_t>(x.entries.size()));
  for (auto& e : x.entries) {
    w.u64(e.term);
    w.u64(e.index);
    w.u8(static_cast<uint8_t>(e.kind));
    w.str(e.data.bytes());
  }
  end(out, at);
}

bool decode(std::string_view in, append_entries_request& x) {
  reader r{in};
  r.u64(x.term);
  r.str(x.leader_id);
  r.u64(x.prev_log_index);
  r.u64(x.prev_log_term);
  r.u64(x.leader_commit);
  r.u64(x.read_round);
  uint32_t n = 0;
  if (!r.count(n, min_entry_size))
    return false;
  x.entries.clear();
  x.entries.reserve(n); // bounded by the bytes left (count())
  for (uint32_t i = 0; i < n; ++i) {
    log_entry e;
    uint8_t kind = 0;
    std::string data;
    r.u64(e.term);
    r.u64(e.index);
    r.u8(kind);
    r.str(data);
    if (!r.ok())
      return false;
    e.kind = static_cast<entry_kind>(kind);
    e.data = payload{std::move(data)};
    if (!valid_entry(kind, e.data))
      return false;
    x.entries.push_back(std::move(e));
  }
  return r.done();
}

void encode(std::string& out, const append_entries_response& x) {
  auto at = begin(out, frame_type::append_entries_response);
  writer w{out};
  w.u64(x.term);
  w.str(x.from);
  w.boolean(x.success);
  w.u64(x.match_index);
  w.u64(x.rejected_index);
  w.u64(x.conflict_index);
  w.u64(x.conflict_term);
  w.u64(x.read_round);
  end(out, at);
}

bool decode(std::string_view in, append_entries_response& x) {
  reader r{in};
  r.u64(x.term);
  r.str(x.from);
  r.boolean(x.success);
  r.u64(x.match_index);
  r.u64(x.rejected_index);
  r.u64(x.conflict_index);
  r.u64(x.conflict_term);
  r.u64(x.read_round);
  return r.done();
}

void encode(std::string& out, const install_snapshot_request& x) {
  auto at = begin(out, frame_type::install_snapshot_request);
  writer w{out};
  w.u64(x.term);
  w.str(x.leader_id);
  w.u64(x.last_included_index);
  w.u64(x.last_included_term);
  w.u64(x.offset);
  w.str(x.data);
  w.boolean(x.done);
  w.u64(x.size);
  w.u32(x.crc);
  put_configuration(w, x.configuration);
  end(out, at);
}

bool decode(std::string_view in, install_snapshot_request& x) {
  reader r{in};
  r.u64(x.term);
  r.str(x.leader_id);
  r.u64(x.last_included_index);
  r.u64(x.last_included_term);
  r.u64(x.offset);
  r.str(x.data);
  r.boolean(x.done);
  r.u64(x.size);
  r.u32(x.crc);
  if (!get_configuration(r, x.configuration))
    return false;
  return r.done();
}

void encode(std::string& out, const install_snapshot_response& x) {
  auto at = begin(out, frame_type::install_snapshot_response);
  writer w{out};
  w.u64(x.term);
  w.str(x.from);
  w.u64(x.last_included_index);
  w.u64(x.next_offset);
  w.boolean(x.done);
  end(out, at);
}

bool decode(std::string_view in, install_snapshot_response& x) {
  reader r{in};
  r.u64(x.term);
  r.str(x.from);
  r.u64(x.last_included_index);
  r.u64(x.next_offset);
  r.boolean(x.done);
  return r.done();
}

// -- client operations -----------------------------------------------------------------

void encode(std::string& out, const client_request& x) {
  auto at = begin(out, frame_type::client_request);
  writer w{out};
  w.u64(x.id);
  w.u8(static_cast<uint8_t>(x.op));
  w.u32(static_cast<uint32_t>(x.commands.size()));
  for (auto& c : x.commands)
    w.str(c.bytes());
  end(out, at);
}

bool decode(std::string_view in, client_request& x) {
  reader r{in};
  uint8_t op = 0;
  uint32_t n = 0;
  r.u64(x.id);
  r.u8(op);
  if (!r.count(n, 4) || op < 1 || op > 3 || (op == 3 && n != 0))
    return false;
  x.op = static_cast<client_op>(op);
  x.commands.clear();
  x.commands.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    std::string cmd;
    if (!r.str(cmd))
      return false;
    x.commands.emplace_back(std::move(cmd));
  }
  return r.done();
}

void encode(std::string& out, const client_reply& x) {
  auto at = begin(out, frame_type::client_reply);
  writer w{out};
  w.u64(x.id);
  w.u32(static_cast<uint32_t>(x.outcomes.size()));
  for (auto& o : x.outcomes) {
    if (o.error) {
      w.u8(0);
      put_error(w, o.error);
    } else {
      w.u8(1);
      w.u64(o.reply.index);
      w.str(o.reply.result);
      w.str(o.reply.apply_error);
    }
  }
  end(out, at);
}

bool decode(std::string_view in, client_reply& x) {
  reader r{in};
  uint32_t n = 0;
  r.u64(x.id);
  if (!r.count(n, 1 + 1 + 4))
    return false;
  x.outcomes.clear();
  x.outcomes.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    client_outcome o;
    bool ok = false;
    if (!r.boolean(ok))
      return false;
    if (ok) {
      r.u64(o.reply.index);
      r.str(o.reply.result);
      r.str(o.reply.apply_error);
    } else if (!get_error(r, o.error)) {
      return false;
    }
    if (!r.ok())
      return false;
    x.outcomes.push_back(std::move(o));
  }
  return r.done();
}

void encode(std::string& out, const status_reply& x) {
  auto at = begin(out, frame_type::status_reply);
  writer w{out};
  w.u64(x.id);
  if (x.error) {
    w.u8(0);
    put_error(w, x.error);
  } else {
    auto& s = x.status;
    w.u8(1);
    w.str(s.id);
    w.u8(static_cast<uint8_t>(s.role));
    w.u64(s.term);
    w.str(s.leader);
    w.u64(s.commit_index);
    w.u64(s.last_applied);
    w.u64(s.last_log_index);
    w.u32(static_cast<uint32_t>(s.members.size()));
    for (auto& m : s.members)
      w.str(m);
    w.u64(s.counters.log_writes);
    w.u64(s.counters.entries_written);
    w.u64(s.counters.messages_sent);
    w.u64(s.counters.entries_sent);
    put_configuration(w, s.configuration); // since version 3
  }
  end(out, at);
}

bool decode(std::string_view in, status_reply& x) {
  reader r{in};
  bool ok = false;
  r.u64(x.id);
  if (!r.boolean(ok))
    return false;
  if (!ok)
    return get_error(r, x.error) && r.done();
  auto& s = x.status;
  uint8_t role = 0;
  uint32_t n = 0;
  r.str(s.id);
  r.u8(role);
  r.u64(s.term);
  r.str(s.leader);
  r.u64(s.commit_index);
  r.u64(s.last_applied);
  r.u64(s.last_log_index);
  if (!r.count(n, 4) || role > static_cast<uint8_t>(raft::role::stopped))
    return false;
  s.role = static_cast<raft::role>(role);
  s.members.clear();
  s.members.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    std::string m;
    if (!r.str(m))
      return false;
    s.members.push_back(std::move(m));
  }
  r.u64(s.counters.log_writes);
  r.u64(s.counters.entries_written);
  r.u64(s.counters.messages_sent);
  r.u64(s.counters.entries_sent);
  if (!get_configuration(r, s.configuration))
    return false;
  return r.done();
}

// -- membership ----------------------------------------------------------------------

void encode(std::string& out, const membership_request& x) {
  auto at = begin(out, frame_type::membership_request);
  writer w{out};
  w.u64(x.id);
  w.u8(static_cast<uint8_t>(x.op));
  w.str(x.member);
  w.boolean(x.promote);
  put_configuration(w, x.target);
  end(out, at);
}

bool decode(std::string_view in, membership_request& x) {
  reader r{in};
  uint8_t op = 0;
  r.u64(x.id);
  r.u8(op);
  r.str(x.member);
  r.boolean(x.promote);
  if (!r.ok() || op < 1 || op > 6 || !get_configuration(r, x.target)
      || !r.done())
    return false;
  x.op = static_cast<membership_op>(op);
  // Each operation uses its own fields; the others must be empty.
  bool wants_member = x.op != membership_op::members
                      && x.op != membership_op::reconfigure;
  if (wants_member == x.member.empty())
    return false;
  if (x.promote && x.op != membership_op::add_learner)
    return false;
  if ((x.op == membership_op::reconfigure) == x.target.empty())
    return false;
  return true;
}

void encode(std::string& out, const membership_reply& x) {
  auto at = begin(out, frame_type::membership_reply);
  writer w{out};
  w.u64(x.id);
  if (x.error) {
    w.u8(0);
    put_error(w, x.error);
  } else {
    w.u8(1);
    put_configuration(w, x.configuration);
  }
  end(out, at);
}

bool decode(std::string_view in, membership_reply& x) {
  reader r{in};
  bool ok = false;
  r.u64(x.id);
  if (!r.boolean(ok))
    return false;
  if (!ok)
    return get_error(r, x.error) && r.done();
  return get_configuration(r, x.configuration) && r.done();
}

} // namespace raft::wire
