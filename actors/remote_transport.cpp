// The transport of a member in its own process: it resolves the members
// added by `host:port` alone. For each it keeps one connection: dial (on a
// dialer's thread), handshake (a link), report the link to the member with
// (peer_atom, id, link); when the link goes down, report an invalid handle
// and dial again after an exponential, capped, jittered backoff.
//
//            connect_atom                 dialed(gate)              ready
//   (none) ─────────────► dialing ─────────────────────► handshaking ─────►
//                          ▲   │ dialed(error)               │ link down   │
//                          │   ▼                             ▼             │
//                          └─ waiting (backoff) ◄────────────┴─────────────┘
//                                                       link down: connected
//
// Also here: configure_remote() and spawn_remote_member(), which assemble
// transport, member and gate.

#include "remote_protocol.hpp"

#include <algorithm>
#include <map>
#include <random>

#include "caf/actor_registry.hpp"
#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/io/middleman.hpp"
#include "caf/openssl/manager.hpp"
#include "caf/openssl/publish.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "raft/errc.hpp"
#include "raft/remote.hpp"

namespace raft {

namespace remote {

namespace {

struct peer {
  /// We dial peers with a greater id; the others dial us, and we reach
  /// their gate over the connection they opened (see inbound_atom). One
  /// connection per pair: two TLS connections between the same two nodes
  /// break CAF 0.17's BASP (docs/operations.md).
  bool dials = false;
  /// Increments with every attempt; stale dialer answers are ignored.
  uint64_t attempt = 0;
  caf::actor link;
  /// The peer's gate the link talks to.
  caf::actor gate;
  /// A peer that dials us: the gate of its last connection. Our side of the
  /// session can fail while its side is up (a handshake timing out on a
  /// busy process); it will not dial again then, so we retry over it.
  caf::actor last_gate;
  /// The gate of its connection has not gone down (monitored).
  bool gate_alive = false;
  bool connected = false;
  /// Current backoff step (before jitter).
  caf::timespan backoff{0};
  /// Consecutive failures (only the first of a streak is logged).
  uint64_t failures = 0;
};

struct transport_state {
  static inline const char* name = "raft.transport";

