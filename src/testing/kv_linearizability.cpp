// The checker: partition by key, then a depth-first search per key.
//
// P-compositionality (Herlihy & Wing): a history is linearizable iff each
// object's sub-history is. Every operation touches exactly one key, so each
// key is checked on its own, which keeps the searches small.
//
// The search for one key (Wing & Gong's algorithm with Lowe's memoization):
//
//   * Each operation gives a call entry at its invocation time and, unless
//     its outcome is unknown, a return entry at its completion time, all
//     sorted by time (at equal times calls first: such operations overlap).
//     Definite entries sit in one doubly-linked list, unknown calls in
//     another.
//   * Walking the definite list from its head, every call met before the
//     first return entry belongs to an operation invoked before the earliest
//     completion among the definite operations not yet linearized; so do the
//     unknown calls sorted before that return entry. Together they are the
//     candidates for the next linearization point.
//   * Linearizing one applies it to the model (the key's value, interned to
//     an int), unlinks its entries ("lifts" them) and pushes it on a stack;
//     the walk restarts at the head. If the model rejects it, or the
//     configuration it leads to is subsumed by one visited before (below),
//     the walk moves on to the next candidate.
//   * No candidate left means the operation of that first return entry
//     should already have been linearized: backtrack (pop, relink, restore
//     the value) and go on with the candidate after the popped one.
//   * Done when every definite operation is linearized: unknown operations
//     never force a backtrack, so they may be placed anywhere after their
//     invocation, or left out. A violation when there is nothing to pop.
//
// Memoization (Lowe): a configuration is the set of linearized operations
// and the model's value; what can follow depends on nothing else, so the
// search never explores one twice. Definite operations get linearized
// roughly in invocation order, so their set is stored as "every rank below
// r" plus the few words above r, hashed incrementally (a random word per
// operation, XORed in and out): a configuration costs a few words.
//
// Unknown operations need more, or k unknown writes that never took effect
// let the search revisit the rest of the history under each of their 2^k
// subsets. Four things keep that in check; each is sound because it only
// skips configurations or orders that another explored one covers:
//
//   * Subsumption. Of two configurations with the same definite set and
//     value, the one with fewer unknown operations linearized (a subset)
//     can do all the other can, and may still use or leave out the extra
//     ones. Once it was visited, the other is skipped (memo::visit()).
//   * Definite first. Each window of candidates is tried in two passes,
//     definite operations, then unknown ones: an unknown operation is
//     linearized only where nothing definite leads on, so configurations
//     with fewer unknown operations tend to come first and subsume later
//     ones.
//   * No blind write right after an unknown operation. An unknown put or
//     del right after another unknown operation u overwrites u's effect:
//     the same order without u ends in the same value, with u still
//     available. So the search never places one there.
//   * Interchangeable operations in order. Values no get returns and no cas
//     expects are one value to the model (no operation can tell them
//     apart). Unknown operations of the same kind with the same model
//     arguments (a put of any such value, any two dels) are then
//     interchangeable, and any linearization can swap them so that the one
//     invoked first is used first. So the search only tries the first one
//     left of each such class.
//
#include "raft/testing/kv_linearizability.hpp"

#include <algorithm>
#include <map>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <tuple>
#include <unordered_map>
#include <utility>

