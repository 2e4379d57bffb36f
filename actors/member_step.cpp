// One entry for every Raft message, as etcd-io/raft's Step: the six RPC
// messages of Figure 2 and Figure 13 and TimeoutNow (thesis §3.10) all pass
// through step(), which
//   1. refuses, with one log line, what no correct peer sends: an unknown
//      sender or a malformed request;
//   1b. keeps pre-votes (thesis §9.6) away from the term rule: they never
//      change the receiver's term, and a pre-vote reply changes the
//      sender's only when it was refused with a higher, real term; and
//      disregards a RequestVote while a current leader is heard from
//      (thesis §4.2.3, leader stickiness), unless a transfer asked for it;
//   2. answers a stale term (§5.1; Figure 2 and 13, receiver 1: "Reply
//      false if term < currentTerm"): requests get our term, responses are
//      dropped;
//   2b. refuses, with one log line, a request of our term or a newer one
//      that would replace a committed entry (thesis §3.5: committed means
//      committed; a stale one is answered by 2 and changes nothing);
//   3. adopts a newer term and becomes a follower (§5.1);
//   4. accepts the sender of AppendEntries or InstallSnapshot in our term as
//      the leader (§5.2: a candidate steps down; a leader refuses a second
//      leader, which Election Safety rules out);
// then hands the message to the role (receive_*, on_*_response). To change
// how every message's term or sender is handled, change it here.

#include "member_state.hpp"

#include <type_traits>

#include "caf/event_based_actor.hpp"

#include "raft/core/rules.hpp"

