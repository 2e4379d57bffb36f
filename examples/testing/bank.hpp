// The testing kit's example: a bank with three accounts, as an application
// would write it, and what the kit needs to test it.
//
//   bank_machine  the replicated state machine (raft::state_machine)
//   bank_model    its sequential specification: what each command must reply
//   bank_spec     the model plus how clients choose, encode and decode
//                 commands (raft::testing::model_workload)
//
// Commands (payload bytes) and replies (apply_result):
//   deposit A N      -> the new balance of A
//   withdraw A N     -> the new balance, or error "insufficient"
//   transfer A B N   -> the new balance of A, or error "insufficient"
//   balance A        -> the balance (read-only: may go as a ReadIndex query)
//
// bank_machine::flaw switches on a deliberate bug (bank_sim --broken), which
// the kit must catch.
#pragma once

#include <array>
#include <cstdint>
#include <istream>
#include <optional>
#include <ostream>
#include <random>
#include <sstream>
#include <string>

#include "raft/errc.hpp"
#include "raft/state_machine.hpp"

namespace bank {

constexpr size_t accounts = 3;

/// Account names: "a", "b", "c".
inline std::string account_name(size_t i) {
  return std::string(1, static_cast<char>('a' + i));
}

/// The balances, in account order.
using balances = std::array<int64_t, accounts>;

/// A parsed command.
struct command {
  enum kind_t : uint8_t { deposit, withdraw, transfer, balance };
  kind_t kind = balance;
  size_t from = 0;
  size_t to = 0;
  int64_t amount = 0;

  std::string text() const {
    std::ostringstream out;
    switch (kind) {
      case deposit:
        out << "deposit " << account_name(from) << ' ' << amount;
        break;
      case withdraw:
        out << "withdraw " << account_name(from) << ' ' << amount;
        break;
      case transfer:
        out << "transfer " << account_name(from) << ' ' << account_name(to)
            << ' ' << amount;
        break;
      case balance:
        out << "balance " << account_name(from);
        break;
    }
    return out.str();
  }

  /// Parses text(); false on anything else.
  bool parse(const std::string& str) {
    std::istringstream in{str};
    std::string op;
    std::string a;
    std::string b;
    in >> op >> a;
    auto account = [](const std::string& name, size_t& out) {
      if (name.size() != 1 || name[0] < 'a'
          || name[0] >= static_cast<char>('a' + accounts))
        return false;
      out = static_cast<size_t>(name[0] - 'a');
      return true;
    };
    if (!account(a, from))
      return false;
    if (op == "balance") {
      kind = balance;
      return true;
    }
    if (op == "transfer") {
      kind = transfer;
      if (!(in >> b) || !account(b, to))
        return false;
    } else if (op == "deposit") {
      kind = deposit;
    } else if (op == "withdraw") {
      kind = withdraw;
    } else {
      return false;
    }
    return static_cast<bool>(in >> amount) && amount > 0;
  }
};

/// The rules, shared by the machine and the model: applies `c` to `b` and
/// returns the reply as the client sees it (a balance, or "error: ...").
inline std::string apply_to(balances& b, const command& c) {
  switch (c.kind) {
    case command::deposit:
      b[c.from] += c.amount;
      return std::to_string(b[c.from]);
    case command::withdraw:
      if (b[c.from] < c.amount)
        return "error: insufficient";
      b[c.from] -= c.amount;
      return std::to_string(b[c.from]);
    case command::transfer:
      if (b[c.from] < c.amount)
        return "error: insufficient";
      b[c.from] -= c.amount;
      b[c.to] += c.amount;
      return std::to_string(b[c.from]);
    case command::balance:
      return std::to_string(b[c.from]);
  }
  return "error: unknown";
}

// -- the state machine ----------------------------------------------------------

/// Deliberate bugs, for showing that the kit catches them.
enum class flaw : uint8_t {
  none,
  /// apply ignores deposits of exactly 7 (but replies as if it had not).
  ignore_deposit_of_7,
  /// apply is not deterministic: member 2 (index 1) credits transfers of
  /// exactly 3 twice, e.g. reading a setting of its own host.
  nondeterministic_transfer,
};

class bank_machine : public raft::state_machine {
public:
  bank_machine(flaw f = flaw::none, size_t member = 0)
    : flaw_(f), member_(member) {
    // nop
  }

