// Snapshots (§7): taking them, restoring from them, and sending them to
// followers that need entries the leader has compacted away (InstallSnapshot,
// Figure 13), one chunk at a time so no side holds a whole snapshot.

#include "member_flow.hpp"
#include "member_state.hpp"

#include <algorithm>

#include "caf/event_based_actor.hpp"

#include "raft/errc.hpp"

namespace raft {

namespace {

/// After a successful save: remember it, free the entries it covers in
/// memory and (after the writes before it) on disk.
void on_snapshot_saved(member_self* self, snapshot_meta meta) {
  auto& st = self->state;
  if (meta.last_index <= st.snapshot.last_index)
    return;
  st.snapshot = meta;
  st.log.compact(meta);
  st.writes.compact(meta);
  st.configs.compact(meta.last_index);
  schedule_flush(self);
  return_free_memory(self); // issue 14 (member_flow.hpp)
}

} // namespace

index_t snapshot_stagger(const cluster_configuration& cfg,
                         const member_id& self_id, index_t threshold) {
  auto members = cfg.voters;
  members.insert(members.end(), cfg.learners.begin(), cfg.learners.end());
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  auto i = std::find(members.begin(), members.end(), self_id);
  if (members.size() < 2 || i == members.end())
    return 0;
  auto rank = static_cast<index_t>(i - members.begin());
  return threshold * rank / (2 * static_cast<index_t>(members.size()));
}

void maybe_snapshot(member_self* self) {
  auto& st = self->state;
  if (!st.snapshots || st.cfg.snapshot_threshold <= 0 || st.snapshotting
      || st.snapshot_writing || st.restoring || st.applying
      || st.role == role::stopped)
    return;
  auto threshold = static_cast<index_t>(st.cfg.snapshot_threshold);
  if (st.next_snapshot_at == 0)
    st.next_snapshot_at = st.snapshot.last_index + threshold
                          + snapshot_stagger(st.configuration(), st.id(),
                                             threshold);
  if (st.last_applied < st.snapshot.last_index + threshold
      || st.last_applied < st.next_snapshot_at)
    return;
  snapshot_meta meta{st.last_applied, *st.log.term_at(st.last_applied)};
  st.snapshotting = true;
  auto started = self->clock().now();
  // Vanadium's raft interface: an error discards the snapshot; the log keeps
  // everything, and the next attempt comes after another threshold.
  auto discard = [=](const char* phase, const caf::error& err) {
    auto& st = self->state;
    st.snapshotting = false;
    st.snapshot_writing = false;
    st.next_snapshot_at = st.last_applied + threshold;
    log_line(self, log_level::warning,
             "snapshot at " + std::to_string(meta.last_index) + " discarded ("
               + phase + "): " + self->system().render(err));
    apply_committed(self);
  };
  // Thesis §5.1: the snapshot holds the configuration at its last index
  // (taken now, with the view: the second phase saves it with the file).
  auto configuration = st.configs.at(meta.last_index);
  // Two phases (SaveToSnapshot): applies stop only until the state machine
  // holds a consistent view; the snapshot is published, the log compacted
  // and InstallSnapshot may send it only once its writing finished.
  self->request(st.snapshots, caf::infinite, save_atom::value,
                begin_atom::value, meta)
    .then(
      [=](caf::ok_atom) {
        auto& st = self->state;
        st.snapshotting = false;
        if (st.role == role::stopped)
          return; // Nothing was published: the log still has everything.
        st.snapshot_writing = true;
        apply_committed(self);
        self->request(st.snapshots, caf::infinite, save_atom::value, meta,
                      configuration)
          .then(
            [=](snapshot_info& info) {
              auto& st = self->state;
              st.snapshot_writing = false;
              if (st.role == role::stopped)
                return;
              st.metrics.on_snapshot_saved(started, self->clock().now(),
                                           info.size);
              on_snapshot_saved(self, meta);
              apply_committed(self);
            },
            [=](caf::error& err) { discard("writing", err); });
      },
      [=](caf::error& err) { discard("taking its view", err); });
}

void restore_at_start(member_self* self, const snapshot_info& newest) {
  auto& st = self->state;
  auto meta = newest.meta;
  st.snapshot = meta;
  st.log.compact(meta);
  st.commit_index = std::max(st.commit_index, meta.last_index);
  st.last_applied = meta.last_index;
  st.restoring = true;
  // Vanadium's raft interface: RestoreFromSnapshot, then a replay of every later entry.
  self->request(st.sm, caf::infinite, restore_atom::value, meta.last_index,
                newest.path)
    .then(
      [=](caf::ok_atom) {
        self->state.restoring = false;
        apply_committed(self);
      },
      [=](caf::error& err) {
        shut_down(self, make_error(errc::snapshot_failure,
                                   "cannot restore " + newest.path + ": "
                                     + self->system().render(err)));
      });
}

// -- leader side ---------------------------------------------------------------------

void send_snapshot(member_self* self, const member_id& id) {
  auto& st = self->state;
  if (!st.snapshots)
    return;
  auto& t = st.leading().transfers[id];
  if (t.busy)
    return;
  t.busy = true;
  t.silent_ticks = 0;
  auto term = st.persistent.current_term;
  self->request(st.snapshots, caf::infinite, chunk_atom::value, t.offset,
                uint64_t{st.cfg.snapshot_chunk_bytes})
    .then(
      [=](snapshot_chunk& chunk) {
        auto& st = self->state;
        auto* ld = st.if_leading();
        if (!ld || st.persistent.current_term != term)
          return;
        auto i = ld->transfers.find(id);
        if (i == ld->transfers.end())
          return;
        auto& t = i->second;
        if (chunk.meta.last_index != t.meta.last_index) {
          // A newer snapshot replaced the one we were sending: start over.
          t.meta = chunk.meta;
          if (chunk.offset != 0) {
            t.offset = 0;
            t.busy = false;
            send_snapshot(self, id);
            return;
          }
        }
        install_snapshot_request req;
        req.term = term;
        req.leader_id = st.id();
        req.last_included_index = chunk.meta.last_index;
        req.last_included_term = chunk.meta.last_term;
        req.offset = chunk.offset;
        req.data = std::move(chunk.data);
        req.done = chunk.done;
        req.size = chunk.size;
        req.crc = chunk.crc;
        req.configuration = st.configs.at(chunk.meta.last_index);
        send_to_peer(self, st.peers[id], std::move(req));
      },
      [=](caf::error& err) {
        auto& st = self->state;
        if (auto* ld = st.if_leading()) {
          auto i = ld->transfers.find(id);
          if (i != ld->transfers.end()) {
            i->second.busy = false;
            i->second.offset = 0;
          }
        }
        log_line(self, log_level::warning, "cannot read snapshot for " + id + ": "
                         + self->system().render(err));
      });
}

void on_install_response(member_self* self, install_snapshot_response& resp) {
  auto& st = self->state;
  auto f = st.leading().followers.find(resp.from);
  auto t = st.leading().transfers.find(resp.from);
  if (f == st.leading().followers.end() || t == st.leading().transfers.end())
    return; // Stale: no transfer to this member in this term.
  st.leading().active.insert(resp.from);
  if (resp.done) {
    st.leading().transfers.erase(t);
    // The follower's log now matches ours up to the snapshot.
    if (f->second.on_success(resp.last_included_index))
      advance_commit(self);
    // A committed configuration may have ended our leadership (thesis
    // §4.2.2).
    if (st.if_leading())
      replicate(self, false);
    return;
  }
  t->second.busy = false;
  t->second.offset = resp.next_offset;
  send_snapshot(self, resp.from);
}

void check_transfers(member_self* self) {
  for (auto& kvp : self->state.leading().transfers) {
    auto& t = kvp.second;
    // A lost chunk or answer: resend from the last offset the follower
    // confirmed (the follower tells us where to resume if it differs).
    if (t.busy && ++t.silent_ticks > 10) {
      t.busy = false;
      send_snapshot(self, kvp.first);
    }
  }
}

// -- follower side -------------------------------------------------------------------

namespace {

void finish_install(member_self* self, const snapshot_info& info,
                    peer_actor leader, install_snapshot_response resp) {
  auto& st = self->state;
  auto meta = info.meta;
  resp.done = true;
  resp.next_offset = info.size;
  // AppendEntries may have carried this member past the snapshot while its
  // chunks arrived. Restoring it now would roll the state machine back and
  // apply the commands after it a second time (Figure 2: lastApplied only
  // grows). Keep the file, which is a valid snapshot of committed state, and
  // compact the log when nothing is being applied.
  auto applied = st.applying ? st.applying_upto : st.last_applied;
  if (meta.last_index <= applied) {
    st.metrics.on_snapshot_installed(self->clock().now(), info.size);
    st.installing = false;
    if (!st.applying && meta.last_index > st.snapshot.last_index
        && st.log.matches(meta.last_index, meta.last_term)) {
      st.writes.compact(meta);
      st.log.compact(meta);
      st.configs.compact(meta.last_index);
      st.snapshot = meta;
      schedule_flush(self);
    }
    send_after_persist(self, leader, resp);
    return;
  }
  st.restoring = true;
  self->request(st.sm, caf::infinite, restore_atom::value, meta.last_index,
                info.path)
    .then(
      [=](caf::ok_atom) mutable {
        auto& st = self->state;
        st.metrics.on_snapshot_installed(self->clock().now(), info.size);
        st.restoring = false;
        st.installing = false;
        // Figure 13, receiver 6-7: "If existing log entry has same index and
        // term as snapshot's last included entry, retain log entries
        // following it"; otherwise discard the entire log.
        auto keep_later = st.log.matches(meta.last_index, meta.last_term);
        if (keep_later) {
          st.writes.compact(meta);
        } else {
          st.writes.reset(meta, st.persistent);
        }
        st.log.compact(meta);
        // Thesis §4.1: the snapshot's configuration, unless a later entry
        // kept in the log overrides it.
        on_snapshot_installed(self, meta.last_index, info.configuration,
                              keep_later);
        st.snapshot = meta;
        st.commit_index = std::max(st.commit_index, meta.last_index);
        st.last_applied = meta.last_index;
        release_apply_waiters(self);
        schedule_flush(self);
        // Acknowledged once the log's reset or compaction is durable.
        send_after_persist(self, leader, resp);
        apply_committed(self);
      },
      [=](caf::error& err) {
        // The application could not load a verified snapshot: continuing
        // would diverge from the others.
        shut_down(self, make_error(errc::snapshot_failure,
                                   "cannot restore " + info.path + ": "
                                     + self->system().render(err)));
      });
}

} // namespace

void receive_snapshot(member_self* self, install_snapshot_request& req,
                      const peer_actor& leader) {
  auto& st = self->state;
  install_snapshot_response resp;
  resp.from = st.id();
  resp.last_included_index = req.last_included_index;
  resp.term = st.persistent.current_term;
  if (req.last_included_index <= st.commit_index) {
    // Everything it covers is committed here already: nothing to install.
    resp.done = true;
    resp.last_included_index = st.commit_index;
    send_after_persist(self, leader, resp);
    return;
  }
  if (!st.snapshots || st.installing || st.restoring || st.snapshotting
      || st.snapshot_writing)
    return; // One chunk at a time; the leader resends.
  st.installing = true;
  if (req.offset == 0)
    st.metrics.install_started = self->clock().now();
  self->request(st.snapshots, caf::infinite, std::move(req))
    .then(
      [=](uint64_t held, snapshot_info& info) mutable {
        if (info.none()) {
          self->state.installing = false;
          resp.next_offset = held;
          send_after_persist(self, leader, resp);
          return;
        }
        finish_install(self, info, leader, resp);
      },
      [=](caf::error& err) {
        // No answer: the leader resends after a few silent heartbeats,
        // rather than both sides spinning on a failing disk.
        self->state.installing = false;
        log_line(self, log_level::warning,
                 "snapshot chunk refused: " + self->system().render(err));
      });
}

} // namespace raft
