// The testing kit's key-value linearizability checker, for the project's
// fault-injection tests (the simulation and the chaos test): record every
// client operation of a run (invocation, completion, outcome), then check()
// that some total order of them respects real time and the sequential
// key-value model below. It is the general checker of linearizability.hpp
// specialised to this model, with pruning rules only this model allows.
//
// Plain C++17, no CAF.
//
// The model (one register per key; a key starts with no value):
//
//   put(k, v)        -> ok                      value := v
//   get(k)           -> ok(v) | not_found
//   cas(k, e, n)     -> ok                      if value == e: value := n
//                    -> mismatch                if value != e (no change)
//                    -> not_found               if k has no value (no change)
//   del(k)           -> ok                      if k has a value: removed
//                    -> not_found               if k has no value (no change)
//
// Deleting a missing key replies not_found (a definite reply, checked like
// any other), as tests/support/kv_machine does.
//
// Outcomes: an operation either completed with a reply (ok), failed
// (definitely not applied: dropped before checking), or is unknown (may or
// may not have been applied, e.g. a timeout after sending). An unknown
// operation's completion time is infinity: it may take effect at any point
// after its invocation, or never.
//
// Real time: operation a precedes b only if a completed strictly before b
// was invoked; equal timestamps count as concurrent.
//
// The search (Wing & Gong, with Lowe's memoization; the approach Porcupine
// popularized) is described in linearizability.cpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace raft::testing::kv {

// -- operations ---------------------------------------------------------------

/// The four operations of the key-value model.
enum class op_kind : uint8_t {
  /// put(key, value): sets the value; always replies ok.
  put,
  /// get(key): replies ok with the value, or not_found.
  get,
  /// cas(key, expected, value): ok and sets `value` if the current value
  /// equals `expected`; mismatch or not_found (no change) otherwise.
  cas,
  /// del(key): ok and removes the value if there is one; else not_found.
  del,
};

/// A reply's code.
enum class result_code : uint8_t {
  /// Applied (get: found; the value read is in `response::value`).
  ok,
  /// The key had no value (get, cas, del). Nothing changed.
  not_found,
  /// cas only: the key had a value other than the expected one. No change.
  mismatch,
};

/// How an operation ended, as its client saw it.
enum class outcome : uint8_t {
  /// Completed with a reply.
  ok,
  /// Definitely not applied (e.g. rejected before it was appended).
  /// Dropped before checking.
  failed,
  /// May or may not have been applied (e.g. timed out after sending). Its
  /// completion time is taken as infinity.
  unknown,
};

/// What a client asked for.
struct call {
  op_kind kind = op_kind::get;
  std::string key;
  /// put: the value written; cas: the new value. Unused otherwise.
  std::string value;
  /// cas: the expected value. Unused otherwise.
  std::string expected;

  static call put(std::string key, std::string value);
  static call get(std::string key);
  static call cas(std::string key, std::string expected, std::string value);
  static call del(std::string key);
};

/// What a completed operation replied.
struct response {
  result_code code = result_code::ok;
  /// get with code ok: the value read. Unused otherwise.
  std::string value;

  static response ok();
  /// get: found `value`.
  static response found(std::string value);
  static response not_found();
  static response mismatch();
};

/// One operation of a history.
struct operation {
  /// Who issued it. Only used in reports: a client's own operations must not
  /// overlap in time, but the checker does not rely on that.
  uint64_t client = 0;
  /// Invocation time (any unit, e.g. simulated or real nanoseconds).
  uint64_t invoke = 0;
  /// Completion time; ignored unless `status == outcome::ok`.
  /// Invariant (ok operations): complete >= invoke.
  uint64_t complete = 0;
  call op;
  outcome status = outcome::ok;
  /// The reply; only meaningful if `status == outcome::ok`.
  response result;
};

// -- recording ----------------------------------------------------------------

/// An append-only list of operations. Not synchronized: a multi-threaded
/// recorder guards it with its own mutex.
class history {
public:
  using id = std::size_t;

