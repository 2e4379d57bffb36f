// The client actor (raft/client.hpp). It keeps a wire session per member
// it talks to (wire_engine.hpp; it owns the dialed connections itself, with
// no link actor in between: one thread hand-off less each way), sends requests to the leader it knows (or any member, which
// forwards), and coalesces: requests that arrive while `window` messages
// are in flight wait and leave together, up to max_batch per message.
//
// Each request is in one of three places: queued at a member (not sent),
// in flight in a batch (sent), or waiting for a retry (not applied for
// sure). A request is retried only while it is certainly not applied.

#include "remote_protocol.hpp"

#include <deque>
#include <functional>
#include <map>
#include <unordered_map>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/sec.hpp"
#include "caf/stateful_actor.hpp"

#include "raft/client.hpp"
#include "raft/errc.hpp"

namespace raft {

namespace remote {

namespace {

using std::chrono::steady_clock;
using std::chrono::milliseconds;

/// Client timer: expire requests, retry connections and requests.
using tick_atom = caf::atom_constant<caf::atom("cltick")>;

constexpr auto tick_interval = milliseconds(25);
/// A member whose connection failed is avoided this long.
constexpr auto avoid_after_failure = milliseconds(250);
/// A request refused with "no leader yet" waits this long before retrying.
constexpr auto retry_delay = milliseconds(30);

enum class op_kind { append, query, status, membership };

struct op {
  op_kind kind = op_kind::append;
  payload cmd;
  /// For status: the member asked.
  member_id target;
  /// For membership: the request (its id is set when sent).
  wire::membership_request change;
  caf::response_promise rp;
  steady_clock::time_point deadline;
  /// For retries: not before this time.
  steady_clock::time_point not_before;
  /// Why the last attempt failed (what a status request reports in the end).
  caf::error last_error;
};

struct conn {
  /// The dialed session, if any.
  wire::dial_handle_ptr wire;
  /// Tells this session's io messages from those of earlier ones.
  uint64_t tag = 0;
  bool ready = false;
  /// Not sent yet.
  std::deque<op> queue;
  size_t in_flight = 0;
  steady_clock::time_point avoid_until;
};

/// A client_request in flight: what to do with its reply.
struct call {
  member_id target;
  steady_clock::time_point deadline;
  std::function<void(outcome_vector&)> on_outcomes;
  std::function<void(member_status&)> on_status;
  std::function<void(cluster_configuration&)> on_configuration;
  std::function<void(caf::error&)> on_error;
};

struct client_state {
  static inline const char* name = "raft.client";

