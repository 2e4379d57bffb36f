// The gate: what a member publishes instead of itself. It runs the server
// side of the handshake, keeps one session per authenticated link or
// client, and passes on only what the session's identity may send.

#include "remote_protocol.hpp"

#include <chrono>
#include <iostream>
#include <map>

#include "caf/actor_system.hpp"
#include "caf/binary_deserializer.hpp"
#include "caf/binary_serializer.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/uniform_type_info_map.hpp"

#include "raft/errc.hpp"
#include "raft/messages.hpp"

namespace raft::remote {

namespace {

using std::chrono::steady_clock;

/// A challenge sent, waiting for its proof.
struct open_challenge {
  std::string client_nonce;
  steady_clock::time_point expires;
};

struct session {
  std::string identity;
  /// Members may send Raft RPCs; everyone with a session may append.
  bool member = false;
  /// The actor that ran the handshake: only it may use the token.
  caf::actor_addr peer;
};

struct gate_state {
  static inline const char* name = "raft.gate";

  caf::actor member;
  caf::actor transport;
  member_id self_id;
  credentials_ptr creds;
  access_policy policy;
  std::map<std::string, open_challenge> challenges;
  std::map<std::string, session> sessions;
  /// Sessions by the actor that holds them (dropped when it goes down).
  std::multimap<caf::actor_addr, std::string> by_peer;
};

using gate_self = caf::stateful_actor<gate_state>;

/// At most this many challenges may be open at once, each for this long:
/// a flood of hellos cannot exhaust memory.
constexpr size_t max_challenges = 4096;
constexpr auto challenge_lifetime = std::chrono::seconds(30);

caf::error refuse(gate_self* self, const std::string& who,
                  const std::string& why) {
  log_line(self->state.self_id, "refused " + who + ": " + why);
  return make_error(errc::access_denied, why);
}

std::string describe_sender(gate_self* self) {
  auto src = self->current_sender();
  return src ? "a sender on node " + to_string(src->node()) : "anonymous sender";
}

/// The session a relayed message names, if valid for its sender.
caf::expected<session*> find_session(gate_self* self,
                                     const std::string& token) {
  auto& st = self->state;
  auto i = st.sessions.find(token);
  if (i == st.sessions.end())
    return refuse(self, describe_sender(self),
                  "no session (handshake first, or the session ended)");
  auto src = self->current_sender();
  if (!src || caf::actor_cast<caf::actor_addr>(src) != i->second.peer)
    return refuse(self, i->second.identity,
                  "session token used by another actor");
  return &i->second;
}

/// The member id a Raft message says it comes from (empty if it cannot
/// tell: then the message is refused). Every Raft RPC of Figure 2 and §7
/// starts with the term and the sender's id (leader_id, candidate_id,
/// from); types the gate does not know by name are read that way through
/// CAF's own binary encoding, so a new RPC type is checked too, or refused.
std::string claimed_sender(gate_self* self, const caf::message& msg) {
  if (msg.match_elements<append_entries_request>())
    return msg.get_as<append_entries_request>(0).leader_id;
  if (msg.match_elements<append_entries_response>())
    return msg.get_as<append_entries_response>(0).from;
  if (msg.match_elements<request_vote_request>())
    return msg.get_as<request_vote_request>(0).candidate_id;
  if (msg.match_elements<request_vote_response>())
    return msg.get_as<request_vote_response>(0).from;
  if (msg.match_elements<install_snapshot_request>())
    return msg.get_as<install_snapshot_request>(0).leader_id;
  if (msg.match_elements<install_snapshot_response>())
    return msg.get_as<install_snapshot_response>(0).from;
  std::vector<char> buf;
  caf::binary_serializer sink{self->system(), buf};
  if (msg.save(0, sink))
    return {};
  caf::binary_deserializer source{self->system(), buf};
  term_t term = 0;
  std::string id;
  if (source(term, id))
    return {};
  return id;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size()
         && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Only single Raft RPC messages pass (types named raft::*_request or
/// raft::*_response); never control messages such as stop or add.
bool is_raft_rpc(gate_self* self, const caf::message& msg) {
  if (msg.size() != 1)
    return false;
  auto& name = self->system().types().portable_name(msg.type(0));
  return name.rfind("raft::", 0) == 0
         && (ends_with(name, "_request") || ends_with(name, "_response"));
}

bool is_local_sender(gate_self* self) {
  auto src = self->current_sender();
  return src && src->node() == self->node();
}

/// Passes one client request (append or query) to the member and its
/// answer back. (Never delegate: the member's address must not leave the
/// process, or a remote actor could bypass the gate.)
template <class Atom>
caf::result<append_reply> relay_one(gate_self* self, const std::string& token,
                                    Atom op, payload cmd) {
  auto s = find_session(self, token);
  if (!s)
    return s.error();
  auto rp = self->make_response_promise<append_reply>();
  self->request(self->state.member, caf::infinite, op, std::move(cmd))
    .then([=](append_reply& r) mutable { rp.deliver(std::move(r)); },
          [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

/// A client's coalesced requests: one message over the wire, one local
/// request each (the member batches them into one write and one round).
template <class Atom>
caf::result<outcome_vector> relay_batch(gate_self* self,
                                        const std::string& token, Atom op,
                                        payload_vector cmds) {
  auto s = find_session(self, token);
  if (!s)
    return s.error();
  auto n = cmds.size();
  if (n == 0)
    return outcome_vector{};
  auto rp = self->make_response_promise<outcome_vector>();
  auto results = std::make_shared<outcome_vector>(n);
  auto left = std::make_shared<size_t>(n);
  for (size_t i = 0; i < n; ++i) {
    auto done = [=]() mutable {
      if (--*left == 0)
        rp.deliver(std::move(*results));
    };
    self->request(self->state.member, caf::infinite, op, std::move(cmds[i]))
      .then(
        [=](append_reply& r) mutable {
          (*results)[i].reply = std::move(r);
          done();
        },
        [=](caf::error& err) mutable {
          (*results)[i].error = std::move(err);
          done();
        });
  }
  return rp;
}

caf::behavior gate_impl(gate_self* self, caf::actor member,
                        caf::actor transport, member_id self_id,
                        credentials_ptr creds, access_policy policy) {
  auto& st = self->state;
  st.member = std::move(member);
  st.transport = std::move(transport);
  st.self_id = std::move(self_id);
  st.creds = std::move(creds);
  st.policy = std::move(policy);
  self->monitor(st.member);
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    if (dm.source == st.member) {
      self->quit(dm.reason);
      return;
    }
    auto range = st.by_peer.equal_range(dm.source);
    for (auto i = range.first; i != range.second; ++i)
      st.sessions.erase(i->second);
    st.by_peer.erase(range.first, range.second);
  });
  self->set_default_handler(
    [](caf::scheduled_actor* ptr,
       caf::message_view& x) -> caf::result<caf::message> {
      auto self = static_cast<gate_self*>(ptr);
      return refuse(self, describe_sender(self),
                    "unexpected message " + to_string(x.content()));
    });
  return {
    // -- handshake ----------------------------------------------------------
    [=](hello_atom, auth_hello& hello) -> caf::result<auth_challenge> {
      auto& st = self->state;
      auto now = steady_clock::now();
      for (auto i = st.challenges.begin(); i != st.challenges.end();) {
        if (i->second.expires < now)
          i = st.challenges.erase(i);
        else
          ++i;
      }
      if (st.challenges.size() >= max_challenges)
        return refuse(self, describe_sender(self), "too many open handshakes");
      if (hello.client_nonce.size() < 16)
        return refuse(self, describe_sender(self), "nonce too short");
      auth_challenge ch;
      ch.gate_nonce = random_bytes(16);
      ch.identity = st.self_id;
      ch.certificate = st.creds->certificate_pem();
      // The gate's identity is its member id: its certificate must name it.
      auto sig = st.creds->sign(handshake_transcript(
        "gate", st.self_id, std::string{}, hello.client_nonce, ch.gate_nonce));
      if (!sig)
        return sig.error();
      ch.signature = std::move(*sig);
      st.challenges.emplace(ch.gate_nonce,
                            open_challenge{hello.client_nonce,
                                           now + challenge_lifetime});
      return ch;
    },
    [=](hello_atom, auth_proof& proof) -> caf::result<session_token> {
      auto& st = self->state;
      auto who = "'" + proof.identity + "' (" + describe_sender(self) + ")";
      auto i = st.challenges.find(proof.gate_nonce);
      if (i == st.challenges.end())
        return refuse(self, who, "unknown or expired handshake");
      auto client_nonce = std::move(i->second.client_nonce);
      st.challenges.erase(i); // One proof per challenge: no replays.
      auto transcript = handshake_transcript("client", st.self_id,
                                             proof.identity, client_nonce,
                                             proof.gate_nonce);
      if (auto err = st.creds->verify(proof.certificate, proof.identity,
                                      transcript, proof.signature))
        return refuse(self, who, self->system().render(err));
      session s;
      s.identity = proof.identity;
      s.member = st.policy.members.count(proof.identity) > 0;
      if (!s.member && !st.policy.clients.empty()
          && st.policy.clients.count(proof.identity) == 0)
        return refuse(self, who, "identity '" + proof.identity
                                   + "' is not in the access list");
      auto src = self->current_sender();
      if (!src)
        return refuse(self, who, "anonymous handshake");
      s.peer = caf::actor_cast<caf::actor_addr>(src);
      self->monitor(src);
      // A member that dialed us names its gate: our transport reaches it
      // over this connection instead of dialing back (two TLS connections
      // between the same two nodes break CAF 0.17's BASP).
      if (s.member && proof.gate && proof.gate.node() == src->node()
          && st.transport)
        self->send(st.transport, inbound_atom::value, proof.identity,
                   proof.gate);
      session_token token{random_bytes(16)};
      st.by_peer.emplace(s.peer, token.bytes);
      st.sessions.emplace(token.bytes, std::move(s));
      return token;
    },
    // -- inside a session ---------------------------------------------------
    [=](relay_atom, const std::string& token, caf::message& msg) {
      auto& st = self->state;
      auto s = find_session(self, token);
      if (!s)
        return;
      auto& sess = **s;
      if (!sess.member) {
        refuse(self, sess.identity, "Raft RPCs are for members only");
        return;
      }
      if (!is_raft_rpc(self, msg)) {
        refuse(self, sess.identity,
               "not a Raft RPC: " + to_string(msg));
        return;
      }
      auto claimed = claimed_sender(self, msg);
      if (claimed != sess.identity) {
        refuse(self, sess.identity,
               "message claims to come from '" + claimed + "'");
        return;
      }
      self->send(st.member, std::move(msg));
    },
    [=](relay_atom, const std::string& token, append_atom,
        payload& cmd) -> caf::result<append_reply> {
      return relay_one(self, token, append_atom::value, std::move(cmd));
    },
    [=](relay_atom, const std::string& token, append_atom,
        payload_vector& cmds) -> caf::result<outcome_vector> {
      return relay_batch(self, token, append_atom::value, std::move(cmds));
    },
    [=](relay_atom, const std::string& token, query_atom,
        payload& query) -> caf::result<append_reply> {
      return relay_one(self, token, query_atom::value, std::move(query));
    },
    [=](relay_atom, const std::string& token, query_atom,
        payload_vector& queries) -> caf::result<outcome_vector> {
      return relay_batch(self, token, query_atom::value, std::move(queries));
    },
    [=](relay_atom, const std::string& token,
        status_atom) -> caf::result<member_status> {
      auto s = find_session(self, token);
      if (!s)
        return s.error();
      auto rp = self->make_response_promise<member_status>();
      self->request(self->state.member, caf::infinite, status_atom::value)
        .then([=](member_status& r) mutable { rp.deliver(std::move(r)); },
              [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    // -- local senders (found through the registry): the member's interface --
    [=](append_atom, payload& cmd) -> caf::result<append_reply> {
      if (!is_local_sender(self))
        return refuse(self, describe_sender(self),
                      "remote appends need a session");
      return self->delegate(caf::actor_cast<member_actor>(self->state.member),
                            append_atom::value, std::move(cmd));
    },
    [=](query_atom, payload& query) -> caf::result<append_reply> {
      if (!is_local_sender(self))
        return refuse(self, describe_sender(self),
                      "remote queries need a session");
      return self->delegate(caf::actor_cast<member_actor>(self->state.member),
                            query_atom::value, std::move(query));
    },
    [=](status_atom) -> caf::result<member_status> {
      if (!is_local_sender(self))
        return refuse(self, describe_sender(self),
                      "remote status requests need a session");
      return self->delegate(caf::actor_cast<member_actor>(self->state.member),
                            status_atom::value);
    },
  };
}

} // namespace

caf::actor spawn_gate(caf::actor_system& sys, caf::actor member,
                      caf::actor transport, member_id self_id,
                      credentials_ptr creds, access_policy policy) {
  return sys.spawn(gate_impl, std::move(member), std::move(transport),
                   std::move(self_id), std::move(creds), std::move(policy));
}

void log_line(const std::string& who, const std::string& what) {
  std::cerr << "[raft " << who << "] " << what << std::endl;
}

} // namespace raft::remote