  /// Records that `client` invoked `c` at `time`. Until completed or failed,
  /// the operation's outcome is unknown; operations still pending when the
  /// run ends stay unknown.
  id invoke(uint64_t client, uint64_t time, call c);

  /// Records that operation `i` completed at `time` with `r`.
  void complete(id i, uint64_t time, response r);

  /// Records that operation `i` definitely was not applied.
  void fail(id i, uint64_t time);

  /// Adds a completed operation (for hand-written histories).
  id add(uint64_t client, uint64_t invoke, uint64_t complete, call c,
         response r);

  /// Adds an operation with unknown outcome.
  id add_unknown(uint64_t client, uint64_t invoke, call c);

  /// Adds a failed operation.
  id add_failed(uint64_t client, uint64_t invoke, uint64_t complete, call c);

  const std::vector<operation>& operations() const {
    return ops_;
  }

  std::vector<operation>& operations() {
    return ops_;
  }

  std::size_t size() const {
    return ops_.size();
  }

private:
  std::vector<operation> ops_;
};

// -- checking -----------------------------------------------------------------

/// The checker's answer.
enum class verdict : uint8_t {
  /// Every key's history is linearizable.
  linearizable,
  /// Some key's history is not linearizable.
  violation,
  /// The step budget or the timeout ran out before a decision.
  unknown,
};

/// Limits for one check() call. Deciding linearizability is NP-complete;
/// in practice a history is checked in about one step per operation when
/// keys see little concurrency, and in tens to hundreds per operation on a
/// hot key with 8 clients. Refuting a history with many unknown outcomes on
/// one hot key is the expensive case (millions of steps), so tests that
/// may produce one should set a limit and report `unknown` as inconclusive.
struct check_options {
  /// Search steps allowed over the whole history; 0: unlimited. One step is
  /// one look at a candidate entry (tens of nanoseconds).
  uint64_t max_steps = 0;
  /// Wall-clock limit (checked every 1024 steps); zero: none.
  std::chrono::nanoseconds timeout{0};
};

struct check_result {
  verdict status = verdict::linearizable;
  /// violation: the first violating key (in key order); unknown: the first
  /// undecided key. Empty if linearizable.
  std::string key;
  /// violation: the longest linearizable prefix of `key`'s operations (the
  /// most completed ones), in linearization order; unknown operations in it
  /// count as applied.
  std::vector<operation> prefix;
  /// violation: the definite operations that were candidates to come next
  /// after `prefix` (invoked before the earliest completion among the
  /// operations left); none of them leads to a complete linearization.
  std::vector<operation> unplaced;
  /// Every violating key, and every key left undecided, in key order.
  std::vector<std::string> violating_keys;
  std::vector<std::string> undecided_keys;
  /// Search steps taken in total.
  uint64_t steps = 0;
  /// Operations checked (failed and unknown gets dropped), and keys.
  std::size_t operations = 0;
  std::size_t keys = 0;
  /// Human-readable report: the verdict, and for a violation the key, the
  /// prefix with the value after each operation, and why each unplaced
  /// operation does not fit.
  std::string explanation;

  bool linearizable() const {
    return status == verdict::linearizable;
  }
};

/// Checks `ops` against the key-value model. Throws std::invalid_argument on
/// a malformed history (an ok operation completing before its invocation, or
/// a reply code its operation cannot return, e.g. put -> not_found).
check_result check(const std::vector<operation>& ops,
                   const check_options& opts = {});

inline check_result check(const history& h, const check_options& opts = {}) {
  return check(h.operations(), opts);
}

// -- printing -----------------------------------------------------------------

/// E.g. `client 2 cas("x", "a" -> "b") -> mismatch [10, 25]`.
std::string to_string(const operation& op);

std::ostream& operator<<(std::ostream& out, op_kind x);
std::ostream& operator<<(std::ostream& out, result_code x);
std::ostream& operator<<(std::ostream& out, outcome x);
std::ostream& operator<<(std::ostream& out, verdict x);
std::ostream& operator<<(std::ostream& out, const operation& x);
/// Prints the explanation.
std::ostream& operator<<(std::ostream& out, const check_result& x);

} // namespace raft::testing::kv
