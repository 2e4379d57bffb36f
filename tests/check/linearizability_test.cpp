// The linearizability checker against known good and bad histories, a
// brute-force oracle on small random histories, generated histories from a
// real sequential key-value store, and a timing check.
#define BOOST_TEST_MODULE linearizability
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "linearizability.hpp"

using namespace raft::test::lin;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// Checks and shows the report when the verdict is not the expected one.
void expect(const history& h, verdict want) {
  auto r = check(h);
  BOOST_TEST(r.status == want, r.explanation);
}

// -- an independent sequential store ------------------------------------------

/// A plain sequential key-value store: the oracle the generated histories
/// and the brute-force checker run operations against.
struct sequential_kv {
  std::map<std::string, std::string> data;

  response apply(const call& c) {
    auto i = data.find(c.key);
    switch (c.kind) {
      case op_kind::put:
        data[c.key] = c.value;
        return response::ok();
      case op_kind::get:
        return i == data.end() ? response::not_found()
                               : response::found(i->second);
      case op_kind::cas:
        if (i == data.end())
          return response::not_found();
        if (i->second != c.expected)
          return response::mismatch();
        i->second = c.value;
        return response::ok();
      case op_kind::del:
        if (i == data.end())
          return response::not_found();
        data.erase(i);
        return response::ok();
    }
    throw std::logic_error("unreachable");
  }
};

bool same(const response& x, const response& y, op_kind kind) {
  return x.code == y.code
         && (kind != op_kind::get || x.code != result_code::ok
             || x.value == y.value);
}

// -- a brute-force oracle -----------------------------------------------------

struct brute_force_result {
  bool linearizable = false;
  /// The longest linearizable prefix, counted in definite operations: an
  /// order of some operations that fits the model, such that no operation
  /// outside it completed before one in it was invoked.
  size_t longest = 0;
};

/// Tries every subset of the unknown operations and every order: exact, and
/// only usable for a handful of operations.
brute_force_result brute_force(const std::vector<operation>& ops) {
  std::vector<const operation*> definite;
  std::vector<const operation*> unknown;
  for (auto& op : ops) {
    if (op.status == outcome::ok)
      definite.push_back(&op);
    else if (op.status == outcome::unknown && op.op.kind != op_kind::get)
      unknown.push_back(&op); // an unknown get has no reply and no effect
  }
  brute_force_result result;
  for (size_t mask = 0; mask < (size_t{1} << unknown.size()); ++mask) {
    auto chosen = definite;
    for (size_t k = 0; k < unknown.size(); ++k)
      if (mask & (size_t{1} << k))
        chosen.push_back(unknown[k]);
    std::sort(chosen.begin(), chosen.end());
    auto n = chosen.size();
    do {
      // Real time: no operation placed after position i may have completed
      // before the one at i was invoked. Unknown operations never complete.
      std::vector<uint64_t> earliest_completion_after(n + 1, UINT64_MAX);
      for (size_t j = n; j-- > 0;)
        earliest_completion_after[j] = std::min(
          earliest_completion_after[j + 1],
          chosen[j]->status == outcome::ok ? chosen[j]->complete : UINT64_MAX);
      sequential_kv kv;
      size_t k = 0;
      for (; k < n; ++k) {
        if (earliest_completion_after[k + 1] < chosen[k]->invoke)
          break;
        auto got = kv.apply(chosen[k]->op);
        if (chosen[k]->status == outcome::ok
            && !same(got, chosen[k]->result, chosen[k]->op.kind))
          break;
      }
      auto definite_in_prefix = static_cast<size_t>(
        std::count_if(chosen.begin(), chosen.begin() + k,
                      [](auto* op) { return op->status == outcome::ok; }));
      result.longest = std::max(result.longest, definite_in_prefix);
      if (k == n) {
        result.linearizable = true;
        return result;
      }
    } while (std::next_permutation(chosen.begin(), chosen.end()));
  }
  return result;
}

std::vector<operation> only_key(const std::vector<operation>& ops,
                                const std::string& key) {
  std::vector<operation> result;
  for (auto& op : ops)
    if (op.op.key == key)
      result.push_back(op);
  return result;
}

