#include "sim_cluster.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "caf/actor_cast.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/mailbox_element.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"

#include "raft/errc.hpp"
#include "raft/messages.hpp"

namespace raft::testing {

// -- recording -------------------------------------------------------------------

apply_result recording_machine::apply(index_t index, const payload& command) {
  applied.emplace_back(index, command.bytes());
  return inner->apply(index, command);
}

apply_result recording_machine::query(const payload& query) {
  return inner->query(query);
}

caf::error recording_machine::save_snapshot(std::ostream& out) {
  return inner->save_snapshot(out);
}

caf::expected<snapshot_writer> recording_machine::begin_snapshot() {
  return inner->begin_snapshot();
}

caf::error recording_machine::restore_snapshot(index_t index,
                                               std::istream& in) {
  auto err = inner->restore_snapshot(index, in);
  if (!err)
    restored_index = index;
  return err;
}

// -- network ------------------------------------------------------------------------

bool sim_network::allows(const member_id& from, const member_id& to,
                         const caf::message& msg) const {
  if (cut.count({from, to}) > 0)
    return false;
  return !(drop_if && drop_if(from, to, msg));
}

std::vector<caf::timespan> sim_network::plan(const member_id& from,
                                             const member_id& to,
                                             const caf::message& msg,
                                             bool one_way) {
  std::vector<caf::timespan> result;
  if (!allows(from, to, msg))
    return result;
  auto f = base;
  auto i = faults.find({from, to});
  if (i != faults.end()) {
    f.drop = std::max(f.drop, i->second.drop);
    f.duplicate = std::max(f.duplicate, i->second.duplicate);
    f.delay_min = std::max(f.delay_min, i->second.delay_min);
    f.delay_max = std::max(f.delay_max, i->second.delay_max);
  }
  if (f.drop == 0 && f.duplicate == 0 && f.delay_max.count() == 0) {
    result.emplace_back(0);
    return result;
  }
  std::uniform_real_distribution<double> coin{0.0, 1.0};
  if (f.drop > 0 && coin(rng) < f.drop)
    return result;
  size_t copies = 1;
  if (one_way && f.duplicate > 0 && coin(rng) < f.duplicate) {
    copies = 2;
    ++duplicated;
  }
  for (size_t k = 0; k < copies; ++k) {
    auto d = f.delay_min;
    if (f.delay_max > f.delay_min) {
      std::uniform_int_distribution<int64_t> dist{f.delay_min.count(),
                                                  f.delay_max.count()};
      d = caf::timespan{dist(rng)};
    }
    if (d.count() > 0)
      ++delayed;
    result.push_back(d);
  }
  return result;
}

void sim_network::partition(const std::vector<member_id>& group,
                            const std::vector<member_id>& all) {
  std::set<member_id> inside(group.begin(), group.end());
  for (auto& a : all)
    for (auto& b : all)
      if (inside.count(a) != inside.count(b))
        cut.emplace(a, b);
}

namespace {

using relay_atom = caf::atom_constant<caf::atom("relay")>;

/// Storage of one incarnation of a member: the member's storage until the
/// incarnation crashes, after which every write fails (so a batch its log
/// writer had not written by then is lost, as with a real crash).
class incarnation_storage : public storage {
public:
  incarnation_storage(storage_ptr inner, std::shared_ptr<bool> crashed)
    : inner_(std::move(inner)), crashed_(std::move(crashed)) {
    // nop
  }

  caf::expected<recovered_state> load() override {
    return inner_->load();
  }

  caf::error write(const write_batch& batch) override {
    if (*crashed_)
      return make_error(errc::storage_failure, "the member crashed");
    return inner_->write(batch);
  }

  caf::error compact(snapshot_meta meta) override {
    if (*crashed_)
      return make_error(errc::storage_failure, "the member crashed");
    return inner_->compact(meta);
  }