namespace raft::testing::kv {

// -- operations ---------------------------------------------------------------

call call::put(std::string key, std::string value) {
  return call{op_kind::put, std::move(key), std::move(value), {}};
}

call call::get(std::string key) {
  return call{op_kind::get, std::move(key), {}, {}};
}

call call::cas(std::string key, std::string expected, std::string value) {
  return call{op_kind::cas, std::move(key), std::move(value),
              std::move(expected)};
}

call call::del(std::string key) {
  return call{op_kind::del, std::move(key), {}, {}};
}

response response::ok() {
  return response{result_code::ok, {}};
}

response response::found(std::string value) {
  return response{result_code::ok, std::move(value)};
}

response response::not_found() {
  return response{result_code::not_found, {}};
}

response response::mismatch() {
  return response{result_code::mismatch, {}};
}

// -- recording ----------------------------------------------------------------

history::id history::invoke(uint64_t client, uint64_t time, call c) {
  operation op;
  op.client = client;
  op.invoke = time;
  op.op = std::move(c);
  op.status = outcome::unknown;
  ops_.push_back(std::move(op));
  return ops_.size() - 1;
}

void history::complete(id i, uint64_t time, response r) {
  auto& op = ops_.at(i);
  op.complete = time;
  op.status = outcome::ok;
  op.result = std::move(r);
}

void history::fail(id i, uint64_t time) {
  auto& op = ops_.at(i);
  op.complete = time;
  op.status = outcome::failed;
}

history::id history::add(uint64_t client, uint64_t invoke, uint64_t complete,
                         call c, response r) {
  auto i = this->invoke(client, invoke, std::move(c));
  this->complete(i, complete, std::move(r));
  return i;
}

history::id history::add_unknown(uint64_t client, uint64_t invoke, call c) {
  return this->invoke(client, invoke, std::move(c));
}

history::id history::add_failed(uint64_t client, uint64_t invoke,
                                uint64_t complete, call c) {
  auto i = this->invoke(client, invoke, std::move(c));
  fail(i, complete);
  return i;
}

namespace {

// -- the model on interned values ---------------------------------------------

/// The model's value of a key without one.
constexpr int32_t no_value = -1;

/// An operation of one key's sub-history, its strings interned per key.
struct key_op {
  op_kind kind;
  result_code code;
  bool unknown;
  /// put, cas: the value written; get (ok): the value read. The model's id:
  /// all values nobody reads share one (see partition::finish()).
  int32_t value;
  /// cas: the expected value.
  int32_t expected;
  /// put, cas: the value written, its own id (for reports).
  int32_t written;
  /// Index into the caller's history.
  std::size_t index;
};

/// The model's own reply and next value for `op` applied to `state`.
std::pair<result_code, int32_t> apply(int32_t state, const key_op& op) {
  switch (op.kind) {
    case op_kind::put:
      return {result_code::ok, op.value};
    case op_kind::get:
      return {state == no_value ? result_code::not_found : result_code::ok,
              state};
    case op_kind::cas:
      if (state == no_value)
        return {result_code::not_found, state};
      if (state == op.expected)
        return {result_code::ok, op.value};
      return {result_code::mismatch, state};
    case op_kind::del:
      return {state == no_value ? result_code::not_found : result_code::ok,
              no_value};
  }
  return {result_code::ok, state};
}

/// Whether `op` may take effect on `state`; if so, sets `next`. An unknown
/// operation's reply was never seen, so any reply fits.
bool step(int32_t state, const key_op& op, int32_t& next) {
  auto [code, after] = apply(state, op);
  if (!op.unknown) {
    if (code != op.code)
      return false;
    if (op.kind == op_kind::get && code == result_code::ok && state != op.value)
      return false;
  }
  next = after;
  return true;
}

uint64_t mix(uint64_t x) {
  // splitmix64's finalizer.
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// -- budget -------------------------------------------------------------------

struct budget {
  uint64_t steps = 0;
  uint64_t max_steps = 0;
  std::chrono::nanoseconds timeout{0};
  std::chrono::steady_clock::time_point start;
  bool exhausted = false;

  /// Counts one step; false once the budget is spent.
  bool tick() {
    ++steps;
    if (max_steps != 0 && steps > max_steps)
      exhausted = true;
    else if (timeout.count() != 0 && (steps & 1023) == 0
             && std::chrono::steady_clock::now() - start > timeout)
      exhausted = true;
    return !exhausted;
  }
};

// -- memo cache ---------------------------------------------------------------

/// The configurations visited, grouped by their definite part (see
/// key_checker::definite_key()) and model value; each group holds the sets
/// of unknown operations it was visited with.
class memo {
public:
  explicit memo(std::size_t unknown_words) : unknown_words_(unknown_words) {
  }

  /// Records a configuration unless one visited before subsumes it: same
  /// group, and a subset of its unknown operations linearized (so at least
  /// the same continuations). Returns whether it was recorded.
  bool visit(const std::vector<uint64_t>& key, uint64_t hash,
             const std::vector<uint64_t>& unknown) {
    auto [first, last] = index_.equal_range(hash);
    group* found = nullptr;
    for (auto i = first; i != last && found == nullptr; ++i) {
      auto& g = groups_[i->second];
      if (std::equal(key.begin(), key.end(), keys_.data() + g.key_begin,
                     keys_.data() + g.key_end))
        found = &g;
    }
    if (found == nullptr) {
      index_.emplace(hash, groups_.size());
      groups_.push_back({keys_.size(), keys_.size() + key.size(), {}});
      keys_.insert(keys_.end(), key.begin(), key.end());
      found = &groups_.back();
    } else {
      auto& sets = found->unknown_sets;
      for (auto offset : sets)
        if (subset(unknowns_.data() + offset, unknown.data()))
          return false;
      // Sets the new one subsumes are of no more use.
      sets.erase(std::remove_if(sets.begin(), sets.end(),
                                [&](std::size_t offset) {
                                  return subset(unknown.data(),
                                                unknowns_.data() + offset);
                                }),
                 sets.end());
    }
    found->unknown_sets.push_back(unknowns_.size());
    unknowns_.insert(unknowns_.end(), unknown.begin(), unknown.end());
    return true;
  }

private:
  bool subset(const uint64_t* x, const uint64_t* y) const {
    for (std::size_t w = 0; w < unknown_words_; ++w)
      if ((x[w] & ~y[w]) != 0)
        return false;
    return true;
  }

  struct group {
    std::size_t key_begin; // the key is keys_[key_begin, key_end)
    std::size_t key_end;
    std::vector<std::size_t> unknown_sets; // offsets into unknowns_
  };

  std::size_t unknown_words_;
  std::vector<uint64_t> keys_;
  std::vector<uint64_t> unknowns_;
  std::vector<group> groups_;
  std::unordered_multimap<uint64_t, std::size_t> index_;
};

// -- one key ------------------------------------------------------------------

enum class key_verdict { linearizable, violation, undecided };

class key_checker {
public:
  key_checker(std::vector<key_op> ops, std::vector<std::string> names,
              const std::vector<operation>& all);

  key_verdict run(budget& b);

  /// After a violation: the report's parts.
  std::vector<operation> prefix() const;
  std::vector<operation> unplaced() const;
  std::string explain(const std::string& key) const;

private:
  struct frame {
    std::size_t entry;    // the linearized operation's call entry
    std::size_t blocking; // the first return entry when it was chosen
    int32_t state;        // the model's value before it
    int64_t max_rank;     // the highest definite rank linearized before it
  };

  static constexpr std::size_t none = static_cast<std::size_t>(-1);

  bool is_unknown_entry(std::size_t e) const {
    return ops_[op_of_[e]].unknown;
  }

  void build_lists();
  void lift(std::size_t call_entry);
  void unlift(std::size_t call_entry);
  void mark(std::size_t op);
  void unmark(std::size_t op);
  bool canonical_next(std::size_t call_entry) const;
  void definite_key(int32_t state, int64_t max_rank);
  void record_deepest(std::size_t blocking, std::size_t definite);
  std::string value_name(int32_t v) const;

  std::vector<key_op> ops_;
  std::vector<std::string> names_;
  const std::vector<operation>& all_;
  std::size_t definite_count_ = 0;
  std::size_t unknown_count_ = 0;

  // Entries [0, end_) are sorted by time. Two circular doubly-linked lists
  // share next_ and prev_: the definite list (calls and returns of definite
  // operations, sentinel end_) and the unknown list (calls of unknown
  // operations, sentinel end_ + 1). Kept apart so that unknown operations
  // left out for good cost nothing while the walk looks for definite ones.
  std::size_t end_ = 0;
  std::vector<std::size_t> next_;
  std::vector<std::size_t> prev_;
  std::vector<std::size_t> op_of_;  // entry -> operation
  std::vector<bool> is_call_;       // entry -> call or return
  std::vector<std::size_t> ret_of_; // call entry -> its return entry

  std::size_t definite_head() const {
    return end_;
  }

  std::size_t unknown_head() const {
    return end_ + 1;
  }

  // The set of linearized operations, in two bitsets: definite operations
  // by rank (order of invocation), unknown ones by their own rank.
  // Invariant: every definite rank below first_open_ is linearized, so the
  // definite part is stored as first_open_ and the words from
  // first_open_ / 64 up to the highest rank linearized (usually one or two).
  std::vector<std::size_t> rank_; // operation -> rank among its kind
  std::vector<uint64_t> definite_bits_;
  std::vector<uint64_t> unknown_bits_;
  std::size_t first_open_ = 0;
  std::vector<uint64_t> zobrist_; // definite operation -> random hash word
  uint64_t definite_hash_ = 0;    // XOR of zobrist_ over the definite set
  std::vector<uint64_t> scratch_; // the definite key being looked up

  // Unknown operations with the same kind and model arguments (e.g. puts of
  // values nobody reads, or any two deletes) are interchangeable: the
  // search only linearizes the one invoked first of those still left.
  // Invariant: the members of a class linearized are its first
  // class_used_[c], in rank order.
  std::vector<std::size_t> class_of_;  // unknown operation -> its class
  std::vector<std::size_t> member_of_; // unknown operation -> its place
  std::vector<std::size_t> class_used_;

  std::vector<frame> stack_;

  // The deepest point reached (most definite operations linearized),
  // recorded at backtracks. best_prefix_ agrees with the stack on its first
  // agree_ frames, so recording again copies only the frames pushed since.
  bool recorded_ = false;
  std::size_t agree_ = 0;
  std::size_t best_definite_ = 0;
  std::vector<std::size_t> best_prefix_;   // operations, in order
  std::vector<std::size_t> best_unplaced_; // operations
  uint64_t best_deadline_ = 0;             // the blocking completion time
};

key_checker::key_checker(std::vector<key_op> ops,
                         std::vector<std::string> names,
                         const std::vector<operation>& all)
  : ops_(std::move(ops)), names_(std::move(names)), all_(all) {
  build_lists();
  zobrist_.resize(ops_.size());
  for (std::size_t i = 0; i < ops_.size(); ++i)
    zobrist_[i] = mix(i * 0x2545f4914f6cdd1dULL + 1);
  std::map<std::tuple<op_kind, int32_t, int32_t>, std::size_t> classes;
  std::vector<std::size_t> members;
  class_of_.assign(ops_.size(), none);
  member_of_.assign(ops_.size(), none);
  for (auto e = next_[unknown_head()]; e != unknown_head(); e = next_[e]) {
    auto i = op_of_[e];
    auto& op = ops_[i];
    auto args = op.kind == op_kind::del
                  ? std::make_tuple(op.kind, no_value, no_value)
                  : std::make_tuple(op.kind, op.expected, op.value);
    auto c = classes.emplace(args, classes.size()).first->second;
    if (c == members.size())
      members.push_back(0);
    class_of_[i] = c;
    member_of_[i] = members[c]++;
  }
  class_used_.assign(classes.size(), 0);
}

void key_checker::build_lists() {
  struct event {
    uint64_t time;
    bool is_return;
    std::size_t op;
  };
  std::vector<event> events;
  events.reserve(ops_.size() * 2);
  for (std::size_t i = 0; i < ops_.size(); ++i) {
    auto& src = all_[ops_[i].index];
    events.push_back({src.invoke, false, i});
    if (!ops_[i].unknown)
      events.push_back({src.complete, true, i});
  }
  std::sort(events.begin(), events.end(), [](const event& x, const event& y) {
    return std::tie(x.time, x.is_return, x.op)
           < std::tie(y.time, y.is_return, y.op);
  });
  end_ = events.size();
  next_.resize(end_ + 2);
  prev_.resize(end_ + 2);
  op_of_.resize(end_);
  is_call_.resize(end_);
  ret_of_.assign(end_, none);
  rank_.assign(ops_.size(), none);
  std::vector<std::size_t> call_entry(ops_.size(), none);
  auto last_definite = definite_head();
  auto last_unknown = unknown_head();
  auto append = [&](std::size_t& last, std::size_t e) {
    next_[last] = e;
    prev_[e] = last;
    last = e;
  };
  for (std::size_t e = 0; e < end_; ++e) {
    auto i = events[e].op;
    op_of_[e] = i;
    is_call_[e] = !events[e].is_return;
    if (is_call_[e]) {
      call_entry[i] = e;
      rank_[i] = ops_[i].unknown ? unknown_count_++ : definite_count_++;
    } else {
      ret_of_[call_entry[i]] = e;
    }
    append(ops_[i].unknown ? last_unknown : last_definite, e);
  }
  next_[last_definite] = definite_head();
  prev_[definite_head()] = last_definite;
  next_[last_unknown] = unknown_head();
  prev_[unknown_head()] = last_unknown;
  definite_bits_.assign((definite_count_ + 63) / 64, 0);
  unknown_bits_.assign((unknown_count_ + 63) / 64, 0);
}

void key_checker::lift(std::size_t e) {
  next_[prev_[e]] = next_[e];
  prev_[next_[e]] = prev_[e];
  if (auto r = ret_of_[e]; r != none) {
    next_[prev_[r]] = next_[r];
    prev_[next_[r]] = prev_[r];
  }
}

void key_checker::unlift(std::size_t e) {
  // Relink in the reverse order of lift().
  if (auto r = ret_of_[e]; r != none) {
    next_[prev_[r]] = r;
    prev_[next_[r]] = r;
  }
  next_[prev_[e]] = e;
  prev_[next_[e]] = e;
}

void key_checker::mark(std::size_t i) {
  auto r = rank_[i];
  if (ops_[i].unknown) {
    unknown_bits_[r / 64] |= uint64_t{1} << (r % 64);
    ++class_used_[class_of_[i]];
    return;
  }
  definite_hash_ ^= zobrist_[i];
  definite_bits_[r / 64] |= uint64_t{1} << (r % 64);
  while (first_open_ < definite_count_
         && (definite_bits_[first_open_ / 64] >> (first_open_ % 64)) & 1)
    ++first_open_;
}

void key_checker::unmark(std::size_t i) {
  auto r = rank_[i];
  if (ops_[i].unknown) {
    unknown_bits_[r / 64] &= ~(uint64_t{1} << (r % 64));
    --class_used_[class_of_[i]];
    return;
  }
  definite_hash_ ^= zobrist_[i];
  definite_bits_[r / 64] &= ~(uint64_t{1} << (r % 64));
  first_open_ = std::min(first_open_, r);
}

void key_checker::definite_key(int32_t state, int64_t max_rank) {
  // Canonical: first_open_, the value, then the definite words from
  // first_open_'s up to max_rank's (all below are ones, all above zeros).
  scratch_.clear();
  scratch_.push_back(first_open_);
  scratch_.push_back(static_cast<uint32_t>(state));
  if (max_rank >= 0) {
    auto last = static_cast<std::size_t>(max_rank) / 64;
    for (auto w = first_open_ / 64; w <= last; ++w)
      scratch_.push_back(definite_bits_[w]);
  }
}

bool key_checker::canonical_next(std::size_t e) const {
  auto i = op_of_[e];
  auto& op = ops_[i];
  // Interchangeable unknown operations: only the first one left.
  if (op.unknown && member_of_[i] != class_used_[class_of_[i]])
    return false;
  // No unknown put or del right after another unknown operation: it would
  // overwrite that one's effect.
  auto blind = op.kind == op_kind::put || op.kind == op_kind::del;
  return !(op.unknown && blind && !stack_.empty()
           && is_unknown_entry(stack_.back().entry));
}

key_verdict key_checker::run(budget& b) {
  std::size_t remaining = definite_count_; // definite ops not linearized
  memo cache(unknown_bits_.size());
  int32_t state = no_value;
  int64_t max_rank = -1;
  // The walk takes each window of candidates in two passes: the definite
  // list up to its first return entry (`blocking`), then the unknown calls
  // before that entry. So an unknown operation is linearized only where
  // nothing definite leads on; configurations without it come first and
  // subsume those with it (see memo::visit).
  std::size_t blocking = none; // none: in the definite pass
  auto e = next_[definite_head()];
  while (remaining > 0) {
    if (!b.tick())
      return key_verdict::undecided;
    if (blocking == none) {
      if (!is_call_[e]) {
        // The first return entry: its operation must come before any
        // operation invoked later. Now the unknown calls before it.
        blocking = e;
        e = next_[unknown_head()];
        continue;
      }
    } else if (e == unknown_head() || e > blocking) {
      // No candidate leads on: undo the last choice and try the one after.
      auto definite = definite_count_ - remaining;
      if (!recorded_ || definite > best_definite_)
        record_deepest(blocking, definite);
      if (stack_.empty())
        return key_verdict::violation;
      auto top = stack_.back();
      stack_.pop_back();
      agree_ = std::min(agree_, stack_.size());
      auto i = op_of_[top.entry];
      unmark(i);
      state = top.state;
      max_rank = top.max_rank;
      blocking = top.blocking;
      unlift(top.entry);
      if (!ops_[i].unknown)
        ++remaining;
      e = next_[top.entry];
      continue;
    }
    auto i = op_of_[e];
    int32_t after = 0;
    if (canonical_next(e) && step(state, ops_[i], after)) {
      auto new_max = ops_[i].unknown
                       ? max_rank
                       : std::max(max_rank, static_cast<int64_t>(rank_[i]));
      mark(i);
      definite_key(after, new_max);
      auto hash = definite_hash_ ^ mix(static_cast<uint32_t>(after));
      if (cache.visit(scratch_, hash, unknown_bits_)) {
        stack_.push_back({e, blocking, state, max_rank});
        state = after;
        max_rank = new_max;
        lift(e);
        if (!ops_[i].unknown)
          --remaining;
        blocking = none;
        e = next_[definite_head()];
        continue;
      }
      unmark(i);
    }
    e = next_[e];
  }
  return key_verdict::linearizable;
}

void key_checker::record_deepest(std::size_t blocking, std::size_t definite) {
  recorded_ = true;
  best_definite_ = definite;
  best_prefix_.resize(stack_.size());
  for (auto k = agree_; k < stack_.size(); ++k)
    best_prefix_[k] = op_of_[stack_[k].entry];
  agree_ = stack_.size();
  best_deadline_ = all_[ops_[op_of_[blocking]].index].complete;
  best_unplaced_.clear();
  for (auto e = next_[definite_head()]; e != blocking; e = next_[e])
    best_unplaced_.push_back(op_of_[e]);
}

std::vector<operation> key_checker::prefix() const {
  std::vector<operation> result;
  for (auto i : best_prefix_)
    result.push_back(all_[ops_[i].index]);
  return result;
}

std::vector<operation> key_checker::unplaced() const {
  std::vector<operation> result;
  for (auto i : best_unplaced_)
    result.push_back(all_[ops_[i].index]);
  return result;
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string key_checker::value_name(int32_t v) const {
  return v == no_value ? "(no value)" : quote(names_[static_cast<size_t>(v)]);
}

std::string key_checker::explain(const std::string& key) const {
  // Replay the prefix with the values as written, not the model's ids.
  auto shown = [](key_op op) {
    if (op.kind == op_kind::put || op.kind == op_kind::cas)
      op.value = op.written;
    return op;
  };
  std::ostringstream out;
  out << "not linearizable: key " << quote(key) << "\n";
  out << "longest linearizable prefix: " << best_definite_ << " of "
      << definite_count_ << " completed operations";
  if (best_prefix_.size() > best_definite_)
    out << ", with " << (best_prefix_.size() - best_definite_)
        << " of unknown outcome taken as applied";
  out << " (value before: (no value))\n";
  int32_t state = no_value;
  for (std::size_t k = 0; k < best_prefix_.size(); ++k) {
    auto& op = ops_[best_prefix_[k]];
    state = apply(state, shown(op)).second;
    out << "  " << (k + 1) << ". " << to_string(all_[op.index]);
    if (op.unknown)
      out << " (taken as applied)";
    out << "  => " << value_name(state) << "\n";
  }
  out << "then no operation fits; the candidates, all invoked before the "
         "earliest completion left (t = "
      << best_deadline_ << "), with value " << value_name(state) << ":\n";
  for (auto i : best_unplaced_) {
    auto op = shown(ops_[i]);
    out << "  " << to_string(all_[op.index]) << ": ";
    int32_t after = 0;
    if (step(state, op, after)) {
      out << "fits here, but no complete linearization follows from it";
    } else {
      auto [code, ignored] = apply(state, op);
      out << "would reply ";
      if (op.kind == op_kind::get && code == result_code::ok)
        out << value_name(state);
      else
        out << code;
    }
    out << "\n";
  }
  return out.str();
}

// -- partitioning -------------------------------------------------------------

void validate(const operation& op) {
  if (op.status != outcome::ok)
    return;
  auto bad = [&](const char* what) {
    throw std::invalid_argument(std::string{"malformed history: "} + what
                                + ": " + to_string(op));
  };
  if (op.complete < op.invoke)
    bad("completes before its invocation");
  auto code = op.result.code;
  switch (op.op.kind) {
    case op_kind::put:
      if (code != result_code::ok)
        bad("put replies only ok");
      break;
    case op_kind::get:
    case op_kind::del:
      if (code == result_code::mismatch)
        bad("only cas replies mismatch");
      break;
    case op_kind::cas:
      break;
  }
}

/// One key's sub-history, strings interned.
struct partition {
  std::vector<key_op> ops;
  std::vector<std::string> names;
  std::unordered_map<std::string, int32_t> ids;

  int32_t intern(const std::string& s) {
    auto [i, added] = ids.emplace(s, static_cast<int32_t>(names.size()));
    if (added)
      names.push_back(s);
    return i->second;
  }

  /// Gives every value that no get returns and no cas expects one shared
  /// id, `names.size()`: no operation can tell such values apart, so the
  /// model need not either, and unknown writes of them become
  /// interchangeable (see key_checker::canonical_next()).
  void finish() {
    std::vector<bool> read(names.size(), false);
    for (auto& op : ops) {
      if (op.kind == op_kind::get && op.code == result_code::ok)
        read[static_cast<std::size_t>(op.value)] = true;
      else if (op.kind == op_kind::cas)
        read[static_cast<std::size_t>(op.expected)] = true;
    }
    auto unread = static_cast<int32_t>(names.size());
    for (auto& op : ops) {
      if (op.kind == op_kind::put || op.kind == op_kind::cas) {
        op.written = op.value;
        if (!read[static_cast<std::size_t>(op.value)])
          op.value = unread;
      }
    }
  }
};

} // namespace

// -- checking -----------------------------------------------------------------

check_result check(const std::vector<operation>& ops,
                   const check_options& opts) {
  std::map<std::string, partition> parts;
  check_result result;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    auto& op = ops[i];
    validate(op);
    // Failed operations were not applied; an unknown get has no reply to
    // check and no effect: leaving it out is always a valid choice.
    if (op.status == outcome::failed
        || (op.status == outcome::unknown && op.op.kind == op_kind::get))
      continue;
    auto& part = parts[op.op.key];
    key_op k{op.op.kind, op.result.code, op.status == outcome::unknown,
             no_value, no_value, no_value, i};
    switch (op.op.kind) {
      case op_kind::put:
        k.value = part.intern(op.op.value);
        break;
      case op_kind::get:
        if (op.result.code == result_code::ok)
          k.value = part.intern(op.result.value);
        break;
      case op_kind::cas:
        k.expected = part.intern(op.op.expected);
        k.value = part.intern(op.op.value);
        break;
      case op_kind::del:
        break;
    }
    part.ops.push_back(k);
    ++result.operations;
  }
  result.keys = parts.size();
  budget b;
  b.max_steps = opts.max_steps;
  b.timeout = opts.timeout;
  b.start = std::chrono::steady_clock::now();
  std::string first_explanation;
  for (auto& [key, part] : parts) {
    if (b.exhausted) {
      result.undecided_keys.push_back(key);
      continue;
    }
    part.finish();
    key_checker checker(std::move(part.ops), std::move(part.names), ops);
    switch (checker.run(b)) {
      case key_verdict::linearizable:
        break;
      case key_verdict::undecided:
        result.undecided_keys.push_back(key);
        break;
      case key_verdict::violation:
        if (result.violating_keys.empty()) {
          result.key = key;
          result.prefix = checker.prefix();
          result.unplaced = checker.unplaced();
          first_explanation = checker.explain(key);
        }
        result.violating_keys.push_back(key);
        break;
    }
  }
  result.steps = b.steps;
  std::ostringstream out;
  if (!result.violating_keys.empty()) {
    result.status = verdict::violation;
    out << first_explanation;
    if (result.violating_keys.size() > 1) {
      out << "other violating keys:";
      for (std::size_t k = 1; k < result.violating_keys.size(); ++k)
        out << " " << quote(result.violating_keys[k]);
      out << "\n";
    }
  } else if (!result.undecided_keys.empty()) {
    result.status = verdict::unknown;
    result.key = result.undecided_keys.front();
    out << "undecided: the " << (b.max_steps != 0 && b.steps > b.max_steps
                                   ? "step budget"
                                   : "timeout")
        << " ran out on key " << quote(result.key) << " after " << b.steps
        << " steps; " << result.undecided_keys.size() << " of " << result.keys
        << " keys left undecided\n";
  } else {
    out << "linearizable: " << result.operations << " operations over "
        << result.keys << " keys, " << result.steps << " steps\n";
  }
  if (result.status != verdict::linearizable && !result.undecided_keys.empty()
      && !result.violating_keys.empty())
    out << result.undecided_keys.size() << " keys left undecided\n";
  result.explanation = out.str();
  return result;
}

// -- printing -----------------------------------------------------------------

std::string to_string(const operation& x) {
  std::ostringstream out;
  out << "client " << x.client << " " << x.op.kind << "(" << quote(x.op.key);
  switch (x.op.kind) {
    case op_kind::put:
      out << ", " << quote(x.op.value);
      break;
    case op_kind::cas:
      out << ", " << quote(x.op.expected) << ", " << quote(x.op.value);
      break;
    case op_kind::get:
    case op_kind::del:
      break;
  }
  out << ") -> ";
  switch (x.status) {
    case outcome::ok:
      if (x.op.kind == op_kind::get && x.result.code == result_code::ok)
        out << quote(x.result.value);
      else
        out << x.result.code;
      out << " [" << x.invoke << ", " << x.complete << "]";
      break;
    case outcome::failed:
      out << "failed [" << x.invoke << ", " << x.complete << "]";
      break;
    case outcome::unknown:
      out << "? [" << x.invoke << ", ?)";
      break;
  }
  return out.str();
}

std::ostream& operator<<(std::ostream& out, op_kind x) {
  switch (x) {
    case op_kind::put:
      return out << "put";
    case op_kind::get:
      return out << "get";
    case op_kind::cas:
      return out << "cas";
    case op_kind::del:
      return out << "del";
  }
  return out << "op_kind(" << static_cast<int>(x) << ")";
}

std::ostream& operator<<(std::ostream& out, result_code x) {
  switch (x) {
    case result_code::ok:
      return out << "ok";
    case result_code::not_found:
      return out << "not_found";
    case result_code::mismatch:
      return out << "mismatch";
  }
  return out << "result_code(" << static_cast<int>(x) << ")";
}

std::ostream& operator<<(std::ostream& out, outcome x) {
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

std::ostream& operator<<(std::ostream& out, verdict x) {
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

std::ostream& operator<<(std::ostream& out, const operation& x) {
  return out << to_string(x);
}

std::ostream& operator<<(std::ostream& out, const check_result& x) {
  return out << x.explanation;
}

} // namespace raft::testing::kv
