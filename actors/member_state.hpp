// State of the member actor and the operations its role behaviours share.
// Private to the actors layer: applications use raft/member.hpp.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <variant>

#include "caf/actor.hpp"
#include "caf/actor_clock.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/mailbox_element.hpp"
#include "caf/message.hpp"
#include "caf/message_id.hpp"
#include "caf/response_promise.hpp"
#include "caf/response_type.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"
#include "caf/detail/type_list.hpp"

#include "raft/core/configuration_history.hpp"
#include "raft/core/log.hpp"
#include "raft/core/progress.hpp"
#include "raft/core/uncommitted_budget.hpp"
#include "raft/member.hpp"
#include "raft/messages.hpp"

#include "log_writer.hpp"
#include "metrics_recorder.hpp"
#include "peer_channel.hpp"
#include "reply_to.hpp"
#include "snapshot_actor.hpp"
#include "trace_recorder.hpp"
#include "write_queue.hpp"

namespace raft {

/// A client's append waiting for its entry to be committed and applied here.
struct commit_waiter {
  index_t index;
  term_t term;
  reply_to promise;
  /// When the leader received the append (commit latency).
  caf::actor_clock::time_point proposed_at;
};

/// A forwarded append that the leader answered; it waits until this member
/// has applied the entry too.
struct apply_waiter {
  append_reply reply;
  reply_to promise;
};

/// An append (or query) that arrived while no leader was known.
struct parked_append {
  uint64_t id;
  payload command;
  reply_to promise;
  bool is_query = false;
};

/// A query waiting for its ReadIndex round to be confirmed by a majority,
/// then for the state machine to reach its read index (thesis §6.4).
struct pending_read {
  uint64_t round;
  index_t read_index;
  payload query;
  reply_to promise;
};

/// A leader's InstallSnapshot transfer to one follower: one chunk at a time.
struct snapshot_transfer {
  snapshot_meta meta;
  /// Where the next chunk starts (the follower's last word on it).
  uint64_t offset = 0;
  /// A chunk is being read or awaits the follower's answer.
  bool busy = false;
  /// Heartbeat ticks without an answer while busy.
  unsigned silent_ticks = 0;
};

// -- per-role data (ScyllaDB's raft: a variant of per-role structs) -------------

/// Followers (and idle or stopped members) keep nothing of their own: the
/// leader they know is `member_state::leader`, for every role.
struct follower_state {};

/// A candidate's election (§5.2), or the pre-vote round before it (thesis
/// §9.6).
struct candidate_state {
  /// Members that granted their vote in the current term (self included);
  /// while `pre_vote`, those that granted a pre-vote for the next term.
  std::set<member_id> votes;
  /// A pre-candidate: it asks for pre-votes at current_term + 1 and has
  /// changed neither its term nor its vote. A majority of pre-votes starts
  /// the real election.
  bool pre_vote = false;
};

/// A leader's view of its followers and of its reads (Figure 2: "Volatile
/// state on leaders, reinitialized after election").
struct leader_state {
  /// nextIndex and matchIndex (Figure 2), pipelining and probing, by follower.
  std::map<member_id, progress> followers;
  /// Followers heard from since the last check-quorum round (thesis §6.2).
  std::set<member_id> active;
  /// Heartbeat ticks since the last check-quorum round.
  unsigned ticks_since_check = 0;
  /// Index of this leader's first entry (its no-op): reads must wait until
  /// it is committed (thesis §6.4, step 1).
  index_t term_start = 0;
  /// Queries in round order.
  std::deque<pending_read> reads;
  /// Last ReadIndex round broadcast; every AppendEntries carries it.
  uint64_t read_round = 0;
  /// A query waits for the next round's broadcast.
  bool read_round_wanted = false;
  /// Highest round each follower echoed in this term.
  std::map<member_id, uint64_t> read_acks;
  /// InstallSnapshot transfers in progress, by follower (§7).
  std::map<member_id, snapshot_transfer> transfers;
  /// commit_index moved since followers were last told.
  bool commit_dirty = false;
  /// Leadership transfer (thesis §3.10): the member we hand over to, or
  /// empty. While set, new appends are refused (transfer_in_progress).
  member_id transfer_target;
  /// TimeoutNow went to the target (its log matched ours).
  bool timeout_now_sent = false;
  // -- memory bounds (issue 14, member_flow.cpp) --
  /// Bytes of this term's commands not yet committed
  /// (config::max_uncommitted_bytes).
  uncommitted_budget uncommitted;
  /// Appends refused with errc::overloaded in this term.
  uint64_t overloaded_refusals = 0;
};

/// A leadership transfer this member started and has not yet answered: it
/// outlives the leader's role, since the answer comes once the target leads.
struct pending_transfer {
  member_id target;
  caf::response_promise promise;
  /// Tells this transfer's timeout from an earlier one's.
  uint64_t id = 0;
};

/// A configuration change this leader accepted and has not answered yet
/// (member_config.cpp): answered once `index` commits, with leadership_lost
/// if the leader steps down first.
struct pending_change {
  caf::response_promise promise;
  /// The configuration entry whose commit answers it; 0 while an automatic
  /// promotion waits for its learner to catch up.
  index_t index = 0;
  /// `index` holds C_old,new: the answer waits for C_new (thesis §4.3).
  bool leaves_joint = false;
  /// Automatic promotion (learner_atom, id, true): the learner to promote.
  member_id promote;
};

/// Member to member, in-process: the others learn the handle of a restarted
/// member (see member_state::announce_to).
using rejoin_atom = caf::atom_constant<caf::atom("rejoin")>;

struct member_state {
  static inline const char* name = "raft.member";