  caf::error reset(snapshot_meta meta) override {
    if (*crashed_)
      return make_error(errc::storage_failure, "the member crashed");
    return inner_->reset(meta);
  }

private:
  storage_ptr inner_;
  std::shared_ptr<bool> crashed_;
};

struct relay_state {
  static inline const char* name = "raft.test.relay";
  uint64_t next_token = 0;
  /// Messages delayed by the network, by token.
  std::map<uint64_t, caf::mailbox_element_ptr> held;
};

/// Delivers `elem` to the current incarnation of `to`, if there is one and
/// the link is not cut (a partition also loses what was in flight).
void deliver(sim_network& net, const member_id& from, const member_id& to,
             caf::mailbox_element_ptr elem, caf::execution_unit* ctx) {
  auto i = net.actors.find(to);
  if (i == net.actors.end() || !i->second || net.cut.count({from, to}) > 0) {
    ++net.dropped;
    return;
  }
  ++net.delivered;
  caf::actor_cast<caf::abstract_actor*>(i->second)->enqueue(std::move(elem),
                                                             ctx);
}

/// Forwards everything from member `from` to the current incarnation of
/// member `to`, keeping the original sender and request id, unless the
/// network drops it; copies the network delays wait here on a timer.
caf::behavior relay(caf::stateful_actor<relay_state>* self,
                    std::shared_ptr<sim_network> net, member_id from,
                    member_id to) {
  self->set_default_handler(
    [=](caf::scheduled_actor* ptr,
        caf::message_view& view) -> caf::result<caf::message> {
      auto msg = view.move_content_to_message();
      auto elem = ptr->current_mailbox_element();
      auto copies = net->plan(from, to, msg, !elem->mid.is_request());
      if (copies.empty()) {
        ++net->dropped;
        return caf::delegated<caf::message>{};
      }
      for (auto d : copies) {
        auto copy = caf::make_mailbox_element(elem->sender, elem->mid,
                                              elem->stages, msg);
        if (d.count() == 0) {
          deliver(*net, from, to, std::move(copy), ptr->context());
        } else {
          auto token = self->state.next_token++;
          self->state.held.emplace(token, std::move(copy));
          self->delayed_send(self, d, relay_atom::value, token);
        }
      }
      return caf::delegated<caf::message>{};
    });
  return {
    [=](relay_atom, uint64_t token) {
      auto i = self->state.held.find(token);
      if (i == self->state.held.end())
        return;
      auto elem = std::move(i->second);
      self->state.held.erase(i);
      deliver(*net, from, to, std::move(elem), self->context());
    },
  };
}

} // namespace

// -- setup -------------------------------------------------------------------------------

sim_cluster::sim_cluster(size_t n, uint64_t seed, tweak_fn tweak,
                         machine_factory make)
  : make_machine_(std::move(make)) {
  init(std::vector<recovered_state>(n), seed, std::move(tweak), n);
}

sim_cluster::sim_cluster(size_t n, size_t voters, uint64_t seed,
                         tweak_fn tweak, machine_factory make)
  : make_machine_(std::move(make)) {
  init(std::vector<recovered_state>(n), seed, std::move(tweak),
       std::min(voters, n));
}

sim_cluster::sim_cluster(std::vector<recovered_state> initial, uint64_t seed,
                         tweak_fn tweak, machine_factory make)
  : make_machine_(std::move(make)) {
  auto n = initial.size();
  init(std::move(initial), seed, std::move(tweak), n);
}

void sim_cluster::init(std::vector<recovered_state> initial, uint64_t seed,
                        tweak_fn tweak, size_t voters) {
  voters_ = voters;
  rng.seed(seed);
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("logger.verbosity", caf::atom("quiet"));
  add_message_types(cfg);
  sys = std::make_unique<caf::actor_system>(cfg);
  sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
  net = std::make_shared<sim_network>();
  net->rng.seed(seed ^ 0x6e6574776f726bULL); // "network"
  auto n = initial.size();
  for (size_t i = 0; i < n; ++i) {
    ids.push_back("127.0.0.1:" + std::to_string(7001 + i));
    storages.push_back(std::make_shared<memory_storage>(initial[i]));
  }
  for (size_t i = 0; i < n; ++i) {
    testing::member_setup c;
    c.host_port = ids[i];
    c.heartbeat = std::chrono::milliseconds(10);
    c.election_timeout_min = std::chrono::milliseconds(100);
    c.election_timeout_max = std::chrono::milliseconds(200);
    c.random_seed = rng();
    c.join = i >= voters;
    c.log.function = [this](log_level level, const std::string& who,
                            const std::string& text) {
      if (on_log_line)
        on_log_line(who + " " + to_string(level) + ": " + text);
      else
        log_to_stderr(level, who, text);
    };
    if (tweak)
      tweak(i, c);
    configs.push_back(c);
  }
  cluster_configuration first;
  first.voters.assign(ids.begin(), ids.begin() + voters);
  first.normalize();
  for (size_t i = 0; i < n; ++i)
    bootstraps.push_back(i < voters ? first : cluster_configuration{});
  // "Stored on a majority" means on stable storage: what survives a crash.
  checker_.stored = [this](const member_id& id, index_t index, term_t term) {
    auto k = std::find(ids.begin(), ids.end(), id) - ids.begin();
    if (static_cast<size_t>(k) >= storages.size())
      return false;
    auto& store = *storages[k];
    if (auto entries = store.read(index, index))
      return entries->front().term == term;
    // Not in the stored log: compacted into a snapshot, or not there. A
    // live member's log starts where its storage does (no copy needed).
    if (alive(static_cast<size_t>(k)))
      return index < state(static_cast<size_t>(k)).log.first_index();
    return store.contents().snapshot.last_index >= index;
  };
  relays_.resize(n);
  for (size_t to = 0; to < n; ++to)
    for (size_t from = 0; from < n; ++from)
      relays_[to].push_back(from == to ? caf::actor{}
                                       : sys->spawn(relay, net, ids[from],
                                                    ids[to]));
  members.resize(n);
  recorders.resize(n);
  alive_.resize(n);
  crashed_.resize(n);
  exit_reasons_.resize(n);
  paused_.resize(n, false);
  for (size_t i = 0; i < n; ++i)
    spawn_member_at(i);
  run();
}

sim_cluster::~sim_cluster() {
  // Stopped members linger too (answering errc::stopped): end them all.
  for (size_t i = 0; i < members.size(); ++i)
    if (alive_[i] && *alive_[i])
      caf::anon_send_exit(members[i], caf::exit_reason::kill);
  for (auto& row : relays_)
    for (auto& r : row)
      if (r)
        caf::anon_send_exit(r, caf::exit_reason::kill);
  // Clients still waiting for a reply would keep the actor system (and its
  // destructor) waiting forever: no simulated time passes any more.
  for (auto& weak : clients_)
    if (auto client = caf::actor_cast<caf::actor>(weak))
      caf::anon_send_exit(client, caf::exit_reason::kill);
  frozen_.clear();
  sched->run();
}

void sim_cluster::spawn_member_at(size_t i, bool route) {
  auto app = make_machine_(i);
  if (!app)
    throw std::invalid_argument("the machine factory returned no machine");
  recorders[i] = std::make_shared<recording_machine>(std::move(app));
  // Forget the previous incarnation's writer (its address may be reused).
  for (auto w = writers_.begin(); w != writers_.end();) {
    if (w->second == i) {
      disk_ready_.erase(w->first);
      w = writers_.erase(w);
    } else {
      ++w;
    }
  }
  paused_[i] = false;
  crashed_[i] = std::make_shared<bool>(false);
  auto store = std::make_shared<incarnation_storage>(storages[i], crashed_[i]);
  auto m = raft::detail::spawn_breaking_member(*sys, configs[i], configs[i].broken,
                                         recorders[i], std::move(store));
  if (!m)
    throw std::runtime_error("spawn_member failed: " + sys->render(m.error()));
  members[i] = *m;
  auto flag = std::make_shared<bool>(true);
  alive_[i] = flag;
  auto why = std::make_shared<std::string>();
  exit_reasons_[i] = why;
  auto* system = sys.get();
  members[i]->attach_functor([flag, why, system](const caf::error& reason) {
    *flag = false;
    *why = reason ? system->render(reason) : "normal exit";
  });
  net->actors[ids[i]] = route ? caf::actor_cast<caf::actor>(members[i])
                              : caf::actor{};
  run(); // let the member initialize before anyone talks to it
  if (alive(i)) {
    auto jobs = jobs_of(i);
    if (jobs.size() > 1 && jobs[1] != nullptr)
      writers_[jobs[1]] = i;
  }
  // Before start, only the members that bootstrap the cluster: a member
  // with no stored configuration takes those added before start as its
  // first configuration (a spare, joining, only as routes).
  for (size_t j = 0; j < voters_; ++j)
    if (j != i)
      call_ok(i, caf::make_message(caf::add_atom::value, ids[j],
                                   relays_[j][i]));
}

void sim_cluster::add_late_peers(size_t i) {
  for (size_t j = voters_; j < size(); ++j)
    if (j != i && alive(i))
      call_ok(i, caf::make_message(caf::add_atom::value, ids[j],
                                   relays_[j][i]));
}

member_state& sim_cluster::state(size_t i) {
  auto ptr = caf::actor_cast<caf::abstract_actor*>(members[i]);
  return dynamic_cast<member_self&>(*ptr).state;
}

void sim_cluster::start_all() {
  for (size_t i = 0; i < size(); ++i)
    if (alive(i))
      call_ok(i, caf::make_message(start_atom::value));
  for (size_t i = 0; i < size(); ++i)
    add_late_peers(i);
}

void sim_cluster::crash(size_t i) {
  if (paused_[i])
    resume(i);
  *crashed_[i] = true;
  for (auto job : jobs_of(i)) {
    writers_.erase(job);
    disk_ready_.erase(job);
  }
  // An urgent exit message is handled before anything else in the mailbox:
  // the member dies now, not after working off its backlog.
  auto ptr = caf::actor_cast<caf::strong_actor_ptr>(members[i]);
  if (ptr && alive(i)) {
    ptr->enqueue(nullptr, caf::make_message_id(caf::message_priority::high),
                 caf::make_message(caf::exit_msg{ptr->address(),
                                                 caf::exit_reason::kill}),
                 nullptr);
    sched->prioritize(members[i]);
    sched->run_once();
  }
  net->actors[ids[i]] = caf::actor{};
  run();
}

void sim_cluster::restart(size_t i) {
  spawn_member_at(i, route_before_start);
  call_ok(i, caf::make_message(start_atom::value));
  net->actors[ids[i]] = caf::actor_cast<caf::actor>(members[i]);
  add_late_peers(i);
}

void sim_cluster::wipe(size_t i) {
  if (alive(i))
    crash(i);
  else if (alive_[i] && *alive_[i]) // stopped, lingering
    caf::anon_send_exit(members[i], caf::exit_reason::kill);
  run();
  storages[i] = std::make_shared<memory_storage>();
  if (!configs[i].snapshot_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(configs[i].snapshot_dir, ec);
  }
  configs[i].join = true;
  bootstraps[i] = cluster_configuration{};
  restart(i);
}

bool sim_cluster::holds_state(size_t i) const {
  auto c = storages[i]->contents();
  return c.state.current_term != 0 || !c.entries.empty()
         || c.snapshot.last_index != 0;
}

std::vector<caf::resumable*> sim_cluster::jobs_of(size_t i) {
  std::vector<caf::resumable*> result;
  if (!alive(i))
    return result;
  auto job = [](const auto& handle) {
    return dynamic_cast<caf::resumable*>(
      caf::actor_cast<caf::abstract_actor*>(handle));
  };
  auto& st = state(i);
  result.push_back(job(members[i]));
  result.push_back(st.writer ? job(st.writer) : nullptr);
  result.push_back(st.sm ? job(st.sm) : nullptr);
  return result;
}

void sim_cluster::pause(size_t i) {
  if (paused_[i] || !alive(i))
    return;
  paused_[i] = true;
  for (auto job : jobs_of(i))
    if (job != nullptr)
      frozen_.insert(job);
}

void sim_cluster::resume(size_t i) {
  if (!paused_[i])
    return;
  paused_[i] = false;
  for (auto job : jobs_of(i))
    frozen_.erase(job);
}

bool sim_cluster::paused(size_t i) const {
  return paused_[i];
}

std::optional<size_t> sim_cluster::leader() {
  std::optional<size_t> result;
  term_t best = 0;
  for (size_t i = 0; i < size(); ++i) {
    if (!alive(i))
      continue;
    auto& st = state(i);
    if (st.role == role::leader && st.persistent.current_term >= best) {
      best = st.persistent.current_term;
      result = i;
    }
  }
  return result;
}

// -- driving ------------------------------------------------------------------------------

bool sim_cluster::next_runnable() {
  if (frozen_.empty() && !hold && (writers_.empty() || !disk_latency))
    return sched->has_job();
  auto& jobs = sched->jobs;
  auto t = now();
  for (auto i = jobs.begin(); i != jobs.end(); ++i) {
    auto job = *i;
    if (frozen_.count(job) > 0 || (hold && hold(job)))
      continue;
    if (disk_latency) {
      auto w = writers_.find(job);
      if (w != writers_.end()) {
        auto r = disk_ready_.find(job);
        if (r == disk_ready_.end()) {
          auto latency = disk_latency(w->second);
          if (latency.count() > 0) {
            disk_ready_.emplace(job, t + latency);
            continue;
          }
        } else if (r->second > t) {
          continue;
        } else {
          disk_ready_.erase(r);
        }
      }
    }
    if (i != jobs.begin())
      std::rotate(jobs.begin(), i, std::next(i));
    return true;
  }
  return false;
}

size_t sim_cluster::run() {
  size_t n = 0;
  while (next_runnable()) {
    if (livelock_limit > 0 && n >= livelock_limit) {
      // Messages that keep causing messages without time passing: a
      // livelock. Name a few of them and stop here.
      std::string what;
      for (int k = 0; k < 8 && next_runnable(); ++k) {
        auto ptr = dynamic_cast<caf::scheduled_actor*>(sched->jobs.front());
        auto elem = ptr != nullptr ? ptr->mailbox().peek() : nullptr;
        if (elem != nullptr)
          what += (what.empty() ? "" : "; ") + std::string{ptr->name()}
                  + " <- " + to_string(elem->content()).substr(0, 160);
        sched->run_once();
      }
      if (violation_.empty()) {
        violation_ = "livelock: " + std::to_string(n)
                     + " messages without simulated time passing, e.g. "
                     + what;
        std::cerr << "SAFETY VIOLATION: " << violation_ << std::endl;
      }
      return n;
    }
    sched->run_once();
    ++n;
    ++messages_run_;
    check_safety();
    if (after_message)
      after_message();
  }
  return n;
}

caf::actor_clock::time_point sim_cluster::now() const {
  return sched->clock().now();
}

void sim_cluster::jump_clock(caf::timespan d) {
  sched->advance_time(d);
  run();
}

void sim_cluster::advance(caf::timespan d, caf::timespan tick) {
  for (caf::timespan t{0}; t < d; t += tick) {
    sched->advance_time(tick);
    run();
  }
}

bool sim_cluster::run_until(const std::function<bool()>& pred,
                             caf::timespan limit, caf::timespan tick) {
  run();
  for (caf::timespan t{0}; !pred() && t < limit; t += tick) {
    sched->advance_time(tick);
    run();
  }
  return pred();
}

std::optional<size_t> sim_cluster::await_leader(caf::timespan limit) {
  run_until([&] { return leader().has_value(); }, limit);
  return leader();
}

bool sim_cluster::converge(caf::timespan limit) {
  return run_until(
    [&] {
      auto l = leader();
      if (!l)
        return false;
      auto target = state(*l).commit_index;
      for (size_t i = 0; i < size(); ++i)
        if (alive(i) && state(i).last_applied < target)
          return false;
      return true;
    },
    limit);
}

std::shared_ptr<pending_reply<append_reply>>
sim_cluster::append_async(size_t i, payload cmd) {
  auto slot = std::make_shared<pending_reply<append_reply>>();
  auto dest = members[i];
  track(sys->spawn([=](caf::event_based_actor* self) {
    self->request(dest, caf::infinite, append_atom::value, cmd)
      .then(
        [=](append_reply& r) {
          slot->done = true;
          slot->value = std::move(r);
        },
        [=](caf::error& err) {
          slot->done = true;
          slot->error = std::move(err);
        });
  }));
  return slot;
}

std::shared_ptr<pending_reply<append_reply>>
sim_cluster::append(size_t i, payload cmd, caf::timespan limit) {
  auto slot = append_async(i, std::move(cmd));
  run_until([&] { return slot->done; }, limit);
  return slot;
}

void sim_cluster::track(const caf::actor& client) {
  // Forget clients that are done, now and then.
  if (clients_.size() >= 1024)
    clients_.erase(std::remove_if(clients_.begin(), clients_.end(),
                                  [](const caf::actor_addr& x) {
                                    return !caf::actor_cast<caf::actor>(x);
                                  }),
                   clients_.end());
  clients_.push_back(client.address());
}

void sim_cluster::request_async(size_t i, caf::message msg,
                                 caf::timespan timeout, reply_fn done) {
  auto dest = caf::actor_cast<caf::actor>(members[i]);
  track(sys->spawn([=](caf::event_based_actor* self) {
    self->request(dest, timeout, msg)
      .then([=](append_reply& r) { done(std::move(r)); },
            [=](caf::error& err) { done(std::move(err)); });
  }));
}

caf::error sim_cluster::call_ok(size_t i, caf::message msg) {
  auto result = std::make_shared<caf::error>();
  auto done = std::make_shared<bool>(false);
  auto dest = caf::actor_cast<caf::actor>(members[i]);
  track(sys->spawn([=](caf::event_based_actor* self) {
    self->request(dest, caf::infinite, msg)
      .then([=](caf::ok_atom) { *done = true; },
            [=](caf::error& err) {
              *done = true;
              *result = std::move(err);
            });
  }));
  run();
  if (!*done)
    return make_error(errc::timeout, "call did not complete");
  return *result;
}

void sim_cluster::check_safety() {
  if (!violation_.empty())
    return;
  std::vector<member_view> views;
  for (size_t i = 0; i < size(); ++i) {
    if (!alive(i))
      continue;
    auto& st = state(i);
    if (st.role == role::stopped)
      continue;
    views.push_back(member_view{ids[i], st.role, st.persistent.current_term,
                                &st.log, st.commit_index,
                                &recorders[i]->applied, recorders[i].get(),
                                &bootstraps[i]});
  }
  violation_ = checker_.check(views);
  if (!violation_.empty())
    std::cerr << "SAFETY VIOLATION: " << violation_ << std::endl;
}

} // namespace raft::testing