  member_id self_id;
  credentials_ptr creds;
  remote_options opts;
  caf::timespan request_timeout;
  caf::actor member;
  /// Our own gate: named in our handshakes so peers can answer over the
  /// same connection.
  caf::actor own_gate;
  std::map<member_id, peer> peers;
  std::minstd_rand rng;
};

using transport_self = caf::stateful_actor<transport_state>;

void dial(transport_self* self, const member_id& id) {
  auto& st = self->state;
  auto& p = st.peers[id];
  ++p.attempt;
  spawn_dialer(self->system(), caf::actor_cast<caf::actor>(self), id,
               p.attempt, st.opts.tls, st.opts.probe_timeout,
               st.opts.connect_timeout);
}

void retry_later(transport_self* self, const member_id& id) {
  auto& st = self->state;
  auto& p = st.peers[id];
  p.backoff = p.backoff.count() == 0
                ? st.opts.backoff_min
                : std::min(st.opts.backoff_max, 2 * p.backoff);
  // ±50% jitter, so members that lost the same peer do not dial in step.
  std::uniform_real_distribution<double> jitter{0.5, 1.5};
  auto delay = caf::timespan{
    static_cast<caf::timespan::rep>(p.backoff.count() * jitter(st.rng))};
  self->delayed_send(self, delay, retry_atom::value, id, p.attempt);
}

void on_failure(transport_self* self, const member_id& id,
                const std::string& what) {
  auto& p = self->state.peers[id];
  if (p.failures++ == 0)
    log_line(self->state.self_id,
             id + ": " + what
               + (p.dials       ? " (retrying with backoff)"
                  : p.last_gate ? " (retrying over its connection)"
                                : " (waiting for it to connect)"));
  if (p.dials || p.last_gate)
    retry_later(self, id);
}

void start_link(transport_self* self, const member_id& id, caf::actor gate) {
  auto& st = self->state;
  auto& p = st.peers[id];
  p.gate = gate;
  p.link = spawn_link(self->system(), caf::actor_cast<caf::actor>(self), id,
                      std::move(gate), st.creds, st.own_gate,
                      st.opts.handshake_timeout, st.request_timeout);
  self->monitor(p.link);
}

caf::behavior transport_impl(transport_self* self, member_id self_id,
                             credentials_ptr creds, remote_options opts,
                             caf::timespan request_timeout) {
  auto& st = self->state;
  st.self_id = std::move(self_id);
  st.creds = std::move(creds);
  st.opts = std::move(opts);
  st.request_timeout = request_timeout;
  st.rng.seed(static_cast<std::minstd_rand::result_type>(
    std::hash<std::string>{}(st.self_id)
    ^ static_cast<uint64_t>(
      std::chrono::steady_clock::now().time_since_epoch().count())));
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    if (dm.source == st.member) {
      for (auto& kvp : st.peers)
        if (kvp.second.link)
          self->send_exit(kvp.second.link, caf::exit_reason::user_shutdown);
      self->quit();
      return;
    }
    for (auto& kvp : st.peers) {
      auto& p = kvp.second;
      if (!p.dials && (dm.source == p.gate || dm.source == p.last_gate)) {
        // Its connection is gone: wait for it to dial again (the link, if
        // any, goes down too).
        p.gate_alive = false;
        if (p.last_gate) {
          p.last_gate = nullptr;
          ++p.attempt;
        }
        return;
      }
      if (!p.link || dm.source != p.link)
        continue;
      p.link = nullptr;
      if (!p.dials && p.gate_alive)
        p.last_gate = p.gate;
      p.gate = nullptr;
      if (p.connected) {
        p.connected = false;
        p.backoff = caf::timespan{0};
        p.failures = 0;
        self->send(st.member, peer_atom::value, kvp.first, caf::actor{});
        on_failure(self, kvp.first, "lost the connection");
      } else {
        on_failure(self, kvp.first,
                   "handshake failed: " + self->system().render(dm.reason));
      }
      return;
    }
  });
  return {
    [=](caf::publish_atom, caf::actor& gate) {
      self->state.own_gate = std::move(gate);
    },
    [=](caf::connect_atom, const member_id& id) {
      auto& st = self->state;
      if (!st.member) {
        st.member = caf::actor_cast<caf::actor>(self->current_sender());
        self->monitor(st.member);
      }
      if (st.peers.count(id) > 0)
        return;
      auto& p = st.peers[id];
      p.dials = st.self_id < id;
      if (p.dials)
        dial(self, id);
    },
    [=](dialed_atom, const member_id& id, uint64_t attempt,
        caf::actor& gate) {
      auto& p = self->state.peers[id];
      if (attempt != p.attempt || p.link)
        return;
      start_link(self, id, std::move(gate));
    },
    [=](dialed_atom, const member_id& id, uint64_t attempt,
        caf::error& err) {
      if (attempt != self->state.peers[id].attempt)
        return;
      on_failure(self, id, self->system().render(err));
    },
    [=](inbound_atom, const member_id& id, caf::actor& gate) {
      // Only our own gate tells us this, after the peer proved its id.
      auto& st = self->state;
      if (caf::actor_cast<caf::actor>(self->current_sender()) != st.own_gate)
        return;
      auto i = st.peers.find(id);
      if (i == st.peers.end() || i->second.dials)
        return;
      auto& p = i->second;
      if (p.link && p.gate == gate)
        return; // Same connection, session already up (or coming).
      if (p.link) {
        // The peer reconnected before we noticed the old connection die.
        self->demonitor(p.link);
        self->send_exit(p.link, caf::exit_reason::user_shutdown);
        p.link = nullptr;
        if (p.connected) {
          p.connected = false;
          self->send(st.member, peer_atom::value, id, caf::actor{});
        }
      }
      ++p.attempt; // a retry over the previous connection is moot
      p.last_gate = nullptr;
      p.gate_alive = true;
      self->monitor(gate);
      start_link(self, id, std::move(gate));
    },
    [=](ready_atom, const member_id& id) {
      auto& st = self->state;
      auto& p = st.peers[id];
      auto src = self->current_sender();
      if (!p.link || caf::actor_cast<caf::actor>(src) != p.link)
        return;
      p.connected = true;
      p.backoff = caf::timespan{0};
      p.failures = 0;
      log_line(st.self_id, "connected to " + id);
      self->send(st.member, peer_atom::value, id, p.link);
    },
    [=](retry_atom, const member_id& id, uint64_t attempt) {
      auto& p = self->state.peers[id];
      if (attempt != p.attempt || p.link)
        return;
      if (p.dials)
        dial(self, id);
      else if (p.last_gate)
        start_link(self, id, p.last_gate); // fails fast if it is gone
    },
  };
}

} // namespace

