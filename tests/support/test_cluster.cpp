#include "test_cluster.hpp"

namespace raft::test {

test_cluster::test_cluster(size_t n, uint64_t seed, tweak_fn tweak)
  : sim_cluster(n, seed, std::move(tweak), kv_factory(*this)) {
  // nop
}

test_cluster::test_cluster(std::vector<recovered_state> initial,
                           uint64_t seed, tweak_fn tweak)
  : sim_cluster(std::move(initial), seed, std::move(tweak),
                kv_factory(*this)) {
  // nop
}

testing::sim_cluster::machine_factory test_cluster::kv_factory(kv_machines& self) {
  auto* machines = &self.machines;
  return [machines](size_t i) {
    if (machines->size() <= i)
      machines->resize(i + 1);
    auto m = std::make_shared<kv_machine>();
    (*machines)[i] = m;
    return m;
  };
}

} // namespace raft::test
