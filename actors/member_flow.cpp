#include "member_flow.hpp"

#include <chrono>
#include <string>

#if defined(__GLIBC__)
#  include <malloc.h>
#endif

#include "raft/errc.hpp"

namespace raft {

caf::error admit_proposal(member_self* self, const payload& cmd) {
  auto& st = self->state;
  auto& budget = st.leading().uncommitted;
  if (!budget.admits(cmd.size(), st.cfg.max_uncommitted_bytes)) {
    ++st.leading().overloaded_refusals;
    return make_error(errc::overloaded,
                      "the leader holds " + std::to_string(budget.held())
                        + " bytes of uncommitted commands (limit "
                        + std::to_string(st.cfg.max_uncommitted_bytes)
                        + "); not appended, retry later");
  }
  budget.on_proposed(cmd.size());
  return caf::none;
}

void release_committed(member_self* self, index_t from, index_t to) {
  auto& st = self->state;
  auto* ld = st.if_leading();
  if (ld == nullptr)
    return;
  // Only this term's commands were counted (admit_proposal); entries before
  // term_start were appended by earlier leaders.
  size_t bytes = 0;
  auto first = std::max(from + 1, std::max(ld->term_start, st.log.first_index()));
  for (auto i = first; i <= to && i <= st.log.last_index(); ++i) {
    auto& e = st.log.at(i);
    if (e.kind == entry_kind::command)
      bytes += e.data.size();
  }
  ld->uncommitted.on_committed(bytes);
}

void return_free_memory(member_self* self) {
  auto& st = self->state;
  if (!st.cfg.trim_memory_after_snapshot)
    return;
#if defined(__GLIBC__)
  auto t0 = std::chrono::steady_clock::now();
  malloc_trim(0);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(
              std::chrono::steady_clock::now() - t0)
              .count();
  log_line(self, log_level::debug,
           "malloc_trim after compaction: " + std::to_string(us) + " us");
#endif
}

} // namespace raft
