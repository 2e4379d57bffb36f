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

/// A member is identified by its `host:port`, as in Vanadium's raft interface
/// (docs/api.md).
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
  /// A cluster configuration (thesis §4.1): its payload is
  /// encode_configuration's. In force as soon as it is in the log, committed
  /// or not. Never delivered to the application.
  configuration = 2,
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

/// The role a member plays (§5.1, Figure 4). Each role is a behaviour of the
/// member actor (actors/member.cpp, installed by `become_*`); its data lives
/// in `member_state::role_data` only while the role lasts
/// (actors/member_state.hpp). Every role handles a Raft message's term and
/// leader the same way, in `step()` (actors/member_step.cpp): a higher term
/// makes any member a follower (§5.1).
enum class role : uint8_t {
  /// Spawned, not started: takes `add_atom` (its peers), ignores peers'
  /// messages, refuses client requests with `not_started`. Behaviour
  /// `idle()`; leaves on `start_atom` (to follower) or `stop_atom`.
  idle,
  /// Answers RequestVote and AppendEntries (Figure 2, receivers), forwards
  /// clients' appends and queries to the leader it knows (or parks them).
  /// Behaviour `following()`, entered by `become_follower()`; leaves when
  /// its election timeout passes without hearing from a leader or granting
  /// a vote (§5.2, to candidate).
  follower,
  /// Has voted for itself in a new term and asks the others for votes
  /// (§5.2); parks clients' requests. Behaviour `candidating()`, entered by
  /// `become_candidate()`; leaves with votes from a majority (to leader),
  /// on AppendEntries of its term or a higher term (to follower), or starts
  /// a new election when its timeout passes again.
  candidate,
  /// Appends clients' commands, replicates them (§5.3), commits by majority
  /// (§5.4.2), serves ReadIndex queries (thesis §6.4) and sends snapshots
  /// (§7). Behaviour `leading()`, entered by `become_leader()`; leaves on a
  /// higher term, or when it no longer hears from a majority (check
  /// quorum, thesis §6.2), to follower.
  leader,
  /// Stopped for good (Vanadium's raft interface: "It cannot be Start'ed
  /// again"): set by `shut_down()` (actors/member_ops.cpp) on a stop
  /// request, a storage or state machine failure; the actor then quits.
  stopped,
};

std::string to_string(role x);

} // namespace raft
