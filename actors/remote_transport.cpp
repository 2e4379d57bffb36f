// The transport of a member in its own process: it resolves the members
// added by `host:port` alone. For each it keeps one dialed session (a link
// over the wire, wire_engine.hpp): report the link to the member with
// (peer_atom, id, link) once it stands; when it goes down, report an
// invalid handle and dial again after an exponential, capped, jittered
// backoff. Every member dials every other one: a member sends on the
// session it dialed and receives on the sessions its peers dialed.
//
//            connect_atom            ready
//   (none) ─────────────► dialing ─────────► connected
//                          ▲   │ link down       │ link down
//                          │   ▼                 │
//                          └─ waiting (backoff) ◄┘
//
// Also here: configure_remote() and spawn_remote_member(), which assemble
// engine, listener, transport, member and bridge.

#include "remote_protocol.hpp"

#include <algorithm>
#include <map>
#include <random>

#include "caf/actor_registry.hpp"
#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/mailbox_element.hpp"
#include "caf/message_id.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "raft/errc.hpp"
#include "raft/remote.hpp"

namespace raft {

namespace remote {

namespace {

struct peer {
  /// Increments with every attempt; stale retry timers are ignored.
  uint64_t attempt = 0;
  caf::actor link;
  bool connected = false;
  /// Current backoff step (before jitter).
  caf::timespan backoff{0};
  /// Consecutive failures (only the first of a streak is logged).
  uint64_t failures = 0;
};

struct transport_state {
  static inline const char* name = "raft.transport";

  member_id self_id;
  wire::engine_ptr eng;
  remote_options opts;
  caf::timespan request_timeout;
  /// The member this transport serves (the sender of the first connect).
  member_peer_actor member;
  std::map<member_id, peer> peers;
  std::minstd_rand rng;
};

/// What the transport handles: the member's requests (transport_actor),
/// its links' `ready` and its own retry timers.
using transport_impl_actor = transport_actor::extend<
  caf::reacts_to<ready_atom, member_id, peer_channel_ptr>,
  caf::reacts_to<retry_atom, member_id, uint64_t>>;

using transport_self = transport_impl_actor::stateful_base<transport_state>;

void dial(transport_self* self, const member_id& id) {
  auto& st = self->state;
  auto& p = st.peers[id];
  ++p.attempt;
  p.link = spawn_link(self->system(), caf::actor_cast<caf::actor>(self),
                      st.eng, id, wire::peer_kind::member, st.request_timeout,
                      true);
  self->monitor(p.link);
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

transport_impl_actor::behavior_type
transport_impl(transport_self* self, member_id self_id,
                             wire::engine_ptr eng, remote_options opts,
                             caf::timespan request_timeout) {
  auto& st = self->state;
  st.self_id = std::move(self_id);
  st.eng = std::move(eng);
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
      if (!p.link || dm.source != p.link)
        continue;
      p.link = nullptr;
      auto what = self->system().render(dm.reason);
      if (p.connected) {
        p.connected = false;
        p.backoff = caf::timespan{0};
        p.failures = 0;
        self->send(st.member, peer_atom::value, kvp.first, peer_actor{});
        what = "lost the connection: " + what;
      }
      if (p.failures++ == 0)
        log_line(st.self_id,
                 kvp.first + ": " + what + " (retrying with backoff)");
      retry_later(self, kvp.first);
      return;
    }
  });
  return {
    [=](caf::connect_atom, const member_id& id) {
      auto& st = self->state;
      if (!st.member) {
        st.member = caf::actor_cast<member_peer_actor>(self->current_sender());
        self->monitor(st.member);
      }
      if (st.peers.count(id) > 0)
        return;
      // A member added while running (thesis chapter 4) must also be let
      // in: its member sessions carry its responses to us.
      st.eng->allow_member(id);
      dial(self, id);
    },
    [=](ready_atom, const member_id& id, peer_channel_ptr& channel) {
      auto& st = self->state;
      auto& p = st.peers[id];
      auto src = self->current_sender();
      if (!p.link || caf::actor_cast<caf::actor>(src) != p.link)
        return;
      p.connected = true;
      p.backoff = caf::timespan{0};
      p.failures = 0;
      log_line(st.self_id, "connected to " + id);
      // The link's handle (forwarded client requests) and the session's
      // channel (the member's Raft RPCs, without the link's hop). Not in
      // member_peer_actor's public interface: enqueued untyped, in order
      // with the (peer_atom, id, invalid handle) that reports it down.
      auto member = caf::actor_cast<caf::actor>(st.member);
      member->enqueue(
        caf::make_mailbox_element(self->ctrl(), caf::make_message_id(), {},
                                  caf::make_message(
                                    peer_atom::value, id,
                                    caf::actor_cast<peer_actor>(p.link),
                                    std::move(channel))),
        self->context());
    },
    [=](retry_atom, const member_id& id, uint64_t attempt) {
      auto& p = self->state.peers[id];
      if (attempt != p.attempt || p.link)
        return;
      dial(self, id);
    },
  };
}

} // namespace

