// A linearizability checker over a sequential model that the application
// provides: record every client operation (invocation, completion, outcome),
// then check() that some total order of them respects real time and the
// model. Plain C++17, header-only, no CAF.
//
// The model (see docs/testing-kit.md for a complete one):
//
//   struct counter_model {
//     using state = int64_t;     // copyable, ==, std::hash (or hash() below)
//     using command = counter_op;
//     using reply = int64_t;     // ==
//     state initial() const;
//     reply apply(state& s, const command& c) const; // the sequential spec
//     // Optional:
//     std::string partition(const command& c) const; // independent objects
//     bool read_only(const command& c) const;        // changes nothing
//     size_t hash(const state& s) const;             // if no std::hash
//     std::string describe(const command& c) const;  // for reports, also
//     std::string describe(const reply& r) const;    // for reply and state
//     std::string describe(const state& s) const;
//   };
//
// Outcomes: an operation either completed with a reply (ok), definitely
// took no effect (failed: left out), or is unknown (may or may not have
// taken effect, e.g. a timeout after sending): its completion time is
// infinity and any reply fits it. An unknown read-only operation is left
// out (it has no effect and no reply to check).
//
// Real time: operation a precedes b only if a completed strictly before b
// was invoked; equal timestamps count as concurrent.
//
// The search is Wing & Gong's, with Lowe's memoization: a configuration (the
// set of operations linearized, and the model's state) is never explored
// twice. Two refinements keep unknown operations cheap, both sound because
// they only skip configurations another explored one covers:
//   * definite first: at each point the definite candidates are tried before
//     the unknown ones, so configurations with fewer unknown operations
//     linearized come first;
//   * subsumption: of two configurations with the same definite operations
//     and state, the one with a subset of the unknown operations linearized
//     can do everything the other can; once it was visited, the other is
//     skipped.
// With partition() (P-compositionality, Herlihy & Wing), each object's
// operations are checked on their own.
//
// raft/testing/kv_linearizability.hpp is the project's own key-value checker,
// tuned with model-specific rules; this one is its general form.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace raft::testing {

// -- operations ---------------------------------------------------------------

/// How an operation ended, as its client saw it.
enum class outcome : uint8_t {
  /// Completed with a reply.
  ok,
  /// Definitely took no effect (e.g. refused before it reached a log).
  failed,
  /// May or may not have taken effect (e.g. a timeout after sending).
  unknown,
};

/// One operation of a history over `Model`.
template <class Model>
struct operation {
  /// Who issued it (reports only).
  uint64_t client = 0;
  /// Invocation time (any unit, e.g. simulated nanoseconds).
  uint64_t invoke = 0;
  /// Completion time; ignored unless `status == outcome::ok`.
  uint64_t complete = 0;
  typename Model::command command{};
  outcome status = outcome::unknown;
  /// The reply; only meaningful if `status == outcome::ok`.
  typename Model::reply reply{};
};

/// An append-only list of operations.
template <class Model>
class history {
public:
  using id = std::size_t;
  using operation_type = operation<Model>;

  /// Records that `client` invoked `c` at `time`; unknown until completed
  /// or failed.
  id invoke(uint64_t client, uint64_t time, typename Model::command c) {
    operation_type op;
    op.client = client;
    op.invoke = time;
    op.command = std::move(c);
    ops_.push_back(std::move(op));
    return ops_.size() - 1;
  }

  /// Records that operation `i` completed at `time` with `r`.
  void complete(id i, uint64_t time, typename Model::reply r) {
    auto& op = ops_.at(i);
    op.complete = time;
    op.status = outcome::ok;
    op.reply = std::move(r);
  }

  /// Records that operation `i` definitely took no effect.
  void fail(id i, uint64_t time) {
    auto& op = ops_.at(i);
    op.complete = time;
    op.status = outcome::failed;
  }

  const std::vector<operation_type>& operations() const {
    return ops_;
  }

  std::size_t size() const {
    return ops_.size();
  }

private:
  std::vector<operation_type> ops_;
};

// -- checking -----------------------------------------------------------------

/// The checker's answer.
enum class verdict : uint8_t {
  /// Some linearization fits every reply.
  linearizable,
  /// None does.
  violation,
  /// The step budget ran out before a decision.
  unknown,
};

struct check_options {
  /// Search steps allowed over the whole history (one step is one candidate
  /// tried); 0: unlimited. Deciding linearizability is NP-complete.
  uint64_t max_steps = 0;
};

