// The key-value linearizability checker now lives in the testing kit
// (include/raft/testing/kv_linearizability.hpp); the project's tests keep
// calling it `raft::test::lin`.
#pragma once

#include "raft/testing/kv_linearizability.hpp"

namespace raft::test {
namespace lin = raft::testing::kv;
} // namespace raft::test