  raft::apply_result apply(raft::index_t, const raft::payload& cmd) override {
    raft::apply_result r;
    command c;
    if (!c.parse(cmd.bytes())) {
      r.error = "bad command";
      return r;
    }
    if (flaw_ == flaw::ignore_deposit_of_7 && c.kind == command::deposit
        && c.amount == 7) {
      r.result = std::to_string(balances_[c.from]); // the deposit is lost
      return r;
    }
    auto reply = apply_to(balances_, c);
    if (flaw_ == flaw::nondeterministic_transfer && member_ == 1
        && c.kind == command::transfer && c.amount == 3
        && reply.compare(0, 6, "error:") != 0)
      balances_[c.to] += c.amount;
    if (reply.compare(0, 7, "error: ") == 0)
      r.error = reply.substr(7);
    else
      r.result = reply;
    return r;
  }

  raft::apply_result query(const raft::payload& q) override {
    raft::apply_result r;
    command c;
    if (!c.parse(q.bytes()) || c.kind != command::balance) {
      r.error = "queries are read-only: balance A";
      return r;
    }
    r.result = std::to_string(balances_[c.from]);
    return r;
  }

  caf::error save_snapshot(std::ostream& out) override {
    for (auto x : balances_)
      out << x << '\n';
    return caf::none;
  }

  caf::error restore_snapshot(raft::index_t, std::istream& in) override {
    for (auto& x : balances_)
      if (!(in >> x))
        return raft::make_error(raft::errc::snapshot_failure,
                                "truncated bank snapshot");
    return caf::none;
  }

private:
  flaw flaw_;
  size_t member_;
  balances balances_{};
};

// -- the sequential model ---------------------------------------------------------

struct bank_model {
  using state = balances;
  using reply = std::string;
  using command = bank::command;

  state initial() const {
    return {};
  }

  reply apply(state& s, const command& c) const {
    return apply_to(s, c);
  }

  bool read_only(const command& c) const {
    return c.kind == command::balance;
  }

  size_t hash(const state& s) const {
    size_t h = 0;
    for (auto x : s)
      h = h * 1000003 ^ std::hash<int64_t>{}(x);
    return h;
  }

  std::string describe(const command& c) const {
    return c.text();
  }

  std::string describe(const reply& r) const {
    return r;
  }

  std::string describe(const state& s) const {
    std::string out;
    for (size_t i = 0; i < accounts; ++i)
      out += (i > 0 ? " " : "") + account_name(i) + "="
             + std::to_string(s[i]);
    return out;
  }
};

// -- the clients ------------------------------------------------------------------

struct bank_spec : bank_model {
  /// Once per run: what the setup line says (nothing to draw here).
  std::string setup(std::mt19937_64&) {
    return std::to_string(accounts) + " accounts";
  }

  /// deposit 35%, withdraw 20%, transfer 20%, balance 25%; amounts 1-10.
  command generate(std::mt19937_64& rng, uint64_t) {
    auto draw = [&](int64_t lo, int64_t hi) {
      return std::uniform_int_distribution<int64_t>{lo, hi}(rng);
    };
    command c;
    auto x = draw(0, 99);
    c.kind = x < 35   ? command::deposit
             : x < 55 ? command::withdraw
             : x < 75 ? command::transfer
                      : command::balance;
    c.from = static_cast<size_t>(draw(0, accounts - 1));
    c.to = (c.from + static_cast<size_t>(draw(1, accounts - 1))) % accounts;
    c.amount = draw(1, 10);
    return c;
  }

  raft::payload encode(const command& c) const {
    return raft::payload{c.text()};
  }

  /// A balance, or the application's error as the model writes it.
  std::optional<reply> decode(const command&,
                              const raft::apply_result& r) const {
    if (!r.error.empty()) {
      if (r.error != "insufficient")
        return std::nullopt;
      return "error: " + r.error;
    }
    return r.result;
  }
};

} // namespace bank
