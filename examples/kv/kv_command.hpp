// The key-value store's commands and results, as they travel in the log.
//
// A command is one op byte followed by length-prefixed fields
// (|u32 big-endian length|bytes|), so keys and values may hold any bytes:
//   'P' key value          put: set key; result ""
//   'G' key                get: result the value; error "not_found"
//   'C' key expected new   compare-and-set; error "not_found", or
//                          "mismatch" with the current value as result
//   'D' key                delete; error "not_found"
// Errors are the application's (apply_result::error): the command is still
// committed; only the proposer learns of it. Gets are normally queries
// (ReadIndex), never written to the log, but are valid commands too.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "raft/core/types.hpp"

namespace kv {

enum class op : char {
  put = 'P',
  get = 'G',
  cas = 'C',
  del = 'D',
};

struct command {
  kv::op op = op::get;
  std::vector<std::string> args;
};

/// The application errors (apply_result::error).
inline const std::string not_found = "not_found";
inline const std::string mismatch = "mismatch";
inline const std::string bad_command = "bad_command";

raft::payload encode(op o, const std::vector<std::string>& args);

/// The command in `bytes`, or nothing if it is malformed (wrong op, field
/// count or lengths).
std::optional<command> decode(const std::string& bytes);

inline raft::payload put_cmd(const std::string& k, const std::string& v) {
  return encode(op::put, {k, v});
}
inline raft::payload get_cmd(const std::string& k) {
  return encode(op::get, {k});
}
inline raft::payload cas_cmd(const std::string& k, const std::string& expected,
                             const std::string& v) {
  return encode(op::cas, {k, expected, v});
}
inline raft::payload del_cmd(const std::string& k) {
  return encode(op::del, {k});
}

/// Length-prefixed string fields, shared with the snapshot format.
void put_field(std::string& out, const std::string& field);
bool get_field(const std::string& in, size_t& pos, std::string& field);

} // namespace kv
