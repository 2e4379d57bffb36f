// The testing kit's linearizability checker over a user's model
// (raft/testing/linearizability.hpp): known histories, a brute-force oracle
// on small random ones, long histories generated from a real sequential
// execution, partitions, the budget and malformed input.
#define BOOST_TEST_MODULE model_checker
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "raft/testing/linearizability.hpp"

namespace rt = raft::testing;

namespace {

// -- a model: registers holding integers ----------------------------------------

struct reg_command {
  enum kind_t : uint8_t { write, read, cas };
  kind_t kind = read;
  int reg = 0;
  int value = 0;    // write, cas: the new value
  int expected = 0; // cas
};

struct reg_reply {
  bool ok = true;
  int value = 0; // read: the value read

  bool operator==(const reg_reply& x) const {
    return ok == x.ok && value == x.value;
  }
};

/// One register per `reg`, each starting at 0; with `partitioned`, each
/// register is checked on its own.
template <bool Partitioned>
struct reg_model_t {
  using state = std::vector<int>;
  using command = reg_command;
  using reply = reg_reply;

  state initial() const {
    return state(2, 0);
  }

  reply apply(state& s, const command& c) const {
    auto& r = s[static_cast<size_t>(c.reg)];
    switch (c.kind) {
      case command::write:
        r = c.value;
        return {true, 0};
      case command::read:
        return {true, r};
      case command::cas:
        if (r != c.expected)
          return {false, 0};
        r = c.value;
        return {true, 0};
    }
    return {};
  }

  bool read_only(const command& c) const {
    return c.kind == command::read;
  }

  size_t hash(const state& s) const {
    size_t h = 0;
    for (auto x : s)
      h = h * 31 + static_cast<size_t>(x);
    return h;
  }

  std::string describe(const command& c) const {
    auto r = "r" + std::to_string(c.reg);
    switch (c.kind) {
      case command::write:
        return "write(" + r + ", " + std::to_string(c.value) + ")";
      case command::read:
        return "read(" + r + ")";
      case command::cas:
        return "cas(" + r + ", " + std::to_string(c.expected) + ", "
               + std::to_string(c.value) + ")";
    }
    return "?";
  }

  std::string describe(const reply& x) const {
    return x.ok ? "ok " + std::to_string(x.value) : "failed";
  }

