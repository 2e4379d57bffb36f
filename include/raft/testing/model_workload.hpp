// A workload built from the application's sequential model: it draws the
// clients' operations, records what they saw and checks the history with
// raft/testing/linearizability.hpp. docs/testing-kit.md has a whole example.
//
// The spec is the model (see linearizability.hpp) plus how its commands
// travel and how clients choose them:
//
//   struct bank_spec : bank_model {
//     command generate(std::mt19937_64& rng, uint64_t client);
//     raft::payload encode(const command& c) const;
//     // The reply as the model states it, from the state machine's answer
//     // (apply_result::error is the application's error); nullopt: a reply
//     // the model has no word for (the run fails, naming it).
//     std::optional<reply> decode(const command& c,
//                                 const raft::apply_result& r) const;
//     // Optional: read_only(c) (model) lets the simulation send the command
//     // as a ReadIndex query half of the time; setup(rng) draws per-run
//     // choices once and describes them.
//   };
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include "raft/testing/linearizability.hpp"
#include "raft/testing/simulation.hpp"

namespace raft::testing {

namespace detail {

template <class S, class = void>
struct has_setup : std::false_type {};
template <class S>
struct has_setup<S, std::void_t<decltype(std::declval<S&>().setup(
                      std::declval<std::mt19937_64&>()))>> : std::true_type {};

} // namespace detail

template <class Spec>
class model_workload : public workload {
public:
  explicit model_workload(Spec spec = Spec{}) : spec_(std::move(spec)) {
    // nop
  }

  std::string setup(std::mt19937_64& rng) override {
    if constexpr (detail::has_setup<Spec>::value)
      return spec_.setup(rng);
    else
      return workload::setup(rng);
  }

  request issue(const client_call& call, size_t& id) override {
    auto cmd = spec_.generate(*call.rng, call.client);
    request req;
    req.command = spec_.encode(cmd);
    if constexpr (detail::has_read_only<Spec>::value)
      req.query = call.queries && spec_.read_only(cmd)
                  && std::uniform_real_distribution<double>{0.0, 1.0}(
                       *call.rng)
                       < 0.5;
    id = hist_.invoke(call.client, call.time, std::move(cmd));
    return req;
  }

  std::string completed(size_t id, uint64_t time,
                        const apply_result& reply) override {
    auto& cmd = hist_.operations().at(id).command;
    auto r = spec_.decode(cmd, reply);
    if (!r)
      return "unexpected reply '"
             + (reply.error.empty() ? reply.result : "error " + reply.error)
             + "' for " + detail::describe(spec_, cmd);
    hist_.complete(id, time, std::move(*r));
    return {};
  }

  void failed(size_t id, uint64_t time) override {
    hist_.fail(id, time);
  }

  history_verdict check(uint64_t budget) override {
    check_options opts;
    opts.max_steps = budget;
    auto r = raft::testing::check(spec_, hist_, opts);
    history_verdict v;
    v.operations = r.operations;
    v.steps = r.steps;
    v.key = r.key;
    v.explanation = r.explanation;
    switch (r.status) {
      case verdict::linearizable:
        v.status = history_verdict::linearizable;
        break;
      case verdict::unknown:
        v.status = history_verdict::undecided;
        break;
      case verdict::violation:
        v.status = history_verdict::violation;
        v.window_from = UINT64_MAX;
        for (auto& op : r.unplaced) {
          v.window_from = std::min(v.window_from, op.invoke);
          v.window_to = std::max(v.window_to, op.complete);
        }
        if (!r.prefix.empty())
          v.window_from = std::min(v.window_from, r.prefix.back().invoke);
        if (v.window_from == UINT64_MAX)
          v.window_from = v.window_to = 0;
        break;
    }
    return v;
  }

  /// The history recorded so far.
  const history<Spec>& recorded() const {
    return hist_;
  }

  Spec& spec() {
    return spec_;
  }

private:
  Spec spec_;
  history<Spec> hist_;
};

} // namespace raft::testing