  config cfg;
  /// Rules broken on purpose (tests only: actors/member_spawn.hpp).
  broken_rules broken;
  raft::role role = role::idle;

  // -- persistent state (Figure 2), in memory; may run ahead of the disk ------

  /// currentTerm and votedFor.
  hard_state persistent;
  raft::log log;

  // -- volatile state on all servers (Figure 2) ---------------------------------

  /// Invariant: commit_index >= last_applied (§5.3).
  index_t commit_index = 0;
  index_t last_applied = 0;
  /// The leader of the current term, if known.
  member_id leader;
  /// Every other voting member and the handle that reaches it (invalid
  /// while the transport has no connection to it).
  std::map<member_id, peer_actor> peers;
  /// Resolves members added by id alone (remote members); may be invalid.
  transport_actor transport;
  /// Remote peers' sessions, reached without their link actor
  /// (peer_channel.hpp): the link's handle it came with, and the channel.
  /// Used only for messages to that very handle; an in-process peer has none.
  std::map<member_id, std::pair<peer_actor, peer_channel_ptr>> channels;

  // -- role data: exists only in its role ---------------------------------------

  /// follower_state while idle, following or stopped; candidate_state while
  /// candidating; leader_state while leading. Created on entering the role
  /// (become_*), gone when leaving it.
  /// Invariant: role == candidate <=> candidate_state, role == leader <=>
  /// leader_state.
  std::variant<follower_state, candidate_state, leader_state> role_data;

  /// The leader's data; throws std::bad_variant_access unless leading.
  leader_state& leading() {
    return std::get<leader_state>(role_data);
  }

  const leader_state& leading() const {
    return std::get<leader_state>(role_data);
  }

  /// The leader's data, or null unless leading.
  leader_state* if_leading() {
    return std::get_if<leader_state>(&role_data);
  }

  /// The candidate's data; throws std::bad_variant_access unless candidating.
  candidate_state& candidacy() {
    return std::get<candidate_state>(role_data);
  }

  // -- timers -------------------------------------------------------------------------

  /// When a follower or candidate starts an election unless it hears from a
  /// leader (or grants a vote) first.
  caf::actor_clock::time_point election_deadline;
  /// Whether an election timer message is scheduled.
  bool election_timer_armed = false;
  std::minstd_rand rng;