/// Whether a violation's report is sound: its prefix is a linearization of
/// some operations of its key (model and real time), no operation left out
/// had to come before one in it, and some operation could not be placed.
bool report_is_sound(const std::vector<operation>& ops,
                     const check_result& r) {
  if (r.prefix.size() > ops.size() || r.unplaced.empty())
    return false;
  sequential_kv kv;
  for (size_t i = 0; i < r.prefix.size(); ++i) {
    auto& x = r.prefix[i];
    if (x.op.key != r.key || x.status == outcome::failed)
      return false;
    auto got = kv.apply(x.op);
    if (x.status == outcome::ok && !same(got, x.result, x.op.kind))
      return false;
    for (size_t j = i + 1; j < r.prefix.size(); ++j)
      if (r.prefix[j].status == outcome::ok
          && r.prefix[j].complete < x.invoke)
        return false;
  }
  // The key's definite operations not in the prefix (as a multiset).
  std::multiset<std::string> in_prefix;
  for (auto& x : r.prefix)
    in_prefix.insert(to_string(x));
  for (auto& o : ops) {
    if (o.op.key != r.key || o.status != outcome::ok)
      continue;
    if (auto i = in_prefix.find(to_string(o)); i != in_prefix.end()) {
      in_prefix.erase(i);
      continue;
    }
    for (auto& x : r.prefix)
      if (o.complete < x.invoke)
        return false;
  }
  return true;
}

// -- a generator of linearizable histories ------------------------------------

struct gen_params {
  size_t ops = 100;
  size_t keys = 3;
  size_t clients = 4;
  /// A client waits up to this long between operations.
  uint64_t max_gap = 10;
  /// Invocation to linearization point, and point to completion: up to this.
  uint64_t max_half = 30;
  /// Chances that an operation fails, or ends unknown.
  double failed = 0;
  double unknown = 0;
};

/// Each client issues operations one after another, each with a random
/// window; the operation takes effect at a random point inside it, on a real
/// sequential store, in the order of those points. Failed operations never
/// take effect; unknown ones do half of the time. Linearizable by
/// construction.
history generate(std::mt19937_64& rng, const gen_params& p) {
  auto uniform = [&](uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
  };
  auto chance = [&](double x) {
    return std::uniform_real_distribution<double>(0, 1)(rng) < x;
  };
  struct planned {
    operation op;
    uint64_t point;
    bool applied;
  };
  std::vector<uint64_t> cursor(p.clients, 0);
  std::vector<std::vector<std::string>> written(p.keys);
  std::vector<planned> plan;
  size_t counter = 0;
  for (size_t n = 0; n < p.ops; ++n) {
    planned x;
    auto c = uniform(0, p.clients - 1);
    auto k = uniform(0, p.keys - 1);
    auto key = "k" + std::to_string(k);
    x.op.client = c;
    x.op.invoke = cursor[c] + uniform(0, p.max_gap);
    x.point = x.op.invoke + uniform(0, p.max_half);
    x.op.complete = x.point + uniform(0, p.max_half);
    cursor[c] = x.op.complete + 1;
    auto& w = written[k];
    auto some_written = [&] {
      return w.empty() ? std::string{"v?"} : w[uniform(0, w.size() - 1)];
    };
    auto roll = uniform(0, 9);
    if (roll < 4) {
      x.op.op = call::put(key, "v" + std::to_string(counter++));
      w.push_back(x.op.op.value);
    } else if (roll < 7) {
      x.op.op = call::get(key);
    } else if (roll < 9) {
      x.op.op = call::cas(key, some_written(),
                          "v" + std::to_string(counter++));
      w.push_back(x.op.op.value);
    } else {
      x.op.op = call::del(key);
    }
    if (chance(p.failed)) {
      x.op.status = outcome::failed;
      x.applied = false;
    } else if (chance(p.unknown)) {
      x.op.status = outcome::unknown;
      x.applied = chance(0.5);
    } else {
      x.op.status = outcome::ok;
      x.applied = true;
    }
    plan.push_back(std::move(x));
  }
  std::vector<size_t> order(plan.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return plan[a].point < plan[b].point;
  });
  sequential_kv kv;
  for (auto i : order)
    if (plan[i].applied)
      plan[i].op.result = kv.apply(plan[i].op.op);
  history h;
  for (auto& x : plan)
    h.operations().push_back(std::move(x.op));
  return h;
}

