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
  /// The newest complete snapshot (what chunks are read from).
  snapshot_info newest;
};

using snapshot_self = snapshot_actor::stateful_pointer<snapshot_state>;

snapshot_actor::behavior_type
snapshot_impl(snapshot_self self, std::shared_ptr<snapshot_store> store,
              snapshot_info newest, state_machine_actor sm) {
  auto& st = self->state;
  st.store = std::move(store);
  st.newest = std::move(newest);
  st.sm = std::move(sm);
  return {
    [=](save_atom, snapshot_meta meta,
        cluster_configuration cfg) -> caf::result<snapshot_info> {
      auto& st = self->state;
      auto path = st.store->begin(meta);
      if (!path)
        return path.error();
      auto rp = self->make_response_promise<snapshot_info>();
      // SaveToSnapshot (Vanadium's raft interface): the application writes into the file; its
      // error discards the snapshot.
      self->request(st.sm, caf::infinite, save_atom::value, *path)
        .then(
          [=](caf::ok_atom) mutable {
            auto info = self->state.store->commit(meta, cfg);
            if (!info) {
              self->state.store->abort(meta);
              rp.deliver(info.error());
              return;
            }
            self->state.newest = *info;
            rp.deliver(*info);
          },
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
                                    state_machine_actor sm) {
  // Hidden and ended with the system, as the log writer
  // (system_exit_hook.hpp).
  if (detach_helpers(sys)) {
    auto a = sys.spawn<caf::detached + caf::hidden>(
      snapshot_impl, std::move(store), std::move(newest), std::move(sm));
    end_with_system(sys, a.address());
    return a;
  }
  return sys.spawn<caf::hidden>(snapshot_impl, std::move(store),
                                std::move(newest), std::move(sm));
}

} // namespace raft
