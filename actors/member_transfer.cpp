// Elections without disruption and handing leadership over (thesis §9.6
// PreVote, §4.2.3 leader stickiness, §3.10 leadership transfer), and peers
// reached by id through handles that may change while the member runs.
// step() (member_step.cpp) routes pre-votes and TimeoutNow here; the
// election itself is start_election() in member.cpp.

#include "member_state.hpp"

#include "caf/actor_cast.hpp"
#include "caf/event_based_actor.hpp"

#include "raft/core/rules.hpp"
#include "raft/errc.hpp"

namespace raft {

// -- PreVote and leader stickiness --------------------------------------------------

bool leader_is_current(member_self* self) {
  auto& st = self->state;
  // Stickiness relies on check quorum (thesis §6.2), as etcd-io/raft's
  // leases do: only then does a leader cut off from a majority step down,
  // so that a leader heard from is one that a majority still follows.
  // Without it (e.g. the Figure 8 scenario of tests/actors, where the
  // leader stays up but loses the election) no member is sticky.
  if (!st.cfg.check_quorum)
    return false;
  if (st.role == role::leader)
    return true; // A leader is its own current leader.
  if (st.leader.empty())
    return false;
  // Thesis §4.2.3: "within the minimum election timeout of hearing from a
  // current leader".
  return self->clock().now() - st.last_leader_contact
         < st.cfg.election_timeout_min;
}

void receive_pre_vote_request(member_self* self, request_vote_request& req,
                              const peer_actor& candidate) {
  auto& st = self->state;
  request_vote_response resp;
  resp.from = st.id();
  resp.pre_vote = true;
  resp.vote_granted = holds_a_vote(st)
                      && should_grant_pre_vote(st.persistent, st.log, req,
                                               leader_is_current(self),
                                               st.broken);
  // Thesis §9.6: granting changes nothing here. A grant carries the term
  // asked for; a refusal our term, so a stale pre-candidate catches up.
  resp.term = resp.vote_granted ? req.term : st.persistent.current_term;
  // Our term may have changed in a write not yet durable: answer after it.
  send_after_persist(self, candidate, resp);
}

void on_pre_vote_response(member_self* self, request_vote_response& resp) {
  auto& st = self->state;
  st.candidacy().votes.insert(resp.from);
  // Thesis §9.6: "Only if the candidate believed it could get votes from a
  // majority of the cluster would it increment its term and start a normal
  // election" (of each configuration while joint, thesis §4.3).
  if (won_election(st))
    start_election(self, false);
}

// -- leadership transfer (thesis §3.10) -------------------------------------------------

void receive_timeout_now(member_self* self, timeout_now_request& req) {
  auto& st = self->state;
  // step accepted the sender as our term's leader, so we follow it.
  if (st.role != role::follower)
    return;
  log_line(self, log_level::info,
           "TimeoutNow from " + req.leader_id + ": starting an election");
  // Thesis §3.10: "This request has the same effect as the target server's
  // election timer firing": an election at once, no pre-vote, and its
  // RequestVotes bypass leader stickiness (§4.2.3).
  start_election(self, true);
}

caf::result<caf::ok_atom> start_transfer(member_self* self,
                                         const member_id& target) {
  auto& st = self->state;
  if (st.role != role::leader)
    return make_error(errc::not_leader, st.leader);
  if (target == st.id())
    return caf::ok_atom::value; // It leads already.
  // Thesis §3.10 with §4.3: only a voter can take over.
  if (st.peers.count(target) == 0 || !st.configuration().is_voter(target))
    return make_error(errc::unknown_member,
                      "'" + target + "' is not a voter");
  if (st.transfer)
    return make_error(errc::transfer_in_progress,
                      "a transfer to " + st.transfer->target
                        + " is in progress");
  auto rp = self->make_response_promise();
  auto id = st.next_transfer_id++;
  st.transfer = pending_transfer{target, rp, id};
  auto& ld = st.leading();
  ld.transfer_target = target;
  ld.timeout_now_sent = false;
  log_line(self, log_level::info, "transferring leadership to " + target);
  // Thesis §3.10: "If the transfer does not complete within an election
  // timeout, the prior leader aborts the transfer and resumes accepting
  // client requests."
  self->delayed_send(self, st.cfg.election_timeout_max, transfer_atom::value,
                     id);
  // Thesis §3.10 step 1: bring the target up to date, then TimeoutNow.
  maybe_send_timeout_now(self);
  if (!ld.timeout_now_sent)
    schedule_flush(self);
  return caf::delegated<caf::ok_atom>{};
}

void maybe_send_timeout_now(member_self* self) {
  auto& st = self->state;
  auto* ld = st.if_leading();
  if (!ld || ld->transfer_target.empty() || ld->timeout_now_sent)
    return;
  auto f = ld->followers.find(ld->transfer_target);
  if (f == ld->followers.end())
    return;
  // Thesis §3.10: "The prior leader ... ensures that the target server's
  // log is up to date": its match index covers our whole log (no new
  // entries come while the transfer lasts).
  if (f->second.match_index() < st.log.last_index())
    return;
  ld->timeout_now_sent = true;
  send_timeout_now(self, st.peers[ld->transfer_target]);
}

void send_timeout_now(member_self* self, const peer_actor& to) {
  timeout_now_request req;
  req.term = self->state.persistent.current_term;
  req.leader_id = self->state.id();
  send_to_peer(self, to, std::move(req));
}

void on_leader_known(member_self* self) {
  auto& st = self->state;
  if (st.transfer && st.leader == st.transfer->target) {
    log_line(self, log_level::info,
             "leadership transferred to " + st.transfer->target);
    st.transfer->promise.deliver(caf::ok_atom::value);
    st.transfer.reset();
  }
}

void on_transfer_timeout(member_self* self, uint64_t id) {
  auto& st = self->state;
  if (!st.transfer || st.transfer->id != id)
    return;
  log_line(self, log_level::warning,
           "leadership transfer to " + st.transfer->target
             + " did not complete within an election timeout");
  st.transfer->promise.deliver(
    make_error(errc::timeout, "the transfer to " + st.transfer->target
                                + " did not complete within an election "
                                  "timeout"));
  st.transfer.reset();
  // Thesis §3.10: a leader that still leads accepts appends again.
  if (auto* ld = st.if_leading())
    ld->transfer_target.clear();
}

// -- peers by id -------------------------------------------------------------------------

caf::error replace_peer(member_self* self, const member_id& id,
                        const caf::actor& handle, bool only_if_dead) {
  auto& st = self->state;
  if (id.empty() || id == st.id())
    return make_error(errc::unknown_member, "cannot add member '" + id + "'");
  if (!handle)
    return make_error(errc::unknown_member, "no handle for '" + id + "'");
  if (handle.address() == self->address())
    return make_error(errc::unknown_member,
                      "'" + id + "' cannot be reached through this member");
  auto i = st.peers.find(id);
  if (i == st.peers.end()) {
    // Peers by id: a member the directory did not know (added to the
    // configuration later, or announcing itself after a restart).
    log_line(self, log_level::info, "directory: member " + id + " added");
    st.peers.emplace(id, caf::actor_cast<peer_actor>(handle));
    self->monitor(handle);
    if (st.if_leading())
      schedule_flush(self);
    return caf::none;
  }
  if (i->second.address() == handle.address())
    return caf::none;
  if (only_if_dead && i->second)
    return caf::none; // The handle we hold still works: keep it.
  log_line(self, log_level::info, "new handle for member " + id);
  i->second = caf::actor_cast<peer_actor>(handle);
  self->monitor(handle);
  // Whatever was in flight to the old handle is lost: resend from the last
  // match.
  if (auto* ld = st.if_leading()) {
    auto f = ld->followers.find(id);
    if (f != ld->followers.end())
      f->second.on_silence();
    schedule_flush(self);
  }
  return caf::none;
}

caf::error register_remote_peer(member_self* self, const member_id& id) {
  auto& st = self->state;
  if (id.empty() || id == st.id() || id.find(':') == std::string::npos)
    return make_error(errc::unknown_member,
                      "'" + id + "' is not a host:port of another member");
  if (!st.transport)
    return make_error(errc::unknown_member,
                      "no transport to reach '" + id + "'");
  st.peers.emplace(id, peer_actor{});
  self->send(st.transport, caf::connect_atom::value, id);
  return caf::none;
}

void on_peer_down(member_self* self, const caf::actor_addr& who) {
  auto& st = self->state;
  for (auto& kvp : st.peers) {
    if (kvp.second && kvp.second.address() == who) {
      log_line(self, log_level::info,
               "member " + kvp.first + " is down; waiting for a new handle");
      kvp.second = peer_actor{};
    }
  }
}

void announce_self(member_self* self) {
  auto& st = self->state;
  auto me = caf::actor_cast<caf::actor>(self);
  for (auto& id : st.announce_to) {
    auto i = st.peers.find(id);
    if (i != st.peers.end() && i->second)
      // Not a Raft RPC of peer_actor: rejoin is in-process only, so it is
      // enqueued untyped, as the write queue's released messages are.
      i->second->enqueue(
        caf::make_mailbox_element(self->ctrl(), caf::make_message_id(), {},
                                  caf::make_message(rejoin_atom::value,
                                                    st.id(), me)),
        self->context());
  }
}

} // namespace raft
