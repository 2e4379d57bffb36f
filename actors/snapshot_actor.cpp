#include "snapshot_actor.hpp"

#include "caf/actor_system.hpp"
#include "caf/scheduler/abstract_coordinator.hpp"
#include "caf/typed_event_based_actor.hpp"

#include <filesystem>
#include <system_error>

#include "raft/errc.hpp"
#include "system_exit_hook.hpp"

namespace raft {

namespace {

struct snapshot_state {
  static inline const char* name = "raft.snapshot";
  std::shared_ptr<snapshot_store> store;
  state_machine_actor sm;
  /// The same actor as sm if it saves in two phases; else invalid.
  two_phase_state_machine_actor two_phase;
  /// The newest complete snapshot (what chunks are read from).
  snapshot_info newest;
  /// A save between (save, begin, meta) and its (save, meta, cfg): its meta and
  /// the temporary path the state machine writes (or wrote) into.
  bool begun = false;
  /// The begun save's (save, meta, cfg) arrived: waiting for its writing.
  bool finishing = false;
  snapshot_meta begun_meta;
  std::string begun_path;
};

using snapshot_self = snapshot_actor::stateful_pointer<snapshot_state>;

/// Makes the file the state machine wrote durable, with the configuration
/// at its last index (thesis §5.1), and the newest snapshot.
void publish(snapshot_self self, snapshot_meta meta,
             const cluster_configuration& configuration,
             caf::typed_response_promise<snapshot_info> rp) {
  auto info = self->state.store->commit(meta, configuration);
  if (!info) {
    self->state.store->abort(meta);
    rp.deliver(info.error());
    return;
  }
  self->state.newest = *info;
  rp.deliver(*info);
}

bool same(snapshot_meta x, snapshot_meta y) {
  return x.last_index == y.last_index && x.last_term == y.last_term;
}

snapshot_actor::behavior_type
snapshot_impl(snapshot_self self, std::shared_ptr<snapshot_store> store,
              snapshot_info newest, state_machine_actor sm,
              two_phase_state_machine_actor two_phase) {
  auto& st = self->state;
  st.store = std::move(store);
  st.newest = std::move(newest);
  st.sm = std::move(sm);
  st.two_phase = std::move(two_phase);
  return {
    [=](save_atom, begin_atom, snapshot_meta meta) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      if (st.begun)
        return make_error(errc::snapshot_failure, "a save is in progress");
      auto path = st.store->begin(meta);
      if (!path)
        return path.error();
      st.begun = true;
      st.begun_meta = meta;
      st.begun_path = *path;
      auto rp = self->make_response_promise<caf::ok_atom>();
      auto ok = [=](caf::ok_atom) mutable { rp.deliver(caf::ok_atom::value); };
      auto fail = [=](caf::error& err) mutable {
        // An error discards the snapshot (Vanadium's raft interface).
        self->state.begun = false;
        self->state.store->abort(meta);
        rp.deliver(std::move(err));
      };
      // SaveToSnapshot: the answer means a consistent view exists; a
      // one-phase state machine has written everything by then.
      if (st.two_phase)
        self->request(st.two_phase, caf::infinite, save_atom::value,
                      begin_atom::value, *path)
          .then(ok, fail);
      else
        self->request(st.sm, caf::infinite, save_atom::value, *path)
          .then(ok, fail);
      return rp;
    },
    [=](save_atom, snapshot_meta meta,
        cluster_configuration cfg) -> caf::result<snapshot_info> {
      auto& st = self->state;
      auto rp = self->make_response_promise<snapshot_info>();
      if (st.begun && !st.finishing && same(st.begun_meta, meta)) {
        // Second phase: publish only once the writing finished ("closing the
        // response channel signals that the snapshot is finished").
        if (!st.two_phase) {
          st.begun = false;
          publish(self, meta, cfg, rp);
          return rp;
        }
        st.finishing = true;
        self->request(st.two_phase, caf::infinite, save_atom::value,
                      done_atom::value, st.begun_path)
          .then(
            [=](caf::ok_atom) mutable {
              self->state.begun = false;
              self->state.finishing = false;
              publish(self, meta, cfg, rp);
            },
            [=](caf::error& err) mutable {
              self->state.begun = false;
              self->state.finishing = false;
              self->state.store->abort(meta);
              rp.deliver(std::move(err));
            });
        return rp;
      }
      if (st.begun)
        return make_error(errc::snapshot_failure, "another save is in progress");
      // One request for the whole save.
      auto path = st.store->begin(meta);
      if (!path)
        return path.error();
      // SaveToSnapshot (Vanadium's raft interface): the application writes into the file; its
      // error discards the snapshot.
      self->request(st.sm, caf::infinite, save_atom::value, *path)
        .then([=](caf::ok_atom) mutable { publish(self, meta, cfg, rp); },
              [=](caf::error& err) mutable {
                self->state.store->abort(meta);
                rp.deliver(std::move(err));
              });
      return rp;
    },
    [=](chunk_atom, uint64_t offset,
        uint64_t max_bytes) -> caf::result<snapshot_chunk> {
      auto& st = self->state;
      if (st.newest.none())
        return make_error(errc::snapshot_failure, "no snapshot to send");
      auto data = st.store->read_chunk(st.newest.meta, offset, max_bytes);
      if (!data)
        return data.error();
      snapshot_chunk chunk;
      chunk.meta = st.newest.meta;
      chunk.offset = offset;
      chunk.done = offset + data->size() >= st.newest.size;
      chunk.data = std::move(*data);
      chunk.size = st.newest.size;
      chunk.crc = st.newest.crc;
      return chunk;
    },
    [=](const install_snapshot_request& req)
      -> caf::result<uint64_t, snapshot_info> {
      auto& st = self->state;
      snapshot_meta meta{req.last_included_index, req.last_included_term};
      if (req.offset == 0) {
        // The directory may be gone (a wiped disk): make it again.
        std::error_code ec;
        std::filesystem::create_directories(st.store->dir(), ec);
        if (auto err = st.store->begin_receive(meta))
          return err;
      } else if (!st.store->receiving() || st.store->received() != req.offset) {
        // A gap (lost chunk, restarted transfer): tell where to resume.
        return {st.store->receiving() ? st.store->received() : uint64_t{0},
                snapshot_info{}};
      }
      if (auto err = st.store->write_chunk(req.offset, req.data))
        return err;
      if (!req.done)
        return {st.store->received(), snapshot_info{}};
      auto info = st.store->finish_receive(req.size, req.crc,
                                           req.configuration);
      if (!info)
        return info.error();
      st.newest = *info;
      return {info->size, *info};
    },
  };
}

} // namespace

snapshot_actor spawn_snapshot_actor(caf::actor_system& sys,
                                    std::shared_ptr<snapshot_store> store,
                                    snapshot_info newest,
                                    state_machine_actor sm,
                                    two_phase_state_machine_actor two_phase) {
  // Hidden and ended with the system, as the log writer
  // (system_exit_hook.hpp).
  if (detach_helpers(sys)) {
    auto a = sys.spawn<caf::detached + caf::hidden>(
      snapshot_impl, std::move(store), std::move(newest), std::move(sm),
      std::move(two_phase));
    end_with_system(sys, a.address());
    return a;
  }
  return sys.spawn<caf::hidden>(snapshot_impl, std::move(store),
                                std::move(newest), std::move(sm),
                                std::move(two_phase));
}

} // namespace raft