void add_remote_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<auth_hello>("raft::auth_hello");
  cfg.add_message_type<auth_challenge>("raft::auth_challenge");
  cfg.add_message_type<auth_proof>("raft::auth_proof");
  cfg.add_message_type<session_token>("raft::session_token");
  cfg.add_message_type<payload_vector>("std::vector<raft::payload>");
  cfg.add_message_type<append_outcome>("raft::append_outcome");
  cfg.add_message_type<outcome_vector>("std::vector<raft::append_outcome>");
}

} // namespace remote

// -- public API (raft/remote.hpp) --------------------------------------------------

caf::expected<std::pair<std::string, uint16_t>>
split_host_port(const std::string& id) {
  auto colon = id.rfind(':');
  auto bad = [&] {
    return make_error(errc::invalid_config,
                      "'" + id + "' is not HOST:PORT");
  };
  if (colon == std::string::npos || colon == 0 || colon + 1 == id.size())
    return bad();
  auto port_str = id.substr(colon + 1);
  if (port_str.find_first_not_of("0123456789") != std::string::npos
      || port_str.size() > 5)
    return bad();
  auto port = std::stoul(port_str);
  if (port == 0 || port > 65535)
    return bad();
  return std::make_pair(id.substr(0, colon), static_cast<uint16_t>(port));
}

caf::error configure_remote(caf::actor_system_config& cfg,
                            const tls_options& tls,
                            const remote_timing& timing) {
  if (auto err = validate(tls))
    return err;
  cfg.load<caf::io::middleman>();
  if (tls.enabled()) {
    // All three set: CAF then requires a certificate from this CA on both
    // ends. (With none set it would silently use anonymous TLS: never.)
    cfg.openssl_certificate = tls.certificate;
    cfg.openssl_key = tls.key;
    cfg.openssl_cafile = tls.ca_file;
    cfg.load<caf::openssl::manager>();
    // Without these, one failed TLS connection closes the process's other
    // TLS connections, and an idle TCP connection stalls all of them.
    if (!remote::openssl_workarounds_active())
      return make_error(errc::invalid_config,
                        "the caf::openssl workarounds are not in effect "
                        "(link raft_actors into the executable, not into a "
                        "shared library)");
  }
  // CAF 0.17 notices a silent partition only with heartbeats and a
  // connection timeout (both off by default).
  cfg.set("middleman.heartbeat-interval", timing.heartbeat_interval);
  cfg.set("middleman.connection-timeout", timing.connection_timeout);
  // Latency (docs/benchmarks.md, "Scheduler and middleman"): BASP's
  // deserializing worker thread adds a thread hand-off to every message
  // received (0 decodes on the multiplexer thread: loopback round trip
  // ~120 -> ~70 us here), and the work-stealing scheduler's polling workers
  // compete with the other members' processes for the cores (sharing: idle
  // workers sleep). Either can be set back after this call.
  cfg.set("middleman.workers", size_t{0});
  cfg.set("scheduler.policy", caf::atom("sharing"));
  add_message_types(cfg);
  remote::add_remote_message_types(cfg);
  return caf::none;
}