/// Changes one completed get's reply to another plausible one: a different
/// value written to that key, a value never written, or not_found. Returns
/// the key, or nothing if the history has no completed get.
std::optional<std::string> mutate_one_read(std::mt19937_64& rng, history& h) {
  std::vector<size_t> reads;
  for (size_t i = 0; i < h.size(); ++i) {
    auto& op = h.operations()[i];
    if (op.status == outcome::ok && op.op.kind == op_kind::get)
      reads.push_back(i);
  }
  if (reads.empty())
    return std::nullopt;
  auto& target = h.operations()[reads[std::uniform_int_distribution<size_t>(
    0, reads.size() - 1)(rng)]];
  std::vector<response> choices{response::not_found(),
                                response::found("never written")};
  for (auto& op : h.operations())
    if (op.op.key == target.op.key
        && (op.op.kind == op_kind::put || op.op.kind == op_kind::cas))
      choices.push_back(response::found(op.op.value));
  choices.erase(std::remove_if(choices.begin(), choices.end(),
                               [&](const response& r) {
                                 return same(r, target.result, op_kind::get);
                               }),
                choices.end());
  target.result = choices[std::uniform_int_distribution<size_t>(
    0, choices.size() - 1)(rng)];
  return target.op.key;
}

/// A small history with arbitrary replies: often not linearizable. Each
/// operation ends unknown with chance `unknown`, fails with chance 0.1.
history random_small(std::mt19937_64& rng, double unknown) {
  auto uniform = [&](uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
  };
  static const std::vector<std::string> values{"a", "b", "c"};
  auto value = [&] { return values[uniform(0, values.size() - 1)]; };
  history h;
  auto n = uniform(1, 7);
  for (size_t i = 0; i < n; ++i) {
    operation op;
    op.client = i;
    op.invoke = uniform(0, 20);
    op.complete = op.invoke + uniform(0, 10);
    auto key = uniform(0, 3) == 0 ? std::string{"y"} : std::string{"x"};
    switch (uniform(0, 3)) {
      case 0:
        op.op = call::put(key, value());
        op.result = response::ok();
        break;
      case 1:
        op.op = call::get(key);
        op.result = uniform(0, 3) == 0 ? response::not_found()
                                       : response::found(value());
        break;
      case 2:
        op.op = call::cas(key, value(), value());
        op.result = std::vector<response>{
          response::ok(), response::mismatch(),
          response::not_found()}[uniform(0, 2)];
        break;
      default:
        op.op = call::del(key);
        op.result = uniform(0, 1) ? response::ok() : response::not_found();
    }
    auto roll = std::uniform_real_distribution<double>(0, 1)(rng);
    op.status = roll < unknown         ? outcome::unknown
                : roll < unknown + 0.1 ? outcome::failed
                                       : outcome::ok;
    h.operations().push_back(op);
  }
  return h;
}

double seconds_to_check(const history& h, check_result& r) {
  auto start = std::chrono::steady_clock::now();
  r = check(h);
  std::chrono::duration<double> took = std::chrono::steady_clock::now()
                                        - start;
  return took.count();
}

} // namespace

// -- known good histories -----------------------------------------------------

BOOST_AUTO_TEST_SUITE(good)

BOOST_AUTO_TEST_CASE(empty_history) {
  auto r = check(history{});
  BOOST_TEST(r.status == verdict::linearizable);
  BOOST_TEST(r.keys == 0u);
}

BOOST_AUTO_TEST_CASE(sequential) {
  history h;
  h.add(1, 0, 1, call::get("x"), response::not_found());
  h.add(1, 2, 3, call::put("x", "a"), response::ok());
  h.add(1, 4, 5, call::get("x"), response::found("a"));
  h.add(1, 6, 7, call::cas("x", "a", "b"), response::ok());
  h.add(1, 8, 9, call::cas("x", "a", "c"), response::mismatch());
  h.add(1, 10, 11, call::get("x"), response::found("b"));
  h.add(1, 12, 13, call::del("x"), response::ok());
  h.add(1, 14, 15, call::cas("x", "b", "c"), response::not_found());
  h.add(1, 16, 17, call::del("x"), response::not_found());
  h.add(1, 18, 19, call::get("x"), response::not_found());
  auto r = check(h);
  BOOST_TEST(r.status == verdict::linearizable, r.explanation);
  BOOST_TEST(r.operations == 10u);
  BOOST_TEST(r.keys == 1u);
}

