// `kill -USR1 <raft-kv serve>`: one line on stderr about what holds the
// process's memory (RSS, the allocator's view, the log held in memory, the
// key-value data), for the memory benchmark (examples/bench/memory.sh,
// docs/benchmarks.md, "Memory").
#pragma once

#include <string>

#include "caf/scoped_actor.hpp"

#include "raft/member.hpp"

#include "kv_state_machine.hpp"

namespace kv {

/// "mem rss_kib=... hwm_kib=... heap_in_use=... heap_free=... mmapped=...
/// log_entries=... kv_keys=... kv_bytes=...".
std::string memory_report(caf::scoped_actor& self,
                          const raft::member_actor& member,
                          const machine& sm);

} // namespace kv