namespace {

caf::expected<remote_member>
spawn_remote_impl(caf::actor_system& sys, config cfg,
                  std::shared_ptr<state_machine> sm_obj,
                  state_machine_actor sm_actor, remote_options opts,
                  storage_ptr store) {
  auto fail = [](std::string why) {
    return make_error(errc::invalid_config, std::move(why));
  };
  if (auto err = validate(cfg))
    return err;
  auto hp = split_host_port(cfg.host_port);
  if (!hp)
    return hp.error();
  auto tls = opts.tls.enabled();
  if (tls && !sys.has_openssl_manager())
    return fail("TLS options given but configure_remote() was not called "
                "with them");
  if (!tls && !cfg.acl.empty())
    return fail("an access list needs TLS: without certificates, "
                "identities are only claimed");
  auto creds = remote::credentials::load(opts.tls, cfg.host_port);
  if (!creds)
    return creds.error();
  if ((*creds)->identity() != cfg.host_port)
    return fail("the certificate names '" + (*creds)->identity()
                + "', but this member's id is '" + cfg.host_port + "'");
  caf::atom_value name{};
  if (!cfg.server_name.empty()) {
    if (cfg.server_name.size() > 10)
      return fail("server_name '" + cfg.server_name
                  + "' is longer than 10 characters (a CAF 0.17 atom)");
    name = caf::atom_from_string(cfg.server_name);
  }
  remote::access_policy policy;
  for (auto& id : opts.members) {
    if (auto ok = split_host_port(id); !ok)
      return ok.error();
    policy.members.insert(id);
  }
  policy.members.insert(cfg.host_port);
  policy.clients.insert(cfg.acl.begin(), cfg.acl.end());
  auto transport = sys.spawn(remote::transport_impl, cfg.host_port, *creds,
                             opts, cfg.append_timeout);
  auto stop_transport = [&] {
    caf::anon_send_exit(transport, caf::exit_reason::user_shutdown);
  };
  auto member = sm_obj ? spawn_member(sys, cfg, sm_obj, store, transport)
                       : spawn_member(sys, cfg, sm_actor, store, transport);
  if (!member) {
    stop_transport();
    return member.error();
  }
  caf::scoped_actor self{sys};
  auto stop_member = [&] {
    self->request(*member, caf::infinite, stop_atom::value)
      .receive([](caf::ok_atom) {}, [](caf::error&) {});
  };
  auto gate = remote::spawn_gate(sys, caf::actor_cast<caf::actor>(*member),
                                 transport, cfg.host_port, *creds, policy);
  // Before any connect request from the member (sent after the adds below).
  caf::anon_send(transport, caf::publish_atom::value, gate);
  auto port = tls ? caf::openssl::publish(gate, hp->second,
                                          hp->first.c_str(), true)
                  : sys.middleman().publish(gate, hp->second,
                                            hp->first.c_str(), true);
  if (!port) {
    stop_member();
    stop_transport();
    return make_error(errc::invalid_config,
                      "cannot listen on " + cfg.host_port + ": "
                        + sys.render(port.error()));
  }
  if (!cfg.server_name.empty())
    sys.registry().put(name, gate);
  caf::error add_error;
  for (auto& id : policy.members) {
    if (id == cfg.host_port)
      continue;
    self->request(*member, caf::infinite, caf::add_atom::value, id)
      .receive([](caf::ok_atom) {},
               [&](caf::error& err) { add_error = std::move(err); });
    if (add_error) {
      stop_member();
      return add_error;
    }
  }
  return remote_member{*member, gate, *port};
}

} // namespace

caf::expected<remote_member>
spawn_remote_member(caf::actor_system& sys, config cfg,
                    std::shared_ptr<state_machine> sm, remote_options opts,
                    storage_ptr store) {
  if (!sm)
    return make_error(errc::invalid_config, "no state machine");
  return spawn_remote_impl(sys, std::move(cfg), std::move(sm), {},
                           std::move(opts), std::move(store));
}

caf::expected<remote_member>
spawn_remote_member(caf::actor_system& sys, config cfg, state_machine_actor sm,
                    remote_options opts, storage_ptr store) {
  if (!sm)
    return make_error(errc::invalid_config, "no state machine");
  return spawn_remote_impl(sys, std::move(cfg), nullptr, std::move(sm),
                           std::move(opts), std::move(store));
}

} // namespace raft
