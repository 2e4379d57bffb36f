// A member's configuration as the simulation sees it: the public
// raft::config plus Raft rules broken on purpose, so that a test can show
// that its checks catch the bug each one causes (docs/testing.md, "Broken
// variants"). Members outside the simulation never break a rule: the
// switches are not part of raft::config.
#pragma once

#include "raft/config.hpp"
#include "raft/core/rules.hpp"

namespace raft::testing {

struct member_setup : config {
  /// Rules this member breaks (none by default).
  broken_rules broken;
};

} // namespace raft::testing
