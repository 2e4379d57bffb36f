// Linearizable read-only queries without log writes: ReadIndex (thesis
// §6.4). The leader
//   1. waits until an entry of its own term is committed (its no-op), so its
//      commit index covers everything any earlier leader committed;
//   2. records read_index = its commit index;
//   3. confirms it is still the leader: a heartbeat round to every follower,
//      answered by a majority in the current term;
//   4. waits until its state machine applied read_index, then queries it.
// Queries arriving together share one round, hence one message per follower.

#include "member_state.hpp"

#include "caf/event_based_actor.hpp"
#include "caf/sec.hpp"

#include "raft/core/rules.hpp"
#include "raft/errc.hpp"

namespace raft {

namespace {

void query_state_machine(member_self* self, index_t read_index,
                         const payload& query, reply_to rp) {
  if (auto direct = query_directly(self, query)) {
    // A C++ state machine, queried here (member_apply.cpp).
    if (*direct)
      rp.deliver(append_reply{read_index, std::move((*direct)->result),
                              std::move((*direct)->error)});
    else
      rp.deliver(direct->error());
    return;
  }
  self->request(self->state.sm, caf::infinite, query_atom::value, query)
    .then(
      [=](apply_result& r) mutable {
        rp.deliver(append_reply{read_index, std::move(r.result),
                                std::move(r.error)});
      },
      [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
}

/// The highest round a majority (this leader included) has answered.
uint64_t confirmed_round(const member_state& st) {
  // Thesis §6.4 with §4.3: a majority of each configuration while joint.
  std::map<member_id, index_t> rounds{st.leading().read_acks.begin(),
                                      st.leading().read_acks.end()};
  rounds[st.id()] = st.leading().read_round;
  return joint_quorum_index(st.configuration(), rounds);
}

} // namespace

void start_read(member_self* self, payload query, reply_to rp) {
  auto& st = self->state;
  if (st.broken.serve_reads_without_quorum_check && !queries_wait(self)) {
    query_state_machine(self, st.last_applied, query, std::move(rp));
    return;
  }
  auto read_index = std::max(st.commit_index, st.leading().term_start);
  st.leading().reads.push_back(pending_read{st.leading().read_round + 1, read_index,
                                  std::move(query), std::move(rp)});
  st.leading().read_round_wanted = true;
  schedule_flush(self);
}

void broadcast_read_round(member_self* self) {
  auto& st = self->state;
  if (!st.leading().read_round_wanted)
    return;
  st.leading().read_round_wanted = false;
  ++st.leading().read_round;
  replicate(self, true); // every follower gets the round, if only by heartbeat
  serve_reads(self);     // a single member confirms on its own
}

void serve_reads(member_self* self) {
  auto& st = self->state;
  if (!st.if_leading() || st.leading().reads.empty())
    return;
  auto confirmed = confirmed_round(st);
  // A C++ state machine being saved or restored on another thread, or one
  // that failed a query: no query (apply_directly serves them once it is
  // done; a failed one stops the member).
  for (auto* ld = st.if_leading();
       ld && !ld->reads.empty() && !queries_wait(self);
       ld = st.if_leading()) {
    auto& front = ld->reads.front();
    if (front.round > confirmed || front.read_index > st.last_applied)
      return; // Later reads have later rounds and read indexes.
    auto r = std::move(front);
    ld->reads.pop_front();
    query_state_machine(self, r.read_index, r.query, std::move(r.promise));
  }
}

void forward_query(member_self* self, payload query, reply_to rp) {
  auto& st = self->state;
  if (st.role == role::leader) {
    start_read(self, std::move(query), std::move(rp));
    return;
  }
  auto i = st.peers.find(st.leader);
  if (i == st.peers.end() || !i->second) {
    park_append(self, std::move(query), std::move(rp), true);
    return;
  }
  self->request(i->second, st.cfg.append_timeout, query_atom::value,
                std::move(query))
    .then([=](append_reply& reply) mutable { rp.deliver(std::move(reply)); },
          [=](caf::error& err) mutable {
            // A query changes nothing: any failure is a plain failure.
            if (err == caf::sec::request_timeout
                || err == caf::sec::request_receiver_down)
              rp.deliver(make_error(errc::no_leader,
                                    "the leader did not answer the query"));
            else
              rp.deliver(std::move(err));
          });
}

} // namespace raft