namespace raft {

namespace {

// -- what each message is ---------------------------------------------------------

/// The name in log lines, the sender's id, whether the sender claims to be
/// the leader, and what the role does with it.
template <class Message>
struct rpc;

template <>
struct rpc<append_entries_request> {
  static constexpr const char* name = "append_entries_request";
  static constexpr bool from_leader = true;
  static const member_id& sender(const append_entries_request& m) {
    return m.leader_id;
  }
};

template <>
struct rpc<install_snapshot_request> {
  static constexpr const char* name = "install_snapshot_request";
  static constexpr bool from_leader = true;
  static const member_id& sender(const install_snapshot_request& m) {
    return m.leader_id;
  }
};

template <>
struct rpc<timeout_now_request> {
  static constexpr const char* name = "timeout_now_request";
  static constexpr bool from_leader = true;
  static const member_id& sender(const timeout_now_request& m) {
    return m.leader_id;
  }
};

template <>
struct rpc<request_vote_request> {
  static constexpr const char* name = "request_vote_request";
  static constexpr bool from_leader = false;
  static const member_id& sender(const request_vote_request& m) {
    return m.candidate_id;
  }
};

/// Responses name their sender in `from`.
template <class Response>
struct response_rpc {
  static constexpr bool from_leader = false;
  static const member_id& sender(const Response& m) {
    return m.from;
  }
};

template <>
struct rpc<append_entries_response>
  : response_rpc<append_entries_response> {
  static constexpr const char* name = "append_entries_response";
};

template <>
struct rpc<install_snapshot_response>
  : response_rpc<install_snapshot_response> {
  static constexpr const char* name = "install_snapshot_response";
};

template <>
struct rpc<request_vote_response> : response_rpc<request_vote_response> {
  static constexpr const char* name = "request_vote_response";
};

// -- 1. what no correct peer sends ------------------------------------------------

/// Why a request cannot come from a correct leader (empty if it can): its
/// entries must follow prev_log_index without gaps, with terms that never
/// decrease, never below prev_log_term and never above the leader's term.
std::string malformed(const append_entries_request& req) {
  if (req.prev_log_term > req.term)
    return "prev_log_term above the leader's term";
  auto expected_index = req.prev_log_index + 1;
  auto min_term = req.prev_log_term;
  for (auto& e : req.entries) {
    if (e.index != expected_index)
      return "entry " + std::to_string(e.index) + " where "
             + std::to_string(expected_index) + " belongs";
    if (e.term < min_term || e.term > req.term)
      return "entry " + std::to_string(e.index) + " has term "
             + std::to_string(e.term) + " out of order";
    if (e.kind != entry_kind::command && e.kind != entry_kind::noop
        && e.kind != entry_kind::configuration)
      return "entry " + std::to_string(e.index) + " of unknown kind";
    // Thesis §4.1: in force once appended, so checked before it is.
    if (e.kind == entry_kind::configuration && !decode_configuration(e.data))
      return "entry " + std::to_string(e.index)
             + " holds a malformed configuration";
    ++expected_index;
    min_term = e.term;
  }
  return {};
}

std::string malformed(const install_snapshot_request& req) {
  if (req.last_included_term > req.term)
    return "last_included_term above the leader's term";
  if (req.last_included_index == 0)
    return "a snapshot of nothing";
  return {};
}

template <class Message>
std::string malformed(const Message&) {
  return {};
}

/// Thesis §3.5 (committed means committed; etcd-io/raft panics on it): why
/// the request would remove or replace an entry at or below our commit
/// index (empty if it would not).
std::string replaces_committed(const member_state& st,
                               const append_entries_request& req) {
  if (auto i = committed_conflict(st.log, st.commit_index, req); i != 0)
    return "it replaces committed entry " + std::to_string(i);
  return {};
}

std::string replaces_committed(const member_state& st,
                               const install_snapshot_request& req) {
  if (snapshot_conflicts_with_commit(st.log, st.commit_index,
                                     req.last_included_index,
                                     req.last_included_term))
    return "its snapshot replaces committed entry "
           + std::to_string(req.last_included_index);
  return {};
}

template <class Message>
std::string replaces_committed(const member_state&, const Message&) {
  return {};
}

// -- 2. a stale term -----------------------------------------------------------------

// Figure 2 and Figure 13, receiver 1: "Reply false if term < currentTerm",
// with our term, so the sender learns it is stale.

void reply_stale(member_self* self, const peer_actor& to,
                 const append_entries_request& req) {
  append_entries_response resp;
  resp.from = self->state.id();
  resp.term = self->state.persistent.current_term;
  resp.rejected_index = req.prev_log_index;
  send_after_persist(self, to, resp);
}

void reply_stale(member_self* self, const peer_actor& to,
                 const install_snapshot_request& req) {
  install_snapshot_response resp;
  resp.from = self->state.id();
  resp.term = self->state.persistent.current_term;
  resp.last_included_index = req.last_included_index;
  send_after_persist(self, to, resp);
}

void reply_stale(member_self* self, const peer_actor& to,
                 const request_vote_request& req) {
  request_vote_response resp;
  resp.from = self->state.id();
  resp.term = self->state.persistent.current_term;
  resp.pre_vote = req.pre_vote;
  send_after_persist(self, to, resp);
}

/// A stale response answers a request of an earlier term: dropped.
template <class Response>
void reply_stale(member_self*, const peer_actor&, const Response&) {
  // nop
}

// -- 4. the leader of our term -------------------------------------------------------

/// §5.2: whoever sends AppendEntries or InstallSnapshot in our term is its
/// leader. Returns false if we lead it ourselves.
bool accept_leader(member_self* self, const member_id& id, term_t term) {
  auto& st = self->state;
  if (st.role == role::leader) {
    // Election safety (§5.2) says this cannot happen.
    refuse(self, "a second leader " + id + " in term " + std::to_string(term),
           refusal::second_leader);
    return false;
  }
  // §5.2: a candidate that hears from the current term's leader steps down.
  // So does a pre-candidate (thesis §9.6): the leader it missed is back.
  if (st.role != role::follower || st.leader != id)
    become_follower(self, id);
  reset_election_timer(self);
  // Thesis §4.2.3: the clock of leader stickiness.
  st.last_leader_contact = self->clock().now();
  on_leader_known(self);
  return true;
}

// -- 1b. pre-votes and leader stickiness -------------------------------------------

/// Handles what the term rule must not see; true if the message is done.
bool outside_term_rule(member_self* self, request_vote_request& req,
                       const peer_actor& from) {
  if (req.pre_vote) {
    // Thesis §9.6: answered without touching our term or vote.
    receive_pre_vote_request(self, req, from);
    return true;
  }
  // Thesis §4.2.3: "it does not update its term or grant its vote"; no
  // answer either (the candidate's own timer retries).
  if (req.term > self->state.persistent.current_term
      && disregard_vote_request(req, leader_is_current(self)))
    return true;
  return false;
}

bool outside_term_rule(member_self* self, request_vote_response& resp,
                       const peer_actor&) {
  if (!resp.pre_vote)
    return false;
  auto& st = self->state;
  if (!resp.vote_granted) {
    // A refused pre-vote carries the voter's real term: a higher one is
    // adopted (§5.1), as etcd-io/raft does; a granted one carries the term
    // asked for, which nobody holds yet.
    observe_term(self, resp.term);
    return true;
  }
  if (st.role == role::candidate && st.candidacy().pre_vote
      && resp.term == st.persistent.current_term + 1)
    on_pre_vote_response(self, resp);
  return true;
}

template <class Message>
bool outside_term_rule(member_self*, Message&, const peer_actor&) {
  return false;
}

// -- then the role -----------------------------------------------------------------

void act(member_self* self, append_entries_request& m, const peer_actor& from) {
  receive_entries(self, m, from);
}

void act(member_self* self, install_snapshot_request& m,
         const peer_actor& from) {
  receive_snapshot(self, m, from);
}

void act(member_self* self, request_vote_request& m, const peer_actor& from) {
  receive_vote_request(self, m, from);
}

void act(member_self* self, timeout_now_request& m, const peer_actor&) {
  receive_timeout_now(self, m);
}

void act(member_self* self, append_entries_response& m, const peer_actor&) {
  if (self->state.role == role::leader)
    on_append_response(self, m);
}

void act(member_self* self, install_snapshot_response& m, const peer_actor&) {
  if (self->state.role == role::leader)
    on_install_response(self, m);
}

void act(member_self* self, request_vote_response& m, const peer_actor&) {
  if (self->state.role == role::candidate)
    on_vote_response(self, m);
}

} // namespace

template <class Message>
void step(member_self* self, Message& msg) {
  using info = rpc<Message>;
  auto& st = self->state;
  auto& sender = info::sender(msg);
  auto peer = st.peers.find(sender);
  if (peer == st.peers.end()) {
    refuse(self, std::string{info::name} + " from unknown member " + sender,
           refusal::unknown_sender);
    return;
  }
  st.metrics.on_received(sender, payload_bytes(msg));
  auto refused = [&](const std::string& why, refusal kind) {
    if (why.empty())
      return false;
    refuse(self, std::string{info::name} + " from " + sender + ": " + why,
           kind);
    return true;
  };
  if (refused(malformed(msg), refusal::malformed))
    return;
  if (outside_term_rule(self, msg, peer->second))
    return;
  if (msg.term < st.persistent.current_term) {
    reply_stale(self, peer->second, msg);
    return;
  }
  // After the term rule: a delayed request of a deposed leader may well
  // disagree with what was committed since; it only needs our term. In our
  // term or a newer one, no correct leader sends it (Leader Completeness),
  // and it is refused before it can move our term.
  if (refused(replaces_committed(st, msg), refusal::replaces_committed))
    return;
  observe_term(self, msg.term);
  if constexpr (info::from_leader)
    if (!accept_leader(self, sender, msg.term))
      return;
  act(self, msg, peer->second);
}

template void step(member_self*, append_entries_request&);
template void step(member_self*, append_entries_response&);
template void step(member_self*, request_vote_request&);
template void step(member_self*, request_vote_response&);
template void step(member_self*, install_snapshot_request&);
template void step(member_self*, install_snapshot_response&);
template void step(member_self*, timeout_now_request&);

} // namespace raft
