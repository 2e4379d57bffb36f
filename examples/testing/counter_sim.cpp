// The testing kit's smallest example: a counter, its model, 20 seeds.
// docs/testing-kit.md shows the code between the markers verbatim (ctest
// example_testing_counter_in_sync).
// README-BEGIN
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>

#include "raft/testing/model_workload.hpp"
#include "raft/testing/simulation.hpp"

// The application's state machine.
class counter : public raft::state_machine {
public:
  raft::apply_result apply(raft::index_t, const raft::payload& cmd) override {
    value_ += std::stoll(cmd.bytes().substr(4)); // "add N"
    return {std::to_string(value_), {}};
  }
  caf::error save_snapshot(std::ostream& out) override {
    out << value_;
    return caf::none;
  }
  caf::error restore_snapshot(raft::index_t, std::istream& in) override {
    in >> value_;
    return caf::none;
  }

private:
  int64_t value_ = 0;
};

// Its sequential model, and how clients use it.
struct counter_spec {
  using state = int64_t;
  using command = int64_t; // add N
  using reply = int64_t;   // the new value
  state initial() const { return 0; }
  reply apply(state& s, const command& n) const { return s += n; }

  command generate(std::mt19937_64& rng, uint64_t) {
    return std::uniform_int_distribution<int64_t>{1, 9}(rng);
  }
  raft::payload encode(const command& n) const {
    return raft::payload{"add " + std::to_string(n)};
  }
  std::optional<reply> decode(const command&, const raft::apply_result& r) const {
    if (!r.error.empty())
      return std::nullopt; // a reply the model has no word for: the run fails
    return std::stoll(r.result);
  }
};

int main() {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    raft::testing::options opts;
    opts.seed = seed;
    opts.program = "counter_sim"; // how the report says to replay
    raft::testing::model_workload<counter_spec> clients;
    auto r = raft::testing::run(
      opts, [](size_t) { return std::make_shared<counter>(); }, clients);
    if (!r.ok()) {
      std::cout << raft::testing::report(r, opts);
      return 1;
    }
  }
  return 0;
}
// README-END
