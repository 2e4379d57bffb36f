// The snapshot actor: owns a member's snapshot files (snapshot_store), asks
// the state machine to save, serves chunks to send and stores chunks
// received. Blocking file I/O happens here, never in the member.
#pragma once

#include "caf/fwd.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "raft/atoms.hpp"
#include "raft/messages.hpp"
#include "raft/state_machine.hpp"
#include "raft/storage/snapshot_store.hpp"

namespace raft {

/// What a chunk request returns: the bytes and the whole snapshot's
/// identity (so the follower can verify it when complete).
struct snapshot_chunk {
  snapshot_meta meta;
  uint64_t offset = 0;
  std::string data;
  bool done = false;
  uint64_t size = 0;
  uint32_t crc = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot_chunk& x) {
  return f(caf::meta::type_name("snapshot_chunk"), x.meta, x.offset, x.data,
           x.done, x.size, x.crc);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot_info& x) {
  return f(caf::meta::type_name("snapshot_info"), x.meta, x.path, x.size,
           x.crc);
}

/// - (save, begin, meta): the first phase of a save (Vanadium's
///   SaveToSnapshot): answers ok once the state machine holds a consistent
///   view covering `meta` (a one-phase state machine: once it wrote the
///   snapshot). The member applies nothing until this is answered.
/// - (save, meta, configuration): the state machine writes a snapshot
///   covering `meta` (after (save, begin, meta): finishes writing it); it is
///   made durable with the configuration at its last index (thesis §5.1) and
///   becomes the newest, and only then answered. An error discards it, as
///   Vanadium's raft interface says.
/// - chunk: up to max bytes of the newest snapshot from an offset.
/// - install_snapshot_request: stores a received chunk; answers the bytes
///   held so far, and the snapshot once the last chunk made it complete.
using snapshot_actor = caf::typed_actor<
  caf::replies_to<save_atom, begin_atom, snapshot_meta>::with<caf::ok_atom>,
  caf::replies_to<save_atom, snapshot_meta,
                  cluster_configuration>::with<snapshot_info>,
  caf::replies_to<chunk_atom, uint64_t, uint64_t>::with<snapshot_chunk>,
  caf::replies_to<install_snapshot_request>::with<uint64_t, snapshot_info>>;

/// Spawns the snapshot actor owning `store`, whose newest snapshot the
/// caller already read and verified, saving through `sm`, in two phases when
/// `two_phase` is valid (the same actor as `sm`).
snapshot_actor spawn_snapshot_actor(caf::actor_system& sys,
                                    std::shared_ptr<snapshot_store> store,
                                    snapshot_info newest,
                                    state_machine_actor sm,
                                    two_phase_state_machine_actor two_phase
                                    = {});

} // namespace raft
