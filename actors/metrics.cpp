// A member's metrics (raft/metrics.hpp): the reply to metrics_atom, and the
// observations that need more than one line in the member's code.

#include "member_state.hpp"

#include <algorithm>
#include <limits>

namespace raft {

uint64_t histogram::quantile_bound(double q) const {
  if (count == 0)
    return 0;
  // The rank of the q-quantile, 1-based: the ceil(q * count)-th observation.
  auto rank = static_cast<uint64_t>(q * static_cast<double>(count));
  if (static_cast<double>(rank) < q * static_cast<double>(count))
    ++rank;
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (size_t i = 0; i + 1 < buckets; ++i) {
    seen += counts[i];
    if (seen >= rank)
      return upper_bound(i);
  }
  return std::numeric_limits<uint64_t>::max();
}

const char* to_string(refusal x) {
  switch (x) {
    case refusal::unknown_sender:
      return "unknown_sender";
    case refusal::malformed:
      return "malformed";
    case refusal::replaces_committed:
      return "replaces_committed";
    case refusal::second_leader:
      return "second_leader";
    case refusal::bad_response:
      return "bad_response";
    case refusal::unexpected_message:
      return "unexpected_message";
    case refusal::error_message:
      return "error_message";
    case refusal::other:
      break;
  }
  return "other";
}

void observe_commits(member_self* self, index_t from, index_t to) {
  auto& st = self->state;
  auto now = self->clock().now();
  // commit_waiters are in index order; those at or below `from` were
  // observed when they committed and wait only for their apply.
  auto& ws = st.commit_waiters;
  auto i = std::partition_point(ws.begin(), ws.end(),
                                [&](const commit_waiter& w) {
                                  return w.index <= from;
                                });
  for (; i != ws.end() && i->index <= to; ++i)
    st.metrics.totals.commit_latency_us.observe(
      micros_between(i->proposed_at, now));
}

member_metrics make_metrics(member_self* self) {
  auto& st = self->state;
  auto m = st.metrics.totals;
  m.id = st.id();
  m.role = st.role;
  m.term = st.persistent.current_term;
  m.leader = st.leader;
  m.commit_index = st.commit_index;
  m.last_applied = st.last_applied;
  m.last_log_index = st.log.last_index();
  m.durable_index = st.writes.durable_index();
  m.snapshot_index = st.snapshot.last_index;
  m.log_writes = st.counters.log_writes;
  m.entries_written = st.counters.entries_written;
  m.messages_sent = st.counters.messages_sent;
  m.entries_sent = st.counters.entries_sent;
  m.entries_committed = st.commit_index >= st.metrics.commit_at_start
                          ? st.commit_index - st.metrics.commit_at_start
                          : 0;
  auto* ld = st.if_leading();
  for (auto& kvp : st.peers) {
    peer_metrics p;
    auto i = st.metrics.peers.find(kvp.first);
    if (i != st.metrics.peers.end())
      p = i->second;
    p.id = kvp.first;
    if (ld) {
      auto f = ld->followers.find(kvp.first);
      if (f != ld->followers.end()) {
        // Figure 2: matchIndex, the highest entry known replicated there.
        auto match = f->second.match_index();
        p.is_follower = true;
        p.match_lag = st.log.last_index() > match ? st.log.last_index() - match
                                                  : 0;
      }
    }
    m.peers.push_back(std::move(p));
  }
  return m;
}

} // namespace raft
