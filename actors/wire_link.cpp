// The CAF side of the wire (remote_protocol.hpp): the link actor that owns a
// dialed session, and the bridge that answers a listener's client
// operations with the member's replies.
//
//   link:   connecting ──wire_up──► up ──wire_down──► (quits)
//              └────────wire_down (refused: access_denied)──┘

#include "remote_protocol.hpp"

#include <iostream>
#include <unordered_map>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/sec.hpp"
#include "caf/stateful_actor.hpp"

#include "raft/errc.hpp"
#include "raft/messages.hpp"

namespace raft::remote {

namespace {

using wire::wire_down_atom;
using wire::wire_reply_atom;
using wire::wire_member_atom;
using wire::wire_req_atom;
using wire::wire_timeout_atom;
using wire::wire_up_atom;

// -- link -----------------------------------------------------------------------------

enum class reply_kind { single, batch, status };

struct pending_request {
  reply_kind kind;
  caf::response_promise rp;
  std::chrono::steady_clock::time_point deadline;
};

/// How often a link with requests in flight checks their deadlines (one
/// timer per link, not one per request: the clock thread stays quiet).
constexpr auto deadline_check = std::chrono::milliseconds(50);

struct link_state {
  static inline const char* name = "raft.link";

  wire::engine_ptr eng;
  wire::dial_handle_ptr conn;
  caf::actor owner;
  member_id target;
  caf::timespan request_timeout;
  /// Give the owner the session's channel when it stands (a transport's).
  bool with_channel = false;
  bool up = false;
  bool ticking = false;
  uint64_t next_id = 1;
  std::unordered_map<uint64_t, pending_request> pending;
};

using link_self = caf::stateful_actor<link_state>;

template <class Msg>
void send_rpc(link_self* self, const Msg& msg) {
  auto& st = self->state;
  if (!st.up)
    return; // Raft tolerates lost messages; the link reconnects.
  std::string frame;
  wire::encode(frame, msg);
  st.conn->send(std::move(frame));
}

void start_request(link_self* self, wire::client_op op, payload_vector cmds,
                   reply_kind kind, caf::response_promise rp) {
  auto& st = self->state;
  if (!st.up) {
    rp.deliver(make_error(errc::unreachable,
                          st.target + " is not connected; not sent"));
    return;
  }
  auto id = st.next_id++;
  std::string frame;
  wire::encode(frame, wire::client_request{id, op, std::move(cmds)});
  st.conn->send(std::move(frame));
  auto deadline = std::chrono::steady_clock::now() + st.request_timeout;
  st.pending.emplace(id, pending_request{kind, std::move(rp), deadline});
  if (!st.ticking) {
    st.ticking = true;
    self->delayed_send(self, deadline_check, wire_timeout_atom::value);
  }
}

template <class T>
caf::result<T> request_one(link_self* self, wire::client_op op, payload cmd) {
  auto rp = self->make_response_promise();
  start_request(self, op, payload_vector{std::move(cmd)}, reply_kind::single,
                rp);
  return caf::delegated<T>{};
}

caf::result<outcome_vector> request_batch(link_self* self, wire::client_op op,
                                          payload_vector cmds) {
  auto rp = self->make_response_promise();
  start_request(self, op, std::move(cmds), reply_kind::batch, rp);
  return caf::delegated<outcome_vector>{};
}

/// Takes the pending request `id`, if any.
bool take(link_self* self, uint64_t id, pending_request& out) {
  auto i = self->state.pending.find(id);
  if (i == self->state.pending.end())
    return false;
  out = std::move(i->second);
  self->state.pending.erase(i);
  return true;
}

caf::behavior link_impl(link_self* self, caf::actor owner,
                        wire::engine_ptr eng, member_id target,
                        wire::peer_kind kind, caf::timespan request_timeout,
                        bool with_channel) {
  auto& st = self->state;
  st.with_channel = with_channel;
  st.eng = std::move(eng);
  st.owner = std::move(owner);
  st.target = std::move(target);
  st.request_timeout = request_timeout;
  st.conn = st.eng->dial(st.target, kind,
                         caf::actor_cast<caf::actor>(self));
  self->attach_functor([conn = st.conn] { conn->close(); });
  self->monitor(st.owner);
  self->set_down_handler([=](caf::down_msg& dm) {
    if (dm.source == self->state.owner)
      self->quit();
  });
  return {
    // -- Raft RPCs, one way (a member of a transport sends them through the
    //    session's channel instead: peer_channel.hpp) -------------------------------
    [=](request_vote_request& m) { send_rpc(self, m); },
    [=](request_vote_response& m) { send_rpc(self, m); },
    [=](append_entries_request& m) { send_rpc(self, m); },
    [=](append_entries_response& m) { send_rpc(self, m); },
    [=](install_snapshot_request& m) { send_rpc(self, m); },
    [=](install_snapshot_response& m) { send_rpc(self, m); },
    [=](timeout_now_request& m) { send_rpc(self, m); },
    // -- client operations ---------------------------------------------------------
    [=](append_atom, payload& cmd) -> caf::result<append_reply> {
      return request_one<append_reply>(self, wire::client_op::append,
                                       std::move(cmd));
    },
    [=](append_atom, payload_vector& cmds) -> caf::result<outcome_vector> {
      return request_batch(self, wire::client_op::append, std::move(cmds));
    },
    [=](query_atom, payload& cmd) -> caf::result<append_reply> {
      return request_one<append_reply>(self, wire::client_op::query,
                                       std::move(cmd));
    },
    [=](query_atom, payload_vector& cmds) -> caf::result<outcome_vector> {
      return request_batch(self, wire::client_op::query, std::move(cmds));
    },
    [=](status_atom) -> caf::result<member_status> {
      auto rp = self->make_response_promise();
      start_request(self, wire::client_op::status, {}, reply_kind::status, rp);
      return caf::delegated<member_status>{};
    },
    // -- from the io thread ----------------------------------------------------------
    [=](wire_up_atom, uint64_t) {
      auto& st = self->state;
      st.up = true;
      if (st.with_channel)
        self->send(st.owner, ready_atom::value, st.target,
                   make_peer_channel(st.conn));
      else
        self->send(st.owner, ready_atom::value, st.target);
    },
    [=](wire_reply_atom, uint64_t id, outcome_vector& out) {
      pending_request p;
      if (!take(self, id, p))
        return;
      if (p.kind == reply_kind::batch) {
        p.rp.deliver(std::move(out));
      } else if (p.kind == reply_kind::single && out.size() == 1) {
        if (out[0].error)
          p.rp.deliver(std::move(out[0].error));
        else
          p.rp.deliver(std::move(out[0].reply));
      } else {
        p.rp.deliver(make_error(errc::protocol_violation,
                                "reply of the wrong shape from "
                                  + self->state.target));
      }
    },
    [=](wire_reply_atom, uint64_t id, member_status& s) {
      pending_request p;
      if (take(self, id, p))
        p.rp.deliver(std::move(s));
    },
    [=](wire_reply_atom, uint64_t id, caf::error& err) {
      pending_request p;
      if (take(self, id, p))
        p.rp.deliver(std::move(err));
    },
    [=](wire_timeout_atom) {
      auto& st = self->state;
      auto now = std::chrono::steady_clock::now();
      for (auto i = st.pending.begin(); i != st.pending.end();) {
        if (i->second.deadline <= now) {
          i->second.rp.deliver(make_error(errc::timeout,
                                          "no answer from " + st.target
                                            + " in time; outcome unknown"));
          i = st.pending.erase(i);
        } else {
          ++i;
        }
      }
      st.ticking = !st.pending.empty();
      if (st.ticking)
        self->delayed_send(self, deadline_check, wire_timeout_atom::value);
    },
    [=](wire_down_atom, uint64_t, const std::string& why, bool refused) {
      auto& st = self->state;
      // Requests in flight may have been applied: outcome unknown.
      for (auto& kvp : st.pending)
        kvp.second.rp.deliver(make_error(errc::timeout,
                                         "lost the connection to " + st.target
                                           + " (" + why
                                           + "); outcome unknown"));
      st.pending.clear();
      if (refused) {
        static const std::string tag = "access_denied: ";
        auto text = why.compare(0, tag.size(), tag) == 0
                      ? why.substr(tag.size())
                      : why;
        self->quit(make_error(errc::access_denied, text));
      } else {
        self->quit(make_error(errc::unreachable, why));
      }
    },
  };
}

// -- bridge --------------------------------------------------------------------------------

/// A member's error as the wire carries it (raft::errc only).
caf::error normalize(caf::actor_system& sys, caf::error err) {
  if (err.category() == errc_category)
    return err;
  // Whatever else went wrong (the member's mailbox, a timeout): the
  // request may or may not have been applied.
  return make_error(errc::timeout, sys.render(err) + "; outcome unknown");
}

caf::behavior bridge_impl(caf::event_based_actor* self, caf::actor member,
                          wire::engine_ptr eng) {
  self->monitor(member);
  self->set_down_handler([=](caf::down_msg& dm) {
    if (dm.source == member)
      self->quit(dm.reason);
  });
  // A membership_request (authorized by the listener): the member's answer
  // as a membership_reply.
  auto reply_membership = [=](uint64_t session, uint64_t id) {
    return std::make_pair(
      [=](cluster_configuration& cfg) {
        std::string frame;
        wire::encode(frame, wire::membership_reply{id, std::move(cfg), {}});
        eng->reply(session, std::move(frame));
      },
      [=](caf::error& err) {
        std::string frame;
        wire::encode(frame,
                     wire::membership_reply{id, {},
                                            normalize(self->system(),
                                                      std::move(err))});
        eng->reply(session, std::move(frame));
      });
  };
  return {
    [=](wire_member_atom, uint64_t session, uint64_t id, uint8_t op,
        member_id& who, bool promote, cluster_configuration& target) {
      auto [on_ok, on_error] = reply_membership(session, id);
      switch (static_cast<wire::membership_op>(op)) {
        case wire::membership_op::members:
          self->request(member, caf::infinite, members_atom::value)
            .then(on_ok, on_error);
          break;
        case wire::membership_op::add_learner:
          self->request(member, caf::infinite, learner_atom::value,
                        std::move(who), promote)
            .then(on_ok, on_error);
          break;
        case wire::membership_op::promote:
          self->request(member, caf::infinite, promote_atom::value,
                        std::move(who))
            .then(on_ok, on_error);
          break;
        case wire::membership_op::remove:
          self->request(member, caf::infinite, remove_atom::value,
                        std::move(who))
            .then(on_ok, on_error);
          break;
        case wire::membership_op::reconfigure:
          self->request(member, caf::infinite, reconfig_atom::value,
                        std::move(target))
            .then(on_ok, on_error);
          break;
        case wire::membership_op::transfer:
          self->request(member, caf::infinite, transfer_atom::value,
                        std::move(who))
            .then([on_ok = on_ok](caf::ok_atom) mutable {
                    cluster_configuration none;
                    on_ok(none);
                  },
                  on_error);
          break;
      }
    },
    [=](wire_req_atom, uint64_t session, uint64_t id, uint8_t op,
        payload_vector& cmds) {
      if (op == static_cast<uint8_t>(wire::client_op::status)) {
        self->request(member, caf::infinite, status_atom::value)
          .then(
            [=](member_status& s) {
              std::string frame;
              wire::encode(frame, wire::status_reply{id, std::move(s), {}});
              eng->reply(session, std::move(frame));
            },
            [=](caf::error& err) {
              std::string frame;
              wire::encode(frame,
                           wire::status_reply{id, {},
                                              normalize(self->system(),
                                                        std::move(err))});
              eng->reply(session, std::move(frame));
            });
        return;
      }
      // One request for the whole frame (member_actor's batch append or
      // query): one message in, one out, whatever the batch size.
      auto n = cmds.size();
      auto on_outcomes = [=](outcome_vector& out) {
        wire::client_reply reply;
        reply.id = id;
        if (out.size() != n) {
          // The member answers one outcome per command; anything else is
          // a bug here, and the client must not match outcomes to commands.
          reply.outcomes.resize(n);
          for (auto& o : reply.outcomes)
            o.error = make_error(errc::timeout,
                                 "the member's answer did not match the "
                                 "batch; outcome unknown");
        } else {
          reply.outcomes.reserve(n);
          for (auto& o : out)
            reply.outcomes.push_back(wire::client_outcome{
              std::move(o.reply),
              o.error ? normalize(self->system(), std::move(o.error))
                      : caf::error{}});
        }
        std::string frame;
        wire::encode(frame, reply);
        eng->reply(session, std::move(frame));
      };
      auto on_error = [=](caf::error& err) {
        // The whole request failed (not started, stopped, the member gone):
        // every command gets the error, as each would have alone.
        wire::client_reply reply;
        reply.id = id;
        reply.outcomes.resize(n);
        auto e = normalize(self->system(), std::move(err));
        for (auto& o : reply.outcomes)
          o.error = e;
        std::string frame;
        wire::encode(frame, reply);
        eng->reply(session, std::move(frame));
      };
      if (n == 0) {
        outcome_vector none;
        on_outcomes(none);
        return;
      }
      if (op == static_cast<uint8_t>(wire::client_op::query))
        self->request(member, caf::infinite, query_atom::value,
                      std::move(cmds))
          .then(on_outcomes, on_error);
      else
        self->request(member, caf::infinite, append_atom::value,
                      std::move(cmds))
          .then(on_outcomes, on_error);
    },
  };
}

} // namespace

caf::actor spawn_link(caf::actor_system& sys, caf::actor owner,
                      wire::engine_ptr eng, member_id target,
                      wire::peer_kind kind, caf::timespan request_timeout,
                      bool with_channel) {
  return sys.spawn(link_impl, std::move(owner), std::move(eng),
                   std::move(target), kind, request_timeout, with_channel);
}

caf::actor spawn_bridge(caf::actor_system& sys, caf::actor member,
                        wire::engine_ptr eng) {
  return sys.spawn(bridge_impl, std::move(member), std::move(eng));
}

void log_line(const std::string& who, const std::string& what) {
  std::cerr << "[raft " << who << "] " << what << std::endl;
}

} // namespace raft::remote
