#include "system_exit_hook.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <pthread.h>
#include <set>
#include <string>
#include <vector>

#include "caf/actor_cast.hpp"
#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/exit_reason.hpp"
#include "caf/scheduler/abstract_coordinator.hpp"
#include "caf/send.hpp"
#include "caf/thread_hook.hpp"

namespace raft {

namespace {

/// Systems whose config carries the hook, and the helpers to end with each.
struct exit_registry {
  std::mutex mtx;
  std::set<const caf::actor_system*> hooked;
  std::map<const caf::actor_system*, std::vector<caf::actor_addr>> helpers;
  std::map<const caf::actor_system*, std::vector<std::function<void()>>>
    releases;

  static exit_registry& instance() {
    static exit_registry x;
    return x;
  }
};

/// The name CAF 0.17's coordinator gives its timer thread (coordinator.hpp),
/// which ends only when the scheduler stops.
constexpr const char* clock_thread_name = "caf.clock";

bool on_clock_thread() {
  char name[16] = {};
  if (pthread_getname_np(pthread_self(), name, sizeof(name)) != 0)
    return false;
  return std::string{name} == clock_thread_name;
}

class exit_hook : public caf::thread_hook {
public:
  void init(caf::actor_system& sys) override {
    sys_ = &sys;
    auto& reg = exit_registry::instance();
    std::lock_guard<std::mutex> guard{reg.mtx};
    reg.hooked.insert(sys_);
  }

  void thread_started() override {
    // nop
  }

  void thread_terminates() override {
    if (sys_ == nullptr || !on_clock_thread())
      return;
    std::vector<caf::actor_addr> helpers;
    std::vector<std::function<void()>> releases;
    {
      auto& reg = exit_registry::instance();
      std::lock_guard<std::mutex> guard{reg.mtx};
      reg.hooked.erase(sys_);
      auto i = reg.helpers.find(sys_);
      if (i != reg.helpers.end()) {
        helpers = std::move(i->second);
        reg.helpers.erase(i);
      }
      auto j = reg.releases.find(sys_);
      if (j != reg.releases.end()) {
        releases = std::move(j->second);
        reg.releases.erase(j);
      }
    }
    // The workers were joined before this thread ends: no actor runs, so
    // the members' state may be touched here. Members drop their handles
    // first; a helper no longer referenced is destroyed and its thread ends.
    for (auto& f : releases)
      f();
    // Helpers still referenced elsewhere end now. (Helpers of stopped
    // members are gone already: weak handles.)
    for (auto& addr : helpers)
      if (auto ptr = caf::actor_cast<caf::strong_actor_ptr>(addr))
        caf::anon_send_exit(ptr, caf::exit_reason::kill);
  }

  ~exit_hook() override {
    if (sys_ == nullptr)
      return;
    auto& reg = exit_registry::instance();
    std::lock_guard<std::mutex> guard{reg.mtx};
    reg.hooked.erase(sys_);
    reg.helpers.erase(sys_);
    reg.releases.erase(sys_);
  }

private:
  const caf::actor_system* sys_ = nullptr;
};

} // namespace

bool detach_helpers(caf::actor_system& sys) {
  if (!sys.scheduler().detaches_utility_actors())
    return false;
  auto& reg = exit_registry::instance();
  std::lock_guard<std::mutex> guard{reg.mtx};
  return reg.hooked.count(&sys) > 0;
}

void end_with_system(caf::actor_system& sys, const caf::actor_addr& helper) {
  auto& reg = exit_registry::instance();
  std::lock_guard<std::mutex> guard{reg.mtx};
  auto& xs = reg.helpers[&sys];
  // Forget helpers that ended already, so a long-lived system that spawns
  // many members keeps this list short.
  xs.erase(std::remove_if(xs.begin(), xs.end(),
                          [](const caf::actor_addr& x) {
                            return !caf::actor_cast<caf::strong_actor_ptr>(x);
                          }),
           xs.end());
  xs.push_back(helper);
}

void at_system_exit(caf::actor_system& sys, std::function<void()> release) {
  auto& reg = exit_registry::instance();
  std::lock_guard<std::mutex> guard{reg.mtx};
  reg.releases[&sys].push_back(std::move(release));
}

void add_exit_hook(caf::actor_system_config& cfg) {
  cfg.add_thread_hook<exit_hook>();
}

} // namespace raft