template <class Model>
struct check_result {
  verdict status = verdict::linearizable;
  /// violation / unknown: the partition that broke or was left undecided.
  std::string key;
  /// violation: the longest linearizable prefix found (most definite
  /// operations), in linearization order.
  std::vector<operation<Model>> prefix;
  /// violation: the definite candidates to come next after `prefix`; none
  /// leads to a complete linearization.
  std::vector<operation<Model>> unplaced;
  /// Search steps taken, operations checked, partitions.
  uint64_t steps = 0;
  std::size_t operations = 0;
  std::size_t partitions = 0;
  /// Human-readable report.
  std::string explanation;

  bool linearizable() const {
    return status == verdict::linearizable;
  }
};

inline std::ostream& operator<<(std::ostream& out, outcome x) {
  switch (x) {
    case outcome::ok:
      return out << "ok";
    case outcome::failed:
      return out << "failed";
    case outcome::unknown:
      return out << "unknown";
  }
  return out << "outcome(" << static_cast<int>(x) << ")";
}

inline std::ostream& operator<<(std::ostream& out, verdict x) {
  switch (x) {
    case verdict::linearizable:
      return out << "linearizable";
    case verdict::violation:
      return out << "violation";
    case verdict::unknown:
      return out << "unknown";
  }
  return out << "verdict(" << static_cast<int>(x) << ")";
}