  // -- persistence pipeline (one batch at the log writer at a time) ------------

  log_writer_actor writer;
  /// Owns the pending batch, durable_index and what waits for durability.
  write_queue writes;

  // -- applying ---------------------------------------------------------------------

  /// Writes, messages and entries since start (member_status::counters).
  member_counters counters;
  /// Counters and histograms since start (metrics_atom, metrics.cpp).
  metrics_recorder metrics;

  state_machine_actor sm;
  bool applying = false;
  /// While applying: the last index of the batch at the state machine.
  index_t applying_upto = 0;

  // -- snapshots (§7) ------------------------------------------------------------------

  /// Owns the snapshot files; invalid when snapshots are off (no directory).
  snapshot_actor snapshots;
  /// The newest durable snapshot.
  /// Invariant: snapshot.last_index <= last_applied.
  snapshot_meta snapshot;
  /// The state machine is taking a snapshot's consistent view (a one-phase
  /// state machine: writing it): no apply runs (Vanadium's raft interface).
  bool snapshotting = false;
  /// A snapshot's view was taken and is being written (two-phase save):
  /// applies go on, no other snapshot starts, nothing is compacted yet.
  bool snapshot_writing = false;
  /// The state machine is being restored from a snapshot: no apply runs.
  bool restoring = false;
  /// A received chunk is at the snapshot actor (follower).
  bool installing = false;
  /// After a failed save, wait this long (in applied entries) to retry.
  index_t next_snapshot_at = 0;

  // -- client requests --------------------------------------------------------------

  /// Leader: appends proposed here, in index order.
  std::deque<commit_waiter> commit_waiters;
  /// Forwarded appends waiting for this member's apply, by index.
  std::multimap<index_t, apply_waiter> apply_waiters;
  /// Appends waiting for a leader to become known.
  std::deque<parked_append> parked;
  uint64_t next_parked_id = 1;

  /// A flush message is queued: sends and writes happen once the mailbox's
  /// current backlog is handled, batching everything that arrived together.
  bool flush_queued = false;

  // -- stopping (member_stop.cpp) ------------------------------------------------

  /// Why the member stopped: none after `stop`, else the failure (storage,
  /// state machine). Stopped members answer errc::stopped with it.
  caf::error stop_reason;
  /// The member spawned the state machine (adapter) and stops it with itself.
  bool owns_sm = false;
  /// The helpers' addresses, to recognize their exits after the handles
  /// were dropped (a stopped member holds none: their threads can end).
  caf::actor_addr writer_addr;
  caf::actor_addr snapshots_addr;
  caf::actor_addr sm_addr;

  // -- helpers ----------------------------------------------------------------------

  const member_id& id() const {
    return cfg.host_port;
  }

  size_t cluster_size() const {
    return peers.size() + 1;
  }

  // -- PreVote, stickiness, transfer, peers by id (thesis §9.6, §4.2.3, §3.10) -

  /// When the leader of the current term was last heard from (AppendEntries
  /// or InstallSnapshot accepted by step).
  caf::actor_clock::time_point last_leader_contact;
  /// The transfer this member was asked for, until it is answered.
  std::optional<pending_transfer> transfer;
  uint64_t next_transfer_id = 1;
  /// Peers the application added with a handle (in-process members): at
  /// start this member sends each of them (rejoin_atom, id, self), so that a
  /// restarted incarnation replaces the dead handle they hold.
  std::set<member_id> announce_to;

  // -- membership (member_config.cpp, thesis chapter 4) ---------------------------

  /// The configurations in the log (thesis §4.1): current() is in force.
  configuration_history configs;
  /// Leader: changes accepted and not yet answered.
  std::vector<pending_change> changes;
  /// The members added before start (they bootstrap the first configuration
  /// of a new cluster).
  std::set<member_id> added_before_start;