  std::string describe(const state& s) const {
    return std::to_string(s[0]) + "/" + std::to_string(s[1]);
  }
};

template <>
struct reg_model_t<true> : reg_model_t<false> {
  std::string partition(const command& c) const {
    return "r" + std::to_string(c.reg);
  }
};

using reg_model = reg_model_t<false>;
using op = rt::operation<reg_model>;

op make(uint64_t client, uint64_t invoke, uint64_t complete, reg_command c,
        reg_reply r, rt::outcome status = rt::outcome::ok) {
  op x;
  x.client = client;
  x.invoke = invoke;
  x.complete = complete;
  x.command = c;
  x.reply = r;
  x.status = status;
  return x;
}

reg_command write(int v, int reg = 0) {
  return {reg_command::write, reg, v, 0};
}

reg_command read(int reg = 0) {
  return {reg_command::read, reg, 0, 0};
}

reg_command cas(int e, int v, int reg = 0) {
  return {reg_command::cas, reg, v, e};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// -- a brute-force oracle -----------------------------------------------------------

/// Every subset of the unknown writes and every order: exact for a handful
/// of operations.
bool brute_force(const std::vector<op>& ops) {
  reg_model m;
  std::vector<const op*> definite;
  std::vector<const op*> unknown;
  for (auto& x : ops) {
    if (x.status == rt::outcome::ok)
      definite.push_back(&x);
    else if (x.status == rt::outcome::unknown && !m.read_only(x.command))
      unknown.push_back(&x);
  }
  for (size_t mask = 0; mask < (size_t{1} << unknown.size()); ++mask) {
    auto chosen = definite;
    for (size_t k = 0; k < unknown.size(); ++k)
      if (mask & (size_t{1} << k))
        chosen.push_back(unknown[k]);
    std::sort(chosen.begin(), chosen.end());
    auto n = chosen.size();
    do {
      bool fits = true;
      auto s = m.initial();
      for (size_t i = 0; i < n && fits; ++i) {
        for (size_t j = i + 1; j < n && fits; ++j)
          if (chosen[j]->status == rt::outcome::ok
              && chosen[j]->complete < chosen[i]->invoke)
            fits = false;
        auto got = m.apply(s, chosen[i]->command);
        if (chosen[i]->status == rt::outcome::ok && !(got == chosen[i]->reply))
          fits = false;
      }
      if (fits)
        return true;
    } while (std::next_permutation(chosen.begin(), chosen.end()));
  }
  return false;
}

/// A small history with arbitrary replies: often not linearizable.
std::vector<op> random_small(std::mt19937_64& rng, double unknown) {
  auto uniform = [&](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  std::vector<op> ops;
  auto n = uniform(1, 7);
  for (int i = 0; i < n; ++i) {
    auto invoke = static_cast<uint64_t>(uniform(0, 20));
    auto complete = invoke + static_cast<uint64_t>(uniform(0, 10));
    reg_command c;
    reg_reply r;
    switch (uniform(0, 2)) {
      case 0:
        c = write(uniform(0, 2));
        break;
      case 1:
        c = read();
        r.value = uniform(0, 2);
        break;
      default:
        c = cas(uniform(0, 2), uniform(0, 2));
        r.ok = uniform(0, 1) == 0;
    }
    auto roll = std::uniform_real_distribution<double>(0, 1)(rng);
    auto status = roll < unknown         ? rt::outcome::unknown
                  : roll < unknown + 0.1 ? rt::outcome::failed
                                         : rt::outcome::ok;
    ops.push_back(make(static_cast<uint64_t>(i), invoke, complete, c, r,
                       status));
  }
  return ops;
}

/// Clients issue operations one after another; each takes effect at a random
/// point of its window on a real sequential execution. Linearizable by
/// construction; unknown operations take effect half of the time.
std::vector<op> generate(std::mt19937_64& rng, size_t n, size_t clients,
                         double unknown) {
  auto uniform = [&](uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
  };
  auto chance = [&](double p) {
    return std::uniform_real_distribution<double>(0, 1)(rng) < p;
  };
  std::vector<uint64_t> cursor(clients, 0);
  std::vector<op> ops;
  std::vector<uint64_t> point;
  std::vector<bool> applied;
  int counter = 1;
  for (size_t i = 0; i < n; ++i) {
    auto c = uniform(0, clients - 1);
    auto invoke = cursor[c] + uniform(0, 10);
    auto at = invoke + uniform(0, 30);
    auto complete = at + uniform(0, 30);
    cursor[c] = complete + 1;
    auto reg = static_cast<int>(uniform(0, 1));
    reg_command cmd;
    auto roll = uniform(0, 9);
    if (roll < 4)
      cmd = write(counter++, reg);
    else if (roll < 8)
      cmd = read(reg);
    else
      cmd = cas(static_cast<int>(uniform(0, static_cast<uint64_t>(counter))),
                counter++, reg);
    auto status = chance(unknown) ? rt::outcome::unknown : rt::outcome::ok;
    ops.push_back(make(c, invoke, complete, cmd, {}, status));
    point.push_back(at);
    applied.push_back(status == rt::outcome::ok || chance(0.5));
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return point[a] < point[b]; });
  reg_model m;
  auto s = m.initial();
  for (auto i : order)
    if (applied[i])
      ops[i].reply = m.apply(s, ops[i].command);
  return ops;
}

} // namespace

BOOST_AUTO_TEST_SUITE(model_checker)

BOOST_AUTO_TEST_CASE(sequential_and_overlapping) {
  reg_model m;
  std::vector<op> ops{make(1, 0, 10, write(1), {}),
                      make(2, 20, 30, read(), {true, 1})};
  BOOST_TEST(rt::check(m, ops).linearizable());
  // Two overlapping writes: a read after both may see either.
  ops = {make(1, 0, 10, write(1), {}), make(2, 5, 15, write(2), {}),
         make(3, 20, 30, read(), {true, 1})};
  BOOST_TEST(rt::check(m, ops).linearizable());
  // Equal timestamps overlap.
  ops = {make(1, 0, 10, write(1), {}), make(2, 10, 20, read(), {true, 0})};
  BOOST_TEST(rt::check(m, ops).linearizable());
}

BOOST_AUTO_TEST_CASE(stale_read_is_explained) {
  reg_model m;
  std::vector<op> ops{make(1, 0, 10, write(1), {}),
                      make(2, 20, 30, read(), {true, 0})};
  auto r = rt::check(m, ops);
  BOOST_TEST(r.status == rt::verdict::violation);
  BOOST_TEST(r.prefix.size() == 1u);
  BOOST_TEST(r.unplaced.size() == 1u);
  BOOST_TEST(contains(r.explanation, "longest linearizable prefix: 1 of 2"),
             r.explanation);
  BOOST_TEST(contains(r.explanation, "read(r0) -> ok 0"), r.explanation);
  BOOST_TEST(contains(r.explanation, "the model replies ok 1"),
             r.explanation);
}

BOOST_AUTO_TEST_CASE(unknown_outcomes) {
  reg_model m;
  // An unknown write that a later read saw: it took effect.
  std::vector<op> ops{
    make(1, 0, 0, write(1), {}, rt::outcome::unknown),
    make(2, 50, 60, read(), {true, 1}),
  };
  BOOST_TEST(rt::check(m, ops).linearizable());
  // One that did not: left out.
  ops[1].reply.value = 0;
  BOOST_TEST(rt::check(m, ops).linearizable());
  // But it cannot act before its invocation.
  ops = {make(1, 100, 0, write(1), {}, rt::outcome::unknown),
         make(2, 50, 60, read(), {true, 1})};
  BOOST_TEST(rt::check(m, ops).status == rt::verdict::violation);
  // A failed write took no effect, even if it was read.
  ops = {make(1, 0, 10, write(1), {}, rt::outcome::failed),
         make(2, 50, 60, read(), {true, 1})};
  BOOST_TEST(rt::check(m, ops).status == rt::verdict::violation);
}

BOOST_AUTO_TEST_CASE(history_recorder) {
  reg_model m;
  rt::history<reg_model> h;
  auto a = h.invoke(1, 0, write(5));
  auto b = h.invoke(2, 1, read());
  auto c = h.invoke(3, 2, write(6)); // never completes: unknown
  h.complete(a, 10, {});
  h.complete(b, 11, {true, 5});
  auto d = h.invoke(4, 12, write(7));
  h.fail(d, 13);
  BOOST_TEST(h.size() == 4u);
  BOOST_TEST(h.operations()[c].status == rt::outcome::unknown);
  BOOST_TEST(h.operations()[d].status == rt::outcome::failed);
  auto r = rt::check(m, h);
  BOOST_TEST(r.linearizable(), r.explanation);
  BOOST_TEST(r.operations == 3u); // the failed write is left out
}

BOOST_AUTO_TEST_CASE(partitions_are_checked_alone) {
  reg_model_t<true> m;
  std::vector<rt::operation<reg_model_t<true>>> ops(3);
  ops[0].command = write(1, 0);
  ops[0].complete = 10;
  ops[0].status = rt::outcome::ok;
  ops[1].command = write(2, 1);
  ops[1].complete = 10;
  ops[1].status = rt::outcome::ok;
  ops[2].command = read(1);
  ops[2].invoke = 20;
  ops[2].complete = 30;
  ops[2].reply = {true, 2};
  ops[2].status = rt::outcome::ok;
  auto r = rt::check(m, ops);
  BOOST_TEST(r.linearizable(), r.explanation);
  BOOST_TEST(r.partitions == 2u);
  ops[2].reply.value = 1; // r1 was never 1
  r = rt::check(m, ops);
  BOOST_TEST(r.status == rt::verdict::violation);
  BOOST_TEST(r.key == "r1");
}

BOOST_AUTO_TEST_CASE(agrees_with_brute_force_on_small_histories) {
  std::mt19937_64 rng(11);
  reg_model m;
  size_t good = 0;
  size_t bad = 0;
  for (int trial = 0; trial < 6000; ++trial) {
    auto ops = random_small(rng, trial % 2 == 0 ? 0.1 : 0.5);
    auto want = brute_force(ops);
    auto r = rt::check(m, ops);
    BOOST_TEST(r.linearizable() == want, "trial " << trial << ":\n"
                                                   << r.explanation);
    ++(want ? good : bad);
  }
  BOOST_TEST_MESSAGE(good << " linearizable, " << bad << " not");
  BOOST_TEST(good > 1000u);
  BOOST_TEST(bad > 1000u);
}

BOOST_AUTO_TEST_CASE(generated_histories_pass_and_mutations_fail) {
  std::mt19937_64 rng(5);
  reg_model m;
  reg_model_t<true> pm;
  int flagged = 0;
  for (int trial = 0; trial < 100; ++trial) {
    auto ops = generate(rng, 300, 2 + trial % 4, trial % 2 == 0 ? 0.0 : 0.03);
    auto r = rt::check(m, ops);
    BOOST_TEST(r.linearizable(), "trial " << trial << ":\n" << r.explanation);
    // The same through partitions.
    std::vector<rt::operation<reg_model_t<true>>> pops;
    for (auto& x : ops) {
      rt::operation<reg_model_t<true>> y;
      y.client = x.client;
      y.invoke = x.invoke;
      y.complete = x.complete;
      y.command = x.command;
      y.status = x.status;
      y.reply = x.reply;
      pops.push_back(y);
    }
    BOOST_TEST(rt::check(pm, pops).linearizable());
    // A read of a value never written is always caught.
    for (auto& x : ops)
      if (x.status == rt::outcome::ok && x.command.kind == reg_command::read) {
        x.reply.value = -1;
        break;
      }
    flagged += rt::check(m, ops).status == rt::verdict::violation;
  }
  BOOST_TEST(flagged == 100);
}

BOOST_AUTO_TEST_CASE(budget_returns_unknown) {
  std::mt19937_64 rng(9);
  reg_model m;
  auto ops = generate(rng, 300, 4, 0.0);
  rt::check_options opts;
  opts.max_steps = 10;
  auto r = rt::check(m, ops, opts);
  BOOST_TEST(r.status == rt::verdict::unknown, r.explanation);
  BOOST_TEST(r.steps == 10u);
  BOOST_TEST(contains(r.explanation, "step budget"));
}

BOOST_AUTO_TEST_CASE(malformed_history_throws) {
  reg_model m;
  std::vector<op> ops{make(1, 10, 5, write(1), {})};
  BOOST_CHECK_THROW(rt::check(m, ops), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