namespace detail {

template <class M, class = void>
struct has_partition : std::false_type {};
template <class M>
struct has_partition<M, std::void_t<decltype(std::declval<const M&>().partition(
                          std::declval<const typename M::command&>()))>>
  : std::true_type {};

template <class M, class = void>
struct has_read_only : std::false_type {};
template <class M>
struct has_read_only<M, std::void_t<decltype(std::declval<const M&>().read_only(
                          std::declval<const typename M::command&>()))>>
  : std::true_type {};

template <class M, class = void>
struct has_hash : std::false_type {};
template <class M>
struct has_hash<M, std::void_t<decltype(std::declval<const M&>().hash(
                     std::declval<const typename M::state&>()))>>
  : std::true_type {};

template <class M, class T, class = void>
struct has_describe : std::false_type {};
template <class M, class T>
struct has_describe<M, T, std::void_t<decltype(std::declval<const M&>().describe(
                            std::declval<const T&>()))>> : std::true_type {};

template <class T, class = void>
struct printable : std::false_type {};
template <class T>
struct printable<T, std::void_t<decltype(std::declval<std::ostream&>()
                                         << std::declval<const T&>())>>
  : std::true_type {};

/// The model's describe(x), else operator<<, else "?".
template <class M, class T>
std::string describe(const M& model, const T& x) {
  if constexpr (has_describe<M, T>::value) {
    return model.describe(x);
  } else if constexpr (printable<T>::value) {
    std::ostringstream out;
    out << x;
    return out.str();
  } else {
    return "?";
  }
}

template <class M>
std::size_t hash_state(const M& model, const typename M::state& s) {
  if constexpr (has_hash<M>::value)
    return model.hash(s);
  else
    return std::hash<typename M::state>{}(s);
}

inline uint64_t mix(uint64_t x) {
  // splitmix64's finalizer.
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

using bits = std::vector<uint64_t>;

inline bool test(const bits& b, std::size_t i) {
  return (b[i / 64] >> (i % 64)) & 1;
}

inline void set(bits& b, std::size_t i, bool on) {
  if (on)
    b[i / 64] |= uint64_t{1} << (i % 64);
  else
    b[i / 64] &= ~(uint64_t{1} << (i % 64));
}

inline bool subset(const bits& x, const bits& y) {
  for (std::size_t w = 0; w < x.size(); ++w)
    if ((x[w] & ~y[w]) != 0)
      return false;
  return true;
}

/// One partition's search (see the top of this file).
template <class Model>
class searcher {
public:
  using op_t = operation<Model>;
  using state_t = typename Model::state;

  searcher(const Model& model, std::vector<const op_t*> ops)
    : model_(model), ops_(std::move(ops)) {
    std::stable_sort(ops_.begin(), ops_.end(),
                     [](const op_t* a, const op_t* b) {
                       return a->invoke < b->invoke;
                     });
    words_ = (ops_.size() + 63) / 64;
    definite_bits_.assign(words_, 0);
    unknown_bits_.assign(words_, 0);
    for (auto* op : ops_)
      if (op->status == outcome::ok)
        ++definite_;
  }

  /// Returns linearizable, violation or unknown (budget spent).
  verdict run(uint64_t& steps, uint64_t max_steps) {
    struct frame {
      std::vector<std::size_t> candidates;
      std::size_t next = 0;
      /// The operation linearized to get here, and the state before it.
      std::size_t taken = none;
      state_t before;
    };
    std::size_t remaining = definite_;
    state_t s = model_.initial();
    std::vector<frame> stack;
    stack.push_back(frame{candidates(), 0, none, s});
    while (remaining > 0) {
      auto& top = stack.back();
      if (top.next == top.candidates.size()) {
        // No candidate leads on: remember the deepest dead end, backtrack.
        if (!recorded_ || definite_ - remaining > best_definite_)
          record(stack, definite_ - remaining, s);
        auto taken = top.taken;
        auto before = std::move(top.before);
        stack.pop_back();
        if (stack.empty())
          return verdict::violation;
        mark(taken, false);
        if (ops_[taken]->status == outcome::ok)
          ++remaining;
        s = std::move(before);
        continue;
      }
      if (max_steps != 0 && steps >= max_steps)
        return verdict::unknown;
      ++steps;
      auto i = top.candidates[top.next++];
      auto& op = *ops_[i];
      state_t after = s;
      auto reply = model_.apply(after, op.command);
      if (op.status == outcome::ok && !(reply == op.reply))
        continue;
      mark(i, true);
      if (!visit(after)) {
        mark(i, false);
        continue;
      }
      if (op.status == outcome::ok)
        --remaining;
      auto before = std::move(s);
      s = std::move(after);
      stack.push_back(frame{candidates(), 0, i, std::move(before)});
    }
    return verdict::linearizable;
  }

  std::vector<op_t> prefix() const {
    std::vector<op_t> result;
    for (auto i : best_prefix_)
      result.push_back(*ops_[i]);
    return result;
  }

  std::vector<op_t> unplaced() const {
    std::vector<op_t> result;
    for (auto i : best_unplaced_)
      result.push_back(*ops_[i]);
    return result;
  }

  std::string explain(const std::string& key) const {
    std::ostringstream out;
    out << "not linearizable";
    if (!key.empty())
      out << ": " << key;
    out << "\nlongest linearizable prefix: " << best_definite_ << " of "
        << definite_ << " completed operations";
    if (best_prefix_.size() > best_definite_)
      out << ", with " << (best_prefix_.size() - best_definite_)
          << " of unknown outcome taken as applied";
    auto s = model_.initial();
    out << " (state before: " << describe(model_, s) << ")\n";
    for (std::size_t k = 0; k < best_prefix_.size(); ++k) {
      auto& op = *ops_[best_prefix_[k]];
      model_.apply(s, op.command);
      out << "  " << (k + 1) << ". " << to_string(op);
      if (op.status != outcome::ok)
        out << " (taken as applied)";
      out << "  => " << describe(model_, s) << "\n";
    }
    out << "then no operation fits; the candidates, with state "
        << describe(model_, s) << ":\n";
    for (auto i : best_unplaced_) {
      auto& op = *ops_[i];
      auto after = s;
      auto r = model_.apply(after, op.command);
      out << "  " << to_string(op) << ": ";
      if (r == op.reply)
        out << "fits here, but no complete linearization follows from it";
      else
        out << "the model replies " << describe(model_, r);
      out << "\n";
    }
    return out.str();
  }

  std::string to_string(const op_t& op) const {
    std::ostringstream out;
    out << "client " << op.client << " " << describe(model_, op.command)
        << " -> ";
    if (op.status == outcome::ok)
      out << describe(model_, op.reply) << " [" << op.invoke << ", "
          << op.complete << "]";
    else
      out << "? [" << op.invoke << ", ?)";
    return out.str();
  }

private:
  static constexpr std::size_t none = static_cast<std::size_t>(-1);

  /// The operations that may come next: not linearized yet and invoked no
  /// later than the earliest completion among the definite ones left;
  /// definite ones first.
  std::vector<std::size_t> candidates() const {
    auto deadline = std::numeric_limits<uint64_t>::max();
    for (std::size_t i = 0; i < ops_.size(); ++i)
      if (ops_[i]->status == outcome::ok && !linearized(i))
        deadline = std::min(deadline, ops_[i]->complete);
    std::vector<std::size_t> result;
    for (int pass = 0; pass < 2; ++pass)
      for (std::size_t i = 0; i < ops_.size() && ops_[i]->invoke <= deadline;
           ++i)
        if (!linearized(i) && (ops_[i]->status == outcome::ok) == (pass == 0))
          result.push_back(i);
    return result;
  }

  bool linearized(std::size_t i) const {
    return ops_[i]->status == outcome::ok ? test(definite_bits_, i)
                                          : test(unknown_bits_, i);
  }

  void mark(std::size_t i, bool on) {
    if (ops_[i]->status == outcome::ok) {
      set(definite_bits_, i, on);
      definite_hash_ ^= mix(i);
    } else {
      set(unknown_bits_, i, on);
    }
  }

  /// Records the configuration unless a visited one subsumes it.
  bool visit(const state_t& s) {
    auto h = definite_hash_ ^ mix(hash_state(model_, s));
    auto [first, last] = index_.equal_range(h);
    group* found = nullptr;
    for (auto g = first; g != last && found == nullptr; ++g) {
      auto& x = groups_[g->second];
      if (x.definite == definite_bits_ && x.state == s)
        found = &x;
    }
    if (found == nullptr) {
      index_.emplace(h, groups_.size());
      groups_.push_back(group{definite_bits_, s, {}});
      found = &groups_.back();
    } else {
      for (auto& u : found->unknown)
        if (subset(u, unknown_bits_))
          return false;
      auto& sets = found->unknown;
      sets.erase(std::remove_if(sets.begin(), sets.end(),
                                [&](const bits& u) {
                                  return subset(unknown_bits_, u);
                                }),
                 sets.end());
    }
    found->unknown.push_back(unknown_bits_);
    return true;
  }

  template <class Frames>
  void record(const Frames& stack, std::size_t definite, const state_t&) {
    recorded_ = true;
    best_definite_ = definite;
    best_prefix_.clear();
    for (auto& f : stack)
      if (f.taken != none)
        best_prefix_.push_back(f.taken);
    best_unplaced_.clear();
    for (auto i : stack.back().candidates)
      if (ops_[i]->status == outcome::ok)
        best_unplaced_.push_back(i);
  }

  struct group {
    bits definite;
    state_t state;
    std::vector<bits> unknown;
  };

  const Model& model_;
  std::vector<const op_t*> ops_;
  std::size_t words_ = 0;
  std::size_t definite_ = 0;
  bits definite_bits_;
  bits unknown_bits_;
  uint64_t definite_hash_ = 0;
  std::vector<group> groups_;
  std::unordered_multimap<uint64_t, std::size_t> index_;
  bool recorded_ = false;
  std::size_t best_definite_ = 0;
  std::vector<std::size_t> best_prefix_;
  std::vector<std::size_t> best_unplaced_;
};

} // namespace detail

/// Checks `ops` against `model`. Throws std::invalid_argument on a malformed
/// history (an ok operation completing before its invocation).
template <class Model>
check_result<Model> check(const Model& model,
                          const std::vector<operation<Model>>& ops,
                          const check_options& opts = {}) {
  check_result<Model> result;
  std::map<std::string, std::vector<const operation<Model>*>> parts;
  for (auto& op : ops) {
    if (op.status == outcome::ok && op.complete < op.invoke)
      throw std::invalid_argument(
        "malformed history: an operation completes before its invocation");
    if (op.status == outcome::failed)
      continue;
    if constexpr (detail::has_read_only<Model>::value)
      if (op.status == outcome::unknown && model.read_only(op.command))
        continue;
    std::string key;
    if constexpr (detail::has_partition<Model>::value)
      key = model.partition(op.command);
    parts[key].push_back(&op);
    ++result.operations;
  }
  result.partitions = parts.size();
  std::vector<std::string> undecided;
  for (auto& [key, part] : parts) {
    detail::searcher<Model> s{model, std::move(part)};
    auto v = s.run(result.steps, opts.max_steps);
    if (v == verdict::violation) {
      result.status = verdict::violation;
      result.key = key;
      result.prefix = s.prefix();
      result.unplaced = s.unplaced();
      result.explanation = s.explain(key);
      return result;
    }
    if (v == verdict::unknown)
      undecided.push_back(key);
  }
  std::ostringstream out;
  if (!undecided.empty()) {
    result.status = verdict::unknown;
    result.key = undecided.front();
    out << "undecided: the step budget ran out after " << result.steps
        << " steps; " << undecided.size() << " of " << result.partitions
        << " partitions left undecided\n";
  } else {
    out << "linearizable: " << result.operations << " operations in "
        << result.partitions << " partitions, " << result.steps
        << " steps\n";
  }
  result.explanation = out.str();
  return result;
}

template <class Model>
check_result<Model> check(const Model& model, const history<Model>& h,
                          const check_options& opts = {}) {
  return check(model, h.operations(), opts);
}

} // namespace raft::testing
