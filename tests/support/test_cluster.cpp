#include "test_cluster.hpp"

#include <iostream>

#include "caf/actor_cast.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/mailbox_element.hpp"
#include "caf/send.hpp"

#include "raft/errc.hpp"
#include "raft/messages.hpp"

namespace raft::test {

// -- network ------------------------------------------------------------------------

bool sim_network::allows(const member_id& from, const member_id& to,
                         const caf::message& msg) const {
  if (cut.count({from, to}) > 0)
    return false;
  return !(drop_if && drop_if(from, to, msg));
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

/// Forwards everything from member `from` to the current incarnation of
/// member `to`, keeping the original sender and request id, unless the
/// network drops it.
caf::behavior relay(caf::event_based_actor* self,
                    std::shared_ptr<sim_network> net, member_id from,
                    member_id to) {
  self->set_default_handler(
    [=](caf::scheduled_actor* ptr,
        caf::message_view& view) -> caf::result<caf::message> {
      auto msg = view.move_content_to_message();
      auto dest = net->actors[to];
      if (!dest || !net->allows(from, to, msg)) {
        ++net->dropped;
        return caf::delegated<caf::message>{};
      }
      ++net->delivered;
      auto elem = ptr->current_mailbox_element();
      caf::actor_cast<caf::abstract_actor*>(dest)->enqueue(
        caf::make_mailbox_element(elem->sender, elem->mid,
                                  std::move(elem->stages), std::move(msg)),
        ptr->context());
      return caf::delegated<caf::message>{};
    });
  return {[](caf::unit_t) {}};
}

} // namespace

// -- setup -------------------------------------------------------------------------------

test_cluster::test_cluster(size_t n, uint64_t seed, tweak_fn tweak) {
  init(std::vector<recovered_state>(n), seed, std::move(tweak));
}

test_cluster::test_cluster(std::vector<recovered_state> initial, uint64_t seed,
                           tweak_fn tweak) {
  init(std::move(initial), seed, std::move(tweak));
}

void test_cluster::init(std::vector<recovered_state> initial, uint64_t seed,
                        tweak_fn tweak) {
  rng.seed(seed);
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("logger.verbosity", caf::atom("quiet"));
  add_message_types(cfg);
  sys = std::make_unique<caf::actor_system>(cfg);
  sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
  net = std::make_shared<sim_network>();
  auto n = initial.size();
  for (size_t i = 0; i < n; ++i) {
    ids.push_back("127.0.0.1:" + std::to_string(7001 + i));
    storages.push_back(std::make_shared<memory_storage>(initial[i]));
  }
  for (size_t i = 0; i < n; ++i) {
    config c;
    c.host_port = ids[i];
    c.heartbeat = std::chrono::milliseconds(10);
    c.election_timeout_min = std::chrono::milliseconds(100);
    c.election_timeout_max = std::chrono::milliseconds(200);
    c.random_seed = rng();
    if (tweak)
      tweak(i, c);
    configs.push_back(c);
  }
  relays_.resize(n);
  for (size_t to = 0; to < n; ++to)
    for (size_t from = 0; from < n; ++from)
      relays_[to].push_back(from == to ? caf::actor{}
                                       : sys->spawn(relay, net, ids[from],
                                                    ids[to]));
  members.resize(n);
  machines.resize(n);
  alive_.resize(n);
  for (size_t i = 0; i < n; ++i)
    spawn_member_at(i);
  run();
}

test_cluster::~test_cluster() {
  for (size_t i = 0; i < members.size(); ++i)
    if (alive(i))
      caf::anon_send_exit(members[i], caf::exit_reason::kill);
  for (auto& row : relays_)
    for (auto& r : row)
      if (r)
        caf::anon_send_exit(r, caf::exit_reason::kill);
  sched->run();
}

void test_cluster::spawn_member_at(size_t i) {
  machines[i] = std::make_shared<kv_machine>();
  auto m = spawn_member(*sys, configs[i], machines[i], storages[i]);
  if (!m)
    throw std::runtime_error("spawn_member failed: " + sys->render(m.error()));
  members[i] = *m;
  auto flag = std::make_shared<bool>(true);
  alive_[i] = flag;
  members[i]->attach_functor([flag] { *flag = false; });
  net->actors[ids[i]] = caf::actor_cast<caf::actor>(members[i]);
  sched->run(); // let the member initialize before anyone talks to it
  for (size_t j = 0; j < size(); ++j)
    if (j != i)
      call_ok(i, caf::make_message(caf::add_atom::value, ids[j],
                                   relays_[j][i]));
}

member_state& test_cluster::state(size_t i) {
  auto ptr = caf::actor_cast<caf::abstract_actor*>(members[i]);
  return dynamic_cast<member_self&>(*ptr).state;
}

void test_cluster::start_all() {
  for (size_t i = 0; i < size(); ++i)
    if (alive(i))
      call_ok(i, caf::make_message(start_atom::value));
}

void test_cluster::crash(size_t i) {
  caf::anon_send_exit(members[i], caf::exit_reason::kill);
  net->actors[ids[i]] = caf::actor{};
  run();
}

void test_cluster::restart(size_t i) {
  spawn_member_at(i);
  call_ok(i, caf::make_message(start_atom::value));
}

std::optional<size_t> test_cluster::leader() {
  std::optional<size_t> result;
  term_t best = 0;
  for (size_t i = 0; i < size(); ++i) {
    if (!alive(i))
      continue;
    auto& st = state(i);
    if (st.role == role::leader && st.state.current_term >= best) {
      best = st.state.current_term;
      result = i;
    }
  }
  return result;
}

// -- driving ------------------------------------------------------------------------------

size_t test_cluster::run() {
  size_t n = 0;
  while (sched->try_run_once()) {
    ++n;
    check_safety();
  }
  return n;
}

void test_cluster::advance(caf::timespan d, caf::timespan tick) {
  for (caf::timespan t{0}; t < d; t += tick) {
    sched->advance_time(tick);
    run();
  }
}

bool test_cluster::run_until(const std::function<bool()>& pred,
                             caf::timespan limit, caf::timespan tick) {
  run();
  for (caf::timespan t{0}; !pred() && t < limit; t += tick) {
    sched->advance_time(tick);
    run();
  }
  return pred();
}

std::optional<size_t> test_cluster::await_leader(caf::timespan limit) {
  run_until([&] { return leader().has_value(); }, limit);
  return leader();
}

std::shared_ptr<pending_reply<append_reply>>
test_cluster::append_async(size_t i, payload cmd) {
  auto slot = std::make_shared<pending_reply<append_reply>>();
  auto dest = members[i];
  sys->spawn([=](caf::event_based_actor* self) {
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
  });
  return slot;
}

std::shared_ptr<pending_reply<append_reply>>
test_cluster::append(size_t i, payload cmd, caf::timespan limit) {
  auto slot = append_async(i, std::move(cmd));
  run_until([&] { return slot->done; }, limit);
  return slot;
}

caf::error test_cluster::call_ok(size_t i, caf::message msg) {
  auto result = std::make_shared<caf::error>();
  auto done = std::make_shared<bool>(false);
  auto dest = caf::actor_cast<caf::actor>(members[i]);
  sys->spawn([=](caf::event_based_actor* self) {
    self->request(dest, caf::infinite, msg)
      .then([=](caf::ok_atom) { *done = true; },
            [=](caf::error& err) {
              *done = true;
              *result = std::move(err);
            });
  });
  run();
  if (!*done)
    return make_error(errc::timeout, "call did not complete");
  return *result;
}

void test_cluster::check_safety() {
  if (!violation_.empty())
    return;
  std::vector<member_view> views;
  for (size_t i = 0; i < size(); ++i) {
    if (!alive(i))
      continue;
    auto& st = state(i);
    if (st.role == role::stopped)
      continue;
    views.push_back(member_view{ids[i], st.role, st.state.current_term,
                                &st.log, st.commit_index,
                                &machines[i]->applied, machines[i].get()});
  }
  violation_ = checker_.check(views);
  if (!violation_.empty())
    std::cerr << "SAFETY VIOLATION: " << violation_ << std::endl;
}

} // namespace raft::test