BOOST_AUTO_TEST_CASE(overlapping_puts_either_read_order) {
  // Two puts overlap, so either may take effect last.
  for (auto last : {"a", "b"}) {
    history h;
    h.add(1, 0, 10, call::put("x", "a"), response::ok());
    h.add(2, 5, 15, call::put("x", "b"), response::ok());
    h.add(3, 20, 30, call::get("x"), response::found(last));
    h.add(4, 25, 35, call::get("x"), response::found(last));
    expect(h, verdict::linearizable);
  }
  // A read overlapping both may see either, and a later read the other one.
  history h;
  h.add(1, 0, 10, call::put("x", "a"), response::ok());
  h.add(2, 0, 10, call::put("x", "b"), response::ok());
  h.add(3, 0, 10, call::get("x"), response::found("a"));
  h.add(3, 11, 12, call::get("x"), response::found("b"));
  expect(h, verdict::linearizable);
}

BOOST_AUTO_TEST_CASE(equal_timestamps_overlap) {
  // The put completes at 10 and the get starts at 10: they overlap, so the
  // get may come first.
  history h;
  h.add(1, 0, 10, call::put("x", "a"), response::ok());
  h.add(2, 10, 20, call::get("x"), response::not_found());
  expect(h, verdict::linearizable);
}

BOOST_AUTO_TEST_CASE(cas_chain) {
  // Concurrent cas operations that succeed in a chain 0 -> 1 -> 2 -> 3,
  // listed out of chain order, plus a loser.
  history h;
  h.add(1, 0, 5, call::put("x", "0"), response::ok());
  h.add(2, 10, 50, call::cas("x", "2", "3"), response::ok());
  h.add(3, 10, 50, call::cas("x", "1", "2"), response::ok());
  h.add(4, 10, 50, call::cas("x", "0", "1"), response::ok());
  h.add(5, 10, 50, call::cas("x", "0", "9"), response::mismatch());
  h.add(1, 60, 70, call::get("x"), response::found("3"));
  expect(h, verdict::linearizable);
}

BOOST_AUTO_TEST_CASE(unknown_that_took_effect) {
  history h;
  h.add(1, 0, 10, call::put("x", "a"), response::ok());
  h.add_unknown(2, 20, call::put("x", "b"));
  // Much later than the unknown put's invocation: it took effect after the
  // first read, before the second.
  h.add(3, 100, 110, call::get("x"), response::found("a"));
  h.add(3, 200, 210, call::get("x"), response::found("b"));
  expect(h, verdict::linearizable);
}

BOOST_AUTO_TEST_CASE(unknown_that_did_not_take_effect) {
  history h;
  h.add(1, 0, 10, call::put("x", "a"), response::ok());
  h.add_unknown(2, 20, call::put("x", "b"));
  h.add_unknown(2, 30, call::del("x"));
  h.add_unknown(2, 40, call::cas("x", "a", "c"));
  h.add_unknown(2, 50, call::get("x"));
  h.add(3, 100, 110, call::get("x"), response::found("a"));
  expect(h, verdict::linearizable);
}

BOOST_AUTO_TEST_CASE(chain_of_unknown_operations) {
  // Only put b, cas b -> a, cas a -> c, all unknown, explain the read; the
  // delete must be left out or come first.
  history h;
  h.add_unknown(1, 0, call::del("x"));
  h.add_unknown(2, 14, call::cas("x", "a", "c"));
  h.add_unknown(3, 16, call::put("x", "b"));
  h.add_unknown(4, 18, call::cas("x", "b", "a"));
  h.add(5, 16, 20, call::get("x"), response::found("c"));
  expect(h, verdict::linearizable);
}

BOOST_AUTO_TEST_CASE(failed_operations_are_dropped) {
  history h;
  h.add(1, 0, 10, call::put("x", "a"), response::ok());
  h.add_failed(2, 20, 30, call::put("x", "b"));
  h.add_failed(2, 40, 50, call::del("x"));
  h.add(3, 60, 70, call::get("x"), response::found("a"));
  auto r = check(h);
  BOOST_TEST(r.status == verdict::linearizable, r.explanation);
  BOOST_TEST(r.operations == 2u);
}

