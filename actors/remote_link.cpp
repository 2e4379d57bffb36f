// A link: the client side of one session with a remote gate. A member holds
// a link per peer (the handle the transport gives it); a client holds one
// per member it talks to. Only local actors may use it.
//
//   handshaking ──(session token)──► forwarding ──(gate down)──► quit
//        │ refused / timeout                       (owner down) ──► quit
//        └──────────────────────► quit(error)

#include "remote_protocol.hpp"

#include <map>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/exit_reason.hpp"
#include "caf/stateful_actor.hpp"

#include "raft/errc.hpp"

namespace raft::remote {

namespace {

struct link_state {
  static inline const char* name = "raft.link";

  caf::actor owner;
  member_id gate_id;
  caf::actor gate;
  credentials_ptr creds;
  caf::actor own_gate;
  caf::timespan request_timeout;
  std::string client_nonce;
  std::string token;
  /// Requests relayed and not yet answered: failed at once (outcome
  /// unknown) when the connection is lost, rather than left to time out.
  std::map<uint64_t, caf::response_promise> pending;
  uint64_t next_request = 1;
};

using link_self = caf::stateful_actor<link_state>;

bool is_local_sender(link_self* self) {
  auto src = self->current_sender();
  return src && src->node() == self->node();
}

caf::error not_local() {
  return make_error(errc::access_denied, "a link serves local actors only");
}

/// Relays a request through the session and its answer back.
template <class Reply, class... Ts>
caf::result<Reply> relay(link_self* self, Ts&&... xs) {
  if (!is_local_sender(self))
    return not_local();
  auto& st = self->state;
  auto rp = self->make_response_promise<Reply>();
  auto id = st.next_request++;
  st.pending.emplace(id, rp);
  auto take = [=]() -> caf::response_promise* {
    auto i = self->state.pending.find(id);
    return i == self->state.pending.end() ? nullptr : &i->second;
  };
  self->request(st.gate, st.request_timeout, relay_atom::value, st.token,
                std::forward<Ts>(xs)...)
    .then(
      [=](Reply& r) {
        if (auto p = take()) {
          p->deliver(std::move(r));
          self->state.pending.erase(id);
        }
      },
      [=](caf::error& err) {
        if (auto p = take()) {
          p->deliver(std::move(err));
          self->state.pending.erase(id);
        }
      });
  return rp;
}

caf::behavior forwarding(link_self* self) {
  // One-way messages (Raft RPCs) go through as they are.
  self->set_default_handler(
    [](caf::scheduled_actor* ptr,
       caf::message_view& x) -> caf::result<caf::message> {
      auto self = static_cast<link_self*>(ptr);
      if (!is_local_sender(self))
        return not_local();
      auto& st = self->state;
      self->send(st.gate, relay_atom::value, st.token,
                 x.move_content_to_message());
      return caf::message{};
    });
  return {
    [=](append_atom, payload& cmd) -> caf::result<append_reply> {
      return relay<append_reply>(self, append_atom::value, std::move(cmd));
    },
    [=](append_atom, payload_vector& cmds) -> caf::result<outcome_vector> {
      return relay<outcome_vector>(self, append_atom::value, std::move(cmds));
    },
    [=](query_atom, payload& query) -> caf::result<append_reply> {
      return relay<append_reply>(self, query_atom::value, std::move(query));
    },
    [=](query_atom, payload_vector& queries) -> caf::result<outcome_vector> {
      return relay<outcome_vector>(self, query_atom::value,
                                   std::move(queries));
    },
    [=](status_atom) -> caf::result<member_status> {
      return relay<member_status>(self, status_atom::value);
    },
  };
}

/// The handshake failed: quit with the reason (our owner logs it).
void fail(link_self* self, const caf::error& err) {
  self->quit(err);
}

void send_proof(link_self* self, auth_challenge& ch, caf::timespan timeout) {
  auto& st = self->state;
  // The gate must prove it is the member we dialed, not merely someone
  // the CA certified.
  if (ch.identity != st.gate_id) {
    fail(self, make_error(errc::access_denied, "dialed '" + st.gate_id
                                                 + "' but the gate says '"
                                                 + ch.identity + "'"));
    return;
  }
  auto gate_transcript = handshake_transcript("gate", st.gate_id, {},
                                              st.client_nonce, ch.gate_nonce);
  if (auto err = st.creds->verify(ch.certificate, st.gate_id, gate_transcript,
                                  ch.signature)) {
    fail(self, err);
    return;
  }
  auth_proof proof;
  proof.gate_nonce = ch.gate_nonce;
  proof.identity = st.creds->identity();
  proof.certificate = st.creds->certificate_pem();
  proof.gate = st.own_gate;
  auto sig = st.creds->sign(handshake_transcript("client", st.gate_id,
                                                 proof.identity,
                                                 st.client_nonce,
                                                 ch.gate_nonce));
  if (!sig) {
    fail(self, sig.error());
    return;
  }
  proof.signature = std::move(*sig);
  self->request(st.gate, timeout, hello_atom::value, std::move(proof))
    .then(
      [=](session_token& token) {
        auto& st = self->state;
        st.token = std::move(token.bytes);
        self->become(forwarding(self));
        self->send(st.owner, ready_atom::value, st.gate_id);
      },
      [=](caf::error& err) { fail(self, err); });
}

caf::behavior link_impl(link_self* self, caf::actor owner, member_id gate_id,
                        caf::actor gate, credentials_ptr creds,
                        caf::actor own_gate, caf::timespan handshake_timeout,
                        caf::timespan request_timeout) {
  auto& st = self->state;
  st.owner = std::move(owner);
  st.gate_id = std::move(gate_id);
  st.gate = std::move(gate);
  st.creds = std::move(creds);
  st.own_gate = std::move(own_gate);
  st.request_timeout = request_timeout;
  st.client_nonce = random_bytes(16);
  self->monitor(st.gate);
  self->monitor(st.owner);
  self->set_down_handler([=](caf::down_msg& dm) {
    // Our gate's proxy went down (connection lost) or our owner quit.
    auto lost = make_error(errc::timeout, "connection to " + self->state.gate_id
                                            + " lost; outcome unknown");
    for (auto& kvp : self->state.pending)
      kvp.second.deliver(lost);
    self->state.pending.clear();
    self->quit(dm.source == self->state.gate
                 ? caf::error{caf::exit_reason::remote_link_unreachable}
                 : caf::error{});
  });
  self->request(st.gate, handshake_timeout, hello_atom::value,
                auth_hello{st.client_nonce})
    .then(
      [=](auth_challenge& ch) { send_proof(self, ch, handshake_timeout); },
      [=](caf::error& err) { fail(self, err); });
  // Nothing is sent through a link before it reports ready.
  return {
    [](caf::unit_t) {},
  };
}

} // namespace

caf::actor spawn_link(caf::actor_system& sys, caf::actor owner,
                      member_id gate_id, caf::actor gate,
                      credentials_ptr creds, caf::actor own_gate,
                      caf::timespan handshake_timeout,
                      caf::timespan request_timeout) {
  return sys.spawn(link_impl, std::move(owner), std::move(gate_id),
                   std::move(gate), std::move(creds), std::move(own_gate),
                   handshake_timeout, request_timeout);
}

} // namespace raft::remote
