// Basic vocabulary of the protocol: indexes, terms, member ids, log entries.
// Everything here is plain data with an inspect() overload so that CAF can
// serialize it between members; nothing here knows about actors or files.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "caf/meta/type_name.hpp"

namespace raft {

/// Position in the replicated log. The first entry has index 1; 0 means "none".
using index_t = uint64_t;

/// Election term (§5.1). Terms start at 0 and only grow.
using term_t = uint64_t;

/// A member is identified by its `host:port`, as in the seed interface.
using member_id = std::string;

// -- payload -------------------------------------------------------------------

/// Immutable command bytes, shared by reference count. A command travels from
/// the client through the leader's log, every append message and the log
/// writer without being copied; only serialization touches the bytes.
class payload {
public:
  payload() = default;

  explicit payload(std::string bytes)
    : ptr_(std::make_shared<const std::string>(std::move(bytes))) {
    // nop
  }

  payload(const char* data, size_t size) : payload(std::string(data, size)) {
    // nop
  }

  /// The bytes; an empty payload yields an empty string.
  const std::string& bytes() const {
    return ptr_ ? *ptr_ : empty_string();
  }

  size_t size() const {
    return ptr_ ? ptr_->size() : 0;
  }

  bool empty() const {
    return size() == 0;
  }

  friend bool operator==(const payload& x, const payload& y) {
    return x.bytes() == y.bytes();
  }

  friend bool operator!=(const payload& x, const payload& y) {
    return !(x == y);
  }

private:
  static const std::string& empty_string() {
    static const std::string empty;
    return empty;
  }

  std::shared_ptr<const std::string> ptr_;
};

/// @relates payload
template <class Inspector>
typename std::enable_if<Inspector::reads_state,
                        typename Inspector::result_type>::type
inspect(Inspector& f, payload& x) {
  // Serializers only read: passing the shared string avoids a copy.
  return f(const_cast<std::string&>(x.bytes()));
}

/// @relates payload
template <class Inspector>
typename std::enable_if<Inspector::writes_state,
                        typename Inspector::result_type>::type
inspect(Inspector& f, payload& x) {
  std::string tmp;
  if constexpr (std::is_void<typename Inspector::result_type>::value) {
    f(tmp);
    x = payload{std::move(tmp)};
  } else {
    auto result = f(tmp);
    x = payload{std::move(tmp)};
    return result;
  }
}

// -- log entries ---------------------------------------------------------------

/// What an entry carries.
enum class entry_kind : uint8_t {
  /// An application command, delivered to the state machine.
  command = 0,
  /// The empty entry a new leader appends to commit entries of earlier terms
  /// (§5.4.2, thesis §6.4). Never delivered to the application.
  noop = 1,
};

/// One slot of the replicated log (Figure 2: "each entry contains command for
/// state machine, and term when entry was received by leader").
struct log_entry {
  term_t term = 0;
  index_t index = 0;
  entry_kind kind = entry_kind::command;
  payload data;

  friend bool operator==(const log_entry& x, const log_entry& y) {
    return x.term == y.term && x.index == y.index && x.kind == y.kind
           && x.data == y.data;
  }
};

/// @relates log_entry
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, log_entry& x) {
  return f(caf::meta::type_name("log_entry"), x.term, x.index, x.kind, x.data);
}

using entry_vector = std::vector<log_entry>;

// -- persistent state ------------------------------------------------------------

/// Figure 2, "persistent state on all servers" besides the log: written to
/// stable storage before responding to RPCs.
struct hard_state {
  /// Latest term this member has seen.
  term_t current_term = 0;
  /// Candidate that received this member's vote in `current_term`, or empty.
  member_id voted_for;

  friend bool operator==(const hard_state& x, const hard_state& y) {
    return x.current_term == y.current_term && x.voted_for == y.voted_for;
  }
};

/// @relates hard_state
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, hard_state& x) {
  return f(caf::meta::type_name("hard_state"), x.current_term, x.voted_for);
}

/// The last entry a snapshot covers (§7: "last included index/term").
struct snapshot_meta {
  index_t last_index = 0;
  term_t last_term = 0;
};

/// @relates snapshot_meta
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot_meta& x) {
  return f(caf::meta::type_name("snapshot_meta"), x.last_index, x.last_term);
}

/// The role a member plays (§5.1, Figure 4).
enum class role : uint8_t {
  /// Spawned but not started yet.
  idle,
  follower,
  candidate,
  leader,
  /// Stopped for good (seed: "It cannot be Start'ed again").
  stopped,
};

std::string to_string(role x);

} // namespace raft