BOOST_AUTO_TEST_CASE(recorder) {
  // How a test records: invoke, then complete, fail, or leave pending.
  history h;
  auto a = h.invoke(1, 0, call::put("x", "a"));
  auto b = h.invoke(2, 1, call::put("x", "b"));
  auto c = h.invoke(3, 2, call::put("x", "c"));
  h.complete(a, 10, response::ok());
  h.fail(b, 11);
  auto d = h.invoke(1, 12, call::get("x"));
  h.complete(d, 13, response::found("c")); // c is still pending: unknown
  BOOST_TEST(h.operations()[c].status == outcome::unknown);
  BOOST_TEST(h.operations()[b].status == outcome::failed);
  expect(h, verdict::linearizable);
}

BOOST_AUTO_TEST_CASE(deletes) {
  history h;
  h.add(1, 0, 10, call::put("x", "a"), response::ok());
  h.add(1, 20, 30, call::del("x"), response::ok());
  h.add(1, 40, 50, call::get("x"), response::not_found());
  h.add(1, 60, 70, call::del("x"), response::not_found());
  // A delete racing a put: the read overlapping both sees either.
  h.add(2, 100, 120, call::put("x", "b"), response::ok());
  h.add(3, 100, 120, call::del("x"), response::not_found());
  h.add(4, 110, 130, call::get("x"), response::found("b"));
  h.add(5, 140, 150, call::del("x"), response::ok());
  h.add(5, 160, 170, call::get("x"), response::not_found());
  expect(h, verdict::linearizable);
}

BOOST_AUTO_TEST_CASE(keys_are_independent) {
  history h;
  h.add(1, 0, 10, call::put("x", "a"), response::ok());
  h.add(2, 0, 10, call::put("y", "a"), response::ok());
  h.add(1, 20, 30, call::get("y"), response::found("a"));
  h.add(2, 20, 30, call::get("x"), response::found("a"));
  h.add(3, 20, 30, call::get("z"), response::not_found());
  auto r = check(h);
  BOOST_TEST(r.status == verdict::linearizable, r.explanation);
  BOOST_TEST(r.keys == 3u);
}

BOOST_AUTO_TEST_SUITE_END()

// -- known bad histories ------------------------------------------------------

BOOST_AUTO_TEST_SUITE(bad)

BOOST_AUTO_TEST_CASE(stale_read_after_completed_write) {
  history h;
  h.add(1, 0, 10, call::put("x", "a"), response::ok());
  h.add(1, 20, 30, call::put("x", "b"), response::ok());
  h.add(2, 40, 50, call::get("x"), response::found("a"));
  auto r = check(h);
  BOOST_TEST_MESSAGE(r.explanation);
  BOOST_REQUIRE(r.status == verdict::violation);
  BOOST_TEST(r.key == "x");
  BOOST_TEST(r.violating_keys == std::vector<std::string>{"x"});
  BOOST_REQUIRE(r.prefix.size() == 2u);
  BOOST_TEST(r.prefix[0].op.value == "a");
  BOOST_TEST(r.prefix[1].op.value == "b");
  BOOST_REQUIRE(r.unplaced.size() == 1u);
  BOOST_TEST(r.unplaced[0].op.kind == op_kind::get);
  BOOST_TEST(contains(r.explanation, "key \"x\""));
  BOOST_TEST(contains(r.explanation, "2 of 3 completed operations"));
  BOOST_TEST(contains(r.explanation, "get(\"x\") -> \"a\" [40, 50]: would "
                                     "reply \"b\""));
}

BOOST_AUTO_TEST_CASE(read_of_value_never_written) {
  history h;
  h.add(1, 0, 10, call::put("x", "a"), response::ok());
  h.add(2, 5, 15, call::get("x"), response::found("z"));
  auto r = check(h);
  BOOST_REQUIRE(r.status == verdict::violation);
  BOOST_TEST(r.unplaced.size() == 1u);
  BOOST_TEST(r.unplaced[0].result.value == "z");
}

BOOST_AUTO_TEST_CASE(reads_see_writes_in_contradictory_orders) {
  // Client 3 sees a then b, client 4 sees b then a; neither value is written
  // twice.
  history h;
  h.add(1, 0, 100, call::put("x", "a"), response::ok());
  h.add(2, 0, 100, call::put("x", "b"), response::ok());
  h.add(3, 10, 20, call::get("x"), response::found("a"));
  h.add(3, 30, 40, call::get("x"), response::found("b"));
  h.add(4, 10, 20, call::get("x"), response::found("b"));
  h.add(4, 30, 40, call::get("x"), response::found("a"));
  auto r = check(h);
  BOOST_TEST_MESSAGE(r.explanation);
  BOOST_TEST(r.status == verdict::violation);
}

