// A leader's memory bounds (issue 14): the uncommitted bytes it accepts
// (config::max_uncommitted_bytes, errc::overloaded) and the bytes it sends
// ahead to each follower (config::max_inflight_bytes, in raft::progress).
#pragma once

#include "caf/error.hpp"

#include "raft/core/log.hpp"
#include "raft/core/types.hpp"

#include "member_state.hpp"

namespace raft {

/// Leader: refuses a client's command with errc::overloaded when it would
/// pass config::max_uncommitted_bytes, else counts it as uncommitted.
/// Called by propose() only: the leader's no-op and configuration entries
/// never pass here, so they are never refused.
caf::error admit_proposal(member_self* self, const payload& cmd);

/// Leader: commit_index moves from `from` to `to`; the commands of this
/// term in between leave the uncommitted count.
void release_committed(member_self* self, index_t from, index_t to);

/// After a snapshot compacted the log: hands the allocator's free memory
/// back to the system (glibc's malloc_trim) if config::trim_memory_after_snapshot.
/// Without it, the pages of the compacted entries stay in the process,
/// scattered between live allocations (docs/benchmarks.md, "Memory").
void return_free_memory(member_self* self);

} // namespace raft