void add_remote_message_types(caf::actor_system_config& cfg) {
  // member_actor's batch types too: add_message_types registers them under
  // the same names (registering twice is harmless).
  cfg.add_message_type<payload_vector>("std::vector<raft::payload>");
  cfg.add_message_type<append_outcome>("raft::command_outcome");
  cfg.add_message_type<outcome_vector>("std::vector<raft::command_outcome>");
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
  // The wire (docs/wire.md) runs on its own io thread: CAF's middleman and
  // caf::openssl are not needed. Half-configured TLS is refused here.
  if (auto err = validate(tls))
    return err;
  // Latency (docs/benchmarks.md, "Scheduler and middleman"): the
  // work-stealing scheduler's polling workers compete with the other
  // members' processes for the cores (sharing: idle workers sleep). Can be
  // set back after this call.
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
  // An AppendEntries holds up to max_bytes_per_message plus one entry
  // (docs/wire.md, "Limits"); a snapshot chunk snapshot_chunk_bytes.
  auto needed = std::max(cfg.max_bytes_per_message + wire::max_entry_bytes,
                         cfg.snapshot_chunk_bytes)
                + 64 * 1024;
  if (needed > opts.limits.max_payload)
    return fail("max_bytes_per_message / snapshot_chunk_bytes need frames "
                "of " + std::to_string(needed) + " bytes, above the wire's "
                "limit of " + std::to_string(opts.limits.max_payload)
                + " (remote_options::limits.max_payload)");
  auto tls = opts.tls.enabled();
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
  wire::listener_policy policy;
  for (auto& id : opts.members) {
    if (auto ok = split_host_port(id); !ok)
      return ok.error();
    policy.members.insert(id);
  }
  policy.members.insert(cfg.host_port);
  policy.clients.insert(cfg.acl.begin(), cfg.acl.end());
  if (!tls && !opts.admins.empty())
    return fail("an admin list needs TLS: without certificates, "
                "identities are only claimed");
  policy.admins.insert(opts.admins.begin(), opts.admins.end());
  policy.self_id = cfg.host_port;
  auto others = policy.members;
  others.erase(cfg.host_port);
  auto eng = wire::engine::make(cfg.host_port, opts.tls, opts.limits);
  if (!eng)
    return eng.error();
  transport_actor transport = sys.spawn(remote::transport_impl, cfg.host_port,
                                        *eng, opts, cfg.append_timeout);
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
  auto member_hdl = caf::actor_cast<caf::actor>(*member);
  policy.member = member_hdl;
  policy.bridge = remote::spawn_bridge(sys, member_hdl, *eng);
  // The listener closes (and the port is free again) when the member ends.
  member_hdl->attach_functor([e = *eng] { e->shutdown(); });
  auto port = (*eng)->listen(hp->first, hp->second, std::move(policy));
  if (!port) {
    stop_member();
    stop_transport();
    return port.error();
  }
  if (!cfg.server_name.empty())
    sys.registry().put(name, member_hdl);
  caf::error add_error;
  for (auto& id : others) {
    self->request(*member, caf::infinite, caf::add_atom::value, id)
      .receive([](caf::ok_atom) {},
               [&](caf::error& err) { add_error = std::move(err); });
    if (add_error) {
      stop_member();
      return add_error;
    }
  }
  return remote_member{*member, *port};
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