BOOST_AUTO_TEST_CASE(cas_succeeds_twice_on_same_expected_value) {
  history h;
  h.add(1, 0, 10, call::put("x", "0"), response::ok());
  h.add(2, 20, 40, call::cas("x", "0", "1"), response::ok());
  h.add(3, 20, 40, call::cas("x", "0", "2"), response::ok());
  auto r = check(h);
  BOOST_TEST_MESSAGE(r.explanation);
  BOOST_REQUIRE(r.status == verdict::violation);
  BOOST_TEST(contains(r.explanation, "would reply mismatch"));
}

BOOST_AUTO_TEST_CASE(lost_acknowledged_write) {
  history h;
  h.add(1, 0, 10, call::put("x", "a"), response::ok());
  h.add(2, 20, 30, call::get("x"), response::not_found());
  auto r = check(h);
  BOOST_REQUIRE(r.status == verdict::violation);
  BOOST_TEST(r.prefix.size() == 1u);
  BOOST_TEST(contains(r.explanation, "would reply \"a\""));
}

BOOST_AUTO_TEST_CASE(lost_acknowledged_delete) {
  history h;
  h.add(1, 0, 10, call::put("x", "a"), response::ok());
  h.add(1, 20, 30, call::del("x"), response::ok());
  h.add(2, 40, 50, call::get("x"), response::found("a"));
  expect(h, verdict::violation);
}

BOOST_AUTO_TEST_CASE(delete_succeeds_twice) {
  history h;
  h.add(1, 0, 10, call::put("x", "a"), response::ok());
  h.add(2, 20, 30, call::del("x"), response::ok());
  h.add(3, 20, 30, call::del("x"), response::ok());
  expect(h, verdict::violation);
}

BOOST_AUTO_TEST_CASE(unknown_cannot_act_before_its_invocation) {
  history h;
  h.add(1, 0, 10, call::get("x"), response::found("a"));
  h.add_unknown(2, 20, call::put("x", "a"));
  expect(h, verdict::violation);
}

BOOST_AUTO_TEST_CASE(failed_write_that_was_read) {
  // A failed operation must not have taken effect.
  history h;
  h.add_failed(1, 0, 10, call::put("x", "a"));
  h.add(2, 20, 30, call::get("x"), response::found("a"));
  expect(h, verdict::violation);
}

BOOST_AUTO_TEST_CASE(reports_only_the_violating_keys) {
  history h;
  for (auto key : {"a", "b", "c", "d"}) {
    h.add(1, 0, 10, call::put(key, "1"), response::ok());
    h.add(2, 20, 30, call::get(key), response::found("1"));
  }
  h.add(3, 40, 50, call::get("c"), response::not_found());
  h.add(3, 60, 70, call::get("d"), response::found("2"));
  auto r = check(h);
  BOOST_REQUIRE(r.status == verdict::violation);
  BOOST_TEST(r.key == "c");
  BOOST_TEST(r.violating_keys == (std::vector<std::string>{"c", "d"}));
  BOOST_TEST(contains(r.explanation, "other violating keys: \"d\""));
}

