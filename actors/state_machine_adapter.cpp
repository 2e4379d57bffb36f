// Runs a C++ state_machine inside an actor, so members treat both kinds of
// application alike: one apply batch per message, answered in order. Saves
// in two phases when the state machine gives a snapshot_writer: the view is
// taken here, between two apply batches, and written by an actor of its own
// (snapshot_writer_actor), so applies resume while the file is written.

#include <map>

#include "caf/actor_system.hpp"
#include "caf/response_promise.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "raft/errc.hpp"
#include "raft/state_machine.hpp"
#include "raft/storage/paced_file_stream.hpp"
#include "system_exit_hook.hpp"

namespace raft {

state_machine::~state_machine() {
  // nop
}

apply_result state_machine::query(const payload&) {
  return apply_result{{}, "queries are not supported by this state machine"};
}

caf::expected<snapshot_writer> state_machine::begin_snapshot() {
  // No writer: one-phase save_snapshot (source compatible default).
  return snapshot_writer{};
}

namespace {

/// Writes a snapshot file with `write`, which gets the open stream: a
/// paced_ofstream, whose write-back runs slice by slice instead of all at
/// the snapshot store's fsync, where it would hold up the log's fdatasyncs
/// (docs/storage.md, "Writing a snapshot"). The first error wins: a failed
/// write (a full disk) is reported even if `write` did not notice it.
template <class Write>
caf::error write_snapshot_file(const std::string& path, Write&& write) {
  paced_ofstream out{default_file_io(), path};
  if (out.buf().failure())
    return out.buf().failure();
  caf::error result;
  try {
    result = write(out);
  } catch (std::exception& ex) {
    result = make_error(errc::snapshot_failure,
                        std::string{"snapshot writer threw: "} + ex.what());
  }
  auto io_err = out.close();
  if (io_err)
    return io_err;
  return result;
}

// -- the writer: one actor per two-phase save -------------------------------------

/// Writes one snapshot file when asked, answers, and ends.
using snapshot_writer_actor
  = caf::typed_actor<caf::replies_to<save_atom>::with<caf::ok_atom>>;

struct writer_state {
  // Tests find the writer's jobs by this name to hold them back.
  static inline const char* name = "raft.snapshot_writer";
};

snapshot_writer_actor::behavior_type
writer_impl(snapshot_writer_actor::stateful_pointer<writer_state> self,
            snapshot_writer write, std::string path, bool background) {
  return {
    [=](save_atom) -> caf::result<caf::ok_atom> {
      // On a thread of its own: yield the CPU and the disk to the log
      // writer and the members while writing.
      if (background)
        lower_this_thread_priority();
      auto rp = self->make_response_promise<caf::ok_atom>();
      if (auto err = write_snapshot_file(path, write))
        rp.deliver(std::move(err));
      else
        rp.deliver(caf::ok_atom::value);
      self->quit();
      return rp;
    },
  };
}

snapshot_writer_actor spawn_writer(caf::actor_system& sys,
                                   snapshot_writer write, std::string path) {
  // Detached where helpers may be (system_exit_hook.hpp): writing a large
  // snapshot must not hold a scheduler thread. On the test scheduler it runs
  // as a job like any other, which tests may hold back.
  if (detach_helpers(sys)) {
    auto a = sys.spawn<caf::detached + caf::hidden>(writer_impl,
                                                    std::move(write),
                                                    std::move(path), true);
    end_with_system(sys, a.address());
    return a;
  }
  return sys.spawn<caf::hidden>(writer_impl, std::move(write),
                                std::move(path), false);
}

// -- the adapter -----------------------------------------------------------------------

/// A two-phase save begun and not yet awaited with (save, done, path).
struct pending_save {
  bool finished = false;
  /// The writer's result once finished (none: the file is complete).
  caf::error result;
  /// Set while (save, done, path) waits for the writer.
  caf::response_promise waiter;
  bool waiting = false;
};

struct adapter_state {
  static inline const char* name = "raft.state_machine";
  /// By path. The member begins one save at a time; several are allowed.
  std::map<std::string, pending_save> saves;
};

using adapter_self
  = two_phase_state_machine_actor::stateful_pointer<adapter_state>;

void on_written(adapter_self self, const std::string& path, caf::error err) {
  auto i = self->state.saves.find(path);
  if (i == self->state.saves.end())
    return;
  auto& s = i->second;
  if (s.waiting) {
    if (err)
      s.waiter.deliver(std::move(err));
    else
      s.waiter.deliver(caf::ok_atom::value);
    self->state.saves.erase(i);
    return;
  }
  s.finished = true;
  s.result = std::move(err);
}

two_phase_state_machine_actor::behavior_type
adapter(adapter_self self, std::shared_ptr<state_machine> sm) {
  return {
    [=](apply_atom, const entry_vector& commands) {
      std::vector<apply_result> results;
      results.reserve(commands.size());
      for (auto& e : commands) {
        try {
          results.push_back(sm->apply(e.index, e.data));
        } catch (std::exception& ex) {
          // An exception is the application's error, not Raft's.
          results.push_back(apply_result{{}, ex.what()});
        }
      }
      return results;
    },
    [=](query_atom, const payload& q) {
      try {
        return sm->query(q);
      } catch (std::exception& ex) {
        return apply_result{{}, ex.what()};
      }
    },
    [=](save_atom, const std::string& path) -> caf::result<caf::ok_atom> {
      if (auto err = write_snapshot_file(
            path, [&](std::ostream& out) { return sm->save_snapshot(out); }))
        return err;
      return caf::ok_atom::value;
    },
    [=](save_atom, begin_atom,
        const std::string& path) -> caf::result<caf::ok_atom> {
      auto& saves = self->state.saves;
      if (saves.count(path) > 0)
        return make_error(errc::snapshot_failure,
                          "a save into " + path + " is already running");
      caf::expected<snapshot_writer> writer = snapshot_writer{};
      try {
        writer = sm->begin_snapshot();
      } catch (std::exception& ex) {
        return make_error(errc::snapshot_failure,
                          std::string{"begin_snapshot threw: "} + ex.what());
      }
      if (!writer)
        return writer.error();
      auto& s = saves[path];
      if (!*writer) {
        // One phase: save_snapshot now, before the next apply.
        s.finished = true;
        s.result = write_snapshot_file(
          path, [&](std::ostream& out) { return sm->save_snapshot(out); });
        return caf::ok_atom::value;
      }
      auto w = spawn_writer(self->system(), std::move(*writer), path);
      self->request(w, caf::infinite, save_atom::value)
        .then([=](caf::ok_atom) { on_written(self, path, caf::none); },
              [=](caf::error& err) { on_written(self, path, std::move(err)); });
      return caf::ok_atom::value;
    },
    [=](save_atom, done_atom,
        const std::string& path) -> caf::result<caf::ok_atom> {
      auto& saves = self->state.saves;
      auto i = saves.find(path);
      if (i == saves.end())
        return make_error(errc::snapshot_failure,
                          "no save into " + path + " was begun");
      auto& s = i->second;
      if (s.finished) {
        auto err = std::move(s.result);
        saves.erase(i);
        if (err)
          return err;
        return caf::ok_atom::value;
      }
      if (s.waiting)
        return make_error(errc::snapshot_failure,
                          "the save into " + path + " is awaited already");
      s.waiting = true;
      s.waiter = self->make_response_promise();
      return s.waiter;
    },
    [=](restore_atom, index_t index,
        const std::string& path) -> caf::result<caf::ok_atom> {
      std::ifstream in{path, std::ios::binary};
      if (!in)
        return make_error(errc::snapshot_failure, "cannot open " + path);
      if (auto err = sm->restore_snapshot(index, in))
        return err;
      return caf::ok_atom::value;
    },
  };
}

} // namespace

two_phase_state_machine_actor
spawn_state_machine(caf::actor_system& sys, std::shared_ptr<state_machine> sm) {
  // Hidden: it lives as long as its member, which never keeps the actor
  // system from exiting (system_exit_hook.hpp).
  return sys.spawn<caf::hidden>(adapter, std::move(sm));
}

} // namespace raft