  client_options opts;
  /// This process's wire, with the client's identity.
  wire::engine_ptr eng;
  std::map<member_id, conn> conns;
  /// Session tag -> member.
  std::unordered_map<uint64_t, member_id> tags;
  uint64_t next_tag = 1;
  /// Requests in flight, by request id.
  std::unordered_map<uint64_t, call> calls;
  uint64_t next_call = 1;
  /// Every session this client opened, closed when it terminates.
  std::shared_ptr<std::vector<wire::dial_handle_ptr>> all_wires
    = std::make_shared<std::vector<wire::dial_handle_ptr>>();
  /// The leader as last heard; empty if unknown.
  member_id leader;
  size_t round_robin = 0;
  /// Requests waiting to be retried.
  std::deque<op> retries;
  bool tick_armed = false;
  /// Why the last connection attempt failed (for "not sent" errors).
  std::string last_conn_error;
  /// A status request asking for the leader is under way.
  bool learning = false;
};

using client_self = caf::stateful_actor<client_state>;

/// True if the error proves the request was not applied (nothing appended).
bool certainly_not_applied(const caf::error& err) {
  if (err.category() == errc_category) {
    switch (static_cast<errc>(err.code())) {
      case errc::no_leader:
      case errc::not_started:
      case errc::unknown_member:
      case errc::unreachable:
      case errc::invalid_config:
      case errc::access_denied:
      case errc::overloaded: // back-pressure: refused before appending
      // A member outside the configuration (removed, or waiting to join)
      // refuses before appending or forwarding (docs/membership.md).
      case errc::not_member:
        return true;
      default:
        return false;
    }
  }
  // Refused locally before anything was sent.
  return err == caf::sec::request_receiver_down;
}

/// Whether trying again (at the leader, or later) may help a membership
/// request, and is safe: it certainly changed nothing, or it only reads.
bool membership_retryable(const wire::membership_request& req,
                          const caf::error& err) {
  if (err.category() != errc_category)
    return !wire::changes_cluster(req.op)
           || err == caf::sec::request_receiver_down;
  switch (static_cast<errc>(err.code())) {
    case errc::access_denied:
    case errc::invalid_config:
    case errc::unknown_member:
      return false;
    case errc::not_leader:
    case errc::no_leader:
    case errc::not_started:
    case errc::unreachable:
    // Refused, nothing changed: another change is not committed yet, or
    // the new leader has not committed in its term (thesis §4.1), or the
    // learner is still catching up (§4.2.1). Each passes by itself.
    case errc::change_in_progress:
    case errc::not_caught_up:
    // Asked a member outside the configuration (removed, or waiting to
    // join): it refused, and another member may lead.
    case errc::not_member:
      return true;
    default:
      return !wire::changes_cluster(req.op);
  }
}

/// Whether trying elsewhere may help (and is safe) for this error.
bool retryable(op_kind kind, const caf::error& err) {
  // overloaded: another member would forward to the same leader; the caller
  // sees the back-pressure and decides when to try again.
  if (err.category() == errc_category
      && (static_cast<errc>(err.code()) == errc::access_denied
          || static_cast<errc>(err.code()) == errc::invalid_config
          || static_cast<errc>(err.code()) == errc::overloaded))
    return false;
  if (kind == op_kind::status)
    return false;
  if (kind == op_kind::query)
    return true; // A query changes nothing.
  return certainly_not_applied(err);
}

void arm_tick(client_self* self) {
  auto& st = self->state;
  if (!st.tick_armed) {
    st.tick_armed = true;
    self->delayed_send(self, tick_interval, tick_atom::value);
  }
}

member_id choose_target(client_self* self) {
  auto& st = self->state;
  auto now = steady_clock::now();
  if (!st.leader.empty() && st.conns[st.leader].avoid_until <= now)
    return st.leader;
  auto& cluster = st.opts.cluster;
  for (size_t i = 0; i < cluster.size(); ++i) {
    auto& id = cluster[(st.round_robin + i) % cluster.size()];
    if (st.conns[id].avoid_until <= now) {
      st.round_robin = (st.round_robin + i) % cluster.size();
      return id;
    }
  }
  // Everyone failed lately: the one that failed longest ago.
  auto best = cluster.front();
  for (auto& id : cluster)
    if (st.conns[id].avoid_until < st.conns[best].avoid_until)
      best = id;
  return best;
}

void pump(client_self* self, const member_id& id);
void ensure_connected(client_self* self, const member_id& id);

void learn_leader(client_self* self, const member_id& asked);

void submit(client_self* self, op x) {
  auto id = x.kind == op_kind::status ? x.target : choose_target(self);
  if (self->state.leader.empty())
    learn_leader(self, id);
  self->state.conns[id].queue.push_back(std::move(x));
  ensure_connected(self, id);
  pump(self, id);
  arm_tick(self);
}

void ensure_connected(client_self* self, const member_id& id) {
  auto& st = self->state;
  auto& c = st.conns[id];
  if (c.wire || c.avoid_until > steady_clock::now())
    return;
  c.tag = st.next_tag++;
  st.tags[c.tag] = id;
  c.wire = st.eng->dial(id, wire::peer_kind::client,
                        caf::actor_cast<caf::actor>(self), c.tag);
  auto& all = *st.all_wires;
  all.erase(std::remove_if(all.begin(), all.end(),
                           [](const wire::dial_handle_ptr& w) {
                             return w.use_count() == 1;
                           }),
            all.end());
  all.push_back(c.wire);
}

/// Sends a client_request on the session to `id` and remembers what to do
/// with its reply (or its failure: deadline, lost connection).
void start_call(client_self* self, const member_id& id, wire::client_op op,
                payload_vector cmds, caf::timespan timeout, call x) {
  auto& st = self->state;
  auto& c = st.conns[id];
  auto rid = st.next_call++;
  std::string frame;
  wire::encode(frame, wire::client_request{rid, op, std::move(cmds)});
  c.wire->send(std::move(frame));
  x.target = id;
  x.deadline = steady_clock::now() + timeout;
  st.calls.emplace(rid, std::move(x));
  arm_tick(self);
}

/// Takes the call `rid`, if it is still in flight.
bool take_call(client_self* self, uint64_t rid, call& out) {
  auto i = self->state.calls.find(rid);
  if (i == self->state.calls.end())
    return false;
  out = std::move(i->second);
  self->state.calls.erase(i);
  return true;
}

/// A request failed with `err`: retry it if that is safe and time allows,
/// else answer with the error.
void on_op_error(client_self* self, op x, caf::error err) {
  auto& st = self->state;
  auto now = steady_clock::now();
  // A member outside the configuration names no leader: the retry goes to
  // the next member of the list, not to the same one again.
  if (err.category() == errc_category
      && static_cast<errc>(err.code()) == errc::not_member
      && !st.opts.cluster.empty())
    st.round_robin = (st.round_robin + 1) % st.opts.cluster.size();
  if (x.kind == op_kind::membership) {
    if (!membership_retryable(x.change, err) || now >= x.deadline) {
      x.rp.deliver(std::move(err));
      return;
    }
    // Redirected like an append (§5.1: a follower names its leader).
    auto leader = err.category() == errc_category
                      && static_cast<errc>(err.code()) == errc::not_leader
                      && err.context().match_elements<std::string>()
                    ? err.context().get_as<std::string>(0)
                    : std::string{};
    if (!leader.empty() && split_host_port(leader)) {
      st.leader = leader;
      x.not_before = now;
    } else {
      st.leader.clear();
      x.not_before = now + retry_delay;
    }
    x.last_error = std::move(err);
    st.retries.push_back(std::move(x));
    arm_tick(self);
    return;
  }
  if (retryable(x.kind, err) && now < x.deadline) {
    // Ask again who leads (learn_leader) rather than trust a member's word.
    st.leader.clear();
    x.not_before = now + retry_delay;
    st.retries.push_back(std::move(x));
    arm_tick(self);
    return;
  }
  x.rp.deliver(std::move(err));
}

/// Asks `asked` who leads, so later requests go there directly (a
/// follower would forward them: one more hop).
void learn_leader(client_self* self, const member_id& asked) {
  auto& st = self->state;
  auto& c = st.conns[asked];
  if (st.learning || !c.ready)
    return;
  st.learning = true;
  call x;
  x.on_status = [=](member_status& s) {
    auto& st = self->state;
    st.learning = false;
    for (auto& id : st.opts.cluster) {
      if (id == s.leader && id != st.leader) {
        st.leader = id;
        ensure_connected(self, id);
      }
    }
  };
  x.on_error = [=](caf::error&) { self->state.learning = false; };
  start_call(self, asked, wire::client_op::status, {}, st.opts.timeout,
             std::move(x));
}

void send_batch(client_self* self, const member_id& id,
                std::vector<op> batch) {
  auto& st = self->state;
  auto& c = st.conns[id];
  ++c.in_flight;
  auto deadline = batch.front().deadline;
  payload_vector cmds;
  cmds.reserve(batch.size());
  for (auto& x : batch) {
    deadline = std::max(deadline, x.deadline);
    cmds.push_back(x.cmd);
  }
  auto timeout = std::max(caf::timespan{milliseconds(1)},
                          caf::timespan{deadline - steady_clock::now()});
  auto ops = std::make_shared<std::vector<op>>(std::move(batch));
  auto done = [=] {
    auto& c = self->state.conns[id];
    if (c.in_flight > 0)
      --c.in_flight;
    pump(self, id);
  };
  call x;
  x.on_outcomes = [=](outcome_vector& results) {
    for (size_t i = 0; i < ops->size(); ++i) {
      auto& x = (*ops)[i];
      if (i >= results.size())
        on_op_error(self, std::move(x),
                    make_error(errc::timeout, "short batch reply"));
      else if (results[i].error)
        on_op_error(self, std::move(x), std::move(results[i].error));
      else
        x.rp.deliver(std::move(results[i].reply));
    }
    done();
  };
  x.on_error = [=](caf::error& err) {
    for (auto& x : *ops)
      on_op_error(self, std::move(x), err);
    done();
  };
  start_call(self, id,
             ops->front().kind == op_kind::query ? wire::client_op::query
                                                 : wire::client_op::append,
             std::move(cmds), timeout, std::move(x));
}

/// Sends one membership request; its reply or error goes through
/// on_op_error (redirects and retries) like an append's.
void send_membership(client_self* self, const member_id& id, op x) {
  auto& st = self->state;
  auto& c = st.conns[id];
  ++c.in_flight;
  auto rid = st.next_call++;
  x.change.id = rid;
  std::string frame;
  wire::encode(frame, x.change);
  c.wire->send(std::move(frame));
  auto timeout = std::max(caf::timespan{milliseconds(1)},
                          caf::timespan{x.deadline - steady_clock::now()});
  auto pending = std::make_shared<op>(std::move(x));
  auto done = [=] {
    auto& c = self->state.conns[id];
    if (c.in_flight > 0)
      --c.in_flight;
    pump(self, id);
  };
  call cl;
  cl.on_configuration = [=](cluster_configuration& cfg) {
    if (pending->change.op == wire::membership_op::transfer)
      pending->rp.deliver(caf::ok_atom::value);
    else
      pending->rp.deliver(std::move(cfg));
    done();
  };
  cl.on_error = [=](caf::error& err) {
    on_op_error(self, std::move(*pending), err);
    done();
  };
  cl.target = id;
  cl.deadline = steady_clock::now() + timeout;
  st.calls.emplace(rid, std::move(cl));
  arm_tick(self);
}

void pump(client_self* self, const member_id& id) {
  auto& st = self->state;
  auto& c = st.conns[id];
  while (c.ready && c.in_flight < st.opts.window && !c.queue.empty()) {
    if (c.queue.front().kind == op_kind::membership) {
      send_membership(self, id, std::move(c.queue.front()));
      c.queue.pop_front();
      continue;
    }
    if (c.queue.front().kind == op_kind::status) {
      auto x = std::move(c.queue.front());
      c.queue.pop_front();
      auto rp = x.rp;
      call cl;
      cl.on_status = [=](member_status& s) mutable { rp.deliver(std::move(s)); };
      cl.on_error = [=](caf::error& err) mutable { rp.deliver(std::move(err)); };
      start_call(self, id, wire::client_op::status, {}, st.opts.timeout,
                 std::move(cl));
      continue;
    }
    // Requests of one kind, in order, up to max_batch.
    // ... and within one frame (docs/wire.md: a larger frame would be
    // refused by the member, and the connection closed).
    auto kind = c.queue.front().kind;
    std::vector<op> batch;
    size_t bytes = 0;
    auto budget = size_t{st.opts.limits.max_payload} - 1024;
    while (!c.queue.empty() && c.queue.front().kind == kind
           && batch.size() < st.opts.max_batch
           && (batch.empty()
               || bytes + c.queue.front().cmd.size() + 4 <= budget)) {
      bytes += c.queue.front().cmd.size() + 4;
      batch.push_back(std::move(c.queue.front()));
      c.queue.pop_front();
    }
    send_batch(self, id, std::move(batch));
  }
}

/// The connection to `id` failed or was lost: requests not yet sent go
/// elsewhere (status requests fail).
void on_conn_down(client_self* self, const member_id& id,
                  const caf::error& why) {
  auto& st = self->state;
  auto& c = st.conns[id];
  if (c.wire)
    c.wire->close();
  c.wire = nullptr;
  st.tags.erase(c.tag);
  c.ready = false;
  c.in_flight = 0;
  c.avoid_until = steady_clock::now() + avoid_after_failure;
  st.last_conn_error = self->system().render(why);
  if (st.leader == id)
    st.leader.clear();
  auto queued = std::move(c.queue);
  c.queue.clear();
  // Refused (not allowed, wrong certificate): trying elsewhere won't help.
  auto refused = why.category() == errc_category
                 && (static_cast<errc>(why.code()) == errc::access_denied
                     || static_cast<errc>(why.code()) == errc::invalid_config);
  for (auto& x : queued) {
    if (refused) {
      x.rp.deliver(why);
      continue;
    }
    if (x.kind == op_kind::status) {
      // Ask the same member again once it may be reachable.
      x.last_error = why;
      x.not_before = c.avoid_until;
      st.retries.push_back(std::move(x));
      arm_tick(self);
    } else
      submit(self, std::move(x));
  }
}

void on_tick(client_self* self) {
  auto& st = self->state;
  st.tick_armed = false;
  auto now = steady_clock::now();
  bool busy = false;
  // Queued requests past their deadline were never sent: not applied.
  for (auto& kvp : st.conns) {
    auto& q = kvp.second.queue;
    for (auto i = q.begin(); i != q.end();) {
      if (i->deadline <= now) {
        auto why = st.last_conn_error.empty()
                     ? std::string{}
                     : " (last connection error: " + st.last_conn_error + ")";
        i->rp.deliver(make_error(errc::no_leader,
                                 "no member reachable in time; not sent" + why));
        i = q.erase(i);
      } else {
        ++i;
      }
    }
    if (!q.empty()) {
      busy = true;
      ensure_connected(self, kvp.first);
    }
    if (kvp.second.in_flight > 0)
      busy = true;
  }
  // Requests in flight past their deadline: outcome unknown.
  std::vector<call> expired;
  for (auto i = st.calls.begin(); i != st.calls.end();) {
    if (i->second.deadline <= now) {
      expired.push_back(std::move(i->second));
      i = st.calls.erase(i);
    } else {
      ++i;
    }
  }
  for (auto& x : expired) {
    auto err = make_error(errc::timeout, "no answer from " + x.target
                                           + " in time; outcome unknown");
    x.on_error(err);
  }
  if (!st.calls.empty())
    busy = true;
  auto retries = std::move(st.retries);
  st.retries.clear();
  for (auto& x : retries) {
    if (x.not_before > now) {
      st.retries.push_back(std::move(x));
    } else if (x.deadline <= now) {
      if (x.last_error)
        x.rp.deliver(std::move(x.last_error));
      else
        x.rp.deliver(make_error(errc::no_leader,
                                "no leader within the timeout; not applied"));
    } else {
      submit(self, std::move(x));
    }
  }
  if (busy || !st.retries.empty())
    arm_tick(self);
}

/// A command larger than this is refused before it is sent: it would not
/// fit in a frame (docs/wire.md, "Limits").
bool too_large(client_self* self, const payload& cmd) {
  auto& lim = self->state.opts.limits;
  return cmd.size() > wire::max_entry_bytes
         || cmd.size() + 1024 > size_t{lim.max_payload};
}

op make_op(client_self* self, op_kind kind, payload cmd, member_id target) {
  op x;
  x.kind = kind;
  x.cmd = std::move(cmd);
  x.target = std::move(target);
  x.rp = self->make_response_promise();
  x.deadline = steady_clock::now() + self->state.opts.timeout;
  return x;
}

op make_change(client_self* self, wire::membership_op what, member_id id) {
  auto x = make_op(self, op_kind::membership, {}, {});
  x.change.op = what;
  x.change.member = std::move(id);
  return x;
}

caf::behavior client_impl(client_self* self, client_options opts,
                          wire::engine_ptr eng) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.eng = std::move(eng);
  // The sessions close when the client terminates.
  self->attach_functor([wires = st.all_wires] {
    for (auto& w : *wires)
      w->close();
  });
  return {
    [=](append_atom, payload& cmd) -> caf::result<append_reply> {
      if (too_large(self, cmd))
        return make_error(errc::invalid_config,
                          "command of " + std::to_string(cmd.size())
                            + " bytes: larger than the wire allows; not sent");
      auto x = make_op(self, op_kind::append, std::move(cmd), {});
      submit(self, std::move(x));
      return caf::delegated<append_reply>{};
    },
    [=](query_atom, payload& query) -> caf::result<append_reply> {
      if (too_large(self, query))
        return make_error(errc::invalid_config,
                          "command of " + std::to_string(query.size())
                            + " bytes: larger than the wire allows; not sent");
      auto x = make_op(self, op_kind::query, std::move(query), {});
      submit(self, std::move(x));
      return caf::delegated<append_reply>{};
    },
    [=](status_atom, member_id& id) -> caf::result<member_status> {
      auto x = make_op(self, op_kind::status, {}, std::move(id));
      submit(self, std::move(x));
      return caf::delegated<member_status>{};
    },
    // -- membership (docs/membership.md): to the leader, redirected ---------------
    [=](members_atom) -> caf::result<cluster_configuration> {
      submit(self, make_change(self, wire::membership_op::members, {}));
      return caf::delegated<cluster_configuration>{};
    },
    [=](learner_atom, member_id& id,
        bool promote) -> caf::result<cluster_configuration> {
      if (auto hp = split_host_port(id); !hp)
        return hp.error();
      auto x = make_change(self, wire::membership_op::add_learner,
                           std::move(id));
      x.change.promote = promote;
      submit(self, std::move(x));
      return caf::delegated<cluster_configuration>{};
    },
    [=](promote_atom, member_id& id) -> caf::result<cluster_configuration> {
      if (id.empty())
        return make_error(errc::invalid_config, "no member named");
      submit(self, make_change(self, wire::membership_op::promote,
                               std::move(id)));
      return caf::delegated<cluster_configuration>{};
    },
    [=](remove_atom, member_id& id) -> caf::result<cluster_configuration> {
      if (id.empty())
        return make_error(errc::invalid_config, "no member named");
      submit(self, make_change(self, wire::membership_op::remove,
                               std::move(id)));
      return caf::delegated<cluster_configuration>{};
    },
    [=](reconfig_atom,
        cluster_configuration& target) -> caf::result<cluster_configuration> {
      target.normalize();
      if (target.empty() || target.joint())
        return make_error(errc::invalid_config,
                          "a target configuration names voters (and "
                          "learners), no old voters");
      if (auto err = check(target))
        return err;
      for (auto& id : target.members())
        if (auto hp = split_host_port(id); !hp)
          return hp.error();
      auto x = make_change(self, wire::membership_op::reconfigure, {});
      x.change.target = std::move(target);
      submit(self, std::move(x));
      return caf::delegated<cluster_configuration>{};
    },
    [=](transfer_atom, member_id& id) -> caf::result<caf::ok_atom> {
      if (id.empty())
        return make_error(errc::invalid_config, "no member named");
      submit(self, make_change(self, wire::membership_op::transfer,
                               std::move(id)));
      return caf::delegated<caf::ok_atom>{};
    },
    // -- from the io thread ------------------------------------------------------
    [=](wire::wire_up_atom, uint64_t tag) {
      auto& st = self->state;
      auto i = st.tags.find(tag);
      if (i == st.tags.end())
        return;
      auto id = i->second;
      auto& c = st.conns[id];
      c.ready = true;
      if (st.leader.empty())
        learn_leader(self, id);
      pump(self, id);
    },
    [=](wire::wire_down_atom, uint64_t tag, const std::string& why,
        bool refused) {
      auto& st = self->state;
      auto i = st.tags.find(tag);
      if (i == st.tags.end())
        return;
      auto id = i->second;
      // Requests in flight there may have been applied: outcome unknown.
      std::vector<call> lost;
      for (auto j = st.calls.begin(); j != st.calls.end();) {
        if (j->second.target == id) {
          lost.push_back(std::move(j->second));
          j = st.calls.erase(j);
        } else {
          ++j;
        }
      }
      auto reason = refused ? make_error(errc::access_denied,
                                         why.compare(0, 15, "access_denied: ")
                                             == 0
                                           ? why.substr(15)
                                           : why)
                            : make_error(errc::unreachable, why);
      on_conn_down(self, id, reason);
      for (auto& x : lost) {
        auto err = make_error(errc::timeout, "lost the connection to " + id
                                               + " (" + why
                                               + "); outcome unknown");
        x.on_error(err);
      }
    },
    [=](wire::wire_reply_atom, uint64_t rid, outcome_vector& out) {
      call x;
      if (!take_call(self, rid, x))
        return;
      if (x.on_outcomes) {
        x.on_outcomes(out);
      } else {
        auto err = make_error(errc::protocol_violation, "unexpected reply");
        x.on_error(err);
      }
    },
    [=](wire::wire_reply_atom, uint64_t rid, member_status& s) {
      call x;
      if (!take_call(self, rid, x))
        return;
      if (x.on_status) {
        x.on_status(s);
      } else {
        auto err = make_error(errc::protocol_violation, "unexpected reply");
        x.on_error(err);
      }
    },
    [=](wire::wire_reply_atom, uint64_t rid, cluster_configuration& cfg) {
      call x;
      if (!take_call(self, rid, x))
        return;
      if (x.on_configuration) {
        x.on_configuration(cfg);
      } else {
        auto err = make_error(errc::protocol_violation, "unexpected reply");
        x.on_error(err);
      }
    },
    [=](wire::wire_reply_atom, uint64_t rid, caf::error& err) {
      call x;
      if (take_call(self, rid, x))
        x.on_error(err);
    },
    [=](tick_atom) { on_tick(self); },
  };
}

} // namespace

} // namespace remote

caf::expected<client_actor> spawn_client(caf::actor_system& sys,
                                         client_options opts) {
  if (opts.cluster.empty())
    return make_error(errc::invalid_config, "no cluster members given");
  for (auto& id : opts.cluster)
    if (auto hp = split_host_port(id); !hp)
      return hp.error();
  if (opts.max_batch == 0 || opts.window == 0)
    return make_error(errc::invalid_config,
                      "max_batch and window must be positive");
  if (auto err = validate(opts.tls))
    return err;
  auto creds = remote::credentials::load(opts.tls, opts.identity);
  if (!creds)
    return creds.error();
  auto eng = wire::engine::make((*creds)->identity(), opts.tls, opts.limits);
  if (!eng)
    return eng.error();
  auto hdl = sys.spawn(remote::client_impl, std::move(opts), *eng);
  return caf::actor_cast<client_actor>(hdl);
}

bool client_outcome_unknown(const caf::error& err) {
  return err && !remote::certainly_not_applied(err);
}

} // namespace raft