BOOST_AUTO_TEST_CASE(malformed_histories_throw) {
  history backwards;
  backwards.add(1, 10, 5, call::put("x", "a"), response::ok());
  BOOST_CHECK_THROW(check(backwards), std::invalid_argument);
  history wrong_code;
  wrong_code.add(1, 0, 5, call::put("x", "a"), response::not_found());
  BOOST_CHECK_THROW(check(wrong_code), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

// -- budget -------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(budget)

namespace {

/// n concurrent puts and n concurrent reads, one of each value, then a read
/// of a value nobody wrote: a violation, found only after trying the
/// interleavings of puts and reads, exponentially many in n (n = 6: ~20,000
/// steps; n = 12: ~60 million).
history exponential(size_t n) {
  history h;
  for (size_t i = 0; i < n; ++i) {
    h.add(i, 0, 100, call::put("x", std::to_string(i)), response::ok());
    h.add(n + i, 0, 100, call::get("x"), response::found(std::to_string(i)));
  }
  h.add(2 * n, 200, 210, call::get("x"), response::found("never"));
  h.add(2 * n, 0, 10, call::put("y", "1"), response::ok());
  return h;
}

} // namespace

BOOST_AUTO_TEST_CASE(decides_within_an_unlimited_budget) {
  auto r = check(exponential(6));
  BOOST_TEST(r.status == verdict::violation);
  BOOST_TEST(r.violating_keys == std::vector<std::string>{"x"});
  BOOST_TEST_MESSAGE("exponential(6): " << r.steps << " steps");
}

BOOST_AUTO_TEST_CASE(step_budget_returns_unknown) {
  check_options opts;
  opts.max_steps = 1000;
  auto r = check(exponential(16), opts);
  BOOST_TEST(r.status == verdict::unknown, r.explanation);
  BOOST_TEST(r.key == "x");
  // The budget is shared: nothing is left for the next key.
  BOOST_TEST(r.undecided_keys == (std::vector<std::string>{"x", "y"}));
  BOOST_TEST(contains(r.explanation, "step budget"));
  BOOST_TEST(r.steps == 1001u);
}

BOOST_AUTO_TEST_CASE(timeout_returns_unknown) {
  check_options opts;
  opts.timeout = std::chrono::nanoseconds(1); // spent by the first 1024 steps
  opts.max_steps = 10'000'000;                // in case the timeout is ignored
  auto r = check(exponential(16), opts);
  BOOST_TEST(r.status == verdict::unknown, r.explanation);
  BOOST_TEST(contains(r.explanation, "timeout"));
  BOOST_TEST(r.steps == 1024u);
}

BOOST_AUTO_TEST_CASE(unknown_writes_left_out_are_cheap) {
  // 30 unknown puts that never took effect before a contradiction: 2^30
  // subsets. Nobody reads their values, so they are interchangeable and
  // only the first one left is ever tried.
  history h;
  for (size_t i = 0; i < 30; ++i)
    h.add_unknown(i, 0, call::put("x", std::to_string(i)));
  h.add(30, 100, 110, call::get("x"), response::found("never"));
  check_options opts;
  opts.max_steps = 1'000'000; // fail fast if this ever regresses
  auto r = check(h, opts);
  BOOST_TEST(r.status == verdict::violation);
  BOOST_TEST(r.steps < 1'000u);
  BOOST_TEST_MESSAGE("30 unknown puts of unread values: " << r.steps
                                                         << " steps");
}

BOOST_AUTO_TEST_CASE(unknown_writes_of_read_values_are_cheap) {
  // The same with values that an (unknown) cas expects, so they differ:
  // still cheap, as a put right after another unknown operation would only
  // overwrite it and is never tried there. Without that, > 20M steps.
  history h;
  for (size_t i = 0; i < 30; ++i) {
    h.add_unknown(i, 0, call::put("x", std::to_string(i)));
    h.add_unknown(30 + i, 0,
                  call::cas("x", std::to_string(i), std::to_string(i)));
  }
  h.add(60, 100, 110, call::get("x"), response::found("never"));
  check_options opts;
  opts.max_steps = 1'000'000;
  auto r = check(h, opts);
  BOOST_TEST(r.status == verdict::violation);
  BOOST_TEST(r.steps < 10'000u);
  BOOST_TEST_MESSAGE("30 unknown puts of read values: " << r.steps
                                                       << " steps");
}

BOOST_AUTO_TEST_SUITE_END()

// -- randomized ---------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(randomized)

BOOST_AUTO_TEST_CASE(agrees_with_brute_force_on_small_histories) {
  std::mt19937_64 rng(7);
  size_t good = 0;
  size_t bad = 0;
  for (int trial = 0; trial < 8000; ++trial) {
    history h;
    if (trial % 4 == 0) {
      h = random_small(rng, 0.1);
    } else if (trial % 4 == 1) {
      gen_params p;
      p.ops = 7;
      p.keys = 1;
      p.clients = 3;
      p.failed = 0.1;
      p.unknown = 0.3;
      h = generate(rng, p);
      if (trial % 8 == 1)
        mutate_one_read(rng, h);
    } else {
      h = random_small(rng, 0.5); // mostly unknown: exercises the pruning
    }
    auto want = brute_force(h.operations()).linearizable;
    auto r = check(h);
    BOOST_TEST(r.linearizable() == want, "trial " << trial << ":\n"
                                                   << r.explanation);
    if (r.status == verdict::violation) {
      BOOST_TEST(report_is_sound(h.operations(), r), r.explanation);
      auto longest = brute_force(only_key(h.operations(), r.key)).longest;
      auto definite = std::count_if(
        r.prefix.begin(), r.prefix.end(),
        [](const operation& op) { return op.status == outcome::ok; });
      BOOST_TEST(static_cast<size_t>(definite) == longest, r.explanation);
    }
    ++(want ? good : bad);
  }
  BOOST_TEST_MESSAGE(good << " linearizable, " << bad << " not");
  BOOST_TEST(good > 1000u);
  BOOST_TEST(bad > 1000u);
}

BOOST_AUTO_TEST_CASE(generated_histories_pass) {
  std::mt19937_64 rng(42);
  for (int trial = 0; trial < 200; ++trial) {
    gen_params p;
    p.ops = 300;
    p.keys = 1 + trial % 4;
    p.clients = 2 + trial % 7;
    p.failed = 0.05;
    p.unknown = trial % 2 == 0 ? 0.0 : 0.03;
    auto h = generate(rng, p);
    auto r = check(h);
    BOOST_TEST(r.status == verdict::linearizable,
               "trial " << trial << ":\n"
                        << r.explanation);
  }
}

BOOST_AUTO_TEST_CASE(one_mutated_read_is_flagged_mostly) {
  std::mt19937_64 rng(4242);
  int trials = 0;
  int flagged = 0;
  for (int trial = 0; trial < 300; ++trial) {
    gen_params p;
    p.ops = 200;
    p.keys = 1 + trial % 3;
    p.clients = 2 + trial % 5;
    p.unknown = trial % 2 == 0 ? 0.0 : 0.02;
    auto h = generate(rng, p);
    auto key = mutate_one_read(rng, h);
    if (!key)
      continue;
    ++trials;
    auto r = check(h);
    if (r.status == verdict::violation) {
      ++flagged;
      // Keys are independent: only the mutated one can be at fault.
      BOOST_TEST(r.violating_keys == std::vector<std::string>{*key});
      BOOST_TEST(report_is_sound(h.operations(), r), r.explanation);
    } else {
      BOOST_TEST(r.status == verdict::linearizable);
    }
  }
  BOOST_TEST_MESSAGE(flagged << " of " << trials << " mutations flagged");
  // A mutated read may still fit when a concurrent write supplies the new
  // value, so not all are flagged.
  BOOST_TEST(flagged * 10 >= trials * 8);
}

BOOST_AUTO_TEST_SUITE_END()

// -- performance --------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(performance)

BOOST_AUTO_TEST_CASE(ten_thousand_operations_fifty_keys_eight_clients) {
  std::mt19937_64 rng(1);
  gen_params p;
  p.ops = 10000;
  p.keys = 50;
  p.clients = 8;
  p.failed = 0.01;
  p.unknown = 0.01;
  auto h = generate(rng, p);
  check_result r;
  auto took = seconds_to_check(h, r);
  BOOST_TEST(r.status == verdict::linearizable, r.explanation);
  BOOST_TEST_MESSAGE("10000 ops, 50 keys, 8 clients: " << took * 1000
                                                        << " ms, " << r.steps
                                                        << " steps");
  BOOST_TEST(took < 1.0);
  // One mutated read is found just as fast.
  mutate_one_read(rng, h);
  took = seconds_to_check(h, r);
  BOOST_TEST_MESSAGE("with one mutated read: " << took * 1000 << " ms, "
                                               << r.status);
  BOOST_TEST(took < 1.0);
}

BOOST_AUTO_TEST_CASE(ten_thousand_operations_on_one_key) {
  std::mt19937_64 rng(2);
  gen_params p;
  p.ops = 10000;
  p.keys = 1;
  p.clients = 8;
  auto h = generate(rng, p);
  check_result r;
  auto took = seconds_to_check(h, r);
  BOOST_TEST(r.status == verdict::linearizable, r.explanation);
  BOOST_TEST_MESSAGE("10000 ops, 1 key, 8 clients: " << took * 1000
                                                      << " ms, " << r.steps
                                                      << " steps");
  BOOST_TEST(took < 2.0);
}

BOOST_AUTO_TEST_SUITE_END()