  /// The configuration in force (thesis §4.1).
  const cluster_configuration& configuration() const {
    return configs.current();
  }

  // -- tracing (issue 14, trace_recorder.hpp) ------------------------------------

  /// Stage stamps of sampled entries into config::trace (off when null).
  trace_recorder trace;

  // -- applying without a hop (issue 14, member_apply.cpp) ----------------------

  /// The application's C++ state machine, when the member was spawned with
  /// one: apply and query are called here, on the member's thread; `sm` is
  /// then its adapter, used only to save and restore off this thread. Null
  /// for state machines given as actors.
  std::shared_ptr<state_machine> direct_sm;
  /// An apply_atom continuation (the next batch) is in the mailbox.
  bool apply_queued = false;
};

/// Whether this member may grant a vote or a pre-vote. Not while it holds no
/// configuration at all (config::join, waiting to be added): a voter of any
/// configuration was a caught-up learner first (thesis §4.2.1, enforced by
/// every change), so it held one; holding none now means its storage was
/// lost, and with it the log and votedFor its votes stood for (Figure 2).
/// Granting anyway let a stale candidate win with a wiped member's vote
/// (simulation seed 294, docs/membership.md).
inline bool holds_a_vote(const member_state& st) {
  return !st.configuration().empty();
}

/// Everything a member handles: what applications ask (member_actor), what
/// peers and the transport send (member_peer_actor), and the timers and
/// flush it sends itself. The compiler checks that every role's behaviour
/// (member.cpp) handles each of these messages, and every send to it.
/// (peer_actor's forwarded append and query are member_actor's own: the
/// union keeps each message once, as a typed behaviour must.)
using member_node_actor = caf::detail::tl_apply_t<
  caf::detail::tl_distinct_t<caf::detail::tl_concat_t<
    caf::signatures_of_t<member_actor>,
    caf::signatures_of_t<member_peer_actor>,
    caf::detail::type_list<
      // The election timer (§5.2), set in the term it names.
      caf::reacts_to<election_atom, term_t>,
      // The leader's heartbeat timer, set in the term it names.
      caf::reacts_to<heartbeat_atom, term_t>,
      // A parked append's deadline, by its id.
      caf::reacts_to<deadline_atom, uint64_t>,
      // Send and write what accumulated while handling the mailbox.
      caf::reacts_to<flush_atom>,
      // A leadership transfer's timeout, by its id (thesis §3.10).
      caf::reacts_to<transfer_atom, uint64_t>,
      // An in-process peer restarted with a new handle (peers by id).
      caf::reacts_to<rejoin_atom, member_id, caf::actor>,
      // The next apply batch of a C++ state machine (member_apply.cpp).
      caf::reacts_to<apply_atom>,
      // The transport: a remote peer's link and its session's channel.
      caf::reacts_to<peer_atom, member_id, peer_actor, peer_channel_ptr>>>>,
  caf::typed_actor>;

/// A member's behaviour in one role.
using member_behavior = member_node_actor::behavior_type;

using member_self = member_node_actor::stateful_base<member_state>;

// -- operations shared by the role behaviours (member_ops.cpp) ------------------

/// Adopts a newer term (§5.1: "If RPC request or response contains term T >
/// currentTerm: set currentTerm = T, convert to follower").
void adopt_term(member_self* self, term_t term);

/// §5.1: "If RPC request or response contains term T > currentTerm: set
/// currentTerm = T, convert to follower". Returns true if the term was newer.
/// Called by step alone.
bool observe_term(member_self* self, term_t term);

/// Logs a refused message ("refused: what", warning) and counts it by
/// `why`: bad input never crashes a member.
void refuse(member_self* self, const std::string& what,
            refusal why = refusal::other);

/// Queues the current term and vote for the next durable write.
void persist_state(member_self* self);

/// Sends `msg` to `dest` once every write issued so far is durable (the
/// write queue holds it as an untyped message: checked here).
void send_held(member_self* self, const peer_actor& dest, caf::message msg);

template <class T>
void send_after_persist(member_self* self, const peer_actor& dest, T msg) {
  static_assert(caf::response_type<caf::signatures_of_t<peer_actor>,
                                   T>::valid,
                "peers do not accept this message (peer_actor)");
  send_held(self, dest, caf::make_message(std::move(msg)));
}

/// The channel of the session behind `dest`, if it is a remote peer's link
/// the transport gave one with (peer_channel.hpp); null otherwise.
template <class Handle>
peer_channel* channel_to(const member_state& st, const Handle& dest) {
  if (!dest)
    return nullptr;
  for (auto& kvp : st.channels)
    if (kvp.second.first.address() == dest.address())
      return kvp.second.second.get();
  return nullptr;
}

/// Sends what the write queue released: its content was checked against
/// peer_actor when it was held (send_after_persist, receive_entries).
/// (A typed actor's send() refuses an untyped destination: enqueued as
/// send() would, with this member as the sender.)
inline void send_released(member_self* self, write_queue::outgoing msg) {
  ++self->state.counters.messages_sent;
  // Payload bytes are not known here: the message is counted with 0 (what
  // waits for durability are acknowledgements and votes, not entries).
  self->state.metrics.on_sent(self->state.peers, msg.dest, 0);
  // A remote peer: straight to its session, without the link's hop.
  if (auto* ch = channel_to(self->state, msg.dest);
      ch && ch->send_message(msg.content))
    return;
  if (msg.dest)
    msg.dest->enqueue(caf::make_mailbox_element(self->ctrl(),
                                                caf::make_message_id(), {},
                                                std::move(msg.content)),
                      self->context());
}

/// Arranges for a flush after the messages already in the mailbox.
void schedule_flush(member_self* self);

/// Hands the pending batch to the log writer unless one is there already.
void start_write(member_self* self);

/// Draws a new randomized election deadline (§5.2) and arms the timer.
void reset_election_timer(member_self* self);

/// Applies committed entries in order, one batch at a time.
void apply_committed(member_self* self);

/// Fails every request this member holds: those whose command is in the
/// log with `appended` (it may still commit), the others (parked appends,
/// queries) with `not_appended`.
void fail_all_requests(member_self* self, const caf::error& appended,
                       const caf::error& not_appended);

/// Fails every request this member holds with `err`.
inline void fail_all_requests(member_self* self, const caf::error& err) {
  fail_all_requests(self, err, err);
}

/// Writes one line about this member to the configured log sink.
void log_line(member_self* self, log_level level, const std::string& what);

/// Sends a Raft message to a peer, counted in member_status::counters.
template <class T>
void send_to_peer(member_self* self, const peer_actor& dest, T&& msg) {
  ++self->state.counters.messages_sent;
  self->state.metrics.on_sent(self->state.peers, dest, payload_bytes(msg));
  // A remote peer: encoded here and handed to its session's io thread (one
  // thread hand-off; through the link actor it was two).
  if (auto* ch = channel_to(self->state, dest)) {
    ch->send(msg);
    return;
  }
  self->send(dest, std::forward<T>(msg));
}

/// Parks an append until a leader is known (or its deadline passes).
void park_append(member_self* self, payload cmd, reply_to rp,
                 bool is_query = false);

/// Forwards an append to the known leader; the reply is delivered once this
/// member has applied the entry too.
void forward_append(member_self* self, payload cmd, reply_to rp);

/// Leader: appends a client's command to the log and replicates it.
void propose(member_self* self, payload cmd, reply_to rp);

/// Queries (member_reads.cpp): registers a query at the leader.
void start_read(member_self* self, payload query, reply_to rp);

/// Leader: broadcasts a new read round if a query waits for one.
void broadcast_read_round(member_self* self);

/// Leader: serves the queries a majority confirmed and the state machine
/// has caught up with.
void serve_reads(member_self* self);

/// Follower or candidate: sends a query to the leader (or parks it).
void forward_query(member_self* self, payload query, reply_to rp);

/// One client command (member_batch.cpp), answered through `rp` as the
/// role's single append (or query) handler would: a leader proposes, a
/// follower forwards, a candidate parks.
void append_one(member_self* self, payload cmd, reply_to rp);
void query_one(member_self* self, payload query, reply_to rp);

/// A batch request: each command through append_one (or query_one), the
/// outcomes answered together once the last is known.
caf::result<std::vector<command_outcome>>
batch_request(member_self* self, std::vector<payload>& cmds, bool is_query);

/// Snapshots (member_snapshots.cpp): saves one once enough was applied.
void maybe_snapshot(member_self* self);

/// How many entries later than `threshold` this member takes its first
/// snapshot: members sorted by id take theirs at 0, 1/(2n), 2/(2n), ... of
/// the threshold, so that they do not all write a snapshot at the same
/// index (the writers would compete for the cores and the disk at once:
/// docs/benchmarks.md, "Writing without disturbing the log"). Later
/// snapshots follow every `threshold` entries and stay apart.
index_t snapshot_stagger(const cluster_configuration& cfg,
                         const member_id& self_id, index_t threshold);

/// Restores the state machine from the newest snapshot at start.
void restore_at_start(member_self* self, const snapshot_info& newest);

/// Leader: sends the next snapshot chunk to a follower that needs entries
/// compacted away.
void send_snapshot(member_self* self, const member_id& id);

/// Leader: the follower's answer to a chunk.
void on_install_response(member_self* self, install_snapshot_response& resp);

/// Follower: InstallSnapshot receiver (Figure 13), from receiver 2 on; step
/// did receiver 1 (the term) and accepted the sender as leader.
void receive_snapshot(member_self* self, install_snapshot_request& req,
                      const peer_actor& leader);

/// Leader, each heartbeat: restarts transfers whose answers went missing.
void check_transfers(member_self* self);

/// Delivers forwarded appends this member has now applied.
void release_apply_waiters(member_self* self);

/// Answers the appends proposed here up to `index` (in index order): the one
/// at `index` with `result` if its entry is ours (same term); those before it
/// never reached the state machine as ours, since another leader's entry
/// took their index (§5.4.1), or their index holds no command. Both apply
/// paths (the adapter's and member_apply.cpp's) answer through this.
void answer_proposals(member_self* self, index_t index, term_t term,
                      apply_result* result);

/// Everything up to `upto` is applied: proposals and forwarded appends that
/// waited for it are answered.
void applied_upto(member_self* self, index_t upto);

/// Role transitions (member.cpp).
void become_follower(member_self* self, const member_id& leader);
/// The election timer fired: a pre-vote round first if config::pre_vote
/// (thesis §9.6), else an election at once.
void become_candidate(member_self* self);
/// §5.2: raises the term, votes for itself and asks for votes. `transfer`:
/// the RequestVotes bypass leader stickiness (thesis §3.10, §4.2.3).
void start_election(member_self* self, bool transfer);
void become_leader(member_self* self);

// -- PreVote, stickiness, transfer, peers (member_transfer.cpp) ---------------

/// Thesis §4.2.3: this member heard from a current leader within the minimum
/// election timeout (a leader counts itself). Always false without
/// config::check_quorum (thesis §6.2), as in etcd-io/raft.
bool leader_is_current(member_self* self);

/// Everyone: a pre-vote request (thesis §9.6); never changes our term.
void receive_pre_vote_request(member_self* self, request_vote_request& req,
                              const peer_actor& candidate);

/// Pre-candidate: a granted pre-vote; a majority starts the election.
void on_pre_vote_response(member_self* self, request_vote_response& resp);

/// Follower: the leader's TimeoutNow (thesis §3.10): an election at once.
void receive_timeout_now(member_self* self, timeout_now_request& req);

/// Leader: `(transfer_atom, target)`; answers once the target leads.
caf::result<caf::ok_atom> start_transfer(member_self* self,
                                         const member_id& target);

/// Leader: sends TimeoutNow once the target's log matches ours.
void maybe_send_timeout_now(member_self* self);

/// TimeoutNow in our term to `to` (thesis §3.10): it starts an election at
/// once.
void send_timeout_now(member_self* self, const peer_actor& to);

/// A leader became known (step accepted it): answers a pending transfer
/// whose target it is.
void on_leader_known(member_self* self);

/// A transfer's timer: gives up after an election timeout.
void on_transfer_timeout(member_self* self, uint64_t id);

/// `(add_atom, id, handle)` after start, and a restarted peer's rejoin
/// (`only_if_dead`: replaces a handle that is invalid or went down only).
caf::error replace_peer(member_self* self, const member_id& id,
                        const caf::actor& handle, bool only_if_dead);

/// A monitored peer handle went down: forget it until a new one comes.
void on_peer_down(member_self* self, const caf::actor_addr& who);

/// At start: tells in-process peers our handle (rejoin after a restart).
void announce_self(member_self* self);

/// Leader: sends what each follower lacks (and heartbeats if asked).
void replicate(member_self* self, bool heartbeat);

/// Leader: advances commit_index from the match indexes (§5.3, §5.4.2).
void advance_commit(member_self* self);

/// Follower: the AppendEntries receiver (Figure 2) from receiver 2 on; step
/// did receiver 1 (the term) and accepted the sender as leader.
void receive_entries(member_self* self, append_entries_request& req,
                     const peer_actor& leader);

/// Everyone: the RequestVote receiver (Figure 2); step adopted a newer term.
void receive_vote_request(member_self* self, request_vote_request& req,
                          const peer_actor& candidate);

/// Leader: a follower's answer to AppendEntries (Figure 2, Rules for
/// Servers, Leaders: update nextIndex and matchIndex, advance commitIndex).
void on_append_response(member_self* self, append_entries_response& resp);

/// Candidate: a vote (§5.2).
void on_vote_response(member_self* self, request_vote_response& resp);

/// One entry for every Raft message (member_step.cpp, etcd-io/raft's Step):
/// refuses what no correct peer sends, handles the message's term (§5.1)
/// and leader (§5.2) once, then hands it to the role. Defined for the six
/// message types of Figure 2 and Figure 13, and TimeoutNow (thesis §3.10).
template <class Message>
void step(member_self* self, Message& msg);

// -- membership (member_config.cpp, thesis chapter 4) ----------------------------

/// The configuration in force here (members_atom).
cluster_configuration current_configuration(member_self* self);

/// Leader: the changes of member_actor's membership messages. Each answers
/// once the change has committed, or with an errc.
caf::result<cluster_configuration>
add_learner(member_self* self, const member_id& id, bool promote);
caf::result<cluster_configuration> promote_learner(member_self* self,
                                                   const member_id& id);
caf::result<cluster_configuration> remove_member(member_self* self,
                                                 const member_id& id);
caf::result<cluster_configuration>
change_configuration(member_self* self, cluster_configuration target);

/// At spawn: the configuration from the log, the snapshot or the stored
/// bootstrap one (thesis §4.1).
void load_configuration(member_self* self, cluster_configuration snapshot_cfg,
                        cluster_configuration stored_bootstrap);

/// At start: a new cluster bootstraps {self + members added before start}
/// unless config::join; a stored configuration wins over them (warning).
void start_configuration(member_self* self);

/// The log changed from `from` on (entries appended or truncated by
/// AppendEntries): updates the configuration in force.
void on_log_changed(member_self* self, index_t from);

/// commit_index moved: the leader leaves a joint configuration, answers
/// changes, drops removed followers, steps down if removed (thesis §4.2.2).
void on_commit_advanced(member_self* self);

/// Leader: makes `followers` the members of the configuration in force and
/// of the committed one, except itself.
void sync_followers(member_self* self);

/// Asks the transport for members of the configuration that have no entry in
/// the directory (peers by id).
void ensure_directory(member_self* self);

/// Thesis §4.2.1 and §4.2.2: only voters of the configuration in force start
/// elections (learners, removed and joining members never do).
bool may_campaign(const member_state& st);

/// Election (and pre-vote) won: a majority of each configuration (thesis
/// §4.3).
bool won_election(const member_state& st);

/// Leader: the voters it must hear from (check quorum, thesis §6.2):
/// `heard` (self included) holds a majority of each configuration.
bool has_quorum(const member_state& st, const std::set<member_id>& heard);

/// The voters of the configuration in force (both configurations while
/// joint), this member excepted: whom elections ask (thesis §4.3).
std::vector<member_id> voters_but_self(const member_state& st);

/// `(add_atom, id)`: registers `id` in the directory, reached through the
/// transport (peers by id); the configuration does not change.
caf::error register_remote_peer(member_self* self, const member_id& id);

/// Leader: a learner that waits for automatic promotion may be promoted.
void maybe_promote(member_self* self);

/// Fails the pending changes (leadership lost, stopped).
void fail_changes(member_self* self, const caf::error& err);

/// A snapshot at `index` holding `cfg` replaced the log (Figure 13); with
/// `keep_later`, the entries after it stay.
void on_snapshot_installed(member_self* self, index_t index,
                           cluster_configuration cfg, bool keep_later);

/// The client-facing error of a member that is not in the configuration
/// (removed, or waiting to join), or none.
caf::error not_member_error(member_self* self);

// -- metrics (metrics.cpp) -----------------------------------------------------------

/// Leader: commit_index moved from `from` to `to`: the commit latency of
/// the client appends in between.
void observe_commits(member_self* self, index_t from, index_t to);

/// The reply to metrics_atom.
member_metrics make_metrics(member_self* self);

/// The reply to status_atom (member.cpp).
member_status make_status(member_self* self);

/// Stops the member for good: logs a failure, fails what it owes, stops the
/// writer, the snapshot actor and an owned state machine, and lingers in the
/// stopped behaviour (member_stop.cpp) until its last handle goes.
void shut_down(member_self* self, const caf::error& reason);

// -- stopping (member_stop.cpp) ---------------------------------------------------

/// The behaviour of a stopped member: status answers with role::stopped,
/// every other request with errc::stopped (naming the reason, if any).
member_behavior stopped_behavior(member_self* self);

/// Exits of the linked log writer, snapshot actor or state machine stop the
/// member with a named error instead of killing it silently.
void set_stop_handlers(member_self* self);

/// Drops the handles to the log writer, snapshot actor and an owned state
/// machine (after they were told to exit).
void release_helpers(member_self* self);

/// Drops the member's handles to helpers and peers when its actor system
/// ends without a stop (system_exit_hook.hpp).
void release_at_system_exit(caf::actor_system& sys, const caf::actor& member);

// -- applying without a hop (member_apply.cpp) ---------------------------------------

/// apply_committed for a C++ state machine: applies up to
/// config::max_apply_batch committed entries here and now, then queues an
/// apply_atom to itself for the rest.
void apply_directly(member_self* self);

/// The apply_atom continuation arrived: the next batch.
void on_apply_continuation(member_self* self);

/// Queries a C++ state machine here: its answer, or state_machine_failure
/// (the member stopped); nothing for state machines given as actors.
std::optional<caf::expected<apply_result>>
query_directly(member_self* self, const payload& query);

/// A C++ state machine is being saved or restored off the member's thread:
/// queries wait (serve_reads runs again once it is done).
bool queries_wait(member_self* self);

/// Refuses a command above config::max_entry_size (errc::entry_too_large),
/// before anything is written.
caf::error check_entry_size(member_self* self, const payload& cmd);

} // namespace raft
